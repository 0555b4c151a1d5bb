"""DPoP at the token endpoint and at resource servers (the authorizer)."""

from __future__ import annotations

import json
import threading

import pytest

from oauth21.clients import GRANT_AUTHORIZATION_CODE, GRANT_CLIENT_CREDENTIALS, GRANT_REFRESH_TOKEN
from oauth21.config import load_settings
from oauth21.services import Services
from tests.dpop_keys import ProofKey
from tests.functional.flow import Browser, authorize_query, pkce_pair
from tests.support import ISSUER, api_event, basic, body, jwt_parts

TOKEN_URL = f"{ISSUER}/oauth/token"
API_URL = f"{ISSUER}/api/user"
CALLBACK = "https://app.example/callback"
EMAIL, PASSWORD = "alice@example.com", "pw"


@pytest.fixture
def key():
    return ProofKey("ES256")


@pytest.fixture
def other_key():
    return ProofKey("PS256")


def own_services(services, aws, **overrides):
    return Services(
        load_settings(**overrides), services.clock, aws={"dynamodb": aws.dynamodb, "kms": aws.kms}
    )


@pytest.fixture
def svc(register):
    return register(
        client_type="confidential", client_id="svc", grant_types=[GRANT_CLIENT_CREDENTIALS]
    )[1]


def post_token(token, form, proof=None, headers=None):
    all_headers = dict(headers or {})
    if proof is not None:
        all_headers["DPoP"] = proof
    return token(api_event("POST", "/oauth/token", form=form, headers=all_headers))


def cc(token, secret, proof=None):
    return post_token(token, {"grant_type": "client_credentials"}, proof, basic("svc", secret))


# --- token endpoint ------------------------------------------------------------------


def test_a_proof_binds_the_access_token(token, svc, key, clock, function, aws_calls):
    cc(token, svc)  # warm: the client is cached
    aws_calls.clear()
    response = cc(token, svc, key.proof("POST", TOKEN_URL, iat=clock()))
    assert response["statusCode"] == 200
    assert aws_calls.by_api() == {"dynamodb:PutItem": 1}  # exactly one write: the jti
    data = body(response)
    assert data["token_type"] == "DPoP"
    assert jwt_parts(data["access_token"])[1]["cnf"] == {"jkt": key.jkt}
    info = body(
        function("introspect")(
            api_event("POST", "/oauth/introspect", form={"token": data["access_token"]})
        )
    )
    assert info["token_type"] == "DPoP" and info["cnf"] == {"jkt": key.jkt}
    assert "DPoP-Nonce" not in response["headers"]  # nonces are off by default


def test_a_bad_proof_is_invalid_dpop_proof(token, svc, key, clock, aws):
    response = cc(token, svc, key.proof("POST", f"{ISSUER}/other", iat=clock()))
    assert response["statusCode"] == 400
    assert body(response)["error"] == "invalid_dpop_proof"
    assert aws.dynamodb.scan(TableName="oauth21-dpop-replay")["Items"] == []


def test_a_replayed_proof_is_refused(token, svc, key, clock):
    proof = key.proof("POST", TOKEN_URL, iat=clock())
    assert cc(token, svc, proof)["statusCode"] == 200
    again = cc(token, svc, proof)
    assert again["statusCode"] == 400 and "already used" in body(again)["error_description"]


