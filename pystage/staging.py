"""The stage operations, as plain functions over a RegistryClient.

No terminal I/O here: callers render what these return. Endpoints and
shapes follow npm 11.19 (``lib/commands/stage/*.js``) and PROTOCOL.md.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING, Any, TypeGuard
from urllib.parse import quote

from pystage.errors import PystageError, UsageError

if TYPE_CHECKING:
    from pystage.http import RegistryClient
    from pystage.publishing.contents import TarballContents
    from pystage.session import Answer

# matched whole (fullmatch): with ``$``, "<uuid>\n" would pass
UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
PER_PAGE = 100
# A stage list longer than this is a registry paging without end (npm would loop forever
# and grow without bound); no real registry stages that many versions for one user.
MAX_LISTED = 10_000
_DOWNLOAD_CHUNK = 256 * 1024
# A staged tarball larger than this is refused rather than written: a hostile registry
# could otherwise stream without end and fill the disk (the stall timeout only catches
# silence). Registries refuse uploads far smaller (the embedded one: 512 MiB of body).
MAX_TARBALL_BYTES = 1024 * 1024 * 1024


def escape_name(name: str) -> str:
    """npm-package-arg's escapedName: '@scope/name' travels as '@scope%2fname'."""
    return quote(name, safe="@").replace("%2F", "%2f")


