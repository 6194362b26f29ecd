"""``pystage publish``: npm's stage-publish sequence, with its checks.

Order (npm 11.19 lib/commands/publish.js): tag checks, read the manifest,
``prepublishOnly``, pack (``prepack``/``prepare``/``postpack``), re-read the
manifest, prerelease check, show the contents, credentials, registry
version checks, POST the document, then ``publish`` and ``postpublish``.
pystage refuses what it can refuse locally (private, prerelease without a
tag, a range-like or malformed tag, restricted unscoped) before running any
script or sending any request; npm finds some of these only later.
"""

from __future__ import annotations

import os
import tempfile
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import quote

from pystage.errors import PystageError
from pystage.packing import TarballSummary
from pystage.publishing import semver
from pystage.publishing.contents import read_tarball
from pystage.publishing.manifest import (
    DirectorySource,
    MemorySource,
    PreparedManifest,
    patch_for_publish,
    prepare_manifest,
)


class Connector(Protocol):
    """How the flow reaches a registry: ``config(manifest)`` is the configuration with the
    manifest's publishConfig applied (read again after scripts may have changed it);
    ``client(config, manifest)`` opens the one RegistryClient the flow sends with."""

    def config(self, manifest: dict) -> Any: ...
    def client(self, config: Any, manifest: dict) -> Any: ...


class Reporter(Protocol):
    def warn(self, message: str) -> None: ...
    def notice(self, message: str) -> None: ...
    def contents(self, contents: TarballSummary) -> None: ...


@dataclass
class PublishRequest:
    target: str = "."
    tag: str | None = None  # --tag (None: from config, publishConfig, else "latest")
    access: str | None = None
    dry_run: bool = False
    ignore_scripts: bool = False
    force: bool = False
    json: bool = False
    message: str | None = None  # -m: the note for the reviewer (checked by the CLI)
    # publish --workspaces: the selected workspaces' directories and their root
    workspaces: tuple[str, ...] = ()
    workspace_root: str | None = None


@dataclass
class PublishOutcome:
    contents: TarballSummary
    manifest: dict
    registry: str
    tag: str
    access: str | None
    stage_id: str | None
    dry_run: bool

    def to_npm_json(self) -> dict:
        data = self.contents.to_npm_json()
        if self.stage_id:
            data["stageId"] = self.stage_id
        return {self.contents.name: data}


def stage_package(
    request: PublishRequest, connect: Connector, reporter: Reporter
) -> PublishOutcome:
    """Stage one package. The client is opened once, after the last manifest read (so
    with its final publishConfig), and closed when the document is sent."""
    target = os.path.abspath(request.target or ".")
    if os.path.isdir(target):
        return _stage_directory(target, request, connect, reporter)
    if os.path.isfile(target):
        return _stage_tarball(target, request, connect, reporter)
    raise PystageError("ENOENT", f"no such package directory or tarball: {request.target}")


def _stage_directory(path, request, connect, reporter) -> PublishOutcome:
    from pystage.packing.manifest import read_manifest

    prepared = _read_directory(path, read_manifest)
    config = connect.config(prepared.manifest)
    tag, access, default_tag = _tag_and_access(config, request)
    _local_checks(prepared.manifest, tag, access, default_tag, request.force)
    _run_script(path, "prepublishOnly", prepared.manifest, request)
    from pystage.packing import pack

    with tempfile.TemporaryDirectory(prefix="pystage-publish-") as workdir:
        with _packing(reporter, prepared.manifest, request):
            packed = pack(
                path,
                workdir,
                ignore_scripts=request.ignore_scripts,
                command="publish",
                on_warning=reporter.warn,
                workspaces=request.workspaces,
                workspace_root=request.workspace_root,
                script_stdout=_script_stdout(request),
            )
        tarball = packed.path
        # scripts may have rewritten package.json: send what is there now
        prepared = _read_directory(path, read_manifest, report=reporter)
        config = connect.config(prepared.manifest)
        tag, access, default_tag = _tag_and_access(config, request)
        _local_checks(prepared.manifest, tag, access, default_tag, request.force)
        # pack() recorded what it wrote: no second read of a possibly huge tarball
        # (read_tarball is for tarballs pystage did not make)
        contents = packed
        with connect.client(config, prepared.manifest) as client:
            outcome = _send(
                client,
                prepared.manifest,
                contents,
                tarball,
                tag,
                access,
                default_tag,
                request,
                reporter,
            )
    _run_script(path, "publish", outcome.manifest, request)
    _run_script(path, "postpublish", outcome.manifest, request)
    return outcome


def _stage_tarball(path, request, connect, reporter) -> PublishOutcome:
    contents = read_tarball(path)
    source = MemorySource(contents.names, contents.texts)
    prepared = prepare_manifest(contents.manifest, source, fix=False)
    _report_warnings(prepared, reporter)
    config = connect.config(prepared.manifest)
    tag, access, default_tag = _tag_and_access(config, request)
    _local_checks(prepared.manifest, tag, access, default_tag, request.force)
    with connect.client(config, prepared.manifest) as client:
        return _send(
            client, prepared.manifest, contents, path, tag, access, default_tag, request, reporter
        )


def _read_directory(path, read_manifest, report: Reporter | None = None) -> PreparedManifest:
    prepared = prepare_manifest(read_manifest(path), DirectorySource(path))
    if report:
        _report_warnings(prepared, report)
    return prepared


def _report_warnings(prepared: PreparedManifest, reporter: Reporter) -> None:
    if prepared.changes:
        reporter.warn(
            "npm's rules auto-corrected some errors in your package.json when "
            'publishing. Run "npm pkg fix" to address these errors.'
        )
        reporter.warn("errors corrected:\n" + "\n".join(prepared.changes))
    for warning in prepared.warnings:
        reporter.warn(warning)


