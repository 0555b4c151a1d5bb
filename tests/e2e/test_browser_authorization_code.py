"""A real browser (Debian's Chromium, driven by Playwright) through /oauth/authorize,
login and consent, to the client's redirect URI; then the mobile and SPA
clients' token requests, exactly as the seed's Swift, Kotlin and React code
sends them."""

from __future__ import annotations

import requests

from tests.e2e.browser_flow import authorize_url, exchange, pkce, refresh, through_the_pages


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
    exchanged = exchange(stack, setup, params["code"], verifier)
    assert exchanged.status_code == 200, exchanged.text
    tokens = exchanged.json()
    assert set(tokens) == {"access_token", "token_type", "expires_in", "refresh_token", "scope"}

    # client_id-only refresh (the seed's mobile and SPA clients): rotates.
    refreshed = refresh(stack, setup, tokens["refresh_token"])
    assert refreshed.status_code == 200
    new = refreshed.json()
    assert new["refresh_token"] != tokens["refresh_token"]

    # The old refresh token, replayed, kills the grant: the new one dies with it.
    replay = refresh(stack, setup, tokens["refresh_token"])
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    after = refresh(stack, setup, new["refresh_token"])
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
    exchanged = exchange(stack, setup, params["code"], verifier)
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
