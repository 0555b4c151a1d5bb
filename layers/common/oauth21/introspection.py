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
from typing import TYPE_CHECKING, Any

from oauth21.errors import InvalidClient, InvalidRequest
from oauth21.http import Request, Response, json_response, public_base_url, require_method
from oauth21.tokens import InvalidToken, is_jwt_shaped, token_type, verify_access_token

if TYPE_CHECKING:
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


def required_token(form: Mapping[str, str]) -> str:
    token = form.get("token")
    if token is None:
        raise InvalidRequest("The token parameter is required")
    return token


class IntrospectionEndpoint:
    def __init__(self, services: Services, inspector: TokenInspector | None = None):
        self._services = services
        self._inspector = inspector or TokenInspector(services)

    def handle(self, request: Request) -> Response:
        require_method(request, "POST")
        settings = self._services.settings
        form = request.form(settings.max_body_bytes)
        token = required_token(form)
        caller = self._services.clients.identify(request.client_credentials(form))
        if caller is None and settings.introspection_requires_auth:
            raise InvalidClient("Client authentication is required to introspect tokens")
        claims = self._inspector.active_claims(token, public_base_url(request, settings.issuer))
        if claims is None:
            return json_response(INACTIVE)
        if caller is not None and not caller.is_confidential:
            if claims.get("client_id") != caller.client_id:
                return json_response(INACTIVE)
        body: dict[str, Any] = {"active": True}
        body.update({k: claims[k] for k in _RESPONSE_CLAIMS if k in claims})
        body["token_type"] = token_type(claims)
        if "cnf" in claims:
            body["cnf"] = claims["cnf"]
        return json_response(body)
