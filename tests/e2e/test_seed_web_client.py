"""The seed's TypeScript `OAuth2Client` (oauth-client.ts), unmodified, in Chromium.

It is served, transpiled (types erased), by a client app whose origin also
proxies /oauth/* to the authorization server, because the seed's code calls
`/oauth/token` and `/oauth/revoke` relative to its own origin. The browser
goes through our login and consent pages; the seed's code handles the
callback, refreshes, and revokes on logout.
"""

from __future__ import annotations

import json
import uuid

import pytest
import requests

from tests.e2e.app_server import AppServer
from tests.e2e.conftest import transpile
from tests.seed_clients.extract import HERE as SEED_CLIENTS

PASSWORD = "seed web password"

HARNESS = """<!doctype html><html><head><title>app</title>
<script src="/oauth_client.js"></script></head><body>
<button id="start">Log in</button>
<script>
const client = new OAuth2Client(CONFIG.clientId, CONFIG.redirectUri, CONFIG.authServerUrl);
window.seed = client;
if (location.pathname === '/callback') {
  client.handleCallback()
    .then((tokens) => { window.tokens = tokens; document.title = 'done'; })
    .catch((error) => { window.failure = String(error); document.title = 'failed'; });
} else {
  document.getElementById('start')
    .addEventListener('click', () => client.authorize(['read', 'write']));
}
</script></body></html>"""


@pytest.fixture
def seed_app(stack, tmp_path, make_user, make_client):
    script = transpile(SEED_CLIENTS / "oauth_client.ts", tmp_path / "oauth_client.js")
    suffix = uuid.uuid4().hex[:8]
    server = AppServer({}, stack.url)
    config = {
        "clientId": f"web-{suffix}",
        "redirectUri": f"{server.url}/callback",
        "authServerUrl": stack.url,
    }
    page = HARNESS.replace("CONFIG", json.dumps(config)).encode()
    server.pages.update(
        {
            "/": ("text/html", page),
            "/callback": ("text/html", page),
            "/login": ("text/html", b"<title>logged out</title>"),
            "/oauth_client.js": ("text/javascript", script.read_bytes()),
        }
    )
    email = f"web-{suffix}@example.com"
    make_user(email, PASSWORD)
    make_client(
        config["clientId"],
        "--type",
        "public",
        "--redirect-uri",
        config["redirectUri"],
        "--grant-types",
        "authorization_code refresh_token",
        "--scopes",
        "read write",
    )
    yield server, config, email
    server.close()


def test_the_seed_web_client_logs_in_refreshes_and_revokes(chromium, stack, seed_app):
    server, config, email = seed_app
    context = chromium.new_context()
    page = context.new_page()
    page.goto(server.url + "/")
    page.click("#start")  # the seed's authorize(): PKCE, state, redirect
    page.wait_for_url(f"{stack.url}/oauth/authorize*")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url(f"{config['redirectUri']}*")
    page.wait_for_function("document.title !== 'app'")
    assert page.title() == "done", page.evaluate("window.failure")
    tokens = page.evaluate("window.tokens")
    assert tokens["token_type"] == "Bearer" and tokens["scope"] == "read write"
    assert page.evaluate("sessionStorage.getItem('oauth_access_token')") == tokens["access_token"]

    # The seed's refreshToken(): client_id only, relative /oauth/token.
    refreshed = page.evaluate("window.seed.refreshToken()")
    assert refreshed["refresh_token"] != tokens["refresh_token"]

    # The seed's logout(): revokes the access token, then goes to /login.
    with page.expect_navigation():
        page.evaluate("window.seed.logout()")
    assert page.title() == "logged out"
    answer = requests.post(
        f"{stack.url}/oauth/introspect", data={"token": refreshed["access_token"]}, timeout=10
    )
    assert answer.json() == {"active": False}
    assert "POST /oauth/revoke" in server.requests and "POST /oauth/token" in server.requests
    context.close()
