"""HTML pages: Jinja2 templates (autoescaped), one stylesheet, strict headers.

Pages need no JavaScript. The stylesheet is inlined and allowed by its hash,
so the Content-Security-Policy can forbid everything else: no scripts at all,
no framing (`frame-ancestors 'none'`), forms posting only to this server (and,
for the consent form, which redirects on, to the client's redirect URI).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import jinja2

from oauth21.errors import NO_STORE

HERE = Path(__file__).resolve().parent

PAGE_HEADERS = {
    "Content-Type": "text/html; charset=utf-8",
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


class Pages:
    def __init__(self, service_name: str = "Sign-in"):
        self._env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(HERE),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self._css = (HERE / "style.css").read_text(encoding="utf-8")
        digest = hashlib.sha256(self._css.encode("utf-8")).digest()
        self._style_source = f"'sha256-{base64.b64encode(digest).decode()}'"
        self._service_name = service_name

    def csp(self, form_targets: Iterable[str] = ()) -> str:
        targets = " ".join(["'self'", *form_targets])
        return (
            "default-src 'none'; "
            f"style-src {self._style_source}; "
            "img-src 'self' data:; "
            f"form-action {targets}; "
            "frame-ancestors 'none'; "
            "base-uri 'none'"
        )

    def render(
        self,
        template: str,
        *,
        status: int = 200,
        form_targets: Iterable[str] = (),
        cookies: Iterable[str] = (),
        **context: Any,
    ) -> dict[str, Any]:
        html = self._env.get_template(template).render(
            css=self._css, service_name=self._service_name, **context
        )
        response: dict[str, Any] = {
            "statusCode": status,
            "headers": {**PAGE_HEADERS, "Content-Security-Policy": self.csp(form_targets)},
            "body": html,
        }
        cookie_list = list(cookies)
        if cookie_list:
            response["cookies"] = cookie_list
        return response

    def message(
        self, heading: str, message: str, *, status: int = 200, error: bool = False, **kw: Any
    ) -> dict[str, Any]:
        return self.render(
            "message.html",
            status=status,
            heading=heading,
            message=message,
            error=error,
            detail=kw.pop("detail", ""),
            **kw,
        )

    def unavailable(self) -> dict[str, Any]:
        """A dependency failed where no client can be told: the user is, with Retry-After."""
        page = self.message(
            "Please try again",
            "The service is temporarily unavailable. Try again in a moment.",
            status=503,
            error=True,
        )
        page["headers"]["Retry-After"] = "1"
        return page


def redirect(location: str, *, status: int = 302, cookies: Iterable[str] = ()) -> dict[str, Any]:
    response: dict[str, Any] = {
        "statusCode": status,
        "headers": {"Location": location, **NO_STORE, "Referrer-Policy": "no-referrer"},
    }
    cookie_list = list(cookies)
    if cookie_list:
        response["cookies"] = cookie_list
    return response
