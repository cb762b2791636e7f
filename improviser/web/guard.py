"""Who may change what through the page, and what no other site may do with it.

- Every change (a control, a token check) is a ``POST`` that carries the token in the
  ``X-Improviser-Token`` header, as JSON. A custom header and a JSON body make a
  cross-site request a CORS "non-simple" one; the server answers no CORS preflight, so
  the browser never sends it. An ``Origin`` or ``Sec-Fetch-Site`` that says another site
  is refused as well, for browsers that send them.
- No cookie is ever set, so nothing is sent by the browser on its own (no SameSite to
  get wrong): the page keeps the token in its own tab (``sessionStorage``).
- On a loopback address the ``Host`` must be a loopback name (so a DNS-rebinding site
  cannot reach the server under its own name), and the page is served with a token made
  for this process. Elsewhere the token is ``web.token_file``'s and must be typed in.
- Every response forbids framing (no clickjacking of the controls), sniffing and
  referrers, and allows scripts and connections to this origin only.
"""

from __future__ import annotations

import hmac
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["LOOPBACK_HOSTS", "TOKEN_HEADER", "SecurityHeaders", "refusal"]

TOKEN_HEADER = "x-improviser-token"  # noqa: S105 - a header name, not a secret
LOOPBACK_HOSTS = ["127.0.0.1", "localhost", "::1", "[::1]"]
_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data:; media-src 'self'; frame-ancestors 'none'; "
        b"base-uri 'none'; form-action 'none'; object-src 'none'",
    ),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
]


class SecurityHeaders:
    """ASGI middleware: the headers above on every HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *_HEADERS]
            await send(message)

        await self.app(scope, receive, with_headers)


def _same_origin(headers: Headers) -> bool:
    """Whether the request says it comes from this origin (or says nothing)."""
    site = headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        return False
    origin = headers.get("origin")
    if origin is None:
        return True
    parts = urlsplit(origin)
    return parts.scheme in ("http", "https") and parts.netloc == headers.get("host", "")


def refusal(headers: Headers, token: str) -> str | None:
    """Why a change is refused (``None``: it may go ahead)."""
    if not _same_origin(headers):
        return "refused: the request comes from another site"
    if headers.get("content-type", "").split(";")[0].strip() != "application/json":
        return "refused: send the value as application/json"
    given = headers.get(TOKEN_HEADER)
    if not given:
        return "refused: this page needs the token (web.token_file) to change anything"
    if not hmac.compare_digest(given.encode(), token.encode()):
        return "refused: wrong token"
    return None
