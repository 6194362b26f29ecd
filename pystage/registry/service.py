"""The registry's operations over its storage: packages, publishing, staging.

Plain synchronous methods, called by the HTTP app from worker threads; each
either returns data or raises ``RegistryError``. Every state change is one
SQLite transaction, and every tarball a row refers to was fsynced and renamed
into place before that row was committed.
"""

from __future__ import annotations

import base64
import json
import os
import re
import sqlite3
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from pystage.registry import history
from pystage.registry.accounts import Accounts, User
from pystage.registry.blobs import BlobStore, probe_directory
from pystage.registry.config import RegistryConfig
from pystage.registry.db import Database, page_of_rows
from pystage.registry.errors import RegistryError
from pystage.registry.identity import with_server_identity
from pystage.registry.names import is_valid_version, name_problem, tag_problem, tarball_basename
from pystage.registry.notify import Notifier
from pystage.registry.policies import policy_of
from pystage.registry.publishdoc import PublishDocument
from pystage.registry.storage_faults import startup_fault
from pystage.registry.timefmt import iso_after, now_iso
from pystage.registry.webauth import WebAuth

STAGE_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
MAX_PER_PAGE = 1000

# Fault injection for the crash tests: when PYSTAGE_REGISTRY_PAUSE_AT names a
# point below, the request stops there (inside or just after its transaction)
# and says so on stderr, so a test can kill the process at exactly that moment.
PAUSE_AT = os.environ.get("PYSTAGE_REGISTRY_PAUSE_AT", "")


def pause_point(name: str) -> None:
    if name and name == PAUSE_AT:
        print(f"pystage registry: paused at {name}", file=sys.stderr, flush=True)
        time.sleep(3600)


@dataclass
class PackageData:
    name: str
    created: str
    modified: str
    versions: list[tuple[str, dict, str]]  # (version, manifest, published), in publish order
    tags: dict[str, str]
    maintainers: list[tuple[str, str | None]]


def _stage_item(row, approvals: list[dict] | None = None, required: int = 1) -> dict:
    """The item as the stage endpoints show it; ``message``/``expiresAt`` only when set."""
    extra = {"message": row["message"]} if row["message"] else {}
    if row["expires_at"]:
        extra["expiresAt"] = row["expires_at"]
    return {
        "id": row["id"],
        "packageName": row["package"],
        "version": row["version"],
        "tag": row["tag"],
        "createdAt": row["created"],
        "actor": row["actor"],
        "actorType": row["actor_type"],
        "access": row["access"],
        "shasum": row["shasum"],
        "integrity": row["integrity"],
        **extra,
        "approvalsRequired": required,
        "approvals": approvals or [],
    }


def _approvals(conn, stage_ids: list[str]) -> dict[str, list[dict]]:
    """Approvals so far per stage id, counting only people who still maintain the package
    (an approval by someone since removed as an owner no longer counts)."""
    found: dict[str, list[dict]] = {i: [] for i in stage_ids}
    for start in range(0, len(stage_ids), 500):  # SQLite's limit on bound parameters
        chunk = stage_ids[start : start + 500]
        marks = ", ".join("?" * len(chunk))
        for r in conn.execute(
            "SELECT a.stage_id, a.actor, a.at FROM stage_approvals a "
            "JOIN stages s ON s.id = a.stage_id "
            "JOIN maintainers m ON m.package = s.package AND m.user = a.actor "
            f"WHERE a.stage_id IN ({marks}) ORDER BY a.at, a.rowid",
            chunk,
        ):
            found[r["stage_id"]].append({"actor": r["actor"], "at": r["at"]})
    return found


def _items(conn, rows) -> list[dict]:
    approvals = _approvals(conn, [r["id"] for r in rows])
    required: dict[str, int] = {}
    for r in rows:
        if r["package"] not in required:
            required[r["package"]] = policy_of(conn, r["package"]).approvers
    return [_stage_item(r, approvals[r["id"]], required[r["package"]]) for r in rows]


