"""The review page's HTTP handlers, under ``/-/web/``.

Every handler reads the session from its cookie, calls the registry's service layer in
a worker thread (as the JSON API does) and renders a template. State changes are POSTs
with a CSRF token, answered by a redirect to a page that shows the outcome (so a reload
never repeats an approval); a refused one re-renders the page with the reason.

Paths (npm's web-login pages, ``/-/web/login/<session>`` and ``/-/web/otp/<session>``,
belong to ``webroutes`` and are matched before these):

    GET  /-/web/                    staged versions (?package=&stager=&page=)
    GET  /-/web/signin, POST        sign in with name, password and one-time password
    POST /-/web/signout
    GET  /-/web/stage/<id>          one staged version: details, review, files
    POST /-/web/stage/<id>/approve  (csrf, otp)
    POST /-/web/stage/<id>/reject   (csrf, otp, reason)
    GET  /-/web/history             (?package=&page=)
    GET  /-/web/static/web.css
"""

from __future__ import annotations

import json
import time
from importlib import resources
from urllib.parse import quote, urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from pystage.registry.app import client_address
from pystage.registry.config import RegistryConfig
from pystage.registry.errors import RegistryError
from pystage.registry.service import MAX_PER_PAGE, Registry
from pystage.registry.web import PREFIX, csrf
from pystage.registry.web.forms import FormError, read_form
from pystage.registry.web.history import package_history
from pystage.registry.web.pages import SECURITY_HEADERS, Pages, when
from pystage.registry.web.reviews import SEVERITIES, Reviews, severity_counts
from pystage.registry.web.sessions import Session, WebSessions
from pystage.registry.web.store import create_tables

COOKIE = "pystage_web"
PAGE_SIZE = 1000
INSTALL_SCRIPTS = ("preinstall", "install", "postinstall", "prepare")
MANIFEST_FIELDS = (
    "description",
    "license",
    "main",
    "module",
    "types",
    "exports",
    "bin",
    "files",
    "engines",
    "os",
    "cpu",
    "repository",
    "homepage",
    "gitHead",
)
DEPENDENCY_FIELDS = (
    "dependencies",
    "optionalDependencies",
    "peerDependencies",
    "bundleDependencies",
)


def root_path(config: RegistryConfig) -> str:
    """The path the registry is served under ("/", or a reverse proxy's prefix)."""
    if config.public_url:
        return urlsplit(config.public_url).path.rstrip("/") + "/"
    return "/"