def test_twenty_parallel_uses_of_one_proof_succeed_once(token, svc, key, clock):
    cc(token, svc)
    proof = key.proof("POST", TOKEN_URL, iat=clock())
    barrier = threading.Barrier(20)
    statuses: list[int] = []

    def go():
        barrier.wait()
        statuses.append(cc(token, svc, proof)["statusCode"])

    threads = [threading.Thread(target=go) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [200] + [400] * 19


def test_a_client_that_requires_dpop_is_refused_without_a_proof(token, register, key, clock):
    _, secret = register(
        client_type="confidential",
        client_id="strict",
        grant_types=[GRANT_CLIENT_CREDENTIALS],
        require_dpop=True,
    )
    refused = post_token(
        token, {"grant_type": "client_credentials"}, headers=basic("strict", secret)
    )
    assert refused["statusCode"] == 400 and body(refused)["error"] == "invalid_dpop_proof"
    ok = post_token(
        token,
        {"grant_type": "client_credentials"},
        key.proof("POST", TOKEN_URL, iat=clock()),
        basic("strict", secret),
    )
    assert body(ok)["token_type"] == "DPoP"


def test_metadata_announces_the_algorithms(function):
    data = body(function("metadata")(api_event("GET", "/.well-known/oauth-authorization-server")))
    assert data["dpop_signing_alg_values_supported"] == [
        "ES256",
        "ES384",
        "RS256",
        "PS256",
        "EdDSA",
    ]


class TestNoncesAtTheTokenEndpoint:
    @pytest.fixture
    def strict_token(self, function, services, aws):
        return function("token", own_services(services, aws, dpop_nonce_token_endpoint=True))

    def test_missing_then_valid_nonce(self, strict_token, svc, key, clock):
        first = cc(strict_token, svc, key.proof("POST", TOKEN_URL, iat=clock()))
        assert first["statusCode"] == 400 and body(first)["error"] == "use_dpop_nonce"
        nonce = first["headers"]["DPoP-Nonce"]
        ok = cc(strict_token, svc, key.proof("POST", TOKEN_URL, iat=clock(), nonce=nonce))
        assert ok["statusCode"] == 200
        assert ok["headers"]["DPoP-Nonce"]  # responses carry a fresh one

    def test_invalid_nonce(self, strict_token, svc, key, clock):
        refused = cc(
            strict_token, svc, key.proof("POST", TOKEN_URL, iat=clock(), nonce="made-up.nonce")
        )
        assert body(refused)["error"] == "use_dpop_nonce"

    def test_an_old_nonce_expires(self, strict_token, svc, key, clock):
        nonce = cc(strict_token, svc, key.proof("POST", TOKEN_URL, iat=clock()))["headers"][
            "DPoP-Nonce"
        ]
        clock.advance(600)
        refused = cc(strict_token, svc, key.proof("POST", TOKEN_URL, iat=clock(), nonce=nonce))
        assert body(refused)["error"] == "use_dpop_nonce"


# --- the code flow, refresh binding, dpop_jkt ------------------------------------------


@pytest.fixture
def alice(services):
    return services.accounts.create(EMAIL, PASSWORD, "Alice")


@pytest.fixture
def spa(register):
    register(
        client_type="public",
        client_id="spa",
        redirect_uris=[CALLBACK],
        first_party=True,
        grant_types=[GRANT_AUTHORIZATION_CODE, GRANT_REFRESH_TOKEN],
        scopes=["read", "write"],
    )


@pytest.fixture
def web(register):
    return register(
        client_type="confidential",
        client_id="web",
        redirect_uris=[CALLBACK],
        first_party=True,
        grant_types=[GRANT_AUTHORIZATION_CODE, GRANT_REFRESH_TOKEN],
        scopes=["read", "write"],
    )[1]


@pytest.fixture
def code_for(function, alice):
    browser = Browser(function("authorize"))

    def code_for(client_id="spa", **extra):
        verifier, challenge = pkce_pair()
        page = browser.get(
            "/oauth/authorize",
            authorize_query(client_id, CALLBACK, challenge, scope="read", **extra),
        )
        if page.forms:
            page = browser.submit(page, {"email": EMAIL, "password": PASSWORD})
        return page, verifier

    return code_for


def exchange(token, code, verifier, proof=None, client_id="spa", headers=None):
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "client_id": client_id,
        "redirect_uri": CALLBACK,
        "code_verifier": verifier,
    }
    form = {k: v for k, v in form.items() if v is not None}
    return post_token(token, form, proof, headers)


def refresh(token, refresh_token, proof=None, client_id="spa", headers=None):
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    if client_id:
        form["client_id"] = client_id
    return post_token(token, form, proof, headers)


