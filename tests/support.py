"""Helpers shared by the test tiers: events, clocks, tokens."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from devserver.gateway import build_event

DOMAIN = "auth.example.test"
ISSUER = f"https://{DOMAIN}"


class FakeClock:
    """An injected clock: tests move time instead of sleeping."""

    def __init__(self, now: float = 1_900_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class _Route:
    def __init__(self, method: str, path: str):
        self.key = f"{method} {path}"


def api_event(
    method: str,
    path: str,
    *,
    form: Mapping[str, str] | None = None,
    body: bytes | str | None = None,
    headers: Mapping[str, str] | None = None,
    query: str | Mapping[str, str] = "",
    cookies: Mapping[str, str] | None = None,
    source_ip: str = "198.51.100.7",
    route_path: str | None = None,
    path_parameters: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """An API Gateway HTTP API (payload 2.0) event, built by the local stack's own code."""
    pairs = [("Host", DOMAIN), ("User-Agent", "pytest")]
    if form is not None:
        body = urlencode(form)
        pairs.append(("Content-Type", "application/x-www-form-urlencoded"))
    pairs += list((headers or {}).items())
    if cookies:
        pairs.append(("Cookie", "; ".join(f"{k}={v}" for k, v in cookies.items())))
    raw = body.encode() if isinstance(body, str) else (body or b"")
    raw_query = query if isinstance(query, str) else urlencode(query)
    route = _Route(method, route_path or path)
    return build_event(
        method,
        path,
        raw_query,
        pairs,
        raw,
        source_ip,
        route,
        path_parameters,  # type: ignore[arg-type]
    )


def basic(client_id: str, secret: str) -> dict[str, str]:
    token = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def body(response: Mapping[str, Any]) -> Any:
    return json.loads(response["body"]) if response.get("body") else None


def jwt_parts(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    def segment(s: str) -> dict[str, Any]:
        return json.loads(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)))

    header, payload, _ = token.split(".")
    return segment(header), segment(payload)