def is_stage_id(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and UUID_RE.fullmatch(value) is not None


def registry_stage_id(value: object, where: str, hint: str | None = None) -> str:
    """A stage id the registry sent, checked before it goes into a request path, a file
    name or the terminal: a traversal (``../../x``), an escape sequence or a number
    there is a broken or hostile registry."""
    if is_stage_id(value):
        return value
    raise PystageError(
        "EBADRESPONSE",
        f"{where} has an invalid stage id: {_shown(value)}",
        hint or "a stage id is a UUID; the registry may be broken or not a staging registry",
    )


def _shown(value: object) -> str:
    """A value the registry sent, quoted for a message (JSON, short, ASCII)."""
    import json

    try:
        text = json.dumps(value)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 80 else text[:80] + "…"


# Any 2xx confirms approve and reject, as npm-registry-fetch treats it.
SUCCESS = tuple(range(200, 300))


def split_spec(spec: str) -> tuple[str, str | None]:
    """'name@version' or '@scope/name@version' -> (name, version or None)."""
    at = spec.find("@", 1)
    if at == -1:
        return spec, None
    return spec[:at], spec[at + 1 :]


def package_filter(arg: str | None) -> str | None:
    """The PACKAGE argument of ``list``: a name (``name@*`` allowed), never a version."""
    if not arg:
        return None
    from pystage.publishing.names import check_name

    arg = arg.strip()
    if _is_path_or_url(arg):
        raise UsageError(f"{arg} is not a package name: list takes a name, not a path or URL")
    name, spec = split_spec(arg)
    if spec not in (None, "", "*"):
        raise UsageError("Version specifiers are not supported for listing staged packages")
    check_name(name)
    return name


def _is_path_or_url(arg: str) -> bool:
    """What npm-package-arg reads as a file, directory, git or remote spec."""
    return (
        arg.startswith((".", "/", "~"))
        or "\\" in arg
        or re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", arg) is not None
    )


# StageRef and Download are plain classes: list loads this module, and a generated
# dataclass costs ~0.6 ms of start-up.
class StageRef:
    """What the user typed for <ID>: a stage id, or the name@version of a staged item."""

    __slots__ = ("text", "stage_id", "name", "version")

    def __init__(
        self,
        text: str,
        stage_id: str | None = None,
        name: str | None = None,
        version: str | None = None,
    ) -> None:
        self.text = text
        self.stage_id = stage_id
        self.name = name
        self.version = version

    def __repr__(self) -> str:
        return (
            f"StageRef(text={self.text!r}, stage_id={self.stage_id!r}, name={self.name!r}, "
            f"version={self.version!r})"
        )


def parse_stage_ref(text: str | None) -> StageRef:
    """Validate an <ID> argument before any request, as npm does (plus name@version)."""
    if not text:
        raise UsageError("Missing required <stage-id>", hint=_STAGE_REF_HINT)
    if is_stage_id(text):
        return StageRef(text, stage_id=text)
    # only for name@version: the manifest checks load the packing modules (~10 ms)
    from pystage.publishing import semver
    from pystage.publishing.names import check_name

    name, version = split_spec(text)
    if version and semver.valid(version):
        try:
            check_name(name)
        except PystageError:
            pass
        else:
            return StageRef(text, name=name, version=semver.valid(version))
    raise UsageError("stage-id must be a valid UUID", hint=_STAGE_REF_HINT)


_STAGE_REF_HINT = "pass the id that `pystage list` shows, or the staged name@version"


def resolve_stage_ref(client: RegistryClient, ref: StageRef) -> tuple[str, dict | None]:
    """The stage id for ``ref`` (and the listed item, when it was found through list)."""
    if ref.stage_id:
        return ref.stage_id, None
    items = list_staged(client, ref.name)
    matches = [
        i
        for i in items
        if i.get("packageName", ref.name) == ref.name and i.get("version") == ref.version
    ]
    if not matches:
        others = sorted(
            {str(i.get("version")) for i in items if i.get("packageName", ref.name) == ref.name}
        )
        hint = (
            f"staged versions of {ref.name}: {', '.join(others)}"
            if others
            else f"nothing of {ref.name} is staged on {client.registry}"
        )
        raise PystageError("E404", f"no staged version matches {ref.name}@{ref.version}", hint)
    if len(matches) > 1:
        ids = ", ".join(str(m.get("id")) for m in matches)
        raise PystageError(
            "EAMBIGUOUS",
            f"{len(matches)} staged items match {ref.name}@{ref.version}: {ids}",
            "pass one of these stage ids instead",
        )
    # (list_staged checked every listed id)
    return matches[0]["id"], matches[0]


# --- the operations ------------------------------------------------------------------


def list_staged(client: RegistryClient, package: str | None = None) -> list[dict]:
    """Every staged item (all pages), as npm's ``stage list`` collects them."""
    items: list[dict] = []
    seen: set[str] = set()
    page = 0
    while True:
        params: dict[str, int | str] = {"page": page, "perPage": PER_PAGE}
        if package:
            params["package"] = package
        res = client.json("GET", "/-/stage", params=params, otp_ok=False)
        if not isinstance(res, dict) or not isinstance(res.get("items"), list):
            raise PystageError("EBADRESPONSE", 'the registry\'s stage list has no "items" array')
        if not all(isinstance(item, dict) for item in res["items"]):
            raise PystageError(
                "EBADRESPONSE", "the registry's stage list holds items that are not objects"
            )
        ids = [
            registry_stage_id(item.get("id"), f"item {len(items) + n} of the stage list")
            for n, item in enumerate(res["items"])
        ]
        if page and ids and seen.issuperset(ids):
            # a registry that ignores ?page= while its total stays out of reach
            raise PystageError(
                "EBADRESPONSE",
                f"the registry sent page {page} of its stage "
                "list again: it may not support pagination",
            )
        items.extend(res["items"])
        seen.update(ids)
        total = res.get("total")
        if isinstance(total, str) and total.isdigit():
            total = int(total)  # npm compares with JavaScript's coercion
        if (
            not isinstance(total, (int, float))
            or isinstance(total, bool)
            or len(items) >= total
            or len(res["items"]) < PER_PAGE
        ):
            return items
        if len(items) >= MAX_LISTED:
            raise PystageError(
                "EBADRESPONSE",
                f"the registry's stage list goes on past {MAX_LISTED} items "
                f"(it claims a total of {_shown(total)})",
                "the registry may be broken; list one package: pystage list PACKAGE",
            )
        page += 1


def view_staged(client: RegistryClient, stage_id: str) -> dict:
    item = client.json("GET", f"/-/stage/{stage_id}", otp_ok=False)
    if not isinstance(item, dict):
        raise PystageError("EBADRESPONSE", f"the registry sent no staged item for {stage_id}")
    if "id" in item:
        answered = registry_stage_id(item["id"], f"the staged item sent for {stage_id}")
        if answered.lower() != stage_id.lower():
            raise PystageError(
                "EBADRESPONSE",
                f"asked for the staged item {stage_id}, the registry sent {answered}",
            )
    return item


class Approval:
    """What approve answered: ``published`` is False for a 202 ("approval recorded, not
    yet published": a policy wants more maintainers, CONTRACT-team.md)."""

    __slots__ = ("status", "body", "published")

    def __init__(self, status: int, body: Any) -> None:
        self.status = status
        self.body = body
        self.published = not (
            status == 202 or (isinstance(body, dict) and body.get("published") is False)
        )

    @property
    def approvals(self) -> tuple[int | None, int | None]:
        """(approvals so far, approvals required), when the registry said."""
        body = self.body if isinstance(self.body, dict) else {}
        given = body.get("approvals")
        need = body.get("approvalsRequired")
        return (
            len(given) if isinstance(given, list) else None,
            need if isinstance(need, int) and not isinstance(need, bool) else None,
        )


def approve_staged(client: RegistryClient, stage_id: str, otp: str | None = None) -> Approval:
    """POST approve; the client answers an OTP challenge unless ``otp`` is given (then a
    refused code is the caller's to replace: the batch does). The 2xx status is what
    confirms; ``body`` is the registry's JSON (None when it sent none)."""
    resp = client.request(
        "POST",
        f"/-/stage/{stage_id}/approve",
        expect=SUCCESS,
        **_otp_kwargs(otp),
    )
    try:
        body = resp.json() if resp.content else None
    except ValueError:
        body = None
    return Approval(resp.status_code, body)


def reject_staged(
    client: RegistryClient, stage_id: str, otp: str | None = None, reason: str | None = None
) -> None:
    """DELETE the item; ``reason`` travels in the contract's header (registries that do
    not know it ignore it)."""
    from pystage.notes import REJECT_REASON_HEADER, encode_note

    kwargs = _otp_kwargs(otp)
    if reason:
        kwargs.setdefault("headers", {})[REJECT_REASON_HEADER] = encode_note(reason)
    client.request("DELETE", f"/-/stage/{stage_id}", expect=SUCCESS, **kwargs)


def _otp_kwargs(otp: str | None) -> dict:
    if not otp:
        return {}
    return {"headers": {"npm-otp": otp}, "otp_ok": False}


def stage_publish(client: RegistryClient, name: str, body: Any, message: str | None = None) -> dict:
    """POST the publish document; no OTP is ever asked for staging. ``message``: the
    note for the reviewer (contract header; registries that do not know it ignore it)."""
    headers = {"content-type": "application/json"}
    if message:
        from pystage.notes import STAGE_MESSAGE_HEADER, encode_note

        headers[STAGE_MESSAGE_HEADER] = encode_note(message)
    res = client.json(
        "POST",
        f"/-/stage/package/{escape_name(name)}",
        data=body,
        headers=headers,
        otp_ok=False,
        expect=(200, 201),
    )
    hint = "the version may be staged all the same: look for it with `pystage list`"
    if not isinstance(res, dict) or res.get("stageId") in (None, ""):
        raise PystageError(
            "EBADRESPONSE", "the registry accepted the package but sent no stageId", hint
        )
    registry_stage_id(res["stageId"], "the registry accepted the package, but its answer", hint)
    return res


_ACTOR_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._~-]{0,213}")  # matched whole


