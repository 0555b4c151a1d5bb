"""The authorization code grant (RFC 6749 4.1.3, RFC 7636, OAuth 2.1 4.1.3).

Two AWS calls: read the code (consistent), then one transaction that marks it
consumed and creates the grant. A code presented again is refused and the
grant it produced is revoked, with every token issued from it (RFC 9700
4.5.3 / OAuth 2.1 4.1.3).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from oauth21 import pkce
from oauth21.clients import GRANT_AUTHORIZATION_CODE
from oauth21.dpop import InvalidDpopProof
from oauth21.errors import InvalidGrant, InvalidRequest
from oauth21.grants import TokenRequest, new_user_grant, token_json
from oauth21.hashing import sha256_hex
from oauth21.http import Response
from oauth21.observability import event
from oauth21.store.codes import CodeAlreadyRedeemed

if TYPE_CHECKING:
    from oauth21.services import Services

INVALID_CODE = "The authorization code is invalid, expired or already used"


class AuthorizationCodeGrant:
    grant_type: ClassVar[str] = GRANT_AUTHORIZATION_CODE

    def __init__(self, services: Services):
        self._services = services

    def exchange(self, request: TokenRequest) -> Response:
        code = request.require("code")
        verifier = request.form.get("code_verifier")
        if verifier is None:
            raise InvalidRequest("The code_verifier parameter is required (PKCE)")
        pkce.check_verifier_format(verifier)
        services = self._services
        now = int(services.clock())
        code_hash = sha256_hex(code)
        record = services.codes.get(code_hash) if len(code) <= 256 else None
        if record is None or record["expires_at"] <= now:
            raise InvalidGrant(INVALID_CODE)
        if "consumed_at" in record:
            # Revoke only for a replay by the code's own client with its verifier:
            # anyone else holding a used code must not be able to kill the grant.
            self._check_binding(request, record, verifier)
            self._revoke_what_it_issued(record, now)
            raise InvalidGrant(INVALID_CODE)
        self._check_binding(request, record, verifier)
        grant = new_user_grant(
            services,
            request,
            kind="authorization_code",
            user_id=record["user_id"],
            scope=record["scope"],
            auth_time=record["auth_time"],
        )
        try:
            services.codes.redeem(code_hash, grant.record, now)
        except CodeAlreadyRedeemed:
            # Another request redeemed it a moment ago: a replay. Kill that grant.
            raced = services.codes.get(code_hash)
            if raced is not None:
                self._revoke_what_it_issued(raced, now)
            raise InvalidGrant(INVALID_CODE) from None
        return token_json(grant.response)

    def _check_binding(self, request: TokenRequest, record: dict[str, Any], verifier: str) -> None:
        if record["client_id"] != request.client.client_id:
            raise InvalidGrant("The authorization code was issued to another client")
        redirect_uri = request.form.get("redirect_uri")
        if record.get("redirect_uri_explicit") and redirect_uri is None:
            raise InvalidRequest("redirect_uri is required: the authorization request had one")
        if redirect_uri is not None and redirect_uri != record["redirect_uri"]:
            raise InvalidGrant("redirect_uri does not match the authorization request")
        pkce.verify(verifier, record["code_challenge"])
        bound = record.get("dpop_jkt")
        if bound and request.dpop_jkt is None:
            raise InvalidDpopProof("This code is bound to a DPoP key (dpop_jkt): send its proof")
        if bound and request.dpop_jkt != bound:
            raise InvalidGrant("The DPoP proof's key does not match the code's dpop_jkt")

    def _revoke_what_it_issued(self, record: dict[str, Any], now: int) -> None:
        grant_id = record.get("grant_id")
        if grant_id:
            self._services.grants.revoke(grant_id, "authorization_code_reuse", now)
            event("grant revoked", reason="authorization_code_reuse", grant_id=grant_id)


GRANT = AuthorizationCodeGrant
