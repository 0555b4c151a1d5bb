"""Token introspection (RFC 7662).

Who may ask: an authenticated confidential client, about any token; a public
client (identified by `client_id`), about its own tokens only; and, unless
`INTROSPECTION_REQUIRES_AUTH` is set, a caller with no credentials at all,
about the token it presents. The last is what the seed's clients do: they
hold the token already, and the answer tells them nothing the token's own
claims do not, except whether it was revoked. Set the switch for strict RFC
7662 (every caller authenticates), which resource servers with credentials
can always satisfy.

Anything unknown, malformed, expired or revoked is `{"active": false}`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from oauth21.errors import InvalidClient, InvalidRequest
from oauth21.http import Request, Response, json_response, public_base_url, require_method
from oauth21.tokens import (
    InvalidToken,
    is_jwt_shaped,
    parse_refresh_token,
    token_type,
    verify_access_token,
)

if TYPE_CHECKING:
    from oauth21.clients import Client
    from oauth21.services import Services

INACTIVE: Mapping[str, Any] = {"active": False}
_RESPONSE_CLAIMS = ("scope", "client_id", "sub", "aud", "iss", "exp", "iat", "jti")


class TokenInspector:
    """Finds the claims of an active token: the shared first step of
    introspection and revocation."""

    def __init__(self, services: Services):
        self._services = services

    def access_token_claims(
        self, token: str, issuer: str, *, allow_expired: bool = False
    ) -> dict[str, Any] | None:
        if not is_jwt_shaped(token):
            return None
        try:
            return verify_access_token(
                token,
                self._services.public_keys,
                issuer=issuer,
                now=self._services.clock(),
                allow_expired=allow_expired,
            )
        except InvalidToken:
            return None

    def active_claims(self, token: str, issuer: str) -> dict[str, Any] | None:
        claims = self.access_token_claims(token, issuer)
        if claims is None or self._services.revocations.is_revoked(claims):
            return None
        return claims

    def refresh_token_grant(self, token: str) -> tuple[str, dict[str, Any] | None] | None:
        """(grant id, grant) for anything shaped like one of our refresh tokens.

        The grant is None when it no longer exists; the caller decides what a
        non-current secret means (inactive for introspection, still the
        grant's to revoke for revocation).
        """
        presented = parse_refresh_token(token)
        if presented is None:
            return None
        return presented.grant_id, self._services.grants.get(presented.grant_id)

    def active_refresh_grant(self, token: str) -> dict[str, Any] | None:
        found = self.refresh_token_grant(token)
        if found is None or found[1] is None:
            return None
        grant, now = found[1], self._services.clock()
        presented = parse_refresh_token(token)
        assert presented is not None
        if (
            "revoked_at" in grant
            or grant.get("refresh_hash") != presented.secret_hash
            or grant["expires_at"] <= now
            or grant["refresh_expires_at"] <= now
        ):
            return None
        return grant


@dataclass(frozen=True)
class TokenQuery:
    """What introspection and revocation both start from: a POSTed form with
    `token`, optional client credentials (RFC 7662 2.1, RFC 7009 2.1)."""

    token: str
    caller: Client | None
    issuer: str

    @classmethod
    def read(cls, services: Services, request: Request) -> TokenQuery:
        require_method(request, "POST")
        settings = services.settings
        form = request.form(settings.max_body_bytes)
        token = form.get("token")
        if token is None:
            raise InvalidRequest("The token parameter is required")
        caller = services.clients.identify(request.client_credentials(form))
        return cls(token, caller, public_base_url(request, settings.issuer))


class IntrospectionEndpoint:
    def __init__(self, services: Services, inspector: TokenInspector | None = None):
        self._services = services
        self._inspector = inspector or TokenInspector(services)

    def handle(self, request: Request) -> Response:
        query = TokenQuery.read(self._services, request)
        token, caller, issuer = query.token, query.caller, query.issuer
        if caller is None and self._services.settings.introspection_requires_auth:
            raise InvalidClient("Client authentication is required to introspect tokens")
        if is_jwt_shaped(token):
            claims = self._inspector.active_claims(token, issuer)
        else:
            claims = self._refresh_claims(token, issuer)
        if claims is None:
            return json_response(INACTIVE)
        if caller is not None and not caller.is_confidential:
            if claims.get("client_id") != caller.client_id:
                return json_response(INACTIVE)
        body: dict[str, Any] = {"active": True}
        body.update({k: claims[k] for k in _RESPONSE_CLAIMS if k in claims})
        body["token_type"] = claims.get("token_type") or token_type(claims)
        if "cnf" in claims:
            body["cnf"] = claims["cnf"]
        return json_response(body)

    def _refresh_claims(self, token: str, issuer: str) -> dict[str, Any] | None:
        grant = self._inspector.active_refresh_grant(token)
        if grant is None:
            return None
        return {
            "scope": grant["scope"],
            "client_id": grant["client_id"],
            "sub": grant["user_id"],
            "iss": issuer,
            "exp": min(grant["expires_at"], grant["refresh_expires_at"]),
            "iat": grant.get("rotated_at", grant["created_at"]),
            "token_type": "refresh_token",
        }
