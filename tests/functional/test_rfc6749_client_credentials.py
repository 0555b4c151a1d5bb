"""POST /oauth/token with grant_type=client_credentials (RFC 6749 4.4, OAuth 2.1 4.2)."""

from __future__ import annotations

import base64
from urllib.parse import quote

import pytest

from oauth21.clients import GRANT_AUTHORIZATION_CODE, GRANT_CLIENT_CREDENTIALS
from tests.support import ISSUER, api_event, basic, body, jwt_parts

TOKEN = "/oauth/token"


@pytest.fixture
def service_client(register):
    client, secret = register(
        client_type="confidential", client_id="svc", grant_types=[GRANT_CLIENT_CREDENTIALS]
    )
    return client, secret


def request(form=None, **kwargs):
    return api_event("POST", TOKEN, form=form, **kwargs)


def test_post_credentials_get_exactly_the_four_members(token, service_client, clock):
    _client, secret = service_client
    response = token(
        request(
            {
                "grant_type": "client_credentials",
                "client_id": "svc",
                "client_secret": secret,
                "scope": "read write",
            }
        )
    )
    assert response["statusCode"] == 200
    assert response["headers"]["Cache-Control"] == "no-store"
    data = body(response)
    assert set(data) == {"access_token", "token_type", "expires_in", "scope"}
    assert data["token_type"] == "Bearer"
    assert data["expires_in"] == 900
    assert data["scope"] == "read write"
    header, claims = jwt_parts(data["access_token"])
    assert header["typ"] == "at+jwt" and header["alg"] == "ES256" and header["kid"]
    assert claims["iss"] == ISSUER
    assert claims["aud"] == ISSUER
    assert claims["sub"] == "svc" and claims["client_id"] == "svc"
    assert claims["scope"] == "read write"
    assert claims["iat"] == int(clock()) and claims["exp"] == int(clock()) + 900
    assert len(claims["jti"]) >= 22


def test_basic_credentials_work_and_default_to_every_allowed_scope(token, service_client):
    _, secret = service_client
    response = token(request({"grant_type": "client_credentials"}, headers=basic("svc", secret)))
    assert response["statusCode"] == 200
    assert body(response)["scope"] == "read write admin"


def test_basic_credentials_are_form_decoded(token, register):
    # RFC 6749 2.3.1: id and secret are form-urlencoded before Base64.
    _, _secret = register(
        client_type="confidential",
        client_id="a:b c",
        client_secret="s%cr+t-and-long-enough",
        grant_types=[GRANT_CLIENT_CREDENTIALS],
    )
    raw = f"{quote('a:b c', safe='')}:{quote('s%cr+t-and-long-enough', safe='')}"
    auth = {"Authorization": "Basic " + base64.b64encode(raw.encode()).decode()}
    response = token(request({"grant_type": "client_credentials"}, headers=auth))
    assert response["statusCode"] == 200, body(response)


def test_the_token_verifies_against_the_published_jwks(token, service_client, function):
    import jwt

    _, secret = service_client
    access = body(
        token(
            request(
                {"grant_type": "client_credentials", "client_id": "svc", "client_secret": secret}
            )
        )
    )["access_token"]
    jwks = body(function("metadata")(api_event("GET", "/.well-known/jwks.json")))
    kid = jwt_parts(access)[0]["kid"]
    key = next(k for k in jwks["keys"] if k["kid"] == kid)
    claims = jwt.decode(
        access,
        jwt.PyJWK(key).key,
        algorithms=["ES256"],
        audience=ISSUER,
        options={"verify_exp": False, "verify_iat": False},
    )
    assert claims["client_id"] == "svc"


