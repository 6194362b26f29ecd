"""HTTP routes of the team workflow's pystage extensions: policies and the history.

Registries that do not have them (npmjs, Verdaccio) answer 404, which the client
reports as "not supported by this registry".
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from pystage.registry import history, policies
from pystage.registry.accounts import User
from pystage.registry.errors import RegistryError
from pystage.registry.service import Registry
from pystage.stagenote import decode_note


def note_header(request: Request, header: str, what: str) -> str | None:
    """The decoded note in ``header`` (None when absent or empty); 400 when malformed."""
    value = request.headers.get(header)
    if value is None:
        return None
    try:
        return decode_note(value) or None
    except ValueError as exc:
        raise RegistryError(400, f"the {what} ({header} header) {exc}") from None


def _page_args(request: Request) -> tuple[int, int]:
    try:
        return int(request.query_params.get("page", "0")), int(
            request.query_params.get("perPage", "100")
        )
    except ValueError:
        raise RegistryError(400, "page and perPage must be integers") from None


def team_routes(
    registry: Registry,
    logged_in: Callable[[Request], Awaitable[User]],
    read_json: Callable[[Request], Awaitable[object]],
) -> list[Route]:
    call = run_in_threadpool

    async def policy(request: Request):
        user = await logged_in(request)
        name = request.path_params["name"]
        if request.method == "GET":
            return JSONResponse(await call(policies.show_policy, registry, user, name))
        body = await read_json(request)
        otp = request.headers.get("npm-otp") or None
        return JSONResponse(await call(policies.change_policy, registry, user, name, body, otp))

    async def events(request: Request):
        user = await logged_in(request)
        page, per_page = _page_args(request)
        package = request.query_params.get("package") or None
        return JSONResponse(
            await call(history.history_for, registry, user, package, page, per_page)
        )

    return [
        Route("/-/pystage/policy/{name:path}", policy, methods=["GET", "PUT"]),
        Route("/-/pystage/history", events, methods=["GET"]),
    ]
