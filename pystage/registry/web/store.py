"""The review page's own tables, kept beside the registry's in ``registry.db``.

They are created here, when the page is enabled, rather than in ``db.SCHEMA``:
a registry started with ``--no-web`` never needs them, and nothing else reads them.
"""

from __future__ import annotations

WEB_SCHEMA = """
CREATE TABLE IF NOT EXISTS web_sessions (
    token_hash TEXT PRIMARY KEY,   -- sha256 hex of the cookie value; the value is never stored
    user TEXT NOT NULL REFERENCES users(name),
    csrf TEXT NOT NULL,            -- the form token of this session
    created REAL NOT NULL,         -- unix time: the session ends LIFETIME after this
    seen REAL NOT NULL,            -- unix time of the last request: IDLE after this it ends
    flash TEXT                     -- JSON [kind, text] shown once on the next page
);
CREATE TABLE IF NOT EXISTS web_reviews (
    stage_id TEXT NOT NULL,
    baseline TEXT NOT NULL,        -- the version compared with ('' when none)
    report TEXT NOT NULL,          -- JSON: the review report and the file tree
    counts TEXT,                   -- JSON {severity: n} for the list; NULL: no review
    created TEXT NOT NULL,
    PRIMARY KEY (stage_id, baseline)
);
"""


def create_tables(db) -> None:
    db.conn().executescript(WEB_SCHEMA)
