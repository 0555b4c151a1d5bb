"""POST /oauth/introspect (RFC 7662)."""

from __future__ import annotations

import pytest

from oauth21.clients import GRANT_CLIENT_CREDENTIALS
from oauth21.config import load_settings
from oauth21.services import Services
from tests.support import ISSUER, api_event, basic, body


@pytest.fixture
def svc(register):
    _, secret = register(
        client_type="confidential", client_id="svc", grant_types=[GRANT_CLIENT_CREDENTIALS]
    )
    return secret


@pytest.fixture
def other(register):
    _, secret = register(
        client_type="confidential", client_id="other", grant_types=[GRANT_CLIENT_CREDENTIALS]
    )
    return secret


def issue(token, client_id, secret, scope="read"):
    response = token(
        api_event(
            "POST",
            "/oauth/token",
            form={"grant_type": "client_credentials", "scope": scope},
            headers=basic(client_id, secret),
        )
    )
    return body(response)["access_token"]


def ask(introspect, token_value, headers=None, **form):
    return introspect(
        api_event("POST", "/oauth/introspect", form={"token": token_value, **form}, headers=headers)
    )


def test_an_active_token_is_described(token, introspect, svc, clock):
    access = issue(token, "svc", svc, "read write")
    response = ask(introspect, access, token_type_hint="access_token")
    assert response["statusCode"] == 200
    assert response["headers"]["Cache-Control"] == "no-store"
    data = body(response)
    assert data == {
        "active": True,
        "scope": "read write",
        "client_id": "svc",
        "sub": "svc",
        "aud": ISSUER,
        "iss": ISSUER,
        "exp": int(clock()) + 900,
        "iat": int(clock()),
        "jti": data["jti"],
        "token_type": "Bearer",
    }


@pytest.mark.parametrize(
    "garbage",
    [
        "invalid-token",
        "a.b.c",
        "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.",
        "x" * 5000,
        "..",
        "é.é.é",
    ],
)
def test_garbage_is_inactive(introspect, garbage):
    response = ask(introspect, garbage)
    assert response["statusCode"] == 200
    assert body(response) == {"active": False}


def test_a_tampered_token_is_inactive(token, introspect, svc):
    access = issue(token, "svc", svc)
    header, payload, signature = access.split(".")
    tampered = f"{header}.{payload[:-4]}AAAA.{signature}"
    assert body(ask(introspect, tampered)) == {"active": False}


def test_an_expired_token_is_inactive(token, introspect, svc, clock):
    access = issue(token, "svc", svc)
    clock.advance(900 + 31)  # past exp and the 30 s leeway
    assert body(ask(introspect, access)) == {"active": False}


def test_a_token_of_another_issuer_is_inactive(token, introspect, svc, services, aws):
    access = issue(token, "svc", svc)
    elsewhere = Services(
        load_settings(issuer="https://other.example"),
        services.clock,
        aws={"dynamodb": aws.dynamodb, "kms": aws.kms},
    )
    from devserver.lambdas import load_module
    from devserver.template import ROOT

    handler = load_module(ROOT / "functions" / "introspect").build(elsewhere)
    response = handler(api_event("POST", "/oauth/introspect", form={"token": access}), None)
    assert body(response) == {"active": False}


def test_a_confidential_client_may_introspect_any_token(token, introspect, svc, other):
    access = issue(token, "svc", svc)
    data = body(ask(introspect, access, headers=basic("other", other)))
    assert data["active"] is True and data["client_id"] == "svc"


def test_a_public_client_sees_only_its_own_tokens(token, introspect, svc, register):
    register(client_type="public", client_id="spa")
    access = issue(token, "svc", svc)
    assert body(ask(introspect, access, client_id="spa")) == {"active": False}


def test_wrong_credentials_are_invalid_client(token, introspect, svc):
    access = issue(token, "svc", svc)
    response = ask(introspect, access, headers=basic("svc", "wrong"))
    assert response["statusCode"] == 401
    assert body(response)["error"] == "invalid_client"


def test_missing_token_is_invalid_request(introspect):
    response = introspect(api_event("POST", "/oauth/introspect", form={}))
    assert response["statusCode"] == 400
    assert body(response)["error"] == "invalid_request"


def test_strict_mode_requires_client_authentication(token, svc, services, aws, function):
    strict = Services(
        load_settings(introspection_requires_auth=True),
        services.clock,
        aws={"dynamodb": aws.dynamodb, "kms": aws.kms},
    )
    introspect = function("introspect", strict)
    access = issue(token, "svc", svc)
    refused = ask(introspect, access)
    assert refused["statusCode"] == 401
    assert body(refused)["error"] == "invalid_client"
    allowed = ask(introspect, access, headers=basic("svc", svc))
    assert body(allowed)["active"] is True


def test_introspection_makes_one_dynamodb_call_when_warm(token, introspect, svc, aws_calls):
    access = issue(token, "svc", svc)
    aws_calls.clear()
    body(ask(introspect, access))
    assert aws_calls.by_api() == {"dynamodb:BatchGetItem": 1}
    aws_calls.clear()
    body(ask(introspect, access, headers=basic("svc", svc)))  # first sight of the client
    assert aws_calls.by_api() == {"dynamodb:GetItem": 1, "dynamodb:BatchGetItem": 1}
