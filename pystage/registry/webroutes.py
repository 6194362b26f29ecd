"""HTTP face of the web flows (``registry serve --web-auth``): the pages and the polls.

- ``POST /-/v1/login`` -> ``{loginUrl, doneUrl}``; ``loginUrl`` is a form for user
  name, password and (for accounts with two-factor) a one-time password.
- A write that needs a one-time password and carries none is answered 401 with
  ``authUrl``/``doneUrl`` (see ``otp_challenge_body``); ``authUrl`` is a form where
  the user confirms with password and authenticator code.
- ``doneUrl`` answers 202 + ``retry-after`` until the form is completed, then
  200 ``{"token"}`` once, then 404.
"""

from __future__ import annotations

import html
from urllib.parse import parse_qs

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse
from starlette.routing import Route

from pystage.registry.app import client_address
from pystage.registry.errors import RegistryError
from pystage.registry.service import Registry
from pystage.registry.webauth import POLL_SECONDS, WebAuth

NO_STORE = {"cache-control": "no-store"}
FORM_LIMIT = 64 * 1024


def otp_challenge_body(web: WebAuth, base_url: str, user: str) -> dict:
    session = web.start("otp", user)
    return {
        "authUrl": f"{base_url}-/web/otp/{session}",
        "doneUrl": f"{base_url}-/v1/otp/done/{session}",
    }


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    document = (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title></head>"
        f"<body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )
    return HTMLResponse(
        document, status_code=status, headers={**NO_STORE, "x-frame-options": "DENY"}
    )


def _field(label: str, name: str, kind: str = "text", extra: str = "") -> str:
    return f"<p><label>{html.escape(label)} <input type='{kind}' name='{name}' {extra}></label></p>"


def _form(fields: str, error: str | None, button: str) -> str:
    shown = f"<p role='alert'><strong>{html.escape(error)}</strong></p>" if error else ""
    return (
        f"{shown}<form method='post'>{fields}<p><button type='submit'>{button}</button></p></form>"
    )


def _login_form(error: str | None = None, status: int = 200) -> HTMLResponse:
    fields = (
        _field("User name", "name", extra="autocomplete='username' required")
        + _field("Password", "password", "password", "autocomplete='current-password' required")
        + _field(
            "One-time password (if your account has two-factor authentication)",
            "otp",
            extra="autocomplete='one-time-code' inputmode='numeric'",
        )
    )
    return _page("Log in to the pystage registry", _form(fields, error, "Log in"), status)


def _otp_form(user: str, error: str | None = None, status: int = 200) -> HTMLResponse:
    intro = (
        f"<p>A command run as <strong>{html.escape(user)}</strong> asks for a one-time "
        "password. Confirm with your password and a code from your authenticator.</p>"
    )
    fields = _field(
        "Password", "password", "password", "autocomplete='current-password' required"
    ) + _field(
        "One-time password",
        "otp",
        extra="autocomplete='one-time-code' inputmode='numeric' required",
    )
    return _page(
        "Confirm with your one-time password", intro + _form(fields, error, "Confirm"), status
    )


def _done(message: str) -> HTMLResponse:
    return _page(message, "<p>You can close this window and return to the terminal.</p>")


def _gone() -> HTMLResponse:
    return _page(
        "This link has expired or was already used",
        "<p>Run the command again to get a new one.</p>",
        404,
    )


async def _form_values(request: Request) -> dict[str, str]:
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > FORM_LIMIT:
            raise RegistryError(413, f"form body is over the limit of {FORM_LIMIT} bytes")
    try:
        parsed = parse_qs(body.decode("utf-8"), keep_blank_values=True)
    except UnicodeDecodeError:
        raise RegistryError(400, "the form body is not UTF-8") from None
    return {key: values[0] for key, values in parsed.items()}


def web_routes(registry: Registry, web: WebAuth, base_url) -> list[Route]:
    """``base_url(request)`` gives the registry's public URL, ending in '/'."""
    call = run_in_threadpool
    accounts = registry.accounts

    async def start_login(request: Request):
        session = web.start("login")
        base = base_url(request)
        return JSONResponse(
            {
                "loginUrl": f"{base}-/web/login/{session}",
                "doneUrl": f"{base}-/v1/login/done/{session}",
            },
            headers=NO_STORE,
        )

    async def login_page(request: Request):
        session_id = request.path_params["session"]
        if web.pending("login", session_id) is None:
            return _gone()
        if request.method == "GET":
            return _login_form()
        form = await _form_values(request)
        name, password = form.get("name", "").strip(), form.get("password", "")
        user = (
            await call(accounts.user_for_password, name, password, client_address(request))
            if name and password
            else None
        )
        if user is None:
            return _login_form("Incorrect user name or password.", 401)
        if user.has_2fa:
            try:
                await call(accounts.check_otp, user.name, form.get("otp", "").strip() or None)
            except RegistryError as exc:
                return _login_form(exc.message, exc.status)
        token = await call(accounts.new_token, user.name)
        if not web.finish_login(session_id, token):
            await call(accounts.revoke_token, token)
            return _gone()
        return _done(f"Logged in as {user.name}")

    async def otp_page(request: Request):
        session_id = request.path_params["session"]
        session = web.pending("otp", session_id)
        if session is None or session.user is None:  # an OTP session always names its user
            return _gone()
        if request.method == "GET":
            return _otp_form(session.user)
        form = await _form_values(request)
        password = form.get("password", "")
        user = (
            await call(accounts.user_for_password, session.user, password, client_address(request))
            if password
            else None
        )
        if user is None:
            return _otp_form(session.user, "Incorrect password.", 401)
        try:
            await call(accounts.check_otp, user.name, form.get("otp", "").strip() or None)
        except RegistryError as exc:
            return _otp_form(session.user, exc.message, exc.status)
        if not web.finish_otp(session_id):
            return _gone()
        return _done("Confirmed")

    def poller(kind: str):
        async def poll(request: Request):
            known, token = web.poll(kind, request.path_params["session"])
            if not known:
                raise RegistryError(404, "unknown or expired web authentication session")
            if token is None:
                return JSONResponse(
                    {}, status_code=202, headers={**NO_STORE, "retry-after": str(POLL_SECONDS)}
                )
            return JSONResponse({"token": token}, headers=NO_STORE)

        return poll

    return [
        Route("/-/v1/login", start_login, methods=["POST"]),
        Route("/-/web/login/{session}", login_page, methods=["GET", "POST"]),
        Route("/-/v1/login/done/{session}", poller("login"), methods=["GET"]),
        Route("/-/web/otp/{session}", otp_page, methods=["GET", "POST"]),
        Route("/-/v1/otp/done/{session}", poller("otp"), methods=["GET"]),
    ]
