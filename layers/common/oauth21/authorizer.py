"""The Lambda REQUEST authorizer for resource servers (RFC 6750, RFC 9068).

One function answers both API Gateway flavours, told apart by the event:

- HTTP APIs (payload 2.0, `"version": "2.0"`): a simple response,
  `{"isAuthorized": bool, "context": {...}}`. API Gateway answers a denial with
  403, and 401 only when the Authorization header is missing; a simple
  response cannot carry `WWW-Authenticate`.
- REST APIs (and HTTP APIs on payload 1.0): an IAM policy with a context. An
  invalid, expired or revoked token raises `Unauthorized` (API Gateway's 401);
  a valid token without the route's scopes gets a Deny policy (403), whose
  context carries `wwwAuthenticate` for a gateway response to map into the
  header.

`Authorization: DPoP <token>` with a `DPoP` proof (RFC 9449 7) is checked as
the token endpoint checks proofs, with `htm`/`htu` taken from the request as
API Gateway received it (see `request_target`), `ath`, and the proof's key
equal to the token's `cnf.jkt`. A DPoP-bound token sent as Bearer is refused,
and so is a Bearer token sent with the DPoP scheme.

A token passes when its ES256 signature verifies against the issuer's keys
(the signing-keys table in the same account, or `AUTHORIZER_JWKS_URL` for
another; cached, refreshed on an unknown kid at most every 10 s), `typ` is
`at+jwt`, `iss` and `aud` are the configured ones, `exp`/`nbf` hold (30 s
leeway), it is not revoked (one BatchGetItem of its `jti` and grant; skipped
with `AUTHORIZER_LOCAL_ONLY`), and it has every scope the route requires
(`AUTHORIZER_ROUTE_SCOPES`, JSON: `{"GET /api/user": ["read"]}`; a route not
listed is denied unless a `"*"` entry says otherwise).

The context passed to the backend: `sub`, `client_id`, `scope`, `jti`, and
`user_id` (the subject when the token was issued to a user, else empty).
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from oauth21.dpop import InvalidDpopProof, UseDpopNonce
from oauth21.keys import PublicKeys
from oauth21.tokens import InvalidToken, verify_access_token

if TYPE_CHECKING:
    from oauth21.services import Services


class Unauthorized(Exception):
    """Raised for REST APIs: API Gateway turns exactly this message into a 401."""

    def __init__(self) -> None:
        super().__init__("Unauthorized")


@dataclass(frozen=True)
class Decision:
    allowed: bool
    context: Mapping[str, str]
    # "invalid_token", "invalid_dpop_proof", "use_dpop_nonce" or "insufficient_scope".
    error: str = ""
    description: str = ""
    scheme: str = "Bearer"
    nonce: str = ""

    @property
    def www_authenticate(self) -> str:
        if not self.error:
            return ""
        return f'{self.scheme} error="{self.error}", error_description="{self.description}"'


class JwksSource:
    """Published keys read from a JWKS URL (the issuer in another account),
    shaped like signing-key records so PublicKeys can cache them."""

    def __init__(self, url: str, timeout: float = 3.0):
        self._url = url
        self._timeout = timeout

    def all(self) -> list[dict[str, Any]]:
        with urllib.request.urlopen(self._url, timeout=self._timeout) as answer:
            document = json.load(answer)
        return [
            {"kid": key["kid"], "status": "current", "public_jwk": json.dumps(key)}
            for key in document.get("keys", [])
            if key.get("kty") == "EC" and key.get("crv") == "P-256" and "kid" in key
        ]


def route_of(event: Mapping[str, Any]) -> str:
    """`METHOD /path` as the template declares the route."""
    if event.get("version") == "2.0":
        return str(event.get("routeKey", ""))
    context = event.get("requestContext") or {}
    method = context.get("httpMethod") or event.get("httpMethod", "")
    resource = context.get("resourcePath") or event.get("resource", "")
    return f"{method} {resource}"


def request_target(event: Mapping[str, Any], public_base_url: str) -> tuple[str, str]:
    """The method and public URL of the request as API Gateway received it (DPoP htm, htu).

    The base is `AUTHORIZER_PUBLIC_BASE_URL` (behind a custom domain) or
    https:// and the request's domain; the path is the raw path (HTTP APIs) or
    the request path, stage included (REST APIs).
    """
    context = event.get("requestContext") or {}
    base = public_base_url.rstrip("/") or f"https://{context.get('domainName', '')}"
    if event.get("version") == "2.0":
        return str((context.get("http") or {}).get("method", "")), base + str(
            event.get("rawPath", "")
        )
    method = context.get("httpMethod") or event.get("httpMethod", "")
    return str(method), base + str(context.get("path") or event.get("path", ""))


def header(event: Mapping[str, Any], name: str) -> str | None:
    for key, value in (event.get("headers") or {}).items():
        if key.lower() == name:
            return str(value)
    return None


class Authorizer:
    def __init__(self, services: Services):
        self._services = services
        settings = services.settings
        self._route_scopes: dict[str, list[str]] = json.loads(settings.authorizer_route_scopes)
        source: Any = (
            JwksSource(settings.authorizer_jwks_url)
            if settings.authorizer_jwks_url
            else services.signing_key_table
        )
        # Loaded on first use (or at cold start by the function), then cached.
        self.keys = PublicKeys(source, settings, services.clock)

    def issuer_for(self, event: Mapping[str, Any]) -> str:
        settings = self._services.settings
        if settings.authorizer_issuer or settings.issuer:
            return (settings.authorizer_issuer or settings.issuer).rstrip("/")
        context = event.get("requestContext") or {}
        stage = context.get("stage") or "$default"
        base = f"https://{context.get('domainName', '')}"
        return base if stage == "$default" else f"{base}/{stage}"

    def decide(self, event: Mapping[str, Any]) -> Decision:
        authorization = header(event, "authorization") or ""
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        scheme = scheme.lower()
        if scheme not in ("bearer", "dpop") or not token:
            return Decision(False, {}, "invalid_token", "A Bearer or DPoP token is required")
        issuer = self.issuer_for(event)
        settings = self._services.settings
        audience = settings.authorizer_audience or settings.access_token_audience or issuer
        try:
            claims = verify_access_token(
                token, self.keys, issuer=issuer, audience=audience, now=self._services.clock()
            )
        except InvalidToken:
            return Decision(
                False,
                {},
                "invalid_token",
                "The access token is invalid or expired",
                scheme="DPoP" if scheme == "dpop" else "Bearer",
            )
        bound = (
            (claims.get("cnf") or {}).get("jkt") if isinstance(claims.get("cnf"), dict) else None
        )
        if scheme == "bearer" and bound:
            return Decision(False, {}, "invalid_token", "A DPoP-bound token must use DPoP", "DPoP")
        if scheme == "dpop":
            refused = self._check_proof(event, token, bound)
            if refused is not None:
                return refused
        if not settings.authorizer_local_only and self._services.revocations.is_revoked(claims):
            return Decision(False, {}, "invalid_token", "The access token was revoked")
        return self._check_scope(event, claims)

    def _check_proof(
        self, event: Mapping[str, Any], token: str, bound: str | None
    ) -> Decision | None:
        """RFC 9449 7: the proof, for this request and this token, by the token's key."""
        if not bound:
            return Decision(
                False, {}, "invalid_token", "A Bearer token cannot be sent as DPoP", "DPoP"
            )
        method, url = request_target(event, self._services.settings.authorizer_public_base_url)
        try:
            proof = self._services.dpop.verify(
                header(event, "dpop"),
                method=method,
                url=url,
                access_token=token,
                require_nonce=self._services.settings.dpop_nonce_resource,
            )
        except UseDpopNonce as exc:
            return Decision(False, {}, exc.error, exc.description, "DPoP", exc.nonce)
        except InvalidDpopProof as exc:
            return Decision(False, {}, exc.error, exc.description, "DPoP")
        if proof.jkt != bound:
            return Decision(
                False, {}, "invalid_dpop_proof", "The proof's key is not the token's", "DPoP"
            )
        return None

    def _check_scope(self, event: Mapping[str, Any], claims: Mapping[str, Any]) -> Decision:
        route = route_of(event)
        required = self._route_scopes.get(route, self._route_scopes.get("*"))
        granted = set(str(claims.get("scope", "")).split())
        if required is None or not set(required) <= granted:
            wanted = " ".join(required or []) or "(no scope allows this route)"
            return Decision(False, {}, "insufficient_scope", f"This route requires: {wanted}")
        subject = str(claims["sub"])
        return Decision(
            True,
            {
                "sub": subject,
                "client_id": str(claims["client_id"]),
                "scope": str(claims.get("scope", "")),
                "jti": str(claims["jti"]),
                "user_id": subject if claims.get("gid") else "",
            },
        )


def respond(decision: Decision, event: Mapping[str, Any]) -> dict[str, Any]:
    """The decision in the shape the event's API Gateway flavour expects."""
    if event.get("version") == "2.0":
        return {"isAuthorized": decision.allowed, "context": dict(decision.context)}
    if not decision.allowed and decision.error == "invalid_token" and decision.scheme == "Bearer":
        raise Unauthorized()
    context = dict(decision.context)
    if not decision.allowed:
        # For a gateway response (ACCESS_DENIED) to map into headers and a 401.
        context["wwwAuthenticate"] = decision.www_authenticate
        if decision.nonce:
            context["dpopNonce"] = decision.nonce
    return {
        "principalId": decision.context.get("sub", "anonymous"),
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Action": "execute-api:Invoke",
                    "Effect": "Allow" if decision.allowed else "Deny",
                    "Resource": event.get("methodArn") or event.get("routeArn") or "*",
                }
            ],
        },
        "context": context,
    }
