"""The registry's SQLite database: schema, connections, transactions.

WAL mode lets readers (packuments, stage views) run while one writer holds
the lock; every write runs in ``BEGIN IMMEDIATE`` so concurrent writers queue
instead of failing half-way. ``synchronous=FULL`` makes a commit durable
before the response is sent.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    name TEXT PRIMARY KEY,
    email TEXT,
    password_hash TEXT NOT NULL,
    created TEXT NOT NULL,
    updated TEXT NOT NULL,
    tfa_mode TEXT,              -- NULL, 'auth-only' or 'auth-and-writes'
    tfa_secret TEXT,
    tfa_pending INTEGER NOT NULL DEFAULT 0,
    recovery_codes TEXT NOT NULL DEFAULT '[]',  -- sha256 hex of unused codes
    otp_failures INTEGER NOT NULL DEFAULT 0,
    otp_locked_until REAL NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS tokens (
    token_hash TEXT PRIMARY KEY,  -- sha256 hex; the token itself is never stored
    user TEXT NOT NULL REFERENCES users(name),
    created TEXT NOT NULL
    -- more columns in COLUMNS below (added to existing databases too)
);
CREATE TABLE IF NOT EXISTS otp_lockouts (
    credential TEXT PRIMARY KEY,  -- 'token:<key>' or 'password:<user>@<address>'
    failures INTEGER NOT NULL DEFAULT 0,
    locked_until REAL NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS otp_used (
    user TEXT NOT NULL,
    step INTEGER NOT NULL,        -- TOTP time step already accepted once
    PRIMARY KEY (user, step)
);
CREATE TABLE IF NOT EXISTS packages (
    name TEXT PRIMARY KEY,
    created TEXT NOT NULL,
    modified TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS maintainers (
    package TEXT NOT NULL REFERENCES packages(name),
    user TEXT NOT NULL REFERENCES users(name),
    PRIMARY KEY (package, user)
);
CREATE TABLE IF NOT EXISTS versions (
    package TEXT NOT NULL REFERENCES packages(name),
    version TEXT NOT NULL,
    manifest TEXT NOT NULL,
    tarball TEXT NOT NULL,
    published TEXT NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (package, version)
);
CREATE TABLE IF NOT EXISTS dist_tags (
    package TEXT NOT NULL REFERENCES packages(name),
    tag TEXT NOT NULL,
    version TEXT NOT NULL,
    PRIMARY KEY (package, tag)
);
CREATE TABLE IF NOT EXISTS stages (
    id TEXT PRIMARY KEY,
    package TEXT NOT NULL REFERENCES packages(name),
    version TEXT NOT NULL,
    tag TEXT NOT NULL,
    access TEXT,
    manifest TEXT NOT NULL,
    tarball TEXT NOT NULL,
    shasum TEXT NOT NULL,
    integrity TEXT NOT NULL,
    size INTEGER NOT NULL,
    actor TEXT NOT NULL,
    actor_type TEXT NOT NULL,
    created TEXT NOT NULL,
    seq INTEGER NOT NULL,
    UNIQUE (package, version)
);
CREATE INDEX IF NOT EXISTS stages_by_package ON stages(package, seq);
CREATE TABLE IF NOT EXISTS resolved_stages (
    id TEXT PRIMARY KEY,          -- lets a late approve/reject say what happened
    package TEXT NOT NULL,
    version TEXT NOT NULL,
    outcome TEXT NOT NULL,        -- 'approved' or 'rejected'
    actor TEXT NOT NULL,
    at TEXT NOT NULL
);
-- Team workflow (issue 13): approvals towards a policy's quorum, the policies, the history.
CREATE TABLE IF NOT EXISTS stage_approvals (
    stage_id TEXT NOT NULL REFERENCES stages(id) ON DELETE CASCADE,
    actor TEXT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (stage_id, actor)   -- one approval per maintainer and staged version
);
CREATE TABLE IF NOT EXISTS policies (
    package TEXT PRIMARY KEY REFERENCES packages(name),
    approvers INTEGER NOT NULL,
    expire_after INTEGER,         -- seconds; NULL: staged versions never expire
    updated TEXT NOT NULL,
    actor TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS history (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    event TEXT NOT NULL,
    package TEXT NOT NULL,
    version TEXT,
    stage_id TEXT,
    actor TEXT,                   -- NULL for what the registry does itself (expiry)
    detail TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS history_by_package ON history(package, seq);
CREATE TRIGGER IF NOT EXISTS history_is_append_only_update BEFORE UPDATE ON history
BEGIN SELECT RAISE(ABORT, 'the history is append-only'); END;
CREATE TRIGGER IF NOT EXISTS history_is_append_only_delete BEFORE DELETE ON history
BEGIN SELECT RAISE(ABORT, 'the history is append-only'); END;
"""

