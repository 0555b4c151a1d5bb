"""A real browser (Debian's Chromium, driven by Playwright) through /oauth/authorize,
login and consent, to the client's redirect URI; then the mobile and SPA
clients' token requests, exactly as the seed's Swift, Kotlin and React code
sends them."""

from __future__ import annotations

import base64
import hashlib
import secrets
import uuid
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests

from tests.e2e.app_server import AppServer

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


@pytest.fixture
def app(stack):
    server = AppServer({"/callback": ("text/html", b"<title>callback</title>ok")}, stack.url)
    yield server
    server.close()


@pytest.fixture
def setup(stack, app, make_user, make_client):
    """A user and a public client registered with oauthctl, as a new user would."""
    suffix = uuid.uuid4().hex[:8]
    email = f"user-{suffix}@example.com"
    make_user(email, PASSWORD)
    client_id = f"mobile-{suffix}"
    make_client(
        client_id,
        "--type",
        "public",
        "--redirect-uri",
        f"{app.url}/callback",
        "--grant-types",
        "authorization_code refresh_token",
        "--scopes",
        "read write",
    )
    return {"email": email, "client_id": client_id, "redirect_uri": f"{app.url}/callback"}


def authorize_url(stack, setup, challenge: str, state: str) -> str:
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


def test_browser_to_redirect_uri_then_code_exchange_refresh_and_replay(
    chromium, stack, setup, artifacts
):
    verifier, challenge = pkce()
    # No JavaScript at all: the pages must work without it.
    params = through_the_pages(
        chromium, stack, setup, challenge, artifacts, java_script_enabled=False
    )
    assert set(params) == {"code", "state", "iss"}
    assert params["iss"] == stack.url

    # The seed's Swift/Kotlin/TS exchange: form-encoded, client_id only.
    exchanged = requests.post(
        f"{stack.url}/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": params["code"],
            "client_id": setup["client_id"],
            "redirect_uri": setup["redirect_uri"],
            "code_verifier": verifier,
        },
        timeout=10,
    )
    assert exchanged.status_code == 200, exchanged.text
    tokens = exchanged.json()
    assert set(tokens) == {"access_token", "token_type", "expires_in", "refresh_token", "scope"}

    # client_id-only refresh (the seed's mobile and SPA clients): rotates.
    refreshed = requests.post(
        f"{stack.url}/oauth/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
            "client_id": setup["client_id"],
        },
        timeout=10,
    )
    assert refreshed.status_code == 200
    new = refreshed.json()
    assert new["refresh_token"] != tokens["refresh_token"]

    # The old refresh token, replayed, kills the grant: the new one dies with it.
    replay = requests.post(
        f"{stack.url}/oauth/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
            "client_id": setup["client_id"],
        },
        timeout=10,
    )
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    after = requests.post(
        f"{stack.url}/oauth/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": new["refresh_token"],
            "client_id": setup["client_id"],
        },
        timeout=10,
    )
    assert after.json()["error"] == "invalid_grant"
    active = requests.post(
        f"{stack.url}/oauth/introspect", data={"token": new["access_token"]}, timeout=10
    )
    assert active.json() == {"active": False}
    assert (artifacts / "login-page.png").stat().st_size > 1000
    assert (artifacts / "consent-page.png").stat().st_size > 1000


def test_the_kotlin_clients_padded_pkce_works(chromium, stack, setup):
    verifier, challenge = pkce(padded=True)
    assert challenge.endswith("=") and verifier.endswith("=")
    params = through_the_pages(chromium, stack, setup, challenge)
    # Kotlin's FormBody percent-encodes '=' in the verifier.
    exchanged = requests.post(
        f"{stack.url}/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": params["code"],
            "client_id": setup["client_id"],
            "redirect_uri": setup["redirect_uri"],
            "code_verifier": verifier,
        },
        timeout=10,
    )
    assert exchanged.status_code == 200, exchanged.text


def test_the_spa_calls_the_token_endpoint_cross_origin(chromium, stack, setup, app):
    """The seed's React SPA posts to `${authServerUrl}/oauth/token` from its own origin:
    CORS must allow it, and revoke-on-logout must too."""
    verifier, challenge = pkce()
    params = through_the_pages(chromium, stack, setup, challenge)
    context = chromium.new_context()
    page = context.new_page()
    page.goto(f"{app.url}/callback")
    script = """async ([auth, form]) => {
        const r = await fetch(`${auth}/oauth/token`, {method: 'POST',
            headers: {'Content-Type': 'application/x-www-form-urlencoded'},
            body: new URLSearchParams(form)});
        const tokens = await r.json();
        const revoked = await fetch(`${auth}/oauth/revoke`, {method: 'POST',
            headers: {'Content-Type': 'application/x-www-form-urlencoded'},
            body: new URLSearchParams({token: tokens.access_token})});
        return {status: r.status, tokens, revoked: revoked.status};
    }"""
    result = page.evaluate(
        script,
        [
            stack.url,
            {
                "grant_type": "authorization_code",
                "code": params["code"],
                "client_id": setup["client_id"],
                "redirect_uri": setup["redirect_uri"],
                "code_verifier": verifier,
            },
        ],
    )
    context.close()
    assert result["status"] == 200 and result["revoked"] == 200
    access = result["tokens"]["access_token"]
    assert requests.post(
        f"{stack.url}/oauth/introspect", data={"token": access}, timeout=10
    ).json() == {"active": False}


def test_the_pages_are_keyboard_accessible_and_readable(chromium, stack, setup, artifacts):
    context = chromium.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2)
    page = context.new_page()
    page.goto(authorize_url(stack, setup, pkce()[1], "s"))
    page.screenshot(path=str(artifacts / "login-page-phone.png"), full_page=True)
    # Focus order: email, password, then the button.
    focused = []
    page.locator("body").click(position={"x": 2, "y": 2})
    for _ in range(3):
        page.keyboard.press("Tab")
        focused.append(
            page.evaluate("document.activeElement.name || document.activeElement.textContent")
        )
    assert focused == ["email", "password", "Sign in"]
    # Nothing overflows a phone's width.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    # WCAG AA contrast for text and the primary button.
    ratios = page.evaluate(CONTRAST)
    assert min(ratios.values()) >= 4.5, ratios
    context.close()


CONTRAST = """() => {
  const rgb = (c) => c.match(/\\d+(\\.\\d+)?/g).slice(0, 3).map(Number);
  const lum = (c) => { const [r, g, b] = rgb(c).map(v => { v /= 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
    return (x + 0.05) / (y + 0.05); };
  const bg = getComputedStyle(document.querySelector('main')).backgroundColor;
  const out = {};
  for (const sel of ['h1', 'label', 'p.lead']) {
    out[sel] = ratio(getComputedStyle(document.querySelector(sel)).color, bg);
  }
  const button = getComputedStyle(document.querySelector('button.primary'));
  out['button'] = ratio(button.color, button.backgroundColor);
  return out;
}"""
