"""The embedded npm-compatible staging registry (``pystage registry serve``).

Modules, each with one job:

- ``config``     the server's settings and the default storage directory
- ``names``      package names, versions and dist-tags: what is valid
- ``jsonstream`` a streaming JSON reader that decodes huge base64 attachments to disk
- ``publishdoc`` the publish document: parse, validate, check the tarball
- ``blobs``      tarball files: temp file, fsync, rename, garbage collection
- ``db``         SQLite schema and connections
- ``accounts``   users, passwords, tokens, TOTP two-factor and lockout
- ``service``    the registry's operations over storage (no HTTP here)
- ``packument``  full and abbreviated packument documents
- ``policies``   approval policies per package (N approvers, expiry) and their endpoints
- ``history``    the append-only event log and its endpoint
- ``owners``     package owners as ``npm owner add/rm`` changes them
- ``expiry``     the periodic sweep discarding staged versions past their expiry
- ``notify``     webhooks: each history event POSTed by a background sender
- ``teamroutes`` the HTTP routes of the pystage extensions (policy, history)
- ``app``        the Starlette application: HTTP in, service calls, JSON out
- ``server``     binding the socket and running uvicorn
- ``web/``       the review page under ``/-/web/`` (sign-in, list, item, approve/reject)

Only ``pystage.cli.registry`` imports this package, inside its command, so the
client's start-up never loads Starlette or uvicorn.
"""
