"""The publish document (body of ``PUT /<name>`` and ``POST /-/stage/package/<name>``).

Turns a spooled request body into a checked ``PublishDocument``: one version,
one dist-tag, one tarball attachment whose length and hashes match what the
manifest claims. Anything else is a 400 with a message, and leaves no file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pystage.registry.errors import RegistryError
from pystage.registry.identity import without_client_identity
from pystage.registry.jsonstream import DecodedAttachment, JSONStreamError, read_document
from pystage.registry.names import is_valid_version, name_problem, tag_problem

ACCESS_LEVELS = (None, "public", "restricted")


@dataclass
class PublishDocument:
    name: str
    version: str
    tag: str
    access: str | None
    manifest: dict
    tarball: DecodedAttachment  # a temp file the caller must adopt or remove


def read_publish_document(
    spool_path: str, tmp_dir: str, url_name: str, without_tarball: RegistryError | None = None
) -> PublishDocument:
    """``without_tarball``: the error for a document with no "_attachments" at all
    (npm deprecate PUTs the whole packument back), instead of a 400."""
    try:
        with open(spool_path, "rb") as body:
            document, attachments = read_document(body, tmp_dir)
    except JSONStreamError as exc:
        raise RegistryError(400, str(exc)) from None
    if without_tarball is not None and isinstance(document, dict):
        if "_attachments" not in document:
            raise without_tarball
    try:
        return _check(document, attachments, url_name)
    except BaseException:
        for attachment in attachments.values():
            Path(attachment.path).unlink(missing_ok=True)
        raise


def _bad(message: str) -> RegistryError:
    return RegistryError(400, message)


def _check(
    doc: object, attachments: dict[str, DecodedAttachment], url_name: str
) -> PublishDocument:
    if not isinstance(doc, dict):
        raise _bad("the publish document must be a JSON object")
    name = doc.get("name")
    problem = name_problem(name)
    if problem:
        raise _bad(problem)
    if name != url_name or doc.get("_id", name) != name:
        raise _bad(f'the document\'s name "{name}" does not match the URL\'s "{url_name}"')

    versions = doc.get("versions")
    if not isinstance(versions, dict) or len(versions) != 1:
        raise _bad("the publish document must carry exactly one version")
    ((version, manifest),) = versions.items()
    if not is_valid_version(version):
        raise _bad(f'invalid version "{version}": it must be a semantic version such as 1.2.3')
    if not isinstance(manifest, dict):
        raise _bad(f"the manifest of {version} must be a JSON object")
    if manifest.get("name") != name or manifest.get("version") != version:
        raise _bad(f"the manifest's name@version must be {name}@{version}")

    tags = doc.get("dist-tags")
    if not isinstance(tags, dict) or len(tags) != 1:
        raise _bad('"dist-tags" must name exactly one tag for the published version')
    ((tag, tagged),) = tags.items()
    problem = tag_problem(tag)
    if problem:
        raise _bad(problem)
    if tagged != version:
        raise _bad(f'dist-tag "{tag}" points at {tagged!r}, not at the published version {version}')

    access = doc.get("access")
    if access not in ACCESS_LEVELS:
        raise _bad(f'invalid access {access!r}: use "public" or "restricted"')
    if access == "restricted" and not name.startswith("@"):
        raise _bad("can't restrict access to unscoped packages")

    tarball = _check_attachment(doc.get("_attachments"), attachments, name, version)
    _check_dist(manifest, tarball, version)
    manifest = without_client_identity(manifest)  # the registry sets who published
    manifest["_id"] = f"{name}@{version}"
    return PublishDocument(name, version, tag, access, manifest, tarball)


def _check_attachment(
    entries: object, decoded: dict[str, DecodedAttachment], name: str, version: str
) -> DecodedAttachment:
    expected = f"{name}-{version}.tgz"
    if not isinstance(entries, dict) or list(entries) != [expected]:
        raise _bad(f'"_attachments" must hold exactly one tarball, named "{expected}"')
    entry = entries[expected]
    if not isinstance(entry, dict) or expected not in decoded:
        raise _bad(f'attachment "{expected}" must have base64 "data"')
    tarball = decoded[expected]
    length = entry.get("length")
    if type(length) is not int:
        raise _bad(f'attachment "{expected}" must give its "length" in bytes')
    if length != tarball.length:
        raise _bad(
            f'attachment "{expected}" says length {length} but its data '
            f"decodes to {tarball.length} bytes"
        )
    with open(tarball.path, "rb") as f:
        if f.read(2) != b"\x1f\x8b":
            raise _bad(f'attachment "{expected}" is not a gzip-compressed tarball')
    return tarball


def _check_dist(manifest: dict, tarball: DecodedAttachment, version: str) -> None:
    dist = manifest.get("dist", {})
    if not isinstance(dist, dict):
        raise _bad(f'"dist" of {version} must be an object')
    claimed = dist.get("integrity")
    if claimed is not None and tarball.integrity not in str(claimed).split():
        raise _bad(
            f"integrity mismatch: the manifest claims {claimed} but the tarball "
            f"is {tarball.integrity}"
        )
    shasum = dist.get("shasum")
    if shasum is not None and shasum != tarball.sha1_hex:
        raise _bad(
            f"shasum mismatch: the manifest claims {shasum} but the tarball is {tarball.sha1_hex}"
        )
    dist = {k: v for k, v in dist.items() if k != "tarball"}  # rebuilt for each reader
    dist.update(integrity=tarball.integrity, shasum=tarball.sha1_hex)
    manifest["dist"] = dist