def _tag_and_access(config, request) -> tuple[str, str | None, bool]:
    tag = request.tag if request.tag is not None else config.get("tag", "latest")
    access = request.access if request.access is not None else config.get("access")
    default_tag = request.tag is None and config.is_default("tag")
    return str(tag), (str(access) if access is not None else None), default_tag


def _local_checks(
    manifest: dict, tag: str, access: str | None, default_tag: bool, force: bool
) -> None:
    """Refusals that need no registry: made before any script runs or request is sent."""
    if semver.valid_range(tag):
        raise PystageError(
            "EINVALIDTAG",
            f"Tag name must not be a valid SemVer range: {tag.strip()}",
            "dist-tags are names such as latest, next or beta",
        )
    if quote(tag, safe="-_.!~*'()") != tag:
        raise PystageError(
            "EINVALIDTAGNAME",
            f'Invalid tag name "{tag}" of package "{manifest.get("name")}@{tag}": '
            "Tags may not have any characters that encodeURIComponent encodes.",
        )
    name, version = manifest.get("name"), manifest.get("version")
    if not name:
        raise PystageError("EINVALIDPACKAGENAME", 'package.json has no "name"')
    if not version:
        raise PystageError("EBADSEMVER", 'package.json has no "version"')
    if manifest.get("private"):
        raise PystageError(
            "EPRIVATE",
            "This package has been marked as private",
            "Remove the 'private' field from the package.json to publish it.",
        )
    if access not in (None, "public", "restricted"):
        raise PystageError("EUSAGE", f'--access must be "public" or "restricted", not "{access}"')
    if access == "restricted" and not str(name).startswith("@"):
        raise PystageError(
            "EUNSCOPED",
            "Can't restrict access to unscoped packages.",
            "only scoped packages (@scope/name) can be restricted",
        )
    parsed = semver.parse(patch_for_publish(manifest)["version"])
    if not force and parsed and parsed.prerelease and default_tag:
        raise PystageError(
            "EPRERELEASETAG",
            "You must specify a tag using --tag when publishing a prerelease version.",
            f'for example: pystage publish --tag next ({version} would otherwise become "latest")',
        )


def _send(
    client, manifest, contents, tarball, tag, access, default_tag, request, reporter
) -> PublishOutcome:
    from pystage import staging
    from pystage.publishing.document import build_publish_document

    manifest = patch_for_publish(manifest)
    if not request.json:
        reporter.contents(contents)
    registry = client.registry
    if not client.has_credential():
        message = f"This command requires you to be logged in to {registry}"
        if not request.dry_run:
            raise PystageError(
                "ENEEDAUTH", message, f"run `pystage login --registry {registry}` first"
            )
        reporter.warn(message + " (dry-run)")
    if not request.force:
        versions, highest = staging.registry_versions(client, manifest["name"])
        if manifest["version"] in versions:
            raise PystageError(
                "EPUBLISHCONFLICT",
                "You cannot publish over the previously published versions: "
                f"{manifest['version']}.",
                "bump the version in package.json",
            )
        # both parse: the manifest's version was checked, registry_versions keeps valid ones
        if highest and default_tag and semver.parse(manifest["version"]) <= semver.parse(highest):  # type: ignore[operator]
            raise PystageError(
                "EPUBLISHCONFLICT",
                f'Cannot implicitly apply the "latest" tag because previously published version '
                f"{highest} is higher than the new version {manifest['version']}. "
                "You must specify a tag using --tag.",
            )
    dry = " (dry-run)" if request.dry_run else ""
    reporter.notice(f"Staging to {registry} with tag {tag} and {access or 'default'} access{dry}")
    stage_id = None
    if not request.dry_run:
        _, body = build_publish_document(
            manifest,
            registry=registry,
            tag=tag,
            access=access,
            tarball_path=tarball,
            tarball_size=contents.size,
            shasum=contents.shasum,
            integrity=contents.integrity,
        )
        transfer = getattr(reporter, "transfer", None)
        with (
            transfer("staging", contents.size, after=_VERIFYING)
            if transfer
            else nullcontext(None) as advance
        ):
            body.on_tarball_sent = advance
            answer = staging.stage_publish(client, manifest["name"], body, request.message)
            stage_id = str(answer["stageId"])
    return PublishOutcome(contents, manifest, registry, tag, access, stage_id, request.dry_run)


# after the last byte: the registry unpacks and checks the tarball before it answers
_VERIFYING = "waiting for the registry to verify the upload..."


def _packing(reporter, manifest: dict, request: PublishRequest):
    """A spinner while packing, when nothing else writes to the terminal meanwhile (a
    lifecycle script's output would be torn by its redraws)."""
    working = getattr(reporter, "working", None)
    scripts = found if isinstance(found := manifest.get("scripts"), dict) else {}
    runs_scripts = not request.ignore_scripts and any(
        scripts.get(event) for event in ("prepack", "prepare", "postpack")
    )
    if working is None or runs_scripts or request.json:
        return nullcontext()
    return working(f"packing {manifest.get('name')}@{manifest.get('version')}...")


def _run_script(path: str, event: str, manifest: dict, request: PublishRequest) -> None:
    if request.ignore_scripts:
        return
    scripts = found if isinstance(found := manifest.get("scripts"), dict) else {}
    if not scripts.get(event):
        return
    from pystage.packing import run_script

    run_script(path, event, manifest, command="publish", stdout=_script_stdout(request))


def _script_stdout(request: PublishRequest):
    """Under --json, scripts print to stderr so stdout stays one JSON document."""
    import sys

    return sys.stderr if request.json else None


__all__ = ["PublishRequest", "PublishOutcome", "stage_package"]
