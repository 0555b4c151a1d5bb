"""The authorization code flow as the seed's mobile and web clients drive it: PKCE as
they encode it, a real Chromium through our login and consent pages, and their
form-encoded, client_id-only token requests."""

from __future__ import annotations

import base64
import hashlib
import secrets
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import requests

PASSWORD = "a long enough password"


def pkce(padded: bool = False) -> tuple[str, str]:
    """Swift/TS: base64url without padding. Kotlin (Base64.URL_SAFE): with it."""
    raw = secrets.token_bytes(32)
    verifier = base64.urlsafe_b64encode(raw).decode()
    if not padded:
        verifier = verifier.rstrip("=")
    digest = hashlib.sha256(verifier.encode()).digest()
    challenge = base64.urlsafe_b64encode(digest).decode()
    return verifier, challenge if padded else challenge.rstrip("=")


def authorize_url(stack: Any, setup: dict[str, Any], challenge: str, state: str) -> str:
    query = {
        "response_type": "code",
        "client_id": setup["client_id"],
        "redirect_uri": setup["redirect_uri"],
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "scope": "read write",
        "state": state,
    }
    return f"{stack.url}/oauth/authorize?{urlencode(query)}"


def through_the_pages(chromium, stack, setup, challenge, artifacts=None, **context_options):
    """Sign in and allow in Chromium; the redirect's parameters (`state` checked)."""
    context = chromium.new_context(**context_options)
    page = context.new_page()
    state = secrets.token_urlsafe(16)
    page.goto(authorize_url(stack, setup, challenge, state))
    assert page.title().startswith("Sign in")
    if artifacts is not None:
        page.screenshot(path=str(artifacts / "login-page.png"), full_page=True)
    page.get_by_label("Email").fill(setup["email"])
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    assert page.title().startswith("Allow access")
    if artifacts is not None:
        page.screenshot(path=str(artifacts / "consent-page.png"), full_page=True)
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url(f"{setup['redirect_uri']}*")
    params = {k: v[0] for k, v in parse_qs(urlsplit(page.url).query).items()}
    context.close()
    assert params["state"] == state
    return params


def exchange(stack: Any, setup: dict[str, Any], code: str, verifier: str) -> requests.Response:
    """The seed's Swift/Kotlin/TS code exchange: form-encoded, client_id only."""
    return requests.post(
        f"{stack.url}/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "client_id": setup["client_id"],
            "redirect_uri": setup["redirect_uri"],
            "code_verifier": verifier,
        },
        timeout=30,
    )


def refresh(stack: Any, setup: dict[str, Any], refresh_token: str) -> requests.Response:
    """The seed's mobile and SPA refresh: client_id only."""
    return requests.post(
        f"{stack.url}/oauth/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": setup["client_id"],
        },
        timeout=30,
    )
