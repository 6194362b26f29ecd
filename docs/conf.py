"""Sphinx configuration for the pystage user guide (Markdown via MyST)."""

import pystage

project = "pystage"
author = "the pystage developers"
release = pystage.__version__
extensions = ["myst_parser"]
source_suffix = {".md": "markdown"}
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3
exclude_patterns = ["_build", "dev"]
html_theme = "furo"
html_title = f"pystage {release}"
