"""Faults: DynamoDB throttled or unreachable, KMS unavailable at cold start.

Every endpoint answers promptly with a proper error (503 with Retry-After, or
`temporarily_unavailable` on an authorization redirect), never a stack trace,
and leaves no half-written state: what a retry needs is still there.
"""

from __future__ import annotations

import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError, EndpointConnectionError

from oauth21.clients import (
    GRANT_AUTHORIZATION_CODE,
    GRANT_CLIENT_CREDENTIALS,
    GRANT_DEVICE_CODE,
    GRANT_REFRESH_TOKEN,
)
from tests.functional.flow import Browser, authorize_query, pkce_pair
from tests.support import api_event, basic, body

CALLBACK = "https://app.example/callback"
EMAIL, PASSWORD = "alice@example.com", "pw"


class Faults:
    """Make chosen AWS operations fail, `times` times each (None: until healed)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch):
        self.failing: dict[str, list] = {}
        original = BaseClient._make_api_call
        faults = self

        def maybe_fail(client, operation, params):
            key = f"{client.meta.service_model.service_name}:{operation}"
            plan = faults.failing.get(key)
            if plan and (plan[1] is None or plan[1] > 0):
                if plan[1] is not None:
                    plan[1] -= 1
                raise plan[0]()
            return original(client, operation, params)

        monkeypatch.setattr(BaseClient, "_make_api_call", maybe_fail)

    def fail(
        self,
        key: str,
        times: int | None = None,
        error: str = "ProvisionedThroughputExceededException",
    ):
        def make():
            if error == "unreachable":
                return EndpointConnectionError(endpoint_url="https://dynamodb.example")
            return ClientError(
                {
                    "Error": {"Code": error, "Message": "injected"},
                    "ResponseMetadata": {"HTTPStatusCode": 400},
                },
                key,
            )

        self.failing[key] = [make, times]

    def heal(self):
        self.failing.clear()


@pytest.fixture
def faults(monkeypatch):
    return Faults(monkeypatch)


def unavailable(response):
    assert response["statusCode"] == 503
    assert response["headers"]["Retry-After"] == "1"
    assert "Traceback" not in str(response.get("body"))
    if "json" in response["headers"].get("Content-Type", ""):
        assert body(response)["error"] == "temporarily_unavailable"


@pytest.fixture
def svc(register):
    return register(
        client_type="confidential", client_id="svc", grant_types=[GRANT_CLIENT_CREDENTIALS]
    )[1]


def cc(token, secret):
    return token(
        api_event(
            "POST",
            "/oauth/token",
            form={"grant_type": "client_credentials"},
            headers=basic("svc", secret),
        )
    )


@pytest.mark.parametrize(
    "kind",
    [
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "InternalServerError",
        "unreachable",
    ],
)
def test_client_credentials_with_dynamodb_down(function, svc, faults, kind):
    token = function("token")
    faults.fail("dynamodb:GetItem", error=kind)
    unavailable(cc(token, svc))
    faults.heal()
    assert cc(token, svc)["statusCode"] == 200


def test_kms_down_at_cold_start_answers_503_then_recovers(function, svc, faults):
    faults.fail("kms:Decrypt", error="KMSInternalException")
    token = function("token")  # the init survives
    unavailable(cc(token, svc))
    faults.heal()
    assert cc(token, svc)["statusCode"] == 200


def test_metadata_with_the_key_table_down_at_cold_start(function, faults):
    faults.fail("dynamodb:Scan")
    metadata = function("metadata")
    unavailable(metadata(api_event("GET", "/.well-known/jwks.json")))
    faults.heal()
    assert metadata(api_event("GET", "/.well-known/jwks.json"))["statusCode"] == 200


# --- one-time values survive a failed attempt ------------------------------------


@pytest.fixture
def alice(services):
    return services.accounts.create(EMAIL, PASSWORD)


@pytest.fixture
def spa(register):
    register(
        client_type="public",
        client_id="spa",
        redirect_uris=[CALLBACK],
        first_party=True,
        grant_types=[GRANT_AUTHORIZATION_CODE, GRANT_REFRESH_TOKEN],
    )


@pytest.fixture
def code(function, spa, alice):
    browser = Browser(function("authorize"))
    verifier, challenge = pkce_pair()
    page = browser.submit(
        browser.get("/oauth/authorize", authorize_query("spa", CALLBACK, challenge)),
        {"email": EMAIL, "password": PASSWORD},
    )
    return page.redirect_params()["code"], verifier


def exchange(token, code, verifier):
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "client_id": "spa",
        "redirect_uri": CALLBACK,
        "code_verifier": verifier,
    }
    return token(api_event("POST", "/oauth/token", form=form))


@pytest.mark.parametrize("operation", ["dynamodb:GetItem", "dynamodb:TransactWriteItems"])
def test_a_failed_code_exchange_leaves_the_code_usable(function, code, faults, aws, operation):
    token = function("token")
    token(
        api_event(
            "POST", "/oauth/token", form={"grant_type": "client_credentials", "client_id": "spa"}
        )
    )  # cache the client
    faults.fail(operation, times=1)
    unavailable(exchange(token, *code))
    stored = aws.dynamodb.scan(TableName="oauth21-auth-codes")["Items"][0]
    assert "consumed_at" not in stored
    assert aws.dynamodb.scan(TableName="oauth21-grants")["Items"] == []
    assert exchange(token, *code)["statusCode"] == 200


def test_a_failed_refresh_leaves_the_refresh_token_usable(function, code, faults, aws):
    token = function("token")
    tokens = body(exchange(token, *code))
    before = aws.dynamodb.scan(TableName="oauth21-grants")["Items"]
    faults.fail("dynamodb:UpdateItem", times=1)
    form = {
        "grant_type": "refresh_token",
        "refresh_token": tokens["refresh_token"],
        "client_id": "spa",
    }
    unavailable(token(api_event("POST", "/oauth/token", form=form)))
    assert aws.dynamodb.scan(TableName="oauth21-grants")["Items"] == before
    assert token(api_event("POST", "/oauth/token", form=form))["statusCode"] == 200


def test_a_failed_revocation_writes_nothing_and_can_be_retried(function, svc, faults, aws):
    access = body(cc(function("token"), svc))["access_token"]
    introspect = function("introspect")
    faults.fail("dynamodb:PutItem", times=1)
    unavailable(introspect(api_event("POST", "/oauth/revoke", form={"token": access})))
    assert aws.dynamodb.scan(TableName="oauth21-revoked-tokens")["Items"] == []
    assert (
        introspect(api_event("POST", "/oauth/revoke", form={"token": access}))["statusCode"] == 200
    )
    assert len(aws.dynamodb.scan(TableName="oauth21-revoked-tokens")["Items"]) == 1


def test_introspection_with_dynamodb_down(function, svc, faults):
    access = body(cc(function("token"), svc))["access_token"]
    introspect = function("introspect")
    faults.fail("dynamodb:BatchGetItem")
    unavailable(introspect(api_event("POST", "/oauth/introspect", form={"token": access})))


def test_unprocessed_keys_that_never_clear_are_503(function, svc, monkeypatch, aws):
    access = body(cc(function("token"), svc))["access_token"]
    introspect = function("introspect")
    original = BaseClient._make_api_call

    def never_processed(client, operation, params):
        if operation == "BatchGetItem":
            return {"Responses": {}, "UnprocessedKeys": params["RequestItems"]}
        return original(client, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", never_processed)
    unavailable(introspect(api_event("POST", "/oauth/introspect", form={"token": access})))


def test_device_approval_survives_a_failed_issuance(function, register, services, faults, aws):
    register(client_type="public", client_id="tv", grant_types=[GRANT_DEVICE_CODE])
    services.accounts.create(EMAIL, PASSWORD)
    device = function("device")
    token = function("token")
    issued = body(device(api_event("POST", "/oauth/device/code", form={"client_id": "tv"})))
    browser = Browser(device)
    login = browser.submit(browser.get("/oauth/device", {"user_code": issued["user_code"]}))
    browser.submit(browser.submit(login, {"email": EMAIL, "password": PASSWORD}), button="allow")
    poll = {
        "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
        "device_code": issued["device_code"],
        "client_id": "tv",
    }
    faults.fail("dynamodb:TransactWriteItems", times=1)
    unavailable(token(api_event("POST", "/oauth/token", form=poll)))
    assert aws.dynamodb.scan(TableName="oauth21-grants")["Items"] == []
    assert token(api_event("POST", "/oauth/token", form=poll))["statusCode"] == 200


# --- pages -------------------------------------------------------------------------


def test_authorize_before_the_client_is_known_shows_a_503_page(function, spa, faults):
    authorize = function("authorize")
    faults.fail("dynamodb:GetItem")
    page = Browser(authorize).get(
        "/oauth/authorize", authorize_query("spa", CALLBACK, pkce_pair()[1])
    )
    unavailable(page.response)
    assert "text/html" in page.headers["Content-Type"] and "Location" not in page.headers


def test_authorize_after_validation_redirects_temporarily_unavailable(
    function, spa, alice, faults, aws
):
    browser = Browser(function("authorize"))
    login = browser.get("/oauth/authorize", authorize_query("spa", CALLBACK, pkce_pair()[1]))
    faults.fail("dynamodb:UpdateItem")  # the login throttle's counters
    page = browser.submit(login, {"email": EMAIL, "password": PASSWORD})
    assert page.status == 303
    params = page.redirect_params()
    assert (
        params["error"] == "temporarily_unavailable"
        and params["state"] == "state-123"
        and params["iss"]
    )
    assert aws.dynamodb.scan(TableName="oauth21-sessions")["Items"] == []


def test_a_code_that_cannot_be_stored_is_not_handed_out(function, spa, alice, faults, aws):
    browser = Browser(function("authorize"))
    login = browser.get("/oauth/authorize", authorize_query("spa", CALLBACK, pkce_pair()[1]))
    faults.fail("dynamodb:PutItem")  # sessions and codes
    page = browser.submit(login, {"email": EMAIL, "password": PASSWORD})
    assert page.redirect_params()["error"] == "temporarily_unavailable"
    assert "code" not in page.redirect_params()
    assert aws.dynamodb.scan(TableName="oauth21-auth-codes")["Items"] == []


def test_the_device_page_shows_a_503_page(function, faults):
    device = function("device")
    browser = Browser(device)
    entry = browser.get("/oauth/device")
    faults.fail("dynamodb:UpdateItem")  # the user-code throttle
    page = browser.submit(entry, {"user_code": "BCDF-GHJK"})
    unavailable(page.response)


def test_the_authorizer_fails_closed(function, services, faults):
    import json

    from oauth21.config import load_settings
    from oauth21.services import Services
    from tests.support import ISSUER

    own = Services(
        load_settings(authorizer_route_scopes=json.dumps({"GET /api/user": []})),
        services.clock,
        aws={"dynamodb": services.dynamodb, "kms": services.kms},
    )
    authorizer = function("authorizer", own)
    token = services.access_tokens.issue(
        issuer=ISSUER, subject="u", client_id="c", scope="read"
    ).value
    event = api_event("GET", "/api/user", headers={"Authorization": f"Bearer {token}"})
    assert authorizer(event)["isAuthorized"] is True
    faults.fail("dynamodb:BatchGetItem")
    assert authorizer(event) == {"isAuthorized": False, "context": {}}


def test_the_sdk_is_configured_to_fail_fast():
    from oauth21.config import load_settings
    from oauth21.store.dynamo import aws_clients

    client = aws_clients(load_settings({}), "dynamodb")["dynamodb"]
    config = client.meta.config
    assert config.connect_timeout == 1.0 and config.read_timeout == 3.0
    assert config.retries == {"total_max_attempts": 3, "mode": "standard"}  # 1 try + 2 retries