def check_actor(actor: str) -> str:
    """A user (or actor) name as registries spell them, checked before any request:
    npm's user names are URL-safe, without spaces or slashes."""
    actor = actor.strip()
    if not _ACTOR_RE.fullmatch(actor):
        raise UsageError(
            f"{actor!r} is not a user name",
            "user names have letters, digits, - . _ ~ and no spaces (as `pystage list` shows them)",
        )
    return actor


def check_user_exists(client: RegistryClient, name: str) -> None:
    """E404 for a user the registry does not know (``GET /-/user/org.couchdb.user:<name>``,
    as npm owner add asks); a registry that cannot say is believed."""
    try:
        client.json("GET", f"/-/user/org.couchdb.user:{quote(name, safe='')}", otp_ok=False)
    except PystageError as err:
        if err.code == "E404":
            raise PystageError(
                "E404", f"no user {name} on {client.registry}", "check the spelling"
            ) from None


def package_exists(client: RegistryClient, name: str) -> bool:
    """Whether the registry knows ``name`` (its packument answers); other errors raise."""
    try:
        client.json(
            "GET", f"/{escape_name(name)}", otp_ok=False, headers={"accept": "application/json"}
        )
    except PystageError as err:
        if err.code == "E404":
            return False
        raise
    return True


def registry_versions(client: RegistryClient, name: str) -> tuple[list[str], str | None]:
    """Published, non-deprecated release versions (highest first), as npm's publish reads
    them; any failure counts as "none", exactly as npm treats it."""
    from pystage.publishing import semver

    try:
        packument = client.json(
            "GET", f"/{escape_name(name)}", otp_ok=False, headers={"accept": "application/json"}
        )
    except PystageError:
        return [], None
    versions = packument.get("versions") if isinstance(packument, dict) else None
    if not isinstance(versions, dict):
        return [], None
    parsed = []
    for key, meta in versions.items():
        version = semver.parse(key)
        if (
            version
            and not version.prerelease
            and not (isinstance(meta, dict) and meta.get("deprecated"))
        ):
            parsed.append(version)
    parsed.sort(reverse=True)
    ordered = [str(v) for v in parsed]
    return ordered, (ordered[0] if ordered else None)


