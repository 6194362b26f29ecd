"""Reading the body of an HTML form post: urlencoded, UTF-8, within a size limit."""

from __future__ import annotations

from urllib.parse import parse_qs

from starlette.requests import Request

FORM_LIMIT = 64 * 1024


class FormError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


async def read_form(request: Request) -> dict[str, str]:
    """The form's fields (the first value of each). Only what a plain HTML form sends
    is accepted: ``text/plain`` and multipart bodies are refused, which also stops the
    cross-site "simple request" tricks that rely on them."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "" and request.headers.get("content-length", "0") == "0":
        return {}  # an empty form
    if kind != "application/x-www-form-urlencoded":
        raise FormError(415, "the form must be sent as application/x-www-form-urlencoded")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > FORM_LIMIT:
            raise FormError(413, f"the form is over the limit of {FORM_LIMIT} bytes")
    try:
        parsed = parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        raise FormError(400, "the form is not UTF-8") from None
    return {key: values[0] for key, values in parsed.items()}
