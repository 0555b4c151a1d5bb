"""What the security review (docs/security.md) found, each now a regular test:
loopback redirect URIs, what may be registered, replayed codes from strangers,
refresh tokens only for clients allowed them, error description characters,
the grace retry's DPoP binding, deleting a user."""

from __future__ import annotations

import pytest

from oauth21.clients import GRANT_AUTHORIZATION_CODE, GRANT_REFRESH_TOKEN, new_client
from oauth21.config import load_settings
from oauth21.errors import InvalidRequest, description_text
from oauth21.services import Services
from tests.dpop_keys import ProofKey
from tests.functional.flow import Browser, authorize_query, pkce_pair
from tests.support import ISSUER, api_event, body

EMAIL, PASSWORD = "alice@example.com", "pw"
TOKEN_URL = f"{ISSUER}/oauth/token"


@pytest.fixture
def alice(services):
    return services.accounts.create(EMAIL, PASSWORD)


def sign_in_for_code(authorize, client_id, redirect_uri, **extra):
    browser = Browser(authorize)
    verifier, challenge = pkce_pair()
    page = browser.get(
        "/oauth/authorize", authorize_query(client_id, redirect_uri, challenge, **extra)
    )
    if page.forms:
        page = browser.submit(page, {"email": EMAIL, "password": PASSWORD})
    return page, verifier


# --- redirect URIs ----------------------------------------------------------------


def test_a_loopback_ip_redirect_uri_may_use_any_port(function, register, alice):
    register(
        client_type="public",
        client_id="cli",
        first_party=True,
        redirect_uris=["http://127.0.0.1/callback"],
        grant_types=[GRANT_AUTHORIZATION_CODE],
    )
    authorize = function("authorize")
    page, _ = sign_in_for_code(authorize, "cli", "http://127.0.0.1:51234/callback")
    assert page.status == 303 and page.location.startswith("http://127.0.0.1:51234/callback?code=")
    for wrong in (
        "http://127.0.0.1:51234/other",
        "http://127.0.0.2:5/callback",
        "https://127.0.0.1/callback",
    ):
        refused = Browser(authorize).get(
            "/oauth/authorize", authorize_query("cli", wrong, pkce_pair()[1])
        )
        assert refused.status == 400 and "Location" not in refused.headers, wrong


def test_localhost_by_name_keeps_its_registered_port(function, register):
    register(
        client_type="public",
        client_id="web",
        redirect_uris=["http://localhost/callback"],
        grant_types=[GRANT_AUTHORIZATION_CODE],
    )
    page = Browser(function("authorize")).get(
        "/oauth/authorize", authorize_query("web", "http://localhost:8080/callback", pkce_pair()[1])
    )
    assert page.status == 400


@pytest.mark.parametrize(
    "uri",
    [
        "/callback",
        "https://app.example/cb#fragment",
        "http://app.example/callback",
        "javascript:alert(1)",
        "https:///nohost",
    ],
)
def test_unsafe_redirect_uris_cannot_be_registered(uri):
    with pytest.raises(ValueError):
        new_client(
            name="x", client_type="public", grant_types=None, scopes=["read"], redirect_uris=[uri]
        )


@pytest.mark.parametrize(
    "uri",
    [
        "https://app.example/cb",
        "http://127.0.0.1:8080/callback",
        "http://localhost/callback",
        "yourapp://oauth/callback",
    ],
)
def test_the_seeds_redirect_uris_can_be_registered(uri):
    new_client(
        name="x", client_type="public", grant_types=None, scopes=["read"], redirect_uris=[uri]
    )


def test_a_chosen_secret_must_not_be_trivially_short():
    with pytest.raises(ValueError, match="16"):
        new_client(
            name="x", client_type="confidential", grant_types=None, scopes=[], client_secret="short"
        )
    new_client(
        name="x",
        client_type="confidential",
        grant_types=None,
        scopes=[],
        client_secret="test-client-secret",
    )


# --- grants --------------------------------------------------------------------------


@pytest.fixture
def spa(register):
    register(
        client_type="public",
        client_id="spa",
        first_party=True,
        redirect_uris=["https://app.example/cb"],
        grant_types=[GRANT_AUTHORIZATION_CODE, GRANT_REFRESH_TOKEN],
    )


def exchange(token, code, verifier, client_id="spa", proof=None):
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "client_id": client_id,
        "redirect_uri": "https://app.example/cb",
        "code_verifier": verifier,
    }
    headers = {"DPoP": proof} if proof else None
    return token(api_event("POST", "/oauth/token", form=form, headers=headers))


