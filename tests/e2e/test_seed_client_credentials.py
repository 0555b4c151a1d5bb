"""The seed's Python client-credentials client, unmodified, against the local stack."""

from __future__ import annotations

import json

import pytest
import requests

from tests.seed_clients.oauth_client import OAuth2ClientCredentialsClient, TokenResponse


@pytest.fixture
def seed_client(stack):
    demo = stack.demo["confidential_client"]
    return OAuth2ClientCredentialsClient(
        client_id=demo["client_id"],
        client_secret=demo["client_secret"],
        auth_server_url=stack.url,
        scopes=["read", "write", "admin"],
    )


def test_authenticate_introspect_revoke_introspect(seed_client, stack):
    token = seed_client.authenticate()
    assert isinstance(token, TokenResponse)
    assert token.token_type == "Bearer" and token.expires_in == 900
    assert token.scope == "read write admin"

    info = seed_client.introspect_token()
    assert info["active"] is True
    assert info["client_id"] == stack.demo["confidential_client"]["client_id"]
    assert info["scope"] == "read write admin"

    access = token.access_token
    assert seed_client.revoke_token() is True
    assert seed_client.introspect_token(access) == {"active": False}


def test_the_seed_integration_test_client(stack):
    """The seed's integration tests use test-client-id/test-client-secret on localhost:3000."""
    response = requests.post(
        f"{stack.url}/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "test-client-id",
            "client_secret": "test-client-secret",
            "scope": "read write",
        },
        timeout=10,
    )
    assert response.status_code == 200
    token = response.json()
    assert token["token_type"] == "Bearer" and token["expires_in"] > 0
    assert response.headers["Cache-Control"] == "no-store"
    assert requests.post(
        f"{stack.url}/oauth/introspect", data={"token": "invalid-token"}, timeout=10
    ).json() == {"active": False}


def test_a_client_registered_with_oauthctl_authenticates(stack):
    created = stack.oauthctl(
        "client", "create", "--name", "e2e", "--type", "confidential", "--scopes", "read"
    )
    assert created.returncode == 0, created.stderr
    client = json.loads(created.stdout)
    response = requests.post(
        f"{stack.url}/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(client["client_id"], client["client_secret"]),
        timeout=10,
    )
    assert response.status_code == 200, response.text
    assert response.json()["scope"] == "read"
    listed = json.loads(stack.oauthctl("client", "show", client["client_id"]).stdout)
    assert listed["has_secret"] is True and "secret_hash" not in listed


@pytest.mark.parametrize(
    ("path", "kwargs", "status", "error"),
    [
        (
            "/oauth/token",
            {
                "data": b"grant_type=x&grant_type=y",
                "headers": {"Content-Type": "application/x-www-form-urlencoded"},
            },
            400,
            "invalid_request",
        ),
        ("/oauth/token", {"json": {"grant_type": "client_credentials"}}, 400, "invalid_request"),
        (
            "/oauth/token",
            {"data": b"\xff\xfe", "headers": {"Content-Type": "application/x-www-form-urlencoded"}},
            400,
            "invalid_request",
        ),
        ("/oauth/token", {"data": {"grant_type": "magic"}}, 400, "unsupported_grant_type"),
        (
            "/oauth/token",
            {
                "data": {
                    "grant_type": "client_credentials",
                    "client_id": "nobody",
                    "client_secret": "x",
                }
            },
            401,
            "invalid_client",
        ),
        ("/oauth/introspect", {"data": {}}, 400, "invalid_request"),
        (
            "/oauth/introspect",
            {
                "data": b"token=%zz",
                "headers": {"Content-Type": "application/x-www-form-urlencoded"},
            },
            400,
            "invalid_request",
        ),
        ("/oauth/revoke", {"data": {"token_type_hint": "access_token"}}, 400, "invalid_request"),
        (
            "/oauth/revoke",
            {"data": {"token": "x", "client_id": "test-client-id", "client_secret": "no"}},
            401,
            "invalid_client",
        ),
    ],
)
def test_malformed_requests_over_http(stack, path, kwargs, status, error):
    response = requests.post(f"{stack.url}{path}", timeout=10, **kwargs)
    assert response.status_code == status
    assert response.json()["error"] == error
    assert response.json()["error_description"]


def test_unknown_routes_are_404_like_api_gateway(stack):
    response = requests.get(f"{stack.url}/nowhere", timeout=10)
    assert response.status_code == 404
    assert response.json() == {"message": "Not Found"}
    assert requests.get(f"{stack.url}/oauth/token", timeout=10).status_code == 404


def test_metadata_and_jwks(stack):
    metadata = requests.get(f"{stack.url}/.well-known/oauth-authorization-server", timeout=10)
    assert metadata.json()["issuer"] == stack.url
    assert "public" in metadata.headers["Cache-Control"]
    keys = requests.get(f"{stack.url}/.well-known/jwks.json", timeout=10).json()["keys"]
    assert len(keys) == 2


def test_oauthctl_rotates_keys_of_the_running_stack(stack):
    before = json.loads(stack.oauthctl("keys", "list").stdout)
    rotated = stack.oauthctl("keys", "rotate")
    assert rotated.returncode == 0, rotated.stderr
    after = json.loads(stack.oauthctl("keys", "list").stdout)
    assert len(after) == len(before) + 1
    statuses = sorted(k["status"] for k in after)
    assert statuses.count("current") == 1 and statuses.count("next") == 1
