"""GET /.well-known/oauth-authorization-server (RFC 8414) and /.well-known/jwks.json."""

from __future__ import annotations

import pytest

from tests.support import ISSUER, api_event, body


@pytest.fixture
def metadata(function):
    return function("metadata")


def test_metadata_lists_what_is_implemented(metadata):
    response = metadata(api_event("GET", "/.well-known/oauth-authorization-server"))
    assert response["statusCode"] == 200
    assert response["headers"]["Cache-Control"] == "public, max-age=300"
    data = body(response)
    assert data["issuer"] == ISSUER
    assert data["token_endpoint"] == f"{ISSUER}/oauth/token"
    assert data["introspection_endpoint"] == f"{ISSUER}/oauth/introspect"
    assert data["revocation_endpoint"] == f"{ISSUER}/oauth/revoke"
    assert data["jwks_uri"] == f"{ISSUER}/.well-known/jwks.json"
    assert "client_credentials" in data["grant_types_supported"]
    assert data["scopes_supported"] == ["read", "write", "admin"]
    assert data["token_endpoint_auth_methods_supported"] == [
        "client_secret_basic",
        "client_secret_post",
        "none",
    ]


def test_issuer_comes_from_the_request_context_and_stage_never_the_host_header(metadata):
    event = api_event(
        "GET", "/.well-known/oauth-authorization-server", headers={"Host": "evil.example"}
    )
    event["requestContext"]["domainName"] = "abc.execute-api.eu-west-1.amazonaws.com"
    event["requestContext"]["stage"] = "prod"
    data = body(metadata(event))
    assert data["issuer"] == "https://abc.execute-api.eu-west-1.amazonaws.com/prod"


def test_jwks_publishes_current_and_next(metadata, services):
    response = metadata(api_event("GET", "/.well-known/jwks.json"))
    assert response["statusCode"] == 200
    assert response["headers"]["Content-Type"] == "application/jwk-set+json"
    keys = body(response)["keys"]
    statuses = {r["kid"]: r["status"] for r in services.signing_key_table.all()}
    assert sorted(statuses.values()) == ["current", "next"]
    assert {k["kid"] for k in keys} == set(statuses)
    for key in keys:
        assert set(key) == {"kty", "crv", "x", "y", "kid", "alg", "use"}
        assert key["alg"] == "ES256" and key["use"] == "sig"


def test_unknown_path_on_the_function_is_404(metadata):
    response = metadata(api_event("GET", "/.well-known/other"))
    assert response["statusCode"] == 404