def _with_publisher(conn, manifest: dict, user: User, package: str) -> dict:
    """The manifest with the identity fields the registry sets (never the client's):
    ``_npmUser``, which npm view prints as "published ... by" (a staged version names
    its stager), and ``maintainers``, the package's maintainers at this moment."""
    maintainers = conn.execute(
        "SELECT users.name, users.email FROM maintainers JOIN users "
        "ON users.name = maintainers.user WHERE package = ? ORDER BY users.name",
        (package,),
    ).fetchall()
    return with_server_identity(manifest, (user.name, user.email), [tuple(m) for m in maintainers])


class Registry:
    def __init__(self, config: RegistryConfig) -> None:
        self.config = config
        try:
            config.storage.mkdir(parents=True, exist_ok=True, mode=0o700)
            probe_directory(config.storage)  # read-only: say so, not "cannot open database"
            self.db = Database(config.db_path)
            self.db.probe_write()
            self.blobs = BlobStore(config.tarball_dir, config.tmp_dir)
            self.blobs.probe()
            self.blobs.collect_garbage(self.db.conn())
        except (OSError, sqlite3.Error) as exc:
            raise startup_fault(exc, config.storage, config.db_path) from None
        self.web = WebAuth() if config.web_auth else None
        self.accounts = Accounts(self.db, config, self.web)
        self.notifier = Notifier(config.notify_urls)

    # -- who is asking -----------------------------------------------------------
    def authenticate(
        self, authorization: str | None, otp: str | None = None, address: str | None = None
    ) -> User | None:
        """The user a request's credentials name. A Bearer token unknown here is no
        user (anonymous reads still work); a wrong HTTP Basic password is a 401 and
        counts as a guess; Basic for an account with 2FA needs ``otp`` (npm-otp)."""
        if not authorization:
            return None
        scheme, _, credentials = authorization.partition(" ")
        scheme = scheme.lower()
        if scheme == "bearer" and credentials:
            return self.accounts.user_for_token(credentials.strip(), address)
        if scheme == "basic" and credentials:
            try:
                decoded = base64.b64decode(credentials.strip(), validate=True).decode()
            except (ValueError, UnicodeDecodeError):
                raise RegistryError(401, "malformed HTTP Basic credentials") from None
            name, _, password = decoded.partition(":")
            return self.accounts.user_for_basic(name, password, otp, address)
        return None

    @staticmethod
    def require_user(user: User | None) -> User:
        if user is None:
            raise RegistryError(401, "authentication required: log in first (npm login)")
        return user

    def is_maintainer(self, conn, package: str, user: User) -> bool:
        return (
            conn.execute(
                "SELECT 1 FROM maintainers WHERE package = ? AND user = ?", (package, user.name)
            ).fetchone()
            is not None
        )

    def _package_exists(self, conn, name: str) -> bool:
        return conn.execute("SELECT 1 FROM packages WHERE name = ?", (name,)).fetchone() is not None

    def _version_taken(self, conn, name: str, version: str) -> str | None:
        if conn.execute(
            "SELECT 1 FROM versions WHERE package = ? AND version = ?", (name, version)
        ).fetchone():
            return "published"
        if conn.execute(
            "SELECT 1 FROM stages WHERE package = ? AND version = ?", (name, version)
        ).fetchone():
            return "staged"
        return None

    @staticmethod
    def _next_seq(conn, table: str) -> int:
        return conn.execute(f"SELECT COALESCE(MAX(seq), 0) + 1 FROM {table}").fetchone()[0]

    # -- reading packages --------------------------------------------------------
    def package(self, name: str) -> PackageData:
        with self.db.read() as conn:
            row = conn.execute("SELECT * FROM packages WHERE name = ?", (name,)).fetchone()
            if row is None:
                raise RegistryError(404, f'package "{name}" not found')
            versions = [
                (r["version"], json.loads(r["manifest"]), r["published"])
                for r in conn.execute(
                    "SELECT version, manifest, published FROM versions "
                    "WHERE package = ? ORDER BY seq",
                    (name,),
                )
            ]
            tags = dict(
                conn.execute(
                    "SELECT tag, version FROM dist_tags WHERE package = ? ORDER BY rowid", (name,)
                ).fetchall()
            )
            maintainers = [
                (r["name"], r["email"])
                for r in conn.execute(
                    "SELECT users.name, users.email FROM maintainers JOIN users "
                    "ON users.name = maintainers.user WHERE package = ? ORDER BY users.name",
                    (name,),
                )
            ]
        return PackageData(name, row["created"], row["modified"], versions, tags, maintainers)

    def tarball_path(self, name: str, filename: str) -> Path:
        version = None
        for prefix in (f"{tarball_basename(name)}-", f"{name}-"):
            if filename.startswith(prefix) and filename.endswith(".tgz"):
                version = filename[len(prefix) : -len(".tgz")]
                break
        row = None
        if version is not None:
            row = (
                self.db.conn()
                .execute(
                    "SELECT tarball FROM versions WHERE package = ? AND version = ?",
                    (name, version),
                )
                .fetchone()
            )
        if row is None:
            raise RegistryError(404, f'tarball "{filename}" of package "{name}" not found')
        return self.blobs.path(row["tarball"])

    # -- publishing --------------------------------------------------------------
    def check_may_publish(self, user: User, name: str, otp: str | None) -> None:
        """Before reading a publish body: may ``user`` publish ``name`` at all?"""
        problem = name_problem(name)
        if problem:
            raise RegistryError(400, problem)
        conn = self.db.conn()
        if self._package_exists(conn, name) and not self.is_maintainer(conn, name, user):
            raise RegistryError(403, f'you do not have permission to publish "{name}"')
        if user.needs_otp_for_writes:
            self.accounts.check_otp(user, otp)

    def publish(self, user: User, doc: PublishDocument) -> None:
        blob = self.blobs.adopt(doc.tarball.path)
        try:
            stamp = now_iso()
            with self.db.write() as conn:
                if not self._package_exists(conn, doc.name):
                    conn.execute(
                        "INSERT INTO packages (name, created, modified) VALUES (?, ?, ?)",
                        (doc.name, stamp, stamp),
                    )
                    conn.execute(
                        "INSERT INTO maintainers (package, user) VALUES (?, ?)",
                        (doc.name, user.name),
                    )
                elif not self.is_maintainer(conn, doc.name, user):
                    raise RegistryError(403, f'you do not have permission to publish "{doc.name}"')
                self._refuse_taken(conn, doc.name, doc.version)
                manifest = _with_publisher(conn, doc.manifest, user, doc.name)
                self._insert_version(conn, doc.name, doc.version, manifest, blob, doc.tag, stamp)
                event = history.record(
                    conn,
                    "publish",
                    doc.name,
                    version=doc.version,
                    actor=user.name,
                    detail={"tag": doc.tag, "staged": False},
                    at=stamp,
                )
        except BaseException:
            self.blobs.remove(blob)
            raise
        self.notifier.send([event])

    def _refuse_taken(self, conn, name: str, version: str) -> None:
        taken = self._version_taken(conn, name, version)
        if taken:
            raise RegistryError(
                409,
                f"{name}@{version} is already {taken}: "
                "versions are unique across published and staged ones",
            )

    def _insert_version(self, conn, name, version, manifest: dict, blob: str, tag: str, stamp):
        conn.execute(
            "INSERT INTO versions (package, version, manifest, tarball, published, seq) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (name, version, json.dumps(manifest), blob, stamp, self._next_seq(conn, "versions")),
        )
        conn.execute(
            "INSERT INTO dist_tags (package, tag, version) VALUES (?, ?, ?) "
            "ON CONFLICT (package, tag) DO UPDATE SET version = excluded.version",
            (name, tag, version),
        )
        conn.execute("UPDATE packages SET modified = ? WHERE name = ?", (stamp, name))

    # -- staging -----------------------------------------------------------------
    def check_may_stage(self, user: User, name: str) -> None:
        problem = name_problem(name)
        if problem:
            raise RegistryError(400, problem)
        conn = self.db.conn()
        if not self._package_exists(conn, name):
            raise RegistryError(
                404,
                f'package "{name}" does not exist: staging needs an existing '
                "package, so publish its first version normally",
            )
        if not self.is_maintainer(conn, name, user):
            raise RegistryError(403, f'you do not have permission to publish "{name}"')

    def stage(self, user: User, doc: PublishDocument, message: str | None = None) -> dict:
        blob = self.blobs.adopt(doc.tarball.path)
        try:
            with self.db.write() as conn:
                if not self.is_maintainer(conn, doc.name, user):
                    raise RegistryError(403, f'you do not have permission to publish "{doc.name}"')
                self._refuse_taken(conn, doc.name, doc.version)
                stage_id = str(uuid.uuid4())
                created = now_iso()
                policy = policy_of(conn, doc.name)
                expires = iso_after(created, policy.expire_after) if policy.expire_after else None
                conn.execute(
                    "INSERT INTO stages (id, package, version, tag, access, manifest, tarball, "
                    "shasum, integrity, size, actor, actor_type, created, seq, message, "
                    "expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'user', ?, ?, ?, ?)",
                    (
                        stage_id,
                        doc.name,
                        doc.version,
                        doc.tag,
                        doc.access,
                        json.dumps(_with_publisher(conn, doc.manifest, user, doc.name)),
                        blob,
                        doc.tarball.sha1_hex,
                        doc.tarball.integrity,
                        doc.tarball.length,
                        user.name,
                        created,
                        self._next_seq(conn, "stages"),
                        message or None,
                        expires,
                    ),
                )
                detail = {"tag": doc.tag, **({"message": message} if message else {})}
                event = history.record(
                    conn,
                    "stage",
                    doc.name,
                    version=doc.version,
                    stage_id=stage_id,
                    actor=user.name,
                    detail=detail,
                    at=created,
                )
                pause_point("stage-before-commit")
                row = conn.execute("SELECT * FROM stages WHERE id = ?", (stage_id,)).fetchone()
        except BaseException:
            self.blobs.remove(blob)
            raise
        self.notifier.send([event])
        return _stage_item(row, [], policy.approvers)

    def list_stages(self, user: User, package: str | None, page: int, per_page: int) -> dict:
        if page < 0 or not 1 <= per_page <= MAX_PER_PAGE:
            raise RegistryError(400, f"page must be >= 0 and perPage between 1 and {MAX_PER_PAGE}")
        self.expire_due()
        where, args = "maintainers.user = ?", [user.name]
        if package is not None:
            where, args = where + " AND stages.package = ?", args + [package]
        source = (
            f"FROM stages JOIN maintainers ON maintainers.package = stages.package WHERE {where}"
        )
        with self.db.read() as conn:
            total, rows = page_of_rows(conn, "stages.*", source, "stages.seq", args, page, per_page)
            items = _items(conn, rows)
        return {
            "items": items,
            "total": total,
            "page": page,
            "perPage": per_page,
        }

    def _visible_stage(self, conn, user: User, stage_id: str, acting: bool = False):
        """The stage row if ``user`` may see it; 404 otherwise (409 when ``acting`` on a
        stage that was already approved, rejected or expired)."""
        stage_id = stage_id.lower()
        if not STAGE_ID.fullmatch(stage_id):
            raise RegistryError(404, f'staged package "{stage_id}" not found')
        row = conn.execute("SELECT * FROM stages WHERE id = ?", (stage_id,)).fetchone()
        if row is not None and self.is_maintainer(conn, row["package"], user):
            return row
        if row is None and acting:
            done = conn.execute(
                "SELECT * FROM resolved_stages WHERE id = ?", (stage_id,)
            ).fetchone()
            if done is not None and self.is_maintainer(conn, done["package"], user):
                raise RegistryError(
                    409,
                    f"staged package {stage_id} "
                    f"({done['package']}@{done['version']}) was already "
                    f"{done['outcome']}",
                )
        raise RegistryError(404, f'staged package "{stage_id}" not found')

    def stage_item(self, user: User, stage_id: str) -> dict:
        self.expire_due()
        with self.db.read() as conn:
            return _items(conn, [self._visible_stage(conn, user, stage_id)])[0]

    def stage_tarball(self, user: User, stage_id: str) -> tuple[Path, str]:
        self.expire_due()
        row = self._visible_stage(self.db.conn(), user, stage_id)
        return self.blobs.path(
            row["tarball"]
        ), f"{tarball_basename(row['package'])}-{row['version']}.tgz"

    # -- approving, rejecting, expiring ----------------------------------------------
    @staticmethod
    def _refuse_second_approval(conn, row, user: User) -> None:
        if conn.execute(
            "SELECT 1 FROM stage_approvals WHERE stage_id = ? AND actor = ?",
            (row["id"], user.name),
        ).fetchone():
            raise RegistryError(409, "you have already approved this version")

    def approve(self, user: User, stage_id: str, otp: str | None) -> tuple[int, dict]:
        """Record ``user``'s approval; publish when it completes the package's quorum.
        Returns (200, published item) or (202, the approvals so far)."""
        self.expire_due()
        row = self._visible_stage(self.db.conn(), user, stage_id, acting=True)
        self._refuse_second_approval(self.db.conn(), row, user)  # before spending a code
        if user.has_2fa:
            self.accounts.check_otp(user, otp)
        stamp = now_iso()
        events: list[dict] = []
        with self.db.write() as conn:
            # Re-read inside the write lock: a concurrent approve, reject or expiry may have
            # won; the expiry check and the approval are one transaction, so exactly one wins.
            row = self._visible_stage(conn, user, stage_id, acting=True)
            name, version = row["package"], row["version"]
            if row["expires_at"] and row["expires_at"] <= stamp:
                events += self._expire_rows(conn, [row], stamp)
                outcome = "expired"
            else:
                self._refuse_second_approval(conn, row, user)
                conn.execute(
                    "INSERT INTO stage_approvals (stage_id, actor, at) VALUES (?, ?, ?)",
                    (row["id"], user.name, stamp),
                )
                approvals = _approvals(conn, [row["id"]])[row["id"]]
                required = policy_of(conn, name).approvers
                events.append(
                    history.record(
                        conn,
                        "approve",
                        name,
                        version=version,
                        stage_id=row["id"],
                        actor=user.name,
                        detail={"approval": len(approvals), "of": required},
                        at=stamp,
                    )
                )
                outcome = "recorded"
                if len(approvals) >= required:
                    events.append(self._publish_staged(conn, row, user, stamp))
                    outcome = "published"
                pause_point("approve-before-commit")
        self.notifier.send(events)
        if outcome == "expired":
            self.blobs.remove(row["tarball"])
            raise RegistryError(
                409, f"staged package {row['id']} ({name}@{version}) expired at {row['expires_at']}"
            )
        pause_point("approve-after-commit")
        item = _stage_item(row, approvals, required)
        if outcome == "recorded":
            return 202, {
                "ok": True,
                **item,
                "published": False,
                "message": f"approval {len(approvals)} of {required} recorded for "
                f"{name}@{version}: it is published once {required} maintainers have approved",
            }
        return 200, {
            "ok": True,
            **item,
            "published": True,
            "message": f"{name}@{version} published with tag {row['tag']}",
        }

    def _publish_staged(self, conn, row, user: User, stamp: str) -> dict:
        name, version = row["package"], row["version"]
        if conn.execute(
            "SELECT 1 FROM versions WHERE package = ? AND version = ?", (name, version)
        ).fetchone():
            raise RegistryError(409, f"{name}@{version} is already published")
        self._insert_version(
            conn, name, version, json.loads(row["manifest"]), row["tarball"], row["tag"], stamp
        )
        self._resolve(conn, row, "approved", user.name, stamp)
        return history.record(
            conn,
            "publish",
            name,
            version=version,
            stage_id=row["id"],
            actor=user.name,
            detail={"tag": row["tag"], "staged": True},
            at=stamp,
        )

    def reject(self, user: User, stage_id: str, otp: str | None, reason: str | None = None) -> None:
        self.expire_due()
        self._visible_stage(self.db.conn(), user, stage_id, acting=True)
        if user.has_2fa:
            self.accounts.check_otp(user, otp)
        stamp = now_iso()
        aside = row = None
        try:
            with self.db.write() as conn:
                row = self._visible_stage(conn, user, stage_id, acting=True)
                # set aside first: on storage that cannot change this fails, and the
                # rejection is not committed either (no "failed" answer for a done reject)
                aside = self.blobs.set_aside(row["tarball"])
                self._resolve(conn, row, "rejected", user.name, stamp)
                event = history.record(
                    conn,
                    "reject",
                    row["package"],
                    version=row["version"],
                    stage_id=row["id"],
                    actor=user.name,
                    detail={"reason": reason} if reason else {},
                    at=stamp,
                )
        except BaseException:
            if aside is not None:
                self.blobs.restore(aside, row["tarball"])  # type: ignore[index]  # row is read before aside is set
            raise
        self.notifier.send([event])
        self.blobs.remove(aside)

    def expire_due(self) -> int:
        """Discard every staged version past its expiry; returns how many. Called lazily
        before the stage endpoints read, and by the periodic sweep (``expiry.Sweeper``)."""
        stamp = now_iso()
        due = "SELECT * FROM stages WHERE expires_at IS NOT NULL AND expires_at <= ?"
        if self.db.conn().execute(due + " LIMIT 1", (stamp,)).fetchone() is None:
            return 0  # the usual case costs one indexed read, no write lock
        with self.db.write() as conn:
            rows = conn.execute(due, (stamp,)).fetchall()
            events = self._expire_rows(conn, rows, stamp)
        self.notifier.send(events)
        for row in rows:
            self.blobs.remove(row["tarball"])
        return len(rows)

    def _expire_rows(self, conn, rows, stamp: str) -> list[dict]:
        events = []
        for row in rows:
            self._resolve(conn, row, "expired", "", stamp)
            events.append(
                history.record(
                    conn,
                    "expire",
                    row["package"],
                    version=row["version"],
                    stage_id=row["id"],
                    detail={"expiresAt": row["expires_at"]},
                    at=stamp,
                )
            )
        return events

    @staticmethod
    def _resolve(conn, row, outcome: str, actor: str, stamp: str) -> None:
        conn.execute("DELETE FROM stages WHERE id = ?", (row["id"],))
        conn.execute(
            "INSERT INTO resolved_stages (id, package, version, outcome, actor, at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (row["id"], row["package"], row["version"], outcome, actor, stamp),
        )

    # -- dist-tags ---------------------------------------------------------------
    def dist_tags(self, name: str) -> dict:
        return self.package(name).tags

    def set_dist_tag(
        self, user: User, name: str, tag: str, version: object, otp: str | None
    ) -> dict:
        problem = tag_problem(tag)
        if problem:
            raise RegistryError(400, problem)
        if not is_valid_version(version):
            raise RegistryError(400, "the body must be a JSON string holding a published version")
        self._check_tag_rights(user, name, otp)
        with self.db.write() as conn:
            if not conn.execute(
                "SELECT 1 FROM versions WHERE package = ? AND version = ?", (name, version)
            ).fetchone():
                raise RegistryError(404, f"{name}@{version} is not published")
            conn.execute(
                "INSERT INTO dist_tags (package, tag, version) VALUES (?, ?, ?) "
                "ON CONFLICT (package, tag) DO UPDATE SET version = excluded.version",
                (name, tag, version),
            )
            conn.execute("UPDATE packages SET modified = ? WHERE name = ?", (now_iso(), name))
        return self.dist_tags(name)

    def delete_dist_tag(self, user: User, name: str, tag: str, otp: str | None) -> dict:
        if tag == "latest":
            raise RegistryError(400, 'the "latest" tag cannot be removed')
        self._check_tag_rights(user, name, otp)
        with self.db.write() as conn:
            if (
                conn.execute(
                    "DELETE FROM dist_tags WHERE package = ? AND tag = ?", (name, tag)
                ).rowcount
                == 0
            ):
                raise RegistryError(404, f'package "{name}" has no dist-tag "{tag}"')
        return self.dist_tags(name)

    def _check_tag_rights(self, user: User, name: str, otp: str | None) -> None:
        conn = self.db.conn()
        if not self._package_exists(conn, name):
            raise RegistryError(404, f'package "{name}" not found')
        if not self.is_maintainer(conn, name, user):
            raise RegistryError(403, f'you do not have permission to change tags of "{name}"')
        if user.needs_otp_for_writes:
            self.accounts.check_otp(user, otp)