@pytest.mark.parametrize(
    ("form", "headers", "status", "error"),
    [
        (
            {"grant_type": "client_credentials", "client_id": "svc", "client_secret": "wrong"},
            {},
            401,
            "invalid_client",
        ),
        (
            {"grant_type": "client_credentials", "client_id": "nobody", "client_secret": "x"},
            {},
            401,
            "invalid_client",
        ),
        ({"grant_type": "client_credentials", "client_id": "svc"}, {}, 401, "invalid_client"),
        ({"grant_type": "client_credentials"}, {}, 401, "invalid_client"),
        ({"grant_type": "client_credentials", "client_secret": "x"}, {}, 400, "invalid_request"),
        ({"client_id": "svc", "client_secret": "x"}, {}, 400, "invalid_request"),
        (
            {"grant_type": "password", "client_id": "svc", "client_secret": "x"},
            {},
            400,
            "unsupported_grant_type",
        ),
        (
            {"grant_type": "client_credentials", "client_id": "svc", "client_secret": "x"},
            basic("svc", "x"),
            400,
            "invalid_request",
        ),
        (
            {"grant_type": "client_credentials", "client_id": "other"},
            basic("svc", "x"),
            400,
            "invalid_request",
        ),
    ],
    ids=[
        "wrong-secret",
        "unknown-client",
        "confidential-without-secret",
        "no-credentials",
        "secret-without-id",
        "no-grant-type",
        "unknown-grant-type",
        "two-auth-methods",
        "body-id-differs-from-basic",
    ],
)
def test_refusals(token, service_client, form, headers, status, error):
    response = token(request(form, headers=headers))
    assert response["statusCode"] == status
    data = body(response)
    assert data["error"] == error
    assert data["error_description"]
    assert response["headers"]["Cache-Control"] == "no-store"


def test_wrong_basic_secret_gets_a_basic_challenge(token, service_client):
    response = token(request({"grant_type": "client_credentials"}, headers=basic("svc", "nope")))
    assert response["statusCode"] == 401
    assert body(response)["error"] == "invalid_client"
    assert response["headers"]["WWW-Authenticate"].startswith("Basic ")


@pytest.mark.parametrize(
    "authorization", ["Basic !!!notbase64", "Basic " + base64.b64encode(b"nocolon").decode()]
)
def test_malformed_basic_is_invalid_client(token, service_client, authorization):
    response = token(
        request({"grant_type": "client_credentials"}, headers={"Authorization": authorization})
    )
    assert response["statusCode"] == 401
    assert body(response)["error"] == "invalid_client"


def test_scope_outside_the_clients_allowance_is_invalid_scope(token, register):
    _, secret = register(
        client_type="confidential",
        client_id="narrow",
        scopes=["read"],
        grant_types=[GRANT_CLIENT_CREDENTIALS],
    )
    response = token(
        request(
            {"grant_type": "client_credentials", "scope": "read admin"},
            headers=basic("narrow", secret),
        )
    )
    assert response["statusCode"] == 400
    assert body(response)["error"] == "invalid_scope"


def test_malformed_scope_is_invalid_request(token, service_client):
    _, secret = service_client
    response = token(
        request(
            {"grant_type": "client_credentials", "scope": "read  write"},
            headers=basic("svc", secret),
        )
    )
    assert body(response)["error"] == "invalid_request"


def test_a_client_not_allowed_the_grant_is_unauthorized_client(token, register):
    _, secret = register(
        client_type="confidential", client_id="web", grant_types=[GRANT_AUTHORIZATION_CODE]
    )
    response = token(request({"grant_type": "client_credentials"}, headers=basic("web", secret)))
    assert response["statusCode"] == 400
    assert body(response)["error"] == "unauthorized_client"


def test_a_public_client_cannot_use_client_credentials(token, register):
    register(client_type="public", client_id="spa")
    response = token(request({"grant_type": "client_credentials", "client_id": "spa"}))
    assert body(response)["error"] == "unauthorized_client"


def test_a_public_client_sending_a_secret_is_invalid_client(token, register):
    register(client_type="public", client_id="spa")
    response = token(
        request({"grant_type": "client_credentials", "client_id": "spa", "client_secret": "x"})
    )
    assert response["statusCode"] == 401
    assert body(response)["error"] == "invalid_client"


