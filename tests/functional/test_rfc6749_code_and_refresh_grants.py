"""POST /oauth/token with authorization_code and refresh_token: one-time codes,
PKCE, rotation, replay detection, parallel redemption, revocation."""

from __future__ import annotations

import threading

import pytest

from oauth21.clients import GRANT_AUTHORIZATION_CODE, GRANT_REFRESH_TOKEN
from oauth21.config import load_settings
from oauth21.services import Services
from tests.functional.flow import Browser, authorize_query, pkce_pair
from tests.support import api_event, basic, body, jwt_parts

CALLBACK = "https://app.example/callback"
EMAIL, PASSWORD = "alice@example.com", "correct horse battery staple"


@pytest.fixture
def alice(services):
    return services.accounts.create(EMAIL, PASSWORD, "Alice")


@pytest.fixture
def spa(register):
    return register(
        client_type="public",
        client_id="spa",
        redirect_uris=[CALLBACK],
        grant_types=[GRANT_AUTHORIZATION_CODE, GRANT_REFRESH_TOKEN],
        scopes=["read", "write"],
        first_party=True,
    )[0]


@pytest.fixture
def web(register):
    return register(
        client_type="confidential",
        client_id="web",
        redirect_uris=[CALLBACK],
        grant_types=[GRANT_AUTHORIZATION_CODE, GRANT_REFRESH_TOKEN],
        scopes=["read", "write"],
        first_party=True,
    )[1]


@pytest.fixture
def get_code(function, alice):
    browser = Browser(function("authorize"))

    def get_code(client_id="spa", scope="read write"):
        verifier, challenge = pkce_pair()
        page = browser.get(
            "/oauth/authorize", authorize_query(client_id, CALLBACK, challenge, scope=scope)
        )
        if page.forms:
            page = browser.submit(page, {"email": EMAIL, "password": PASSWORD})
        assert page.status in (302, 303), page.text
        return page.redirect_params()["code"], verifier

    return get_code


def exchange(token, code, verifier, client_id="spa", headers=None, **extra):
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": CALLBACK,
        "code_verifier": verifier,
        "client_id": client_id,
        **extra,
    }
    form = {k: v for k, v in form.items() if v is not None}
    return token(api_event("POST", "/oauth/token", form=form, headers=headers))


def refresh(token, refresh_token, client_id="spa", headers=None, **extra):
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": client_id}
    form.update(extra)
    form = {k: v for k, v in form.items() if v is not None}
    return token(api_event("POST", "/oauth/token", form=form, headers=headers))


def grants(aws):
    return aws.dynamodb.scan(TableName="oauth21-grants")["Items"]


def is_active(introspect, value):
    response = introspect(api_event("POST", "/oauth/introspect", form={"token": value}))
    return body(response)["active"]


# --- authorization_code -------------------------------------------------------


def test_a_public_client_exchanges_its_code(token, spa, get_code, alice, aws, clock):
    code, verifier = get_code()
    response = exchange(token, code, verifier)
    assert response["statusCode"] == 200
    assert response["headers"]["Cache-Control"] == "no-store"
    data = body(response)
    assert set(data) == {"access_token", "token_type", "expires_in", "refresh_token", "scope"}
    assert data["token_type"] == "Bearer" and data["scope"] == "read write"
    claims = jwt_parts(data["access_token"])[1]
    assert claims["sub"] == alice.user_id and claims["client_id"] == "spa"
    assert claims["auth_time"] == int(clock())
    (grant,) = grants(aws)
    assert grant["grant_id"]["S"] == claims["gid"]
    assert grant["user_id"]["S"] == alice.user_id and grant["scope"]["S"] == "read write"
    secret = data["refresh_token"].split(".")[1]
    assert secret not in str(grant) and data["refresh_token"] not in str(grant)
    codes = aws.dynamodb.scan(TableName="oauth21-auth-codes")["Items"]
    assert "consumed_at" in codes[0] and codes[0]["grant_id"]["S"] == claims["gid"]


def test_a_confidential_client_must_authenticate(token, web, get_code):
    code, verifier = get_code("web")
    refused = exchange(token, code, verifier, client_id="web")
    assert refused["statusCode"] == 401 and body(refused)["error"] == "invalid_client"
    # The seed's Express back end: client_id and client_secret in the body.
    ok = exchange(token, code, verifier, client_id="web", client_secret=web)
    assert ok["statusCode"] == 200


