"""The client credentials grant (RFC 6749 section 4.4), for confidential clients.

No refresh token is issued (OAuth 2.1 section 4.2.2), and the response has
exactly `access_token`, `token_type`, `expires_in` and `scope`. Warm, it makes
no AWS call: the client comes from the registry's cache and the key signs
locally.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from oauth21.clients import GRANT_CLIENT_CREDENTIALS
from oauth21.errors import UnauthorizedClient
from oauth21.grants import TokenRequest, token_json
from oauth21.http import Response
from oauth21.scopes import grant_scope
from oauth21.tokens import token_response

if TYPE_CHECKING:
    from oauth21.services import Services


class ClientCredentialsGrant:
    grant_type: ClassVar[str] = GRANT_CLIENT_CREDENTIALS

    def __init__(self, services: Services):
        self._services = services

    def exchange(self, request: TokenRequest) -> Response:
        client = request.client
        if not client.is_confidential:
            raise UnauthorizedClient("The client credentials grant is for confidential clients")
        settings = self._services.settings
        scope = grant_scope(request.form.get("scope"), client.scopes, settings.supported_scopes)
        token = self._services.access_tokens.issue(
            issuer=request.issuer,
            subject=client.client_id,
            client_id=client.client_id,
            scope=scope,
            jkt=request.dpop_jkt,
        )
        return token_json(token_response(token))


GRANT = ClientCredentialsGrant