# Columns added after a table first shipped: created on new databases and added to
# existing ones by a guarded ALTER TABLE at start-up, with the statement that fills old rows.
COLUMNS: dict[str, list[tuple[str, str, str | None]]] = {
    "tokens": [
        ("key", "TEXT", "UPDATE tokens SET key = substr(token_hash, 1, 32) WHERE key IS NULL"),
        ("preview", "TEXT", None),  # the token's first characters, shown in lists
        ("name", "TEXT", None),
        ("readonly", "INTEGER NOT NULL DEFAULT 0", None),
        ("stage_only", "INTEGER NOT NULL DEFAULT 0", None),
        ("cidr_whitelist", "TEXT NOT NULL DEFAULT '[]'", None),
        ("updated", "TEXT", None),
    ],
    "stages": [
        ("message", "TEXT", None),  # the stager's note for the reviewer
        ("expires_at", "TEXT", None),  # ISO 8601 UTC; NULL: never
    ],
}
AFTER_COLUMNS = "CREATE INDEX IF NOT EXISTS stages_by_expiry ON stages(expires_at);"


def _add_columns(conn: sqlite3.Connection) -> None:
    conn.execute("BEGIN IMMEDIATE")  # two processes starting at once must not both ALTER
    try:
        for table, columns in COLUMNS.items():
            present = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
            for name, declaration, backfill in columns:
                if name not in present:
                    conn.execute(f"ALTER TABLE {table} ADD COLUMN {name} {declaration}")
                    if backfill:
                        conn.execute(backfill)
        conn.execute(AFTER_COLUMNS)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


class Database:
    """One SQLite connection per thread, all to the same file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        self.conn().executescript(SCHEMA)
        _add_columns(self.conn())

    def conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(
                self.path, timeout=30, isolation_level=None, check_same_thread=False
            )
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA foreign_keys=ON")
            self._local.conn = conn
        return conn

    def probe_write(self) -> None:
        """Raise when the database cannot take a write (read-only file or directory)."""
        conn = self.conn()
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("ROLLBACK")

    @contextlib.contextmanager
    def write(self):
        """A write transaction: committed on success, rolled back on any exception."""
        conn = self.conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException:
            # SQLite has already rolled back after some errors (SQLITE_FULL, IOERR);
            # a second ROLLBACK would raise and hide the error that matters.
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    @contextlib.contextmanager
    def read(self):
        """A read transaction: one consistent snapshot for several queries."""
        conn = self.conn()
        conn.execute("BEGIN")
        try:
            yield conn
        finally:
            conn.execute("COMMIT")


def page_of_rows(
    conn: sqlite3.Connection,
    columns: str,
    source: str,
    order: str,
    args: list,
    page: int,
    per_page: int,
) -> tuple[int, list]:
    """(total, rows) of one page of ``SELECT {columns} {source} ORDER BY {order}``; the
    caller checks ``page`` and ``per_page``. Past the end there is no query at all: a
    huge ``?page=`` would overflow SQLite's integer OFFSET."""
    total = conn.execute(f"SELECT COUNT(*) {source}", args).fetchone()[0]
    if page * per_page >= total:
        return total, []
    rows = conn.execute(
        f"SELECT {columns} {source} ORDER BY {order} LIMIT ? OFFSET ?",
        [*args, per_page, page * per_page],
    ).fetchall()
    return total, rows