@pytest.mark.parametrize(
    ("change", "status", "error"),
    [
        ({"code_verifier": None}, 400, "invalid_request"),
        ({"code_verifier": "short"}, 400, "invalid_request"),
        ({"code_verifier": "é" * 43}, 400, "invalid_request"),
        ({"code_verifier": "A" * 43}, 400, "invalid_grant"),
        ({"redirect_uri": None}, 400, "invalid_request"),
        ({"redirect_uri": "https://app.example/other"}, 400, "invalid_grant"),
        ({"code": "not-a-code"}, 400, "invalid_grant"),
        ({"code": None}, 400, "invalid_request"),
    ],
)
def test_exchange_refusals_write_nothing(token, spa, get_code, aws, change, status, error):
    code, verifier = get_code()
    given = {"code": code, "code_verifier": verifier, "redirect_uri": CALLBACK, **change}
    response = exchange(
        token, given["code"], given["code_verifier"], redirect_uri=given["redirect_uri"]
    )
    assert response["statusCode"] == status
    assert body(response)["error"] == error
    assert grants(aws) == []
    # The code was not burnt: the right request still works.
    assert exchange(token, code, verifier)["statusCode"] == 200


def test_a_code_of_another_client_is_invalid_grant(token, spa, web, get_code, aws):
    code, verifier = get_code("web")
    response = exchange(token, code, verifier, client_id="spa")
    assert body(response)["error"] == "invalid_grant" and grants(aws) == []


def test_an_expired_code_is_invalid_grant(token, spa, get_code, clock, aws):
    code, verifier = get_code()
    clock.advance(60)
    assert body(exchange(token, code, verifier))["error"] == "invalid_grant"
    assert grants(aws) == []


def test_a_reused_code_revokes_what_it_issued(token, introspect, spa, get_code, aws):
    code, verifier = get_code()
    first = body(exchange(token, code, verifier))
    assert is_active(introspect, first["access_token"])
    second = exchange(token, code, verifier)
    assert second["statusCode"] == 400 and body(second)["error"] == "invalid_grant"
    (grant,) = grants(aws)
    assert grant["revoked_reason"]["S"] == "authorization_code_reuse"
    assert not is_active(introspect, first["access_token"])
    assert body(refresh(token, first["refresh_token"]))["error"] == "invalid_grant"


