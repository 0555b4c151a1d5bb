"""Walking the authorization pages through handler calls, as a browser would:
cookies kept, forms read from the HTML and submitted with their hidden fields."""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from tests.support import api_event


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(32)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form":
            self.forms.append({"action": a.get("action"), "fields": {}, "buttons": []})
        elif tag == "input" and self.forms:
            if a.get("type") != "submit":
                self.forms[-1]["fields"][a.get("name")] = a.get("value") or ""
        elif tag == "button" and self.forms and a.get("name"):
            self.forms[-1]["buttons"].append((a["name"], a.get("value")))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


@dataclass
class Page:
    response: dict[str, Any]
    forms: list[dict[str, Any]] = field(default_factory=list)
    text: str = ""

    @property
    def status(self) -> int:
        return int(self.response["statusCode"])

    @property
    def location(self) -> str:
        return str(self.response["headers"].get("Location", ""))

    @property
    def headers(self) -> dict[str, str]:
        return dict(self.response["headers"])

    def redirect_params(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(urlsplit(self.location).query).items()}


class Browser:
    """Cookies and forms against the authorize function."""

    def __init__(self, handler: Any, source_ip: str = "198.51.100.7"):
        self.handler = handler
        self.cookies: dict[str, str] = {}
        self.source_ip = source_ip

    def _store_cookies(self, response: dict[str, Any]) -> None:
        for cookie in response.get("cookies") or ():
            name, _, rest = cookie.partition("=")
            value = rest.split(";")[0]
            if "Max-Age=0" in cookie:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value

    def _page(self, response: dict[str, Any]) -> Page:
        self._store_cookies(response)
        parser = _Forms()
        if response.get("body") and "text/html" in response["headers"].get("Content-Type", ""):
            parser.feed(response["body"])
        return Page(response, parser.forms, " ".join(" ".join(parser.text).split()))

    def get(self, path: str, query: dict[str, str] | str = "") -> Page:
        raw = query if isinstance(query, str) else urlencode(query)
        event = api_event("GET", path, query=raw, cookies=self.cookies, source_ip=self.source_ip)
        return self._page(self.handler(event))

    def submit(
        self,
        page: Page,
        values: dict[str, str] | None = None,
        button: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Page:
        form = page.forms[0]
        data = dict(form["fields"])
        data.update(values or {})
        if button is not None:
            data["decision"] = button
        path = urlsplit(form["action"]).path
        event = api_event(
            "POST",
            path,
            form=data,
            cookies=self.cookies,
            source_ip=self.source_ip,
            headers=headers,
        )
        return self._page(self.handler(event))


def authorize_query(client_id: str, redirect_uri: str, challenge: str, **extra: str) -> dict:
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "state": "state-123",
    }
    query.update(extra)
    return {k: v for k, v in query.items() if v is not None}
