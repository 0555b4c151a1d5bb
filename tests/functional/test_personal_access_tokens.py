"""Personal access tokens and GET /api/user, behind the authorizer's context."""

from __future__ import annotations

import json

import pytest

from oauth21.config import load_settings
from oauth21.services import Services
from tests.support import ISSUER, api_event, body, jwt_parts

PATH = "/oauth/personal-access-tokens"


@pytest.fixture
def alice(services):
    return services.accounts.create("alice@example.com", "pw", "Alice")


@pytest.fixture
def authorizer(function, services, aws):
    routes = {
        "GET /api/user": ["read"],
        f"POST {PATH}": [],
        f"GET {PATH}": [],
        f"DELETE {PATH}/{{id}}": [],
    }
    settings = load_settings(authorizer_route_scopes=json.dumps(routes))
    return function(
        "authorizer",
        Services(settings, services.clock, aws={"dynamodb": aws.dynamodb, "kms": aws.kms}),
    )


@pytest.fixture
def gateway(authorizer, function):
    """What API Gateway does: run the authorizer, then the function with its context."""
    functions = {"tokens": function("personal_tokens"), "user": function("userinfo")}

    def call(method, path, token, route=None, json_body=None, path_parameters=None):
        headers = {"Authorization": f"Bearer {token}"}
        if json_body is not None:
            headers["Content-Type"] = "application/json"
        raw = (
            json.dumps(json_body)
            if json_body is not None and not isinstance(json_body, str)
            else json_body
        )
        event = api_event(
            method,
            path,
            headers=headers,
            body=raw,
            route_path=route or path,
            path_parameters=path_parameters,
        )
        decision = authorizer({**event, "type": "REQUEST"})
        if not decision["isAuthorized"]:
            return {"statusCode": 403, "body": json.dumps({"message": "Forbidden"})}
        event["requestContext"]["authorizer"] = {"lambda": decision["context"]}
        target = functions["user"] if path == "/api/user" else functions["tokens"]
        return target(event)

    return call


def create(gateway, token, **payload):
    payload.setdefault("name", "CLI token")
    payload.setdefault("scopes", ["read"])
    return gateway("POST", PATH, token, json_body=payload)


def test_create_list_use_and_delete(gateway, user_token, alice, aws, clock, function):
    session_token = user_token(alice.user_id, "read write")
    response = create(
        gateway, session_token, name="My API Token", scopes=["read", "write"], expires_in=86400
    )
    assert response["statusCode"] == 201
    assert response["headers"]["Cache-Control"] == "no-store"
    created = body(response)
    assert set(created) == {"access_token", "token_type", "expires_in", "id", "name", "scopes"}
    assert created["token_type"] == "Bearer" and created["expires_in"] == 86400
    assert created["name"] == "My API Token" and created["scopes"] == ["read", "write"]
    claims = jwt_parts(created["access_token"])[1]
    assert claims["sub"] == alice.user_id and claims["client_id"] == "personal-access-token"
    assert claims["exp"] - claims["iat"] == 86400 and claims["gid"] == created["id"]
    assert created["access_token"] not in str(aws.dynamodb.scan(TableName="oauth21-grants"))

    pat = created["access_token"]
    assert body(gateway("GET", "/api/user", pat)) == {
        "id": alice.user_id,
        "email": "alice@example.com",
        "name": "Alice",
    }
    introspect = function("introspect")
    active = body(introspect(api_event("POST", "/oauth/introspect", form={"token": pat})))
    assert active["active"] is True and active["client_id"] == "personal-access-token"

    listed = body(gateway("GET", PATH, session_token))
    assert [t["id"] for t in listed] == [created["id"]]
    assert "access_token" not in listed[0] and listed[0]["name"] == "My API Token"

    deleted = gateway(
        "DELETE",
        f"{PATH}/{created['id']}",
        session_token,
        route=f"{PATH}/{{id}}",
        path_parameters={"id": created["id"]},
    )
    assert deleted["statusCode"] == 204
    assert gateway("GET", "/api/user", pat)["statusCode"] == 403
    assert body(introspect(api_event("POST", "/oauth/introspect", form={"token": pat}))) == {
        "active": False
    }
    assert body(gateway("GET", PATH, session_token)) == []


@pytest.mark.parametrize(
    ("payload", "status", "error"),
    [
        ({"scopes": ["read", "admin"]}, 400, "invalid_scope"),
        ({"scopes": ["write"]}, 400, "invalid_scope"),
        ({"scopes": []}, 400, "invalid_scope"),
        ({"scopes": "read"}, 400, "invalid_request"),
        ({"name": ""}, 400, "invalid_request"),
        ({"name": "x" * 101}, 400, "invalid_request"),
        ({"expires_in": 10**9}, 400, "invalid_request"),
        ({"expires_in": 10}, 400, "invalid_request"),
        ({"expires_in": "1 day"}, 400, "invalid_request"),
        ({"expires_in": True}, 400, "invalid_request"),
    ],
)
def test_refusals_write_nothing(gateway, user_token, alice, aws, payload, status, error):
    token = user_token(alice.user_id, "read")  # a token that has only read
    before = len(aws.dynamodb.scan(TableName="oauth21-grants")["Items"])
    response = create(gateway, token, **payload)
    assert response["statusCode"] == status and body(response)["error"] == error
    assert len(aws.dynamodb.scan(TableName="oauth21-grants")["Items"]) == before


@pytest.mark.parametrize("raw", ["not json", "[1, 2]", '{"name": "x"'])
def test_bad_json_is_invalid_request(gateway, user_token, alice, raw):
    response = gateway("POST", PATH, user_token(alice.user_id), json_body=raw)
    assert response["statusCode"] == 400 and body(response)["error"] == "invalid_request"


def test_the_default_lifetime_applies(gateway, user_token, alice, services):
    created = body(create(gateway, user_token(alice.user_id)))
    assert created["expires_in"] == services.settings.pat_default_lifetime


def test_a_token_without_a_user_cannot_make_one(gateway, services):
    machine = services.access_tokens.issue(
        issuer=ISSUER, subject="svc", client_id="svc", scope="read"
    ).value
    response = create(gateway, machine)
    assert response["statusCode"] == 403 and "user" in body(response)["error_description"]


def test_api_user_explains_a_client_credentials_token(gateway, services):
    machine = services.access_tokens.issue(
        issuer=ISSUER, subject="svc", client_id="svc", scope="read"
    ).value
    response = gateway("GET", "/api/user", machine)
    assert response["statusCode"] == 403
    assert "client credentials" in body(response)["error_description"]


def test_one_user_cannot_delete_anothers(gateway, user_token, alice, services):
    bob = services.accounts.create("bob@example.com", "pw")
    created = body(create(gateway, user_token(alice.user_id)))
    response = gateway(
        "DELETE",
        f"{PATH}/{created['id']}",
        user_token(bob.user_id),
        route=f"{PATH}/{{id}}",
        path_parameters={"id": created["id"]},
    )
    assert response["statusCode"] == 404
    assert gateway("GET", "/api/user", created["access_token"])["statusCode"] == 200
