"""pystage: a Python client for npm's staged publishing."""

__version__ = "0.1.0"
