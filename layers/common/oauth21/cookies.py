"""Browser cookies: the login session and the CSRF token.

Both are `__Host-` prefixed, `Secure`, `HttpOnly`, `SameSite=Lax`, `Path=/`.
Only an issuer on plain http (the local stack, which config restricts to
loopback addresses) drops `Secure`, and with it the `__Host-` prefix, which
browsers refuse without `Secure`.

CSRF protection is a double-submit token: a random value in a `__Host-`
cookie (which another site can neither read nor set) that every form must
repeat; a cross-site `Origin` or `Sec-Fetch-Site` header is refused too.
"""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import urlsplit

from oauth21.http import Request


class CsrfFailure(Exception):
    pass


class Cookies:
    def __init__(self, issuer: str):
        self.secure = not issuer.startswith("http://")
        prefix = "__Host-" if self.secure else ""
        self.session = f"{prefix}oauth_session"
        self.csrf = f"{prefix}oauth_csrf"

    def make(self, name: str, value: str, max_age: int) -> str:
        cookie = f"{name}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax"
        return cookie + "; Secure" if self.secure else cookie

    def clear(self, name: str) -> str:
        return self.make(name, "", 0)

    def csrf_token(self, request: Request) -> tuple[str, list[str]]:
        """The request's CSRF token, and the cookie to set if it had none."""
        token = request.cookies.get(self.csrf)
        if token and 20 <= len(token) <= 64:
            return token, []
        token = secrets.token_urlsafe(32)
        return token, [self.make(self.csrf, token, 86400)]

    def check_csrf(self, request: Request, submitted: str | None, base_url: str) -> None:
        cookie = request.cookies.get(self.csrf)
        if (
            not cookie
            or not submitted
            or not hmac.compare_digest(cookie.encode("utf-8"), submitted.encode("utf-8"))
        ):
            raise CsrfFailure("token")
        origin = request.header("origin")
        if origin and origin != "null":
            parts = urlsplit(base_url)
            if origin != f"{parts.scheme}://{parts.netloc}":
                raise CsrfFailure("origin")
        if request.header("sec-fetch-site") == "cross-site":
            raise CsrfFailure("sec-fetch-site")
