"""The Lambda authorizer: both payload formats, every kind of bad token, revocation,
scopes, and the DynamoDB calls it makes."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from oauth21.config import load_settings
from oauth21.jwk import b64url
from oauth21.services import Services
from tests.support import ISSUER, api_event

ROUTES = {"GET /api/user": ["read"], "POST /admin": ["admin"]}


@pytest.fixture
def make_authorizer(function, services, aws):
    def make(**overrides):
        overrides.setdefault("authorizer_route_scopes", json.dumps(ROUTES))
        settings = load_settings(**overrides)
        own = Services(settings, services.clock, aws={"dynamodb": aws.dynamodb, "kms": aws.kms})
        return function("authorizer", own)

    return make


@pytest.fixture
def authorizer(make_authorizer):
    return make_authorizer()


def http_event(token=None, route="GET /api/user", scheme="Bearer"):
    method, path = route.split(" ")
    headers = {"Authorization": f"{scheme} {token}"} if token is not None else {}
    event = api_event(method, path, headers=headers)
    event.update(
        type="REQUEST", routeArn="arn:aws:execute-api:us-east-1:1:api/$default/" + method + path
    )
    event["identitySource"] = [headers.get("Authorization", "")]
    return event


def rest_event(token=None, route="GET /api/user"):
    method, path = route.split(" ")
    return {
        "type": "REQUEST",
        "methodArn": f"arn:aws:execute-api:us-east-1:123456789012:abc/prod/{method}{path}",
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": {"Authorization": f"Bearer {token}"} if token else {},
        "requestContext": {
            "resourcePath": path,
            "httpMethod": method,
            "domainName": "auth.example.test",
            "stage": "$default",
        },
    }


@pytest.fixture
def alice(services):
    return services.accounts.create("alice@example.com", "pw", "Alice")


def test_a_user_token_is_allowed_with_its_context(authorizer, user_token, alice):
    token = user_token(alice.user_id, "read write")
    answer = authorizer(http_event(token))
    assert answer["isAuthorized"] is True
    context = answer["context"]
    assert context["sub"] == alice.user_id == context["user_id"]
    assert context["client_id"] == "spa" and context["scope"] == "read write"
    assert context["jti"]


def test_rest_api_events_get_an_iam_policy(authorizer, user_token, alice):
    token = user_token(alice.user_id)
    answer = authorizer(rest_event(token))
    assert answer["principalId"] == alice.user_id
    (statement,) = answer["policyDocument"]["Statement"]
    assert statement == {
        "Action": "execute-api:Invoke",
        "Effect": "Allow",
        "Resource": "arn:aws:execute-api:us-east-1:123456789012:abc/prod/GET/api/user",
    }
    assert answer["context"]["user_id"] == alice.user_id


def test_client_credentials_tokens_have_no_user(authorizer, services):
    token = services.access_tokens.issue(
        issuer=ISSUER, subject="svc", client_id="svc", scope="read"
    ).value
    context = authorizer(http_event(token))["context"]
    assert context["sub"] == "svc" and context["user_id"] == ""


def forged(services, clock, **claims):
    """A token signed by a key the server never published."""
    key = ec.generate_private_key(ec.SECP256R1())
    header = {"alg": "ES256", "typ": "at+jwt", "kid": "unknown-kid"}
    body = {
        "iss": ISSUER,
        "sub": "u",
        "aud": ISSUER,
        "client_id": "c",
        "scope": "read",
        "jti": "j",
        "iat": int(clock()),
        "exp": int(clock()) + 900,
        **claims,
    }
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

    signing_input = ".".join(b64url(json.dumps(x).encode()) for x in (header, body))
    r, s = decode_dss_signature(key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))
    return f"{signing_input}.{b64url(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


class TestDenials:
    def denied(self, authorizer, token, **kw):
        http = authorizer(http_event(token, **kw))
        assert http == {"isAuthorized": False, "context": {}}
        from oauth21.authorizer import Unauthorized

        with pytest.raises(Unauthorized, match="Unauthorized"):
            authorizer(rest_event(token, **kw))

    def test_revoked_access_token(self, authorizer, function, user_token, alice):
        token = user_token(alice.user_id)
        function("introspect")(api_event("POST", "/oauth/revoke", form={"token": token}))
        self.denied(authorizer, token)

    def test_revoked_grant(self, authorizer, user_token, alice, services):
        token = user_token(alice.user_id)
        from tests.support import jwt_parts

        services.grants.revoke(jwt_parts(token)[1]["gid"], "test", int(services.clock()))
        self.denied(authorizer, token)

    def test_expired(self, authorizer, user_token, alice, clock):
        token = user_token(alice.user_id)
        clock.advance(900 + 31)
        self.denied(authorizer, token)

    def test_within_the_leeway_it_still_passes(self, authorizer, user_token, alice, clock):
        token = user_token(alice.user_id)
        clock.advance(900 + 29)
        assert authorizer(http_event(token))["isAuthorized"] is True

    def test_not_yet_valid(self, authorizer, services, clock, alice):
        token = services.access_tokens.issue(
            issuer=ISSUER,
            subject="u",
            client_id="c",
            scope="read",
            extra={"nbf": int(clock()) + 120},
        ).value
        self.denied(authorizer, token)

    def test_unknown_key(self, authorizer, services, clock):
        self.denied(authorizer, forged(services, clock))

    def test_wrong_audience(self, make_authorizer, user_token, alice):
        authorizer = make_authorizer(authorizer_audience="https://other-api.example")
        self.denied(authorizer, user_token(alice.user_id))

    def test_wrong_issuer(self, authorizer, user_token, alice):
        self.denied(authorizer, user_token(alice.user_id, issuer="https://evil.example"))

    @pytest.mark.parametrize("garbage", ["x", "a.b.c", "é", "eyJhbGciOiJub25lIn0.e30."])
    def test_garbage(self, authorizer, garbage):
        self.denied(authorizer, garbage)

    def test_no_token_or_another_scheme(self, authorizer, user_token, alice):
        self.denied(authorizer, None)
        token = user_token(alice.user_id)
        assert authorizer(http_event(token, scheme="Basic"))["isAuthorized"] is False
        assert authorizer(http_event(token, scheme="Token"))["isAuthorized"] is False


def test_a_missing_scope_is_denied_with_403_semantics(authorizer, user_token, alice):
    token = user_token(alice.user_id, "read")
    assert authorizer(http_event(token, route="POST /admin"))["isAuthorized"] is False
    answer = authorizer(rest_event(token, route="POST /admin"))
    assert answer["policyDocument"]["Statement"][0]["Effect"] == "Deny"
    assert 'error="insufficient_scope"' in answer["context"]["wwwAuthenticate"]


def test_an_unlisted_route_is_denied_unless_there_is_a_default(make_authorizer, user_token, alice):
    token = user_token(alice.user_id, "read")
    assert make_authorizer()(http_event(token, route="GET /other"))["isAuthorized"] is False
    routes = json.dumps({**ROUTES, "*": []})
    relaxed = make_authorizer(authorizer_route_scopes=routes)
    assert relaxed(http_event(token, route="GET /other"))["isAuthorized"] is True


def test_one_dynamodb_call_per_request(authorizer, user_token, alice, aws_calls):
    token = user_token(alice.user_id)
    aws_calls.clear()
    assert authorizer(http_event(token))["isAuthorized"] is True
    assert aws_calls.by_api() == {"dynamodb:BatchGetItem": 1}


def test_local_only_mode_makes_no_call_and_cannot_see_revocation(
    make_authorizer, function, user_token, alice, aws_calls
):
    authorizer = make_authorizer(authorizer_local_only=True)
    token = user_token(alice.user_id)
    function("introspect")(api_event("POST", "/oauth/revoke", form={"token": token}))
    aws_calls.clear()
    assert authorizer(http_event(token))["isAuthorized"] is True  # the documented trade-off
    assert aws_calls == []


def test_keys_from_a_jwks_url_with_rate_limited_refresh(
    make_authorizer, function, user_token, alice, aws_calls, clock
):
    jwks = function("metadata")(api_event("GET", "/.well-known/jwks.json"))["body"].encode()
    fetches = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            fetches.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(jwks)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/.well-known/jwks.json"
        authorizer = make_authorizer(authorizer_jwks_url=url)
        assert len(fetches) == 1  # at cold start
        token = user_token(alice.user_id)
        aws_calls.clear()
        assert authorizer(http_event(token))["isAuthorized"] is True
        assert ("dynamodb", "Scan") not in aws_calls  # keys came from the URL
        # An unknown kid refreshes at most once per interval, not per request.
        for _ in range(5):
            authorizer(http_event(forged(None, clock)))
        assert len(fetches) == 1
        clock.advance(11)
        authorizer(http_event(forged(None, clock)))
        assert len(fetches) == 2
    finally:
        server.shutdown()
