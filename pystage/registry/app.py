"""The registry's HTTP face: a Starlette app over ``service.Registry``.

Handlers are thin: read the request (streaming big bodies to a spool file),
call the service in a worker thread, answer JSON. Errors are
``{"error": message}`` with the status npm expects.
"""

from __future__ import annotations

import os
import sys
import tempfile
import traceback

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from pystage.registry import owners, strictjson, tokens
from pystage.registry import packument as docs
from pystage.registry.blobs import naming
from pystage.registry.config import RegistryConfig
from pystage.registry.errors import RegistryError
from pystage.registry.publishdoc import read_publish_document
from pystage.registry.service import Registry
from pystage.registry.storage_faults import storage_fault_handlers
from pystage.registry.teamroutes import note_header, team_routes
from pystage.stagenote import MESSAGE_HEADER, REASON_HEADER

SPOOL_WRITE = 1 << 20
UNSUPPORTED_EDIT = (
    "unpublishing, deprecating and editing published metadata are not supported by "
    "this registry: it adds versions, moves dist-tags and changes owners (npm owner)"
)


def create_app(config: RegistryConfig) -> Starlette:
    registry = Registry(config)
    routes = _routes(registry, config)
    if config.web_page:
        from pystage.registry.web.routes import web_page_routes

        # the review page, /-/web/...: ahead of the catch-all package route
        routes[:0] = web_page_routes(registry, config)
    if registry.web is not None:
        from pystage.registry.webroutes import web_routes

        # ahead of the catch-all package route and of the "not supported" web login
        routes[:0] = web_routes(registry, registry.web, lambda r: _base_url(r, config))

    async def registry_error(request: Request, exc: RegistryError) -> Response:
        body = {"error": exc.message}
        if exc.otp_user is not None and registry.web is not None:
            from pystage.registry.webroutes import otp_challenge_body

            body.update(otp_challenge_body(registry.web, _base_url(request, config), exc.otp_user))
        return JSONResponse(body, status_code=exc.status, headers=exc.headers)

    app = Starlette(
        routes=routes,
        exception_handlers={
            # Starlette types a handler's exception as Exception; this one takes its subclass
            RegistryError: registry_error,  # type: ignore[dict-item]
            **storage_fault_handlers(config, _crash),
            Exception: _crash,
        },
    )
    app.state.registry = registry  # the server runs its expiry sweep and notifier over it
    return app


async def _crash(request: Request, exc: Exception) -> Response:
    traceback.print_exception(exc, file=sys.stderr)
    return JSONResponse({"error": "internal registry error"}, status_code=500)


# -- request helpers -----------------------------------------------------------------
def _declared_length(request: Request, limit: int) -> None:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise RegistryError(413, f"request body of {declared} bytes is over the limit of {limit}")


async def _read_json(request: Request, limit: int):
    _declared_length(request, limit)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise RegistryError(413, f"request body is over the limit of {limit} bytes")
    if not body:
        return None
    try:
        return strictjson.loads(bytes(body))
    except strictjson.JSONRejected as exc:
        _log_refusal(request, str(exc))
        raise RegistryError(400, str(exc)) from None


def _log_refusal(request: Request, reason: str) -> None:
    """One line per refused body, never a traceback (the body itself is not logged)."""
    client = request.client.host if request.client else "-"
    print(
        f"pystage registry: refused {request.method} {request.url.path} from {client}: {reason}",
        file=sys.stderr,
        flush=True,
    )


async def _spool(request: Request, config: RegistryConfig) -> str:
    """Stream the body to a temp file under the storage directory, within the size limit."""
    limit = config.max_body_bytes
    _declared_length(request, limit)
    fd, path = tempfile.mkstemp(dir=config.tmp_dir, prefix="body-", suffix=".json")
    size = 0
    pending = bytearray()
    try:
        with naming(path), os.fdopen(fd, "wb") as spool:
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise RegistryError(413, f"request body is over the limit of {limit} bytes")
                pending += chunk
                if len(pending) >= SPOOL_WRITE:
                    await run_in_threadpool(spool.write, bytes(pending))
                    pending.clear()
            spool.write(pending)
    except BaseException:
        os.unlink(path)
        raise
    return path