class TestMalformedBodies:
    """Bad bodies get invalid_request, never a 500."""

    def post(self, token, raw: bytes, content_type="application/x-www-form-urlencoded", **kw):
        headers = {"Content-Type": content_type} if content_type else {}
        return token(api_event("POST", TOKEN, body=raw, headers=headers, **kw))

    FORM = "application/x-www-form-urlencoded"

    @pytest.mark.parametrize(
        ("raw", "content_type", "fragment"),
        [
            (b'{"grant_type":"client_credentials"}', "application/json", "x-www-form-urlencoded"),
            (b"grant_type=client_credentials", None, "x-www-form-urlencoded"),
            (b"grant_type=client_credentials", FORM + "; charset=latin-1", "UTF-8"),
            (b"grant_type=client_credentials&grant_type=client_credentials", FORM, "repeated"),
            (b"grant_type=%E9", FORM, "UTF-8"),
            (b"grant_type=%zz", FORM, "percent"),
            (b"grant_type=%4", FORM, "percent"),
            (b"\xff\xfe=1", FORM, "UTF-8"),
            (b"grant_type=" + b"a" * 20000, FORM, "larger"),
        ],
        ids=[
            "json",
            "no-content-type",
            "latin1",
            "repeated",
            "bad-utf8",
            "bad-percent",
            "short-percent",
            "raw-binary",
            "too-large",
        ],
    )
    def test_invalid_request(self, token, service_client, raw, content_type, fragment):
        response = self.post(token, raw, content_type)
        assert response["statusCode"] == 400
        data = body(response)
        assert data["error"] == "invalid_request"
        assert fragment.lower() in data["error_description"].lower()

    def test_form_bodies_arrive_base64_encoded_and_as_text(self, token, service_client):
        _, secret = service_client
        event = request({"grant_type": "client_credentials"}, headers=basic("svc", secret))
        assert event["isBase64Encoded"] is True  # what HTTP APIs do with form bodies
        assert token(event)["statusCode"] == 200
        event["body"] = base64.b64decode(event["body"]).decode()
        event["isBase64Encoded"] = False  # e.g. a REST API, or a test harness
        assert token(event)["statusCode"] == 200

    def test_invalid_base64_body_is_invalid_request(self, token):
        event = request({"grant_type": "client_credentials"})
        event["body"], event["isBase64Encoded"] = "***", True
        response = token(event)
        assert response["statusCode"] == 400
        assert body(response)["error"] == "invalid_request"

    def test_empty_values_count_as_absent(self, token, service_client):
        response = token(request({"grant_type": "", "client_id": "svc"}))
        assert body(response)["error"] == "invalid_request"
        assert "grant_type" in body(response)["error_description"]


def test_get_is_refused_with_405(token):
    response = token(api_event("GET", TOKEN))
    assert response["statusCode"] == 405
    assert body(response)["error"] == "invalid_request"
    assert response["headers"]["Allow"] == "POST"


def test_warm_client_credentials_makes_no_aws_call(token, service_client, aws_calls):
    _, secret = service_client
    form = {"grant_type": "client_credentials", "client_id": "svc", "client_secret": secret}
    assert token(request(form))["statusCode"] == 200
    assert aws_calls.by_api() == {"dynamodb:GetItem": 1}  # the client, once
    aws_calls.clear()
    for _ in range(5):
        assert token(request(form))["statusCode"] == 200
    assert aws_calls == []


def test_the_client_cache_expires(token, service_client, aws_calls, clock, services):
    _, secret = service_client
    form = {"grant_type": "client_credentials", "client_id": "svc", "client_secret": secret}
    token(request(form))
    clock.advance(services.settings.client_cache_seconds + 1)
    aws_calls.clear()
    assert token(request(form))["statusCode"] == 200
    assert aws_calls.by_api() == {"dynamodb:GetItem": 1}
