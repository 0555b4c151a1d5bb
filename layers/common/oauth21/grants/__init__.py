"""The token endpoint (RFC 6749 section 3.2) and its registry of grant types.

Every grant shares one contract (`Grant.exchange`) and one dispatch: a new
grant type is one module (exporting `GRANT`, its class) and one line in
`GRANT_MODULES`, which the metadata document reads too.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

# (a module, not names: oauth21.grants.refresh_token would shadow the function)
from oauth21 import tokens
from oauth21.clients import GRANT_REFRESH_TOKEN
from oauth21.dpop import InvalidDpopProof
from oauth21.errors import InvalidRequest, UnauthorizedClient, UnsupportedGrantType
from oauth21.http import Request, Response, json_response, public_base_url, require_method

if TYPE_CHECKING:
    from oauth21.clients import Client
    from oauth21.services import Services


@dataclass(frozen=True)
class TokenRequest:
    http: Request
    form: Mapping[str, str]
    client: Client
    issuer: str
    # The RFC 7638 thumbprint of the key a valid DPoP proof was signed with.
    dpop_jkt: str | None = None

    @property
    def binds_refresh_token(self) -> bool:
        """Public clients' refresh tokens are bound to the DPoP key (RFC 9449 5)."""
        return self.dpop_jkt is not None and not self.client.is_confidential

    def require(self, name: str) -> str:
        value = self.form.get(name)
        if value is None:
            raise InvalidRequest(f"The {name} parameter is required")
        return value


class Grant(Protocol):
    grant_type: ClassVar[str]

    def exchange(self, request: TokenRequest) -> Response: ...


GRANT_MODULES = {
    "authorization_code": "oauth21.grants.authorization_code",
    "refresh_token": "oauth21.grants.refresh_token",
    "client_credentials": "oauth21.grants.client_credentials",
    "urn:ietf:params:oauth:grant-type:device_code": "oauth21.grants.device_code",
}


def grant_types(services: Services) -> list[Grant]:
    return [importlib.import_module(m).GRANT(services) for m in GRANT_MODULES.values()]


class TokenEndpoint:
    def __init__(self, services: Services, grants: Iterable[Grant] | None = None):
        self._services = services
        self._grants = {g.grant_type: g for g in (grants or grant_types(services))}

    @property
    def supported(self) -> list[str]:
        return list(self._grants)

    def handle(self, request: Request) -> Response:
        require_method(request, "POST")
        settings = self._services.settings
        form = request.form(settings.max_body_bytes)
        grant_type = form.get("grant_type")
        if grant_type is None:
            raise InvalidRequest("The grant_type parameter is required")
        grant = self._grants.get(grant_type)
        if grant is None:
            raise UnsupportedGrantType(f"Unsupported grant_type: {grant_type[:60]}")
        client = self._services.clients.authenticate(request.client_credentials(form))
        if not client.allows_grant(grant_type):
            raise UnauthorizedClient(f"This client may not use the {grant_type} grant")
        issuer = public_base_url(request, settings.issuer)
        jkt = self._dpop_key(request, client, issuer)
        response = grant.exchange(TokenRequest(request, form, client, issuer, jkt))
        nonces = self._services.dpop.nonces if settings.dpop_nonce_token_endpoint else None
        if nonces is not None:
            response["headers"]["DPoP-Nonce"] = nonces.fresh()
        return response

    def _dpop_key(self, request: Request, client: Client, issuer: str) -> str | None:
        """The thumbprint of a valid DPoP proof's key; a required proof that is
        missing or invalid is `invalid_dpop_proof` (one replay write when present)."""
        proof_header = request.header("dpop")
        if proof_header is None and not client.require_dpop:
            return None
        if proof_header is None:
            raise InvalidDpopProof("This client must send a DPoP proof")
        proof = self._services.dpop.verify(
            proof_header,
            method="POST",
            url=f"{issuer}/oauth/token",
            require_nonce=self._services.settings.dpop_nonce_token_endpoint,
        )
        return proof.jkt


def token_json(body: Mapping[str, object], headers: Mapping[str, str] | None = None) -> Response:
    """A token response: JSON, `no-store` (RFC 6749 5.1)."""
    return json_response(body, headers=headers)


@dataclass(frozen=True)
class NewGrant:
    """A user's new grant with its tokens minted, not yet stored: the grant type
    commits it (with the code or device code it consumes) in one write."""

    record: dict[str, Any]
    response: dict[str, Any]


def new_user_grant(
    services: Services,
    request: TokenRequest,
    *,
    kind: str,
    user_id: str,
    scope: str,
    auth_time: int,
) -> NewGrant:
    """The grant record and token response for a user's authorization.

    Minting comes first and storing second, so a failed write leaves nothing
    behind and whatever was consumed is still there for a retry.
    """
    settings = services.settings
    now = int(services.clock())
    grant_key, grant_id = tokens.new_grant_key()
    secret, secret_hash = tokens.new_refresh_secret()
    record = {
        "grant_id": grant_id,
        "kind": kind,
        "client_id": request.client.client_id,
        "user_id": user_id,
        "scope": scope,
        "scopes": scope.split(),
        "auth_time": auth_time,
        "created_at": now,
        "expires_at": now + settings.grant_lifetime,
        "refresh_hash": secret_hash,
        "refresh_expires_at": now + settings.refresh_token_idle_lifetime,
        "grace_used": False,
        "dpop_jkt": request.dpop_jkt if request.binds_refresh_token else None,
    }
    access = services.access_tokens.issue(
        issuer=request.issuer,
        subject=user_id,
        client_id=request.client.client_id,
        scope=scope,
        grant_id=grant_id,
        jkt=request.dpop_jkt,
        extra={"auth_time": auth_time},
    )
    # A refresh token only for a client allowed to use one.
    refresh: str | None = tokens.refresh_token(grant_key, secret)
    if not request.client.allows_grant(GRANT_REFRESH_TOKEN):
        refresh, record["refresh_hash"] = None, None
    return NewGrant(record, tokens.token_response(access, refresh))