def test_twenty_parallel_redemptions_succeed_once(token, spa, get_code, aws):
    code, verifier = get_code()
    barrier = threading.Barrier(20)
    results: list[dict] = []

    def redeem():
        barrier.wait()
        results.append(exchange(token, code, verifier))

    threads = [threading.Thread(target=redeem) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    statuses = sorted(r["statusCode"] for r in results)
    assert statuses == [200] + [400] * 19
    assert {body(r)["error"] for r in results if r["statusCode"] == 400} == {"invalid_grant"}
    (grant,) = grants(aws)  # one grant, and the replays revoked it
    assert grant["revoked_reason"]["S"] == "authorization_code_reuse"


def test_code_exchange_makes_two_dynamodb_calls(token, spa, get_code, aws_calls):
    code, verifier = get_code()
    aws_calls.clear()
    assert exchange(token, code, verifier)["statusCode"] == 200
    assert aws_calls.by_api() == {
        "dynamodb:GetItem": 2,  # the client (first sight) and the code
        "dynamodb:TransactWriteItems": 1,
    }
    code, verifier = get_code()
    aws_calls.clear()
    exchange(token, code, verifier)
    assert aws_calls.by_api() == {"dynamodb:GetItem": 1, "dynamodb:TransactWriteItems": 1}


# --- refresh_token ---------------------------------------------------------------


@pytest.fixture
def tokens(token, spa, get_code):
    code, verifier = get_code()
    return body(exchange(token, code, verifier))


def test_refresh_rotates(token, introspect, tokens, aws):
    response = refresh(token, tokens["refresh_token"])
    assert response["statusCode"] == 200
    new = body(response)
    assert set(new) == {"access_token", "token_type", "expires_in", "refresh_token", "scope"}
    assert new["refresh_token"] != tokens["refresh_token"]
    assert new["refresh_token"].split(".")[0] == tokens["refresh_token"].split(".")[0]
    assert new["scope"] == "read write"
    assert is_active(introspect, new["refresh_token"])
    assert not is_active(introspect, tokens["refresh_token"])


def test_a_replayed_refresh_token_kills_the_grant(token, introspect, tokens, aws):
    new = body(refresh(token, tokens["refresh_token"]))
    replay = refresh(token, tokens["refresh_token"])
    assert replay["statusCode"] == 400 and body(replay)["error"] == "invalid_grant"
    (grant,) = grants(aws)
    assert grant["revoked_reason"]["S"] == "refresh_token_reuse"
    assert body(refresh(token, new["refresh_token"]))["error"] == "invalid_grant"
    assert not is_active(introspect, new["access_token"])
    assert not is_active(introspect, tokens["access_token"])


def test_a_narrower_scope_may_be_asked_for(token, tokens):
    narrow = body(refresh(token, tokens["refresh_token"], scope="read"))
    assert narrow["scope"] == "read"
    assert jwt_parts(narrow["access_token"])[1]["scope"] == "read"
    # The grant keeps its scope: the next refresh without scope gets it all.
    assert body(refresh(token, narrow["refresh_token"]))["scope"] == "read write"


def test_a_wider_scope_is_invalid_scope_and_changes_nothing(token, tokens, register, aws):
    before = grants(aws)
    refused = refresh(token, tokens["refresh_token"], scope="read admin")
    assert body(refused)["error"] == "invalid_scope"
    assert grants(aws) == before
    assert refresh(token, tokens["refresh_token"])["statusCode"] == 200


def test_a_refresh_token_works_only_for_its_client(token, tokens, register, aws):
    register(client_type="public", client_id="other", grant_types=[GRANT_REFRESH_TOKEN])
    refused = refresh(token, tokens["refresh_token"], client_id="other")
    assert body(refused)["error"] == "invalid_grant"
    assert "revoked_at" not in grants(aws)[0]
    assert refresh(token, tokens["refresh_token"])["statusCode"] == 200


@pytest.mark.parametrize("garbage", ["x", "a.b", "a" * 43 + "." + "b" * 42, "." * 10])
def test_malformed_refresh_tokens_are_invalid_grant(token, tokens, garbage, aws):
    assert body(refresh(token, garbage))["error"] == "invalid_grant"
    assert "revoked_at" not in grants(aws)[0]


def test_refresh_tokens_expire_when_idle_and_grants_absolutely(token, tokens, clock, services):
    settings = services.settings
    clock.advance(settings.refresh_token_idle_lifetime)
    assert body(refresh(token, tokens["refresh_token"]))["error"] == "invalid_grant"


def test_the_grant_lifetime_is_absolute(token, tokens, clock, services):
    current = tokens["refresh_token"]
    step = services.settings.refresh_token_idle_lifetime - 1
    elapsed = 0
    while elapsed + step < services.settings.grant_lifetime:
        clock.advance(step)
        elapsed += step
        current = body(refresh(token, current))["refresh_token"]
    clock.advance(services.settings.grant_lifetime - elapsed)
    assert body(refresh(token, current))["error"] == "invalid_grant"


def test_a_confidential_clients_refresh_needs_its_secret(token, web, get_code):
    code, verifier = get_code("web")
    tokens = body(exchange(token, code, verifier, client_id="web", client_secret=web))
    refused = refresh(token, tokens["refresh_token"], client_id="web")
    assert refused["statusCode"] == 401
    ok = refresh(token, tokens["refresh_token"], client_id=None, headers=basic("web", web))
    assert ok["statusCode"] == 200


def test_twenty_parallel_refreshes_succeed_once(token, tokens, aws):
    barrier = threading.Barrier(20)
    results: list[dict] = []

    def go():
        barrier.wait()
        results.append(refresh(token, tokens["refresh_token"]))

    threads = [threading.Thread(target=go) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r["statusCode"] for r in results) == [200] + [400] * 19
    (grant,) = grants(aws)  # the replays were detected
    assert grant["revoked_reason"]["S"] == "refresh_token_reuse"


def test_refresh_makes_one_dynamodb_call(token, tokens, aws_calls):
    aws_calls.clear()
    assert refresh(token, tokens["refresh_token"])["statusCode"] == 200
    assert aws_calls.by_api() == {"dynamodb:UpdateItem": 1}


class TestGraceWindow:
    @pytest.fixture
    def graceful(self, function, services, aws):
        settings = load_settings(refresh_grace_seconds=10)
        return function(
            "token",
            Services(settings, services.clock, aws={"dynamodb": aws.dynamodb, "kms": aws.kms}),
        )

    def test_a_lost_response_can_be_retried_once(self, graceful, introspect, tokens, clock, aws):
        lost = body(refresh(graceful, tokens["refresh_token"]))
        clock.advance(5)
        retried = refresh(graceful, tokens["refresh_token"])
        assert retried["statusCode"] == 200
        fresh = body(retried)
        assert not is_active(introspect, lost["access_token"])  # the lost pair is revoked
        assert is_active(introspect, fresh["access_token"])
        # Only one chain: the lost refresh token is dead, and using it is a replay.
        assert body(refresh(graceful, lost["refresh_token"]))["error"] == "invalid_grant"
        assert grants(aws)[0]["revoked_reason"]["S"] == "refresh_token_reuse"

    def test_only_one_retry(self, graceful, tokens, aws):
        refresh(graceful, tokens["refresh_token"])
        assert refresh(graceful, tokens["refresh_token"])["statusCode"] == 200
        assert refresh(graceful, tokens["refresh_token"])["statusCode"] == 400
        assert grants(aws)[0]["revoked_reason"]["S"] == "refresh_token_reuse"

    def test_not_after_the_window(self, graceful, tokens, clock, aws):
        refresh(graceful, tokens["refresh_token"])
        clock.advance(11)
        assert refresh(graceful, tokens["refresh_token"])["statusCode"] == 400
        assert grants(aws)[0]["revoked_reason"]["S"] == "refresh_token_reuse"

    def test_parallel_retries_leave_at_most_one_chain(self, graceful, tokens, aws):
        refresh(graceful, tokens["refresh_token"])
        barrier = threading.Barrier(10)
        results: list[dict] = []

        def go():
            barrier.wait()
            results.append(refresh(graceful, tokens["refresh_token"]))

        threads = [threading.Thread(target=go) for _ in range(10)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert [r["statusCode"] for r in results].count(200) <= 1

    def test_off_by_default(self, token, tokens, aws):
        refresh(token, tokens["refresh_token"])
        assert refresh(token, tokens["refresh_token"])["statusCode"] == 400


# --- revocation and introspection of refresh tokens ---------------------------


def test_revoking_a_refresh_token_revokes_the_grant(token, introspect, tokens, aws):
    response = introspect(
        api_event("POST", "/oauth/revoke", form={"token": tokens["refresh_token"]})
    )
    assert response["statusCode"] == 200
    assert grants(aws)[0]["revoked_reason"]["S"] == "revoked_by_client"
    assert not is_active(introspect, tokens["access_token"])
    assert body(refresh(token, tokens["refresh_token"]))["error"] == "invalid_grant"


def test_revoking_an_access_token_leaves_the_refresh_token(token, introspect, tokens):
    introspect(api_event("POST", "/oauth/revoke", form={"token": tokens["access_token"]}))
    assert not is_active(introspect, tokens["access_token"])
    assert refresh(token, tokens["refresh_token"])["statusCode"] == 200


def test_introspecting_a_refresh_token(introspect, tokens, alice):
    data = body(
        introspect(api_event("POST", "/oauth/introspect", form={"token": tokens["refresh_token"]}))
    )
    assert data["active"] is True and data["token_type"] == "refresh_token"
    assert data["client_id"] == "spa" and data["sub"] == alice.user_id
    assert data["scope"] == "read write"


def test_another_client_may_not_revoke_the_refresh_token(introspect, tokens, register, aws):
    _, secret = register(
        client_type="confidential", client_id="other", grant_types=["client_credentials"]
    )
    response = introspect(
        api_event(
            "POST",
            "/oauth/revoke",
            form={"token": tokens["refresh_token"]},
            headers=basic("other", secret),
        )
    )
    assert body(response)["error"] == "invalid_grant"
    assert "revoked_at" not in grants(aws)[0]