def test_a_stranger_replaying_a_used_code_cannot_kill_the_grant(
    function, spa, register, alice, aws
):
    register(client_type="public", client_id="other", grant_types=[GRANT_AUTHORIZATION_CODE])
    token = function("token")
    page, verifier = sign_in_for_code(function("authorize"), "spa", "https://app.example/cb")
    code = page.redirect_params()["code"]
    assert exchange(token, code, verifier)["statusCode"] == 200
    assert body(exchange(token, code, verifier, client_id="other"))["error"] == "invalid_grant"
    assert body(exchange(token, code, "x" * 43))["error"] == "invalid_grant"
    assert "revoked_at" not in aws.dynamodb.scan(TableName="oauth21-grants")["Items"][0]
    exchange(token, code, verifier)  # the client itself replaying it: now revoked
    assert "revoked_at" in aws.dynamodb.scan(TableName="oauth21-grants")["Items"][0]


def test_no_refresh_token_for_a_client_not_allowed_one(function, register, alice):
    register(
        client_type="public",
        client_id="once",
        first_party=True,
        redirect_uris=["https://app.example/cb"],
        grant_types=[GRANT_AUTHORIZATION_CODE],
    )
    page, verifier = sign_in_for_code(function("authorize"), "once", "https://app.example/cb")
    data = body(
        exchange(function("token"), page.redirect_params()["code"], verifier, client_id="once")
    )
    assert set(data) == {"access_token", "token_type", "expires_in", "scope"}


def test_the_grace_retry_keeps_the_dpop_binding(function, spa, alice, services, aws):
    graceful = function(
        "token",
        Services(
            load_settings(refresh_grace_seconds=10),
            services.clock,
            aws={"dynamodb": aws.dynamodb, "kms": aws.kms},
        ),
    )
    key, thief = ProofKey(), ProofKey("ES384")
    page, verifier = sign_in_for_code(function("authorize"), "spa", "https://app.example/cb")
    clock = services.clock
    tokens = body(
        exchange(
            graceful,
            page.redirect_params()["code"],
            verifier,
            proof=key.proof("POST", TOKEN_URL, iat=clock()),
        )
    )
    form = {
        "grant_type": "refresh_token",
        "refresh_token": tokens["refresh_token"],
        "client_id": "spa",
    }

    def refresh(proof):
        return graceful(api_event("POST", "/oauth/token", form=form, headers={"DPoP": proof}))

    assert refresh(key.proof("POST", TOKEN_URL, iat=clock()))["statusCode"] == 200
    retried = refresh(thief.proof("POST", TOKEN_URL, iat=clock()))  # the old token, another key
    assert retried["statusCode"] == 400


# --- error descriptions ---------------------------------------------------------


def test_error_descriptions_keep_to_rfc_6749_characters(function):
    token = function("token")
    response = token(
        api_event(
            "POST",
            "/oauth/token",
            body="grant_type=%C3%A9%0D%22%5C",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    )
    description = body(response)["error_description"]
    assert all(0x20 <= ord(c) <= 0x7E and c not in '"\\' for c in description)
    assert description_text('a"b\\c\u00e9\r') == "a?b?c??"
    assert InvalidRequest('bad "x"').body()["error_description"] == "bad ?x?"


# --- deleting a user -------------------------------------------------------------


def test_deleting_a_user_revokes_their_grants_and_sessions(
    function, spa, alice, services, aws, monkeypatch
):
    authorize = function("authorize")
    browser = Browser(authorize)
    verifier, challenge = pkce_pair()
    page = browser.submit(
        browser.get(
            "/oauth/authorize", authorize_query("spa", "https://app.example/cb", challenge)
        ),
        {"email": EMAIL, "password": PASSWORD},
    )
    tokens = body(exchange(function("token"), page.redirect_params()["code"], verifier))
    from oauth21.cli import main

    monkeypatch.setattr("oauth21.cli._services", lambda args: services)
    assert main(["user", "delete", alice.user_id]) == 0
    grant = aws.dynamodb.scan(TableName="oauth21-grants")["Items"][0]
    assert grant["revoked_reason"]["S"] == "user_deleted"
    introspect = function("introspect")
    answer = introspect(
        api_event("POST", "/oauth/introspect", form={"token": tokens["access_token"]})
    )
    assert body(answer) == {"active": False}
    # The browser's session no longer signs anyone in.
    again = browser.get(
        "/oauth/authorize",
        authorize_query("spa", "https://app.example/cb", challenge, prompt="none"),
    )
    assert again.redirect_params()["error"] == "login_required"
