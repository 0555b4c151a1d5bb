"""POST /oauth/revoke (RFC 7009)."""

from __future__ import annotations

import pytest

from oauth21.clients import GRANT_CLIENT_CREDENTIALS
from tests.support import api_event, basic, body, jwt_parts


@pytest.fixture
def svc(register):
    return register(
        client_type="confidential", client_id="svc", grant_types=[GRANT_CLIENT_CREDENTIALS]
    )[1]


def issue(token, secret):
    form = {"grant_type": "client_credentials", "client_id": "svc", "client_secret": secret}
    return body(token(api_event("POST", "/oauth/token", form=form)))["access_token"]


def revoke(introspect, value, headers=None, **form):
    return introspect(
        api_event("POST", "/oauth/revoke", form={"token": value, **form}, headers=headers)
    )


def revoked_items(aws):
    return aws.dynamodb.scan(TableName="oauth21-revoked-tokens")["Items"]


def test_revoking_an_access_token_makes_it_inactive(token, introspect, svc, aws, clock):
    access = issue(token, svc)
    response = revoke(introspect, access)
    assert response["statusCode"] == 200
    assert response["headers"]["Cache-Control"] == "no-store"
    claims = jwt_parts(access)[1]
    (item,) = revoked_items(aws)
    assert item["jti"] == {"S": claims["jti"]}
    # Remembered (TTL) exactly until the token would have expired anyway.
    assert item["expires_at"] == {"N": str(claims["exp"])}
    answer = introspect(api_event("POST", "/oauth/introspect", form={"token": access}))
    assert body(answer) == {"active": False}


def test_the_hint_is_only_a_hint(token, introspect, svc, aws):
    access = issue(token, svc)
    assert revoke(introspect, access, token_type_hint="refresh_token")["statusCode"] == 200
    assert len(revoked_items(aws)) == 1


@pytest.mark.parametrize("value", ["unknown-token", "a.b.c", "x" * 3000])
def test_unknown_tokens_get_200_and_nothing_is_written(introspect, aws, value):
    assert revoke(introspect, value)["statusCode"] == 200
    assert revoked_items(aws) == []


def test_an_expired_token_needs_no_record(token, introspect, svc, aws, clock):
    access = issue(token, svc)
    clock.advance(901)
    assert revoke(introspect, access)["statusCode"] == 200
    assert revoked_items(aws) == []


def test_the_owner_may_revoke_with_credentials(token, introspect, svc, aws):
    access = issue(token, svc)
    assert revoke(introspect, access, headers=basic("svc", svc))["statusCode"] == 200
    assert len(revoked_items(aws)) == 1


def test_another_client_may_not_revoke_it(token, introspect, svc, register, aws):
    _, other = register(
        client_type="confidential", client_id="other", grant_types=[GRANT_CLIENT_CREDENTIALS]
    )
    access = issue(token, svc)
    response = revoke(introspect, access, headers=basic("other", other))
    assert response["statusCode"] == 400
    assert body(response)["error"] == "invalid_grant"
    assert revoked_items(aws) == []


def test_invalid_credentials_are_refused(token, introspect, svc, aws):
    access = issue(token, svc)
    response = revoke(introspect, access, headers=basic("svc", "wrong"))
    assert response["statusCode"] == 401
    assert body(response)["error"] == "invalid_client"
    assert revoked_items(aws) == []


def test_missing_token_is_invalid_request(introspect, aws):
    response = introspect(api_event("POST", "/oauth/revoke", form={}))
    assert response["statusCode"] == 400
    assert body(response)["error"] == "invalid_request"


def test_wrong_content_type_is_invalid_request(introspect, aws):
    response = introspect(
        api_event(
            "POST",
            "/oauth/revoke",
            body='{"token": "x"}',
            headers={"Content-Type": "application/json"},
        )
    )
    assert response["statusCode"] == 400
    assert body(response)["error"] == "invalid_request"
    assert revoked_items(aws) == []


def test_revocation_makes_one_write(token, introspect, svc, aws_calls):
    access = issue(token, svc)
    aws_calls.clear()
    revoke(introspect, access)
    assert aws_calls.by_api() == {"dynamodb:PutItem": 1}
