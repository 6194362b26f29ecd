"""Packument documents: the full JSON and npm's abbreviated install form."""

from __future__ import annotations

from pystage.registry.names import tarball_basename
from pystage.registry.owners import package_rev
from pystage.registry.service import PackageData

ABBREVIATED_TYPE = "application/vnd.npm.install-v1+json"

# The fields an installer needs (what npmjs keeps in the abbreviated form).
_ABBREVIATED_FIELDS = (
    "name",
    "version",
    "deprecated",
    "dependencies",
    "optionalDependencies",
    "devDependencies",
    "bundleDependencies",
    "bundledDependencies",
    "peerDependencies",
    "peerDependenciesMeta",
    "acceptDependencies",
    "bin",
    "directories",
    "dist",
    "engines",
    "_hasShrinkwrap",
    "hasInstallScript",
    "cpu",
    "os",
    "libc",
    "funding",
    "license",
)
_INSTALL_SCRIPTS = ("preinstall", "install", "postinstall")


def tarball_url(base_url: str, name: str, version: str) -> str:
    return f"{base_url}{name}/-/{tarball_basename(name)}-{version}.tgz"


def _with_tarball(manifest: dict, base_url: str) -> dict:
    dist = {
        **manifest.get("dist", {}),
        "tarball": tarball_url(base_url, manifest["name"], manifest["version"]),
    }
    return {**manifest, "dist": dist}


def full_packument(pkg: PackageData, base_url: str) -> dict:
    versions = {v: _with_tarball(m, base_url) for v, m, _ in pkg.versions}
    latest = versions.get(pkg.tags.get("latest", ""), {})
    time = {"created": pkg.created, "modified": pkg.modified}
    time.update({v: published for v, _, published in pkg.versions})
    document = {
        "_id": pkg.name,
        # npm owner add/rm PUTs the maintainers back to /<name>/-rev/<_rev>
        "_rev": package_rev(pkg.modified, [n for n, _ in pkg.maintainers]),
        "name": pkg.name,
        "dist-tags": pkg.tags,
        "versions": versions,
        "time": time,
        "maintainers": [{"name": n, "email": e} if e else {"name": n} for n, e in pkg.maintainers],
    }
    for key in ("description", "readme", "license", "homepage", "repository", "keywords"):
        if key in latest:
            document[key] = latest[key]
    return document


def abbreviated_packument(pkg: PackageData, base_url: str) -> dict:
    versions = {}
    for version, manifest, _ in pkg.versions:
        short = {k: manifest[k] for k in _ABBREVIATED_FIELDS if k in manifest}
        scripts = manifest.get("scripts")
        if isinstance(scripts, dict) and any(s in scripts for s in _INSTALL_SCRIPTS):
            short["hasInstallScript"] = True
        versions[version] = _with_tarball(short, base_url)
    return {"name": pkg.name, "modified": pkg.modified, "dist-tags": pkg.tags, "versions": versions}


def wants_abbreviated(accept: str | None) -> bool:
    return bool(accept and ABBREVIATED_TYPE in accept)