def test_a_public_clients_refresh_token_is_bound_to_the_key(
    token, spa, code_for, key, other_key, clock, aws
):
    page, verifier = code_for()
    tokens = body(
        exchange(
            token,
            page.redirect_params()["code"],
            verifier,
            key.proof("POST", TOKEN_URL, iat=clock()),
        )
    )
    assert tokens["token_type"] == "DPoP"
    grant = aws.dynamodb.scan(TableName="oauth21-grants")["Items"][0]
    assert grant["dpop_jkt"]["S"] == key.jkt
    without = refresh(token, tokens["refresh_token"])
    assert body(without)["error"] == "invalid_dpop_proof"
    another = refresh(
        token, tokens["refresh_token"], other_key.proof("POST", TOKEN_URL, iat=clock())
    )
    assert body(another)["error"] == "invalid_dpop_proof"
    assert "revoked_at" not in aws.dynamodb.scan(TableName="oauth21-grants")["Items"][0]
    ok = refresh(token, tokens["refresh_token"], key.proof("POST", TOKEN_URL, iat=clock()))
    assert ok["statusCode"] == 200 and body(ok)["token_type"] == "DPoP"


def test_a_confidential_clients_refresh_token_is_not_bound(token, web, code_for, key, clock):
    page, verifier = code_for("web")
    tokens = body(
        exchange(
            token,
            page.redirect_params()["code"],
            verifier,
            key.proof("POST", TOKEN_URL, iat=clock()),
            client_id=None,
            headers=basic("web", web),
        )
    )
    assert tokens["token_type"] == "DPoP"
    plain = refresh(token, tokens["refresh_token"], client_id=None, headers=basic("web", web))
    assert plain["statusCode"] == 200 and body(plain)["token_type"] == "Bearer"


def test_dpop_jkt_binds_the_code(token, spa, code_for, key, other_key, clock, aws):
    page, verifier = code_for(dpop_jkt=key.jkt)
    code = page.redirect_params()["code"]
    stored = aws.dynamodb.scan(TableName="oauth21-auth-codes")["Items"][0]
    assert stored["dpop_jkt"]["S"] == key.jkt
    assert body(exchange(token, code, verifier))["error"] == "invalid_dpop_proof"
    wrong = exchange(token, code, verifier, other_key.proof("POST", TOKEN_URL, iat=clock()))
    assert body(wrong)["error"] == "invalid_grant"
    assert aws.dynamodb.scan(TableName="oauth21-grants")["Items"] == []
    right = exchange(token, code, verifier, key.proof("POST", TOKEN_URL, iat=clock()))
    assert right["statusCode"] == 200


def test_a_malformed_dpop_jkt_is_invalid_request(code_for, spa):
    page, _ = code_for(dpop_jkt="not-a-thumbprint")
    assert page.redirect_params()["error"] == "invalid_request"


# --- resource side: the authorizer --------------------------------------------------------


@pytest.fixture
def authorizer(function, services, aws):
    return function(
        "authorizer",
        own_services(
            services, aws, authorizer_route_scopes=json.dumps({"GET /api/user": ["read"]})
        ),
    )


def dpop_event(access, proof, scheme="DPoP", url_path="/api/user"):
    headers = {"Authorization": f"{scheme} {access}"}
    if proof is not None:
        headers["DPoP"] = proof
    event = api_event("GET", url_path, headers=headers, route_path="/api/user")
    event["type"] = "REQUEST"
    return event


@pytest.fixture
def bound_token(token, svc, key, clock):
    # client credentials give "read write admin": enough for /api/user's scope check
    return body(cc(token, svc, key.proof("POST", TOKEN_URL, iat=clock())))["access_token"]


def test_a_bound_token_with_its_proof_is_allowed(authorizer, bound_token, key, clock, aws_calls):
    aws_calls.clear()
    answer = authorizer(
        dpop_event(bound_token, key.proof("GET", API_URL, access_token=bound_token, iat=clock()))
    )
    assert answer["isAuthorized"] is True
    assert aws_calls.by_api() == {"dynamodb:PutItem": 1, "dynamodb:BatchGetItem": 1}


