"""Real API Gateway HTTP API (payload 2.0) events parse as the handlers expect,
and the local stack builds events of the same shape."""

from __future__ import annotations

import json
from pathlib import Path

from oauth21.http import Request
from tests.support import api_event

EVENTS = Path(__file__).resolve().parents[1] / "events"


def load(name: str) -> dict:
    return json.loads((EVENTS / name).read_text())


def test_token_request_event():
    request = Request.from_event(load("http_api_token_request.json"))
    assert request.method == "POST" and request.route == "/oauth/token"
    assert request.form(16384) == {
        "grant_type": "client_credentials",
        "client_id": "svc",
        "client_secret": "s3cr3t",
        "scope": "read",
    }
    assert request.source_ip == "203.0.113.10"
    assert request.domain_name == "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com"


def test_authorize_request_event():
    request = Request.from_event(load("http_api_authorize_request.json"))
    assert request.query()["scope"] == "read write"
    assert request.cookies["__Host-oauth_session"] == "abc"


def test_local_events_have_api_gateways_shape():
    real = load("http_api_token_request.json")
    local = api_event("POST", "/oauth/token", form={"a": "b"})
    assert set(real) <= set(local)
    assert set(local["requestContext"]) == set(real["requestContext"])
    assert set(local["requestContext"]["http"]) == set(real["requestContext"]["http"])
    assert local["routeKey"] == "POST /oauth/token"