def _otp(request: Request) -> str | None:
    return request.headers.get("npm-otp") or None


def client_address(request: Request) -> str | None:
    """The client's address: what token CIDR ranges and the password throttle judge."""
    return request.client.host if request.client else None


def _base_url(request: Request, config: RegistryConfig) -> str:
    return config.public_url or str(request.base_url)


def _split_package_path(path: str) -> tuple[str, list[str]]:
    """'@s/x/-/x-1.0.0.tgz' -> ('@s/x', ['-', 'x-1.0.0.tgz'])."""
    parts = path.strip("/").split("/")
    take = 2 if parts[0].startswith("@") and len(parts) > 1 else 1
    return "/".join(parts[:take]), parts[take:]


# -- routes --------------------------------------------------------------------------
def _routes(registry: Registry, config: RegistryConfig) -> list[Route]:
    call = run_in_threadpool

    async def user_of(request: Request):
        """Who sent the request, after every rule a credential carries: 2FA for HTTP
        Basic, a token's CIDR ranges, and what a read-only or stage-only token may do."""
        address = client_address(request)
        user = await call(
            registry.authenticate, request.headers.get("authorization"), _otp(request), address
        )
        credential = user.credential if user is not None else None
        if credential is not None and credential.kind == "token":
            if not tokens.allows_address(credential.rights, address):
                raise RegistryError(403, f"this token may not be used from {address}")
            path = request.url.path
            itself = tokens.revokes_itself(
                request.method, path, credential.token_key, credential.token_hash
            )
            refusal = tokens.refusal(credential.rights, request.method, path, itself)
            if refusal:
                raise RegistryError(403, refusal)
        return user

    async def anyone(request: Request) -> None:
        """Public reads: no login needed, but credentials sent are still checked."""
        if request.headers.get("authorization"):
            await user_of(request)

    async def logged_in(request: Request):
        return registry.require_user(await user_of(request))

    async def ping(request: Request):
        return JSONResponse({})

    async def whoami(request: Request):
        user = await logged_in(request)
        return JSONResponse({"username": user.name})

    async def couch_login(request: Request):
        name = request.path_params["name"]
        body = await _read_json(request, config.max_json_bytes)
        if not isinstance(body, dict):
            raise RegistryError(400, "the body must be a JSON object with name and password")
        if body.get("name", name) != name:
            raise RegistryError(400, "the body's name does not match the URL")
        token, created = await call(
            registry.accounts.login,
            name,
            body.get("password"),
            body.get("email"),
            _otp(request),
            client_address(request),
        )
        return JSONResponse(
            {
                "ok": True,
                "id": f"org.couchdb.user:{name}",
                "token": token,
                "message": f'user "{name}" {"created" if created else "logged in"}',
            },
            status_code=201,
        )

    async def couch_user(request: Request):
        user = await logged_in(request)
        name = request.path_params["name"]
        if user.name != name:
            # npm owner add looks the new owner up here: name and email, as npmjs shows them
            other = await call(registry.accounts.get, name)
            if other is None:
                raise RegistryError(404, f'user "{name}" not found')
            return JSONResponse(
                {"_id": f"org.couchdb.user:{name}", "name": name, "email": other.email}
            )
        return JSONResponse(
            {
                "_id": f"org.couchdb.user:{name}",
                "name": name,
                "email": user.email,
                "type": "user",
                "roles": [],
            }
        )

    async def logout(request: Request):
        if not await call(registry.accounts.revoke_token, request.path_params["token"]):
            raise RegistryError(404, "token not found")
        return JSONResponse({"ok": True})

    async def web_login(request: Request):
        # 404 makes npm fall back to the couch login it then prompts for.
        raise RegistryError(
            404, "web login is not supported by this registry; use npm login --auth-type=legacy"
        )

    async def profile(request: Request):
        user = await logged_in(request)
        if request.method == "GET":
            return JSONResponse(await call(registry.accounts.profile, user))
        body = await _read_json(request, config.max_json_bytes)
        if not isinstance(body, dict):
            raise RegistryError(400, "the body must be a JSON object")
        return JSONResponse(await call(registry.accounts.update_profile, user, body, _otp(request)))

    async def create_token(request: Request):
        user = await logged_in(request)
        body = await _read_json(request, config.max_json_bytes)
        try:
            wanted = tokens.creation_request(body)
        except tokens.TokenRequestError as exc:
            raise RegistryError(400, str(exc)) from None
        created = await call(registry.accounts.create_token, user, wanted, _otp(request))
        return JSONResponse(created, status_code=201)

    async def list_tokens(request: Request):
        user = await logged_in(request)
        objects = await call(registry.accounts.list_tokens, user)
        return JSONResponse({"objects": objects, "total": len(objects), "urls": {}})

    async def delete_token(request: Request):
        user = await logged_in(request)
        await call(registry.accounts.delete_token, user, request.path_params["key"], _otp(request))
        return Response(status_code=204)

    async def dist_tags(request: Request):
        await anyone(request)
        name = request.path_params["name"]
        return JSONResponse(await call(registry.dist_tags, name))

    async def dist_tag(request: Request):
        user = await logged_in(request)
        name, tag = request.path_params["name"], request.path_params["tag"]
        if request.method == "DELETE":
            tags = await call(registry.delete_dist_tag, user, name, tag, _otp(request))
        else:
            version = await _read_json(request, config.max_json_bytes)
            tags = await call(registry.set_dist_tag, user, name, tag, version, _otp(request))
        return JSONResponse({"ok": True, "dist-tags": tags}, status_code=201)

    async def read_document(request: Request, name: str):
        spool = await _spool(request, config)
        try:
            return await call(read_publish_document, spool, str(config.tmp_dir), name)
        finally:
            os.unlink(spool)

    async def stage_publish(request: Request):
        user = await logged_in(request)
        name = request.path_params["name"]
        note = note_header(request, MESSAGE_HEADER, "stage message")
        await call(registry.check_may_stage, user, name)
        doc = await read_document(request, name)
        item = await call(registry.stage, user, doc, note)
        return JSONResponse(
            {
                "stageId": item["id"],
                **item,
                "message": f"{doc.name}@{doc.version} staged with tag {doc.tag}",
            },
            status_code=201,
        )

    async def stage_list(request: Request):
        user = await logged_in(request)
        query = request.query_params
        try:
            page = int(query.get("page", "0"))
            per_page = int(query.get("perPage", "100"))
        except ValueError:
            raise RegistryError(400, "page and perPage must be integers") from None
        return JSONResponse(
            await call(registry.list_stages, user, query.get("package") or None, page, per_page)
        )

    async def stage_view(request: Request):
        user = await logged_in(request)
        stage_id = request.path_params["stage_id"]
        if request.method == "DELETE":
            reason = note_header(request, REASON_HEADER, "reject reason")
            await call(registry.reject, user, stage_id, _otp(request), reason)
            return Response(status_code=204)
        return JSONResponse(await call(registry.stage_item, user, stage_id))

    async def stage_tarball(request: Request):
        user = await logged_in(request)
        path, filename = await call(registry.stage_tarball, user, request.path_params["stage_id"])
        return FileResponse(path, media_type="application/octet-stream", filename=filename)

    async def stage_approve(request: Request):
        user = await logged_in(request)
        status, result = await call(
            registry.approve, user, request.path_params["stage_id"], _otp(request)
        )
        return JSONResponse(result, status_code=status)

    async def package_route(request: Request):
        name, rest = _split_package_path(request.path_params["path"])
        if name == "-":
            raise RegistryError(
                404, f"/{request.url.path.lstrip('/')} is not supported by this registry"
            )
        if request.method == "PUT" and len(rest) == 2 and rest[0] == "-rev":
            user = await logged_in(request)
            body = await _read_json(request, config.max_json_bytes)
            return JSONResponse(
                await call(owners.change_owners, registry, user, name, rest[1], body, _otp(request))
            )
        if request.method == "DELETE" or (request.method == "PUT" and rest):
            raise RegistryError(405, UNSUPPORTED_EDIT)
        if request.method == "PUT":
            user = await logged_in(request)
            await call(registry.check_may_publish, user, name, _otp(request))
            spool = await _spool(request, config)
            try:
                doc = await call(
                    read_publish_document,
                    spool,
                    str(config.tmp_dir),
                    name,
                    without_tarball=RegistryError(405, UNSUPPORTED_EDIT),
                )
            finally:
                os.unlink(spool)
            await call(registry.publish, user, doc)
            return JSONResponse(
                {"ok": True, "id": name, "message": f"{doc.name}@{doc.version} published"},
                status_code=201,
            )
        await anyone(request)
        if len(rest) >= 2 and rest[0] == "-":
            path = await call(registry.tarball_path, name, "/".join(rest[1:]))
            return FileResponse(path, media_type="application/octet-stream")
        pkg = await call(registry.package, name)
        base = _base_url(request, config)
        if not rest:
            if docs.wants_abbreviated(request.headers.get("accept")):
                return JSONResponse(
                    docs.abbreviated_packument(pkg, base), media_type=docs.ABBREVIATED_TYPE
                )
            return JSONResponse(docs.full_packument(pkg, base))
        if len(rest) == 1:
            full = docs.full_packument(pkg, base)
            version = pkg.tags.get(rest[0], rest[0])
            if version in full["versions"]:
                return JSONResponse(full["versions"][version])
            raise RegistryError(404, f'version or tag "{rest[0]}" of "{name}" not found')
        raise RegistryError(404, "not found")

    return [
        Route("/-/ping", ping),
        Route("/-/whoami", whoami),
        Route("/-/user/org.couchdb.user:{name}", couch_login, methods=["PUT"]),
        Route("/-/user/org.couchdb.user:{name}/-rev/{rev}", couch_login, methods=["PUT"]),
        Route("/-/user/org.couchdb.user:{name}", couch_user, methods=["GET"]),
        Route("/-/user/token/{token}", logout, methods=["DELETE"]),
        Route("/-/v1/login", web_login, methods=["POST"]),
        Route("/-/npm/v1/user", profile, methods=["GET", "POST"]),
        Route("/-/npm/v1/tokens", create_token, methods=["POST"]),
        Route("/-/npm/v1/tokens", list_tokens, methods=["GET"]),
        Route("/-/npm/v1/tokens/token/{key}", delete_token, methods=["DELETE"]),
        Route("/-/package/{name:path}/dist-tags", dist_tags, methods=["GET"]),
        Route(
            "/-/package/{name:path}/dist-tags/{tag}", dist_tag, methods=["PUT", "POST", "DELETE"]
        ),
        Route("/-/stage/package/{name:path}", stage_publish, methods=["POST"]),
        Route("/-/stage", stage_list, methods=["GET"]),
        Route("/-/stage/{stage_id}", stage_view, methods=["GET", "DELETE"]),
        Route("/-/stage/{stage_id}/tarball", stage_tarball, methods=["GET"]),
        Route("/-/stage/{stage_id}/approve", stage_approve, methods=["POST"]),
        *team_routes(registry, logged_in, lambda r: _read_json(r, config.max_json_bytes)),
        Route("/{path:path}", package_route, methods=["GET", "PUT", "DELETE"]),
    ]