class Download:
    """A saved staged tarball: where, under which name, and what it holds."""

    __slots__ = ("path", "filename", "contents", "verified")

    def __init__(
        self,
        path: str,
        filename: str,
        contents: TarballContents,
        verified: str | None = None,
    ) -> None:
        self.path = path
        self.filename = filename
        self.contents = contents
        self.verified = verified  # what was checked ("sha512, shasum"), None: nothing to check


def download_staged(
    client: RegistryClient,
    stage_id: str,
    output: str | None = None,
    cwd: str | None = None,
    progress: Callable[[str, int | None], AbstractContextManager[Any]] | None = None,
    item: dict | None = None,
) -> Download:
    """Save the staged tarball atomically under npm's file name (or ``output``).

    ``progress(description, total_bytes)``: a context manager giving ``advance(n)``.
    ``item``: the staged item; its ``integrity``/``shasum`` are checked against the bytes
    before anything is saved (EINTEGRITY, no file left, when they differ)."""
    import shutil
    import tempfile

    from pystage.integrity import Expected, check_file
    from pystage.publishing.contents import read_tarball

    cwd = cwd or os.getcwd()
    target_dir, target_file = _download_target(output, cwd)
    # a device or FIFO (-o /dev/null) is written through, never replaced by a file
    through = target_file is not None and _is_special(os.path.join(target_dir, target_file))
    resp = client.request(
        "GET", f"/-/stage/{stage_id}/tarball", stream=True, otp_ok=False, expect=(200,)
    )
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(
            prefix=".pystage-download-", suffix=".tgz", dir=None if through else target_dir
        )
        declared = resp.headers.get("content-length")
        total = int(declared) if declared and declared.isdigit() else None
        if total is not None and total > MAX_TARBALL_BYTES:
            raise _too_large(stage_id, f"the registry declares {total:,} bytes")
        received = 0
        with (
            os.fdopen(fd, "wb") as handle,
            progress("downloading", total) if progress else nullcontext(None) as advance,
        ):
            for chunk in resp.iter_content(_DOWNLOAD_CHUNK, decode_unicode=False):
                received += len(chunk)
                if received > MAX_TARBALL_BYTES:
                    raise _too_large(stage_id, "the registry sent more")
                handle.write(chunk)
                if advance:
                    advance(len(chunk))
        verified = check_file(tmp, Expected.of_item(item), f"the staged tarball {stage_id}")
        try:
            contents = read_tarball(tmp)
        except PystageError as err:
            raise PystageError(
                err.code, err.message.replace(tmp, f"the staged tarball {stage_id}"), err.hint
            ) from None
        filename = target_file or _npm_download_name(contents, stage_id)
        final = os.path.join(target_dir, filename)
        if through:
            with open(tmp, "rb") as src, open(final, "wb") as dst:
                shutil.copyfileobj(src, dst)
            os.unlink(tmp)
        else:
            os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; npm's writeFile obeys umask
            os.replace(tmp, final)
    except BaseException as exc:
        if tmp and os.path.exists(tmp):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            where = os.path.join(target_dir, target_file) if target_file else target_dir
            raise PystageError(
                errno.errorcode.get(exc.errno or 0, "EIO"),
                f"cannot save the download to {where}: {exc.strerror or exc}",
            ) from None
        raise
    finally:
        resp.close()
    return Download(final, filename, contents, verified)


def _too_large(stage_id: str, why: str) -> PystageError:
    limit = MAX_TARBALL_BYTES // (1024 * 1024)
    return PystageError(
        "EBADRESPONSE",
        f"the staged tarball {stage_id} is larger than {limit:,} MiB ({why}); nothing was saved",
    )


