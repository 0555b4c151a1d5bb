"""The function boundary: OAuth errors keep their shape, dependencies failing become 503,
and anything unexpected is a bare 500 server_error."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from oauth21.clients import GRANT_CLIENT_CREDENTIALS
from tests.support import api_event, basic, body


@pytest.fixture
def svc(register):
    return register(
        client_type="confidential", client_id="svc", grant_types=[GRANT_CLIENT_CREDENTIALS]
    )[1]


def throttled(*_args, **_kwargs):
    raise ClientError(
        {
            "Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"},
            "ResponseMetadata": {"HTTPStatusCode": 400},
        },
        "GetItem",
    )


def test_throttled_dynamodb_is_503_with_retry_after(function, services, svc, monkeypatch):
    token = function("token", services)
    monkeypatch.setattr(services.dynamodb, "get_item", throttled)
    response = token(
        api_event(
            "POST",
            "/oauth/token",
            form={"grant_type": "client_credentials"},
            headers=basic("svc", svc),
        )
    )
    assert response["statusCode"] == 503
    assert response["headers"]["Retry-After"] == "1"
    assert body(response)["error"] == "temporarily_unavailable"


def test_unreachable_dynamodb_is_503(function, services, svc, monkeypatch):
    token = function("token", services)

    def unreachable(*_args, **_kwargs):
        raise EndpointConnectionError(endpoint_url="https://dynamodb.example")

    monkeypatch.setattr(services.dynamodb, "get_item", unreachable)
    response = token(
        api_event(
            "POST",
            "/oauth/token",
            form={"grant_type": "client_credentials"},
            headers=basic("svc", svc),
        )
    )
    assert response["statusCode"] == 503


def test_a_bug_is_a_bare_500_server_error(function, services, svc, monkeypatch):
    token = function("token", services)

    def broken(*_args, **_kwargs):
        raise RuntimeError("secret detail that must not leak")

    monkeypatch.setattr(services.clients, "authenticate", broken)
    response = token(
        api_event(
            "POST",
            "/oauth/token",
            form={"grant_type": "client_credentials"},
            headers=basic("svc", svc),
        )
    )
    assert response["statusCode"] == 500
    assert body(response) == {
        "error": "server_error",
        "error_description": "The server could not handle the request",
    }
    assert "secret detail" not in response["body"]
