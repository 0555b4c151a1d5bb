"""Token revocation (RFC 7009).

Every well-formed request gets 200, whether or not the token was known
(section 2.2), so the answer reveals nothing. An access token is revoked by
its `jti`, remembered until the token would have expired. A refresh token
revokes its whole grant, and with it every access token issued under it
(RFC 7009 2.1). `token_type_hint` is only a hint: every token type is tried.
Revoking an access token leaves its refresh token alone.

Credentials are optional, because the seed's clients revoke with the token
alone on logout, and whoever holds a token may give it up. Credentials that
are sent must be valid (`invalid_client`), and the token must have been
issued to that client (`invalid_grant`, RFC 6749 5.2: "issued to another
client").
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from oauth21.errors import InvalidGrant
from oauth21.http import Request, Response, json_response
from oauth21.introspection import TokenInspector, TokenQuery

if TYPE_CHECKING:
    from oauth21.clients import Client
    from oauth21.services import Services


class RevocationEndpoint:
    def __init__(self, services: Services, inspector: TokenInspector | None = None):
        self._services = services
        self._inspector = inspector or TokenInspector(services)

    def handle(self, request: Request) -> Response:
        query = TokenQuery.read(self._services, request)
        token, caller, issuer = query.token, query.caller, query.issuer
        now = int(self._services.clock())
        claims = self._inspector.access_token_claims(token, issuer, allow_expired=True)
        if claims is not None and claims["exp"] > now:
            self._check_owner(caller, claims.get("client_id"))
            self._services.revocations.revoke_access_token(str(claims["jti"]), claims["exp"], now)
        found = self._inspector.refresh_token_grant(token) if claims is None else None
        if found is not None:
            grant_id, grant = found
            if grant is not None:
                self._check_owner(caller, grant["client_id"])
                self._services.grants.revoke(grant_id, "revoked_by_client", now)
        return json_response({})

    @staticmethod
    def _check_owner(caller: Client | None, client_id: str | None) -> None:
        if caller is not None and client_id != caller.client_id:
            raise InvalidGrant("The token was issued to another client")
