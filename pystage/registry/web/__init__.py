"""The review page under ``/-/web/`` (``pystage registry serve``; ``--no-web`` turns it off).

A maintainer signs in with name, password and one-time password, sees the staged
versions of the packages they maintain with the review's findings, and approves or
rejects them with a code. Plain HTML forms (no JavaScript, no build step), Jinja2
templates with autoescaping, a strict Content-Security-Policy. The handlers call the
registry's service layer in the same process, so the page follows exactly the rules
of the API (the same 404 for what a user may not see, the same OTP checks).

Modules, each with one job:

- ``store``     the page's own tables (sessions, cached reviews), created on start-up
- ``sessions``  sign-in sessions: cookie token, expiry, CSRF token, one-shot messages
- ``csrf``      the CSRF checks: per-session form token, sign-in cookie, Origin
- ``forms``     reading a urlencoded form body within a size limit
- ``pages``     the Jinja2 environment, filters and the security headers of every page
- ``filetree``  a staged tarball's files with sizes and hashes, read as a stream
- ``reviews``   the review engine's report for a staged version, computed once, cached
- ``history``   the package history shown on the page
- ``routes``    the HTTP handlers
"""

from __future__ import annotations

PREFIX = "/-/web"
