"""The token endpoint (RFC 6749 section 3.2) and its registry of grant types.

Every grant shares one contract (`Grant.exchange`) and one dispatch: a new
grant type is one module (exporting `GRANT`, its class) and one line in
`GRANT_MODULES`, which the metadata document reads too.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Protocol

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
        return grant.exchange(TokenRequest(request, form, client, issuer))


def token_json(body: Mapping[str, object], headers: Mapping[str, str] | None = None) -> Response:
    """A token response: JSON, `no-store` (RFC 6749 5.1)."""
    return json_response(body, headers=headers)