def _npm_download_name(contents: TarballContents, stage_id: str) -> str:
    """npm's ``<name without @, / as ->-<version>-<id>.tgz``, refused when the tarball's
    package.json would make it a path (the tarball comes from the registry: not trusted)."""
    import json

    from pystage.publishing.names import check_name

    try:
        check_name(contents.name)
    except PystageError:
        raise PystageError(
            "ETARBALL",
            f"the staged tarball {stage_id} has no valid package name: {json.dumps(contents.name)}",
        ) from None
    if not re.fullmatch(r"[0-9A-Za-z.+-]+", contents.version or ""):
        raise PystageError(
            "ETARBALL",
            f"the staged tarball {stage_id} has no valid version: {json.dumps(contents.version)}",
        )
    safe = contents.name.replace("@", "", 1).replace("/", "-", 1)
    return f"{safe}-{contents.version}-{stage_id}.tgz"


def _is_special(path: str) -> bool:
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not stat.S_ISREG(mode) and not stat.S_ISDIR(mode)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _download_target(output: str | None, cwd: str) -> tuple[str, str | None]:
    if not output:
        return cwd, None
    path = os.path.join(cwd, os.path.expanduser(output))
    if os.path.isdir(path) or output.endswith(("/", os.sep)):
        if not os.path.isdir(path):
            raise PystageError("ENOENT", f"no such directory: {output}", _mkdir_hint(output))
        return path, None
    parent = os.path.dirname(path) or cwd
    if not os.path.isdir(parent):
        missing = os.path.dirname(output)
        raise PystageError("ENOENT", f"no such directory: {missing}", _mkdir_hint(missing))
    return parent, os.path.basename(path)


def _mkdir_hint(directory: str) -> str:
    import shlex

    return f"create it first (mkdir -p {shlex.quote(directory)}), or name a directory that exists"


def describe_items(items: Iterable[dict]) -> list[str]:
    return [f"{i.get('packageName')}@{i.get('version')} ({i.get('id')})" for i in items]


# --- what review reads ---------------------------------------------------------------


def get_packument(client: RegistryClient, name: str) -> dict | None:
    """The package's full packument; None when the registry has no such package."""
    try:
        packument = client.json(
            "GET", f"/{escape_name(name)}", otp_ok=False, headers={"accept": "application/json"}
        )
    except PystageError as err:
        if err.code == "E404":
            return None
        raise
    if not isinstance(packument, dict):
        raise PystageError("EBADRESPONSE", f"the registry's packument of {name} is not an object")
    return packument


class TarballStream:
    """A streamed GET of a tarball: iterate for its chunks; ``close()`` ends it early."""

    def __init__(self, resp: Answer) -> None:
        self._resp = resp

    def __iter__(self) -> Iterator[bytes]:
        return self._resp.iter_content(_DOWNLOAD_CHUNK, decode_unicode=False)

    def close(self) -> None:
        self._resp.close()

    def shut(self) -> None:
        """End a read blocked in another thread at once (a deadline's timer calls it):
        the connection's socket is shut, as the client's watchdog does. An answer with
        ``connection: close`` holds its socket in the response, not the connection."""
        from pystage.session import _shut

        raw = getattr(getattr(self._resp, "_resp", None), "raw", None)
        sock = getattr(getattr(raw, "connection", None), "sock", None)
        if sock is None:
            fp = getattr(getattr(raw, "_fp", None), "fp", None)  # http.client's reader
            sock = getattr(getattr(fp, "raw", None), "_sock", None)
        _shut(sock)

    def __enter__(self) -> TarballStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def stream_staged_tarball(client: RegistryClient, stage_id: str) -> TarballStream:
    return TarballStream(
        client.request(
            "GET", f"/-/stage/{stage_id}/tarball", stream=True, otp_ok=False, expect=(200,)
        )
    )


def stream_published_tarball(
    client: RegistryClient, name: str, version: str, manifest: dict
) -> TarballStream:
    """A published version's tarball from its ``dist.tarball`` (an http(s) URL the
    registry gave; credentials still go only where they are keyed for), else from the
    registry's conventional path."""
    dist = found if isinstance(found := manifest.get("dist"), dict) else {}
    url = dist.get("tarball")
    if not (isinstance(url, str) and re.fullmatch(r"https?://[^\s/]+/\S*", url)):
        base = name.rsplit("/", 1)[-1]
        url = f"/{escape_name(name)}/-/{base}-{version}.tgz"
    return TarballStream(client.request("GET", url, stream=True, otp_ok=False, expect=(200,)))