@pytest.mark.parametrize(
    "spoil",
    ["htm", "htu", "ath", "key", "stale", "replay", "missing"],
)
def test_resource_side_rejections(authorizer, bound_token, key, other_key, clock, spoil):
    proofs = {
        "htm": lambda: key.proof("POST", API_URL, access_token=bound_token, iat=clock()),
        "htu": lambda: key.proof(
            "GET", f"{ISSUER}/api/other", access_token=bound_token, iat=clock()
        ),
        "ath": lambda: key.proof("GET", API_URL, access_token="another-token", iat=clock()),
        "key": lambda: other_key.proof("GET", API_URL, access_token=bound_token, iat=clock()),
        "stale": lambda: key.proof("GET", API_URL, access_token=bound_token, iat=clock() - 120),
        "missing": lambda: None,
    }
    if spoil == "replay":
        proof = key.proof("GET", API_URL, access_token=bound_token, iat=clock())
        assert authorizer(dpop_event(bound_token, proof))["isAuthorized"] is True
    else:
        proof = proofs[spoil]()
    assert authorizer(dpop_event(bound_token, proof)) == {"isAuthorized": False, "context": {}}


def test_a_bound_token_sent_as_bearer_is_refused(authorizer, bound_token):
    assert authorizer(dpop_event(bound_token, None, scheme="Bearer"))["isAuthorized"] is False


def test_a_bearer_token_sent_with_the_dpop_scheme_is_refused(authorizer, token, svc, key, clock):
    plain = body(cc(token, svc))["access_token"]
    proof = key.proof("GET", API_URL, access_token=plain, iat=clock())
    assert authorizer(dpop_event(plain, proof))["isAuthorized"] is False


def test_rest_api_denials_carry_www_authenticate_dpop(authorizer, bound_token, other_key, clock):
    event = {
        "type": "REQUEST",
        "methodArn": "arn:aws:execute-api:us-east-1:1:abc/$default/GET/api/user",
        "headers": {
            "Authorization": f"DPoP {bound_token}",
            "DPoP": other_key.proof("GET", API_URL, access_token=bound_token, iat=clock()),
        },
        "requestContext": {
            "resourcePath": "/api/user",
            "httpMethod": "GET",
            "path": "/api/user",
            "domainName": "auth.example.test",
            "stage": "$default",
        },
    }
    answer = authorizer(event)
    assert answer["policyDocument"]["Statement"][0]["Effect"] == "Deny"
    assert answer["context"]["wwwAuthenticate"].startswith('DPoP error="invalid_dpop_proof"')


def test_nonces_at_the_resource(function, services, aws, bound_token, key, clock):
    strict = function(
        "authorizer",
        own_services(
            services,
            aws,
            dpop_nonce_resource=True,
            authorizer_route_scopes=json.dumps({"GET /api/user": ["read"]}),
        ),
    )
    event = {
        "type": "REQUEST",
        "methodArn": "arn:aws:execute-api:us-east-1:1:abc/$default/GET/api/user",
        "headers": {
            "Authorization": f"DPoP {bound_token}",
            "DPoP": key.proof("GET", API_URL, access_token=bound_token, iat=clock()),
        },
        "requestContext": {
            "resourcePath": "/api/user",
            "httpMethod": "GET",
            "path": "/api/user",
            "domainName": "auth.example.test",
            "stage": "$default",
        },
    }
    denied = strict(event)
    assert denied["context"]["wwwAuthenticate"].startswith('DPoP error="use_dpop_nonce"')
    nonce = denied["context"]["dpopNonce"]
    event["headers"]["DPoP"] = key.proof(
        "GET", API_URL, access_token=bound_token, iat=clock(), nonce=nonce
    )
    assert strict(event)["policyDocument"]["Statement"][0]["Effect"] == "Allow"
