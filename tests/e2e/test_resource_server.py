"""Resource servers through the local stack: the Lambda authorizer in front of
/api/user, every kind of bad token denied, and personal access tokens made by the
seed's own API call and CLI command."""

from __future__ import annotations

import json
import time
import uuid

import pytest
import requests

from tests.e2e.app_server import AppServer
from tests.e2e.browser_flow import PASSWORD, exchange, pkce, through_the_pages
from tests.e2e.conftest import transpile
from tests.e2e.forge import stack_services, user_access_token
from tests.seed_clients.extract import HERE as SEED_CLIENTS


@pytest.fixture
def forge(stack):
    return stack_services(stack)


@pytest.fixture
def user(stack, make_user):
    email = f"api-{uuid.uuid4().hex[:8]}@example.com"
    return {"email": email, "user_id": make_user(email, PASSWORD, "Api User")}


def get_user(stack, token, scheme="Bearer"):
    headers = {"Authorization": f"{scheme} {token}"} if token is not None else {}
    return requests.get(f"{stack.url}/api/user", headers=headers, timeout=10)


def test_a_code_flow_token_reads_api_user(chromium, stack, setup):
    verifier, challenge = pkce()
    code = through_the_pages(chromium, stack, setup, challenge)["code"]
    tokens = exchange(stack, setup, code, verifier).json()
    response = get_user(stack, tokens["access_token"])
    assert response.status_code == 200
    assert response.json() == {"id": setup["user_id"], "email": setup["email"], "name": "E2E User"}
    assert response.headers["Cache-Control"] == "no-store"
    # Revoked: denied at once (authorizer caching is off).
    requests.post(f"{stack.url}/oauth/revoke", data={"token": tokens["access_token"]}, timeout=10)
    assert get_user(stack, tokens["access_token"]).status_code == 403


def test_each_kind_of_bad_token_is_denied(stack, user, forge):
    now = int(time.time())
    good = user_access_token(forge, user["user_id"])
    assert get_user(stack, good).status_code == 200
    cases = {
        "expired": user_access_token(forge, user["user_id"], exp=now - 60, iat=now - 1000),
        "wrong audience": user_access_token(forge, user["user_id"], aud="https://other.example"),
        "missing scope": user_access_token(forge, user["user_id"], scope="write"),
        "unknown key": good.rsplit(".", 1)[0].replace(good.split(".")[0], _foreign_header(good))
        + ".AAAA",
        "garbage": "not-a-token",
    }
    for name, token in cases.items():
        response = get_user(stack, token)
        assert response.status_code == 403, name
        assert response.json() == {"message": "Forbidden"}, name
    assert get_user(stack, None).status_code == 401  # no Authorization: API Gateway's 401


def _foreign_header(token: str) -> str:
    import base64

    header = {"alg": "ES256", "typ": "at+jwt", "kid": "not-a-key-of-this-server"}
    return base64.urlsafe_b64encode(json.dumps(header).encode()).rstrip(b"=").decode()


def test_the_seed_api_call_creates_a_personal_access_token(chromium, stack, user, forge, tmp_path):
    script = transpile(SEED_CLIENTS / "personal_access_token.ts", tmp_path / "pat.js", "esnext")
    session_token = user_access_token(forge, user["user_id"], scope="read write")
    app = AppServer(
        {
            "/": (
                "text/html",
                b"<!doctype html><title>pat</title><script>window.userAccessToken = "
                + json.dumps(session_token).encode()
                + b";</script><script type=module src=/pat.js></script>",
            ),
            "/pat.js": ("text/javascript", script.read_bytes()),
        },
        stack.url,
    )
    logged: list[str] = []
    try:
        context = chromium.new_context()
        page = context.new_page()
        page.on("console", lambda message: logged.append(message.text))
        page.goto(app.url + "/")
        deadline = time.monotonic() + 15
        while not any(line.startswith("Your API token:") for line in logged):
            assert time.monotonic() < deadline, logged
            page.wait_for_timeout(100)
        context.close()
    finally:
        app.close()
    pat = next(line for line in logged if line.startswith("Your API token:")).split(": ", 1)[1]
    assert get_user(stack, pat).json()["id"] == user["user_id"]
    listed = requests.get(
        f"{stack.url}/oauth/personal-access-tokens",
        headers={"Authorization": f"Bearer {session_token}"},
        timeout=10,
    ).json()
    (entry,) = listed
    assert entry["name"] == "My API Token" and entry["scopes"] == ["read", "write"]
    deleted = requests.delete(
        f"{stack.url}/oauth/personal-access-tokens/{entry['id']}",
        headers={"Authorization": f"Bearer {session_token}"},
        timeout=10,
    )
    assert deleted.status_code == 204
    assert get_user(stack, pat).status_code == 403


def test_the_seed_cli_command_creates_one(stack, user, forge):
    created = stack.oauthctl(
        "personal-access-token",
        "--issuer",
        stack.url,
        "--user-id",
        user["user_id"],
        "--name",
        "CLI Access Token",
        "--scopes",
        "read,write",
        "--expires-in",
        "86400",
    )
    assert created.returncode == 0, created.stderr
    pat = json.loads(created.stdout)
    assert pat["expires_in"] == 86400 and pat["scopes"] == ["read", "write"]
    assert get_user(stack, pat["access_token"]).status_code == 200
    session_token = user_access_token(forge, user["user_id"])
    requests.delete(
        f"{stack.url}/oauth/personal-access-tokens/{pat['id']}",
        headers={"Authorization": f"Bearer {session_token}"},
        timeout=10,
    )
    assert get_user(stack, pat["access_token"]).status_code == 403
    unknown = stack.oauthctl(
        "personal-access-token", "--user-id", "nobody", "--name", "x", "--scopes", "read"
    )
    assert unknown.returncode == 1 and "no user" in unknown.stderr