def web_page_routes(registry: Registry, config: RegistryConfig) -> list[Route]:
    create_tables(registry.db)
    call = run_in_threadpool
    base = root_path(config)
    web = f"{base.rstrip('/')}{PREFIX}/"  # e.g. "/-/web/"
    pages = Pages(base)
    sessions = WebSessions(registry.db, registry.accounts)
    reviews = Reviews(registry)
    accounts = registry.accounts

    # -- helpers ---------------------------------------------------------------
    def secure(request: Request) -> bool:
        return request.url.scheme == "https" or (config.public_url or "").startswith("https:")

    def set_cookie(response: Response, request: Request, name: str, value: str, age: int):
        response.set_cookie(
            name,
            value,
            max_age=age,
            path=web,
            httponly=True,
            samesite="strict",
            secure=secure(request),
        )

    def redirect(location: str) -> Response:
        return RedirectResponse(location, status_code=303, headers=dict(SECURITY_HEADERS))

    async def current(request: Request) -> Session | None:
        return await call(sessions.get, request.cookies.get(COOKIE))

    def signin_redirect(request: Request) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return redirect(f"{web}signin?next={quote(target, safe='')}")

    def page(template: str, session: Session | None, status: int = 200, **context) -> Response:
        return pages.render(
            template,
            status,
            web=web,
            user=session.user if session else None,
            csrf_token=session.csrf if session else "",
            flash=session.flash if session else None,
            **context,
        )

    def not_found(session: Session | None, what: str) -> Response:
        return page("notfound.html", session, 404, what=what)

    def refused(session: Session | None, status: int, message: str) -> Response:
        return page("refused.html", session, status, message=message)

    async def checked_form(request: Request, session: Session | None):
        """The form of a state-changing POST, or the response refusing it."""
        if not csrf.origin_allowed(
            request.headers.get("origin"), request.headers.get("host"), config.public_url
        ):
            return None, refused(session, 403, "This form was sent from another site.")
        try:
            form = await read_form(request)
        except FormError as exc:
            return None, refused(session, exc.status, exc.message)
        if session is None:
            return None, refused(
                None, 403, "Your session has ended (or you are not signed in): sign in again."
            )
        if not csrf.matches(session.csrf, form.get(csrf.FIELD)):
            return None, refused(
                session,
                403,
                "This form has no valid CSRF token (it was not sent from this page): "
                "reload the page and try again.",
            )
        return form, None

    # -- sign in / out ---------------------------------------------------------
    def signin_form(request, error=None, status=200, name="", next_url=""):
        token = csrf.new_token()
        response = page(
            "signin.html", None, status, error=error, name=name, next=next_url, signin_token=token
        )
        set_cookie(response, request, csrf.SIGNIN_COOKIE, token, 3600)
        return response

    def safe_next(value: str | None) -> str:
        # only a page of ours: never another host (an open redirect) or another path
        if value and value.startswith(web) and "//" not in value and "\\" not in value:
            return value
        return web

    async def signin(request: Request):
        if request.method == "GET":
            if await current(request) is not None:
                return redirect(safe_next(request.query_params.get("next")))
            return signin_form(request, next_url=safe_next(request.query_params.get("next")))
        if not csrf.origin_allowed(
            request.headers.get("origin"), request.headers.get("host"), config.public_url
        ):
            return refused(None, 403, "This form was sent from another site.")
        try:
            form = await read_form(request)
        except FormError as exc:
            return refused(None, exc.status, exc.message)
        name = form.get("name", "").strip()
        next_url = safe_next(form.get("next"))
        if not csrf.matches(request.cookies.get(csrf.SIGNIN_COOKIE), form.get(csrf.FIELD)):
            return signin_form(
                request,
                "The sign-in form expired or was not sent from this page: try again.",
                403,
                name,
                next_url,
            )
        password = form.get("password", "")
        user = None
        if name and password:
            # counted per account and per address like every password check; an unknown
            # name costs the same scrypt time as a wrong password (accounts does both)
            address = client_address(request)
            user = await call(accounts.user_for_password, name, password, address)
        if user is None:
            return signin_form(request, "Incorrect user name or password.", 401, name, next_url)
        if user.has_2fa:
            code = form.get("otp", "").strip() or None
            try:
                await call(accounts.check_otp, user.name, code)
            except RegistryError as exc:
                return signin_form(request, otp_message(exc, code), exc.status, name, next_url)
        token, age = await call(sessions.create, user.name)
        response = redirect(next_url)
        set_cookie(response, request, COOKIE, token, int(age))
        response.delete_cookie(csrf.SIGNIN_COOKIE, path=web)
        return response

    async def signout(request: Request):
        session = await current(request)
        form, refusal = await checked_form(request, session)
        if refusal is not None:
            return refusal
        assert session is not None  # checked_form refuses a request without one
        await call(sessions.end, session.token_hash)
        response = redirect(f"{web}signin")
        response.delete_cookie(COOKIE, path=web)
        return response

    # -- the list --------------------------------------------------------------
    def staged_items(session: Session, package: str | None) -> list[dict]:
        items, page_no = [], 0
        while True:
            chunk = registry.list_stages(session.user, package, page_no, MAX_PER_PAGE)
            items += chunk["items"]
            if len(items) >= chunk["total"] or not chunk["items"]:
                return items
            page_no += 1

    def list_context(session: Session, query) -> dict:
        package = query.get("package") or None
        stager = query.get("stager") or None
        try:
            page_no = max(0, int(query.get("page", "0")))
        except ValueError:
            page_no = 0
        everything = staged_items(session, None)
        packages = sorted({it["packageName"] for it in everything})
        stagers = sorted({it["actor"] for it in everything})
        items = [
            it
            for it in everything
            if (package is None or it["packageName"] == package)
            and (stager is None or it["actor"] == stager)
        ]
        shown_items = items[page_no * PAGE_SIZE : (page_no + 1) * PAGE_SIZE]
        counts = reviews.counts()
        reviews.queue([it["id"] for it in shown_items if it["id"] not in counts])
        return {
            "rows": [list_row(it, counts) for it in shown_items],
            "total": len(items),
            "page": page_no,
            "pages": max(1, -(-len(items) // PAGE_SIZE)),
            "package": package,
            "stager": stager,
            "packages": packages,
            "stagers": stagers,
        }

    async def staged_list(request: Request):
        started = time.perf_counter()
        session = await current(request)
        if session is None:
            return signin_redirect(request)
        context = await call(list_context, session, request.query_params)
        response = page("list.html", session, **context)
        # the server's own time (session, queries, template), for the benchmark
        spent = (time.perf_counter() - started) * 1000
        response.headers["server-timing"] = f"render;dur={spent:.1f}"
        return response

    # -- one staged version ------------------------------------------------------
    def item_context(session: Session, stage_id: str) -> dict:
        item = registry.stage_item(session.user, stage_id)  # 404 unless a maintainer
        row = registry._visible_stage(registry.db.conn(), session.user, stage_id)
        manifest = json.loads(row["manifest"])
        report = reviews.report(row)
        events = package_history(registry, session.user, item["packageName"])["events"]
        scripts = manifest.get("scripts") if isinstance(manifest.get("scripts"), dict) else {}
        return {
            "item": item,
            "fields": view_fields(item),
            "manifest_fields": [(k, manifest[k]) for k in MANIFEST_FIELDS if k in manifest],
            "dependencies": [(k, manifest[k]) for k in DEPENDENCY_FIELDS if k in manifest],
            "scripts": sorted(scripts.items()),
            "install_scripts": INSTALL_SCRIPTS,
            "report": report,
            "review": report.get("review"),
            "review_counts": severity_counts(report),
            "severities": SEVERITIES,
            "events": events[:10],
            "needs_otp": session.user.has_2fa,
        }

    async def item_page(
        request: Request, session: Session, stage_id: str, error=None, status=200, reason=""
    ):
        try:
            context = await call(item_context, session, stage_id)
        except RegistryError as exc:
            if exc.status == 404:
                return not_found(session, "staged package")
            raise
        return page("item.html", session, status, error=error, reason=reason, **context)

    async def stage_page(request: Request):
        session = await current(request)
        if session is None:
            return signin_redirect(request)
        return await item_page(request, session, request.path_params["stage_id"])

    def outcome_gone(session: Session, stage_id: str) -> tuple[str, str] | None:
        """For an item that is no longer staged: (package, who approved or rejected it
        and when)."""
        row = (
            registry.db.conn()
            .execute("SELECT * FROM resolved_stages WHERE id = ?", (stage_id.lower(),))
            .fetchone()
        )
        if row is None or not registry.is_maintainer(
            registry.db.conn(), row["package"], session.user
        ):
            return None
        by = "you" if row["actor"] == session.user.name else row["actor"]
        return row["package"], (
            f"{row['package']}@{row['version']} was already {row['outcome']} "
            f"by {by} at {row['at']}."
        )

    async def act(request: Request, action: str):
        session = await current(request)
        form, refusal = await checked_form(request, session)
        if refusal is not None:
            return refusal
        assert session is not None  # checked_form refuses a request without one
        stage_id = request.path_params["stage_id"]
        code = form.get("otp", "").strip() or None
        reason = form.get("reason", "").strip()
        status = 200
        try:
            item = await call(registry.stage_item, session.user, stage_id)
            if action == "approve":
                status, result = await call(registry.approve, session.user, stage_id, code)
            else:
                await call(registry.reject, session.user, stage_id, code, reason or None)
                result = None
        except RegistryError as exc:
            if exc.status in (404, 409):
                # approved or rejected meanwhile (in another tab, by another maintainer)
                gone = await call(outcome_gone, session, stage_id)
                if gone is not None:
                    await call(sessions.flash, session.token_hash, "error", gone[1])
                    return redirect(f"{web}history?package={quote(gone[0], safe='')}")
            if exc.status == 404:
                return not_found(session, "staged package")
            message = otp_message(exc, code) if exc.status in (401, 429) else exc.message
            return await item_page(request, session, stage_id, message, exc.status, reason)
        name = f"{item['packageName']}@{item['version']}"
        if action == "approve" and status == 202:
            # the package's policy wants more approvers: the version stays staged, so the
            # maintainer stays on its page and sees the approvals so far
            await call(sessions.flash, session.token_hash, "ok", result["message"])  # type: ignore[index]  # an approval answers
            return redirect(f"{web}stage/{stage_id}")
        if action == "approve":
            text = (result or {}).get("message") or f"{name} published"
        else:
            text = f"{name} rejected" + (f": {reason}" if reason else "")
        await call(sessions.flash, session.token_hash, "ok", text)
        return redirect(f"{web}history?package={quote(item['packageName'], safe='')}")

    async def approve(request: Request):
        return await act(request, "approve")

    async def reject(request: Request):
        return await act(request, "reject")

    # -- history ---------------------------------------------------------------
    async def history(request: Request):
        session = await current(request)
        if session is None:
            return signin_redirect(request)
        package = request.query_params.get("package") or None
        try:
            page_no = max(0, int(request.query_params.get("page", "0")))
        except ValueError:
            page_no = 0
        try:
            result = await call(package_history, registry, session.user, package, page_no)
        except RegistryError as exc:
            if exc.status == 404:
                return not_found(session, "package")
            raise
        return page("history.html", session, package=package, **result)

    # -- the rest --------------------------------------------------------------
    stylesheet = resources.files("pystage.registry.web").joinpath("static/web.css").read_bytes()

    async def css(request: Request):
        return Response(
            stylesheet,
            media_type="text/css",
            headers={"cache-control": "max-age=3600", "x-content-type-options": "nosniff"},
        )

    async def to_list(request: Request):
        return RedirectResponse(web, status_code=308)

    async def unknown(request: Request):
        return not_found(await current(request), "page")

    return [
        Route(PREFIX, to_list, methods=["GET"]),
        Route(f"{PREFIX}/", staged_list, methods=["GET"]),
        Route(f"{PREFIX}/signin", signin, methods=["GET", "POST"]),
        Route(f"{PREFIX}/signout", signout, methods=["POST"]),
        Route(f"{PREFIX}/stage/{{stage_id}}", stage_page, methods=["GET"]),
        Route(f"{PREFIX}/stage/{{stage_id}}/approve", approve, methods=["POST"]),
        Route(f"{PREFIX}/stage/{{stage_id}}/reject", reject, methods=["POST"]),
        Route(f"{PREFIX}/history", history, methods=["GET"]),
        Route(f"{PREFIX}/static/web.css", css, methods=["GET"]),
        Route(f"{PREFIX}/{{rest:path}}", unknown, methods=["GET", "POST"]),
    ]


def list_row(item: dict, counts: dict) -> dict:
    """One row of the list, ready to print: a thousand rows render in a few dozen
    milliseconds only when the template does no work of its own."""
    reviewed = item["id"] in counts
    found = counts.get(item["id"])
    return {
        "id": item["id"],
        "name": item["packageName"],
        "version": item["version"],
        "tag": item["tag"],
        "actor": item["actor"],
        "created": item["createdAt"],
        "created_text": when(item["createdAt"]),
        "message": item.get("message") or "",
        "approvals": f"{len(item.get('approvals') or [])} of {item.get('approvalsRequired', 1)}",
        "expires": when(item["expiresAt"]) if item.get("expiresAt") else "never",
        "review": (
            "pending"
            if not reviewed
            else "none"
            if found is None
            else "clean"
            if not any(found.values())
            else [(s, found[s]) for s in SEVERITIES if found.get(s)]
        ),
    }


def view_fields(item: dict) -> list[tuple[str, object]]:
    """What ``pystage view`` shows, in its order, with structured values as JSON text."""
    from pystage.stageitem import stage_item_fields

    return [
        (k, v if isinstance(v, (str, int)) else json.dumps(v)) for k, v in stage_item_fields(item)
    ]


def otp_message(exc: RegistryError, code: str | None) -> str:
    """The registry's OTP refusals in words a person at the page acts on."""
    if exc.status == 429:
        return exc.message[0].upper() + exc.message[1:] + "."
    if exc.status == 401 and not code:
        return "Enter the one-time password from your authenticator app."
    if exc.status == 401:
        return (
            "That one-time password is wrong or was already used: "
            "wait for the next code from your authenticator and try again."
        )
    return exc.message
