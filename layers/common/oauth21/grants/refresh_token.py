"""The refresh token grant (RFC 6749 6, OAuth 2.1 4.3, RFC 9700 4.14).

Refresh tokens rotate on every use, in one conditional write (no read
first). A refresh token presented again after its rotation revokes the whole
grant: one of its two holders is an attacker. A grant has an absolute
lifetime (`GRANT_LIFETIME`) and its refresh token an idle one
(`REFRESH_TOKEN_IDLE_LIFETIME`); a narrower `scope` may be asked for.

With `REFRESH_GRACE_SECONDS` > 0, a client that lost the response to a
refresh may present the previous token once more within that many seconds:
it gets a fresh pair, the access token it lost is revoked, and the refresh
token it lost is dead (a later use of it counts as a replay). Off by default.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from oauth21.clients import GRANT_REFRESH_TOKEN
from oauth21.dpop import InvalidDpopProof
from oauth21.errors import InvalidGrant, InvalidScope
from oauth21.grants import TokenRequest, token_json
from oauth21.http import Response
from oauth21.observability import event
from oauth21.scopes import parse_scope
from oauth21.tokens import (
    PresentedRefreshToken,
    grant_key_of,
    new_jti,
    new_refresh_secret,
    parse_refresh_token,
    refresh_token,
    token_response,
)

if TYPE_CHECKING:
    from oauth21.services import Services

INVALID = "The refresh token is invalid, expired or revoked"


class RefreshTokenGrant:
    grant_type: ClassVar[str] = GRANT_REFRESH_TOKEN

    def __init__(self, services: Services):
        self._services = services

    def exchange(self, request: TokenRequest) -> Response:
        raw = request.require("refresh_token")
        presented = parse_refresh_token(raw)
        if presented is None:
            raise InvalidGrant(INVALID)
        scope_param = request.form.get("scope")
        narrowed = parse_scope(scope_param) if scope_param is not None else None
        services, settings = self._services, self._services.settings
        now = int(services.clock())
        secret, secret_hash = new_refresh_secret()
        jti, exp = new_jti(), now + settings.access_token_lifetime
        rotation = services.grants.rotate_refresh(
            presented.grant_id,
            presented=presented.secret_hash,
            replacement=secret_hash,
            client_id=request.client.client_id,
            scopes=narrowed or [],
            jkt=request.dpop_jkt,
            now=now,
            idle_until=now + settings.refresh_token_idle_lifetime,
            access_jti=jti,
            access_exp=exp,
        )
        grant = rotation.grant
        if not rotation.rotated:
            grant = self._after_failed_rotation(
                request, presented, grant, secret_hash, jti, exp, now
            )
        assert grant is not None
        scope = " ".join(narrowed) if narrowed is not None else grant["scope"]
        access = services.access_tokens.issue(
            issuer=request.issuer,
            subject=grant["user_id"],
            client_id=grant["client_id"],
            scope=scope,
            grant_id=grant["grant_id"],
            jti=jti,
            jkt=request.dpop_jkt,
            extra={"auth_time": grant["auth_time"]} if "auth_time" in grant else None,
        )
        return token_json(token_response(access, refresh_token(grant_key_of(raw), secret)))

    def _after_failed_rotation(
        self,
        request: TokenRequest,
        presented: PresentedRefreshToken,
        old: dict[str, Any] | None,
        secret_hash: str,
        jti: str,
        exp: int,
        now: int,
    ) -> dict[str, Any]:
        """Why the conditional write failed, from the grant as it was; maybe the grace retry."""
        services, settings = self._services, self._services.settings
        if old is None or "revoked_at" in old:
            raise InvalidGrant(INVALID)
        if old["client_id"] != request.client.client_id:
            raise InvalidGrant("The refresh token was issued to another client")
        if old["expires_at"] <= now or old["refresh_expires_at"] <= now:
            raise InvalidGrant(INVALID)
        if old["refresh_hash"] == presented.secret_hash:
            # The token is current: the DPoP binding or the narrower scope failed.
            bound = old.get("dpop_jkt")
            if bound and request.dpop_jkt is None:
                raise InvalidDpopProof("This refresh token is bound to a DPoP key: send its proof")
            if bound and request.dpop_jkt != bound:
                raise InvalidDpopProof("This refresh token is bound to another DPoP key")
            raise InvalidScope("The requested scope exceeds what the grant allows")
        grace = settings.refresh_grace_seconds
        if grace and old.get("previous_hash") == presented.secret_hash:
            retried = services.grants.retry_within_grace(
                presented.grant_id,
                previous=presented.secret_hash,
                replacement=secret_hash,
                client_id=request.client.client_id,
                rotated_after=now - grace,
                jkt=request.dpop_jkt,
                now=now,
                idle_until=now + settings.refresh_token_idle_lifetime,
                access_jti=jti,
                access_exp=exp,
            )
            if retried is not None:
                lost_jti, lost_exp = old.get("last_access_jti"), old.get("last_access_exp", 0)
                if lost_jti and lost_exp > now:
                    services.revocations.revoke_access_token(lost_jti, lost_exp, now)
                return retried
        services.grants.revoke(presented.grant_id, "refresh_token_reuse", now)
        event("grant revoked", reason="refresh_token_reuse", grant_id=presented.grant_id)
        raise InvalidGrant(INVALID)


GRANT = RefreshTokenGrant
