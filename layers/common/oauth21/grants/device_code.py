"""Polling with a device code (RFC 8628 3.4, 3.5).

A pending poll on time is one conditional write (it notes the poll). Too
soon is `slow_down`, and the interval the client must keep grows by 5 s and
is remembered. After approval, the first poll marks the code issued and
creates the grant in one transaction: one set of tokens, once; every later
poll is `invalid_grant`. A device code only works for the client it was
issued to.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from oauth21.clients import GRANT_DEVICE_CODE
from oauth21.errors import AccessDenied, InvalidGrant, OAuthError
from oauth21.grants import TokenRequest, new_user_grant, token_json
from oauth21.hashing import sha256_hex
from oauth21.http import Response
from oauth21.store.device_codes import APPROVED, DENIED, PENDING

if TYPE_CHECKING:
    from oauth21.services import Services

INVALID = "The device code is invalid, expired or already used"


class AuthorizationPending(OAuthError):
    error = "authorization_pending"
    default_description = "The user has not yet approved the request"
    log_level = "debug"


class SlowDown(OAuthError):
    error = "slow_down"
    default_description = "Polling too fast: wait 5 seconds more between polls"


class ExpiredToken(OAuthError):
    error = "expired_token"
    default_description = "The device code has expired; start again"


class DeviceCodeGrant:
    grant_type: ClassVar[str] = GRANT_DEVICE_CODE

    def __init__(self, services: Services):
        self._services = services

    def exchange(self, request: TokenRequest) -> Response:
        device_code = request.require("device_code")
        services = self._services
        now = int(services.clock())
        code_hash = sha256_hex(device_code)
        poll = services.device_codes.poll(code_hash, request.client.client_id, now)
        if poll.done:
            raise AuthorizationPending()
        device = poll.old
        if device is None or device.get("kind") != "device":
            raise InvalidGrant(INVALID)
        if device["client_id"] != request.client.client_id:
            raise InvalidGrant("The device code was issued to another client")
        status = device["status"]
        if status in (PENDING, APPROVED, DENIED) and device["expires_at"] <= now:
            raise ExpiredToken()
        if status == PENDING:
            services.device_codes.slow_down(code_hash, device["poll_interval"], now)
            raise SlowDown()
        if status == DENIED:
            raise AccessDenied("The user denied the request")
        if status != APPROVED:
            raise InvalidGrant(INVALID)
        return self._issue(request, code_hash, device, now)

    def _issue(
        self, request: TokenRequest, code_hash: str, device: dict[str, Any], now: int
    ) -> Response:
        grant = new_user_grant(
            self._services,
            request,
            kind="device",
            user_id=device["user_id"],
            scope=device["scope"],
            auth_time=device["auth_time"],
        )
        if not self._services.device_codes.issue(code_hash, grant.record, now):
            raise InvalidGrant(INVALID)  # another poll got the tokens
        return token_json(grant.response)


GRANT = DeviceCodeGrant
