"""Access tokens (RFC 9068 JWTs) and token responses (RFC 6749 section 5.1).

An access token is an ES256 JWT with header `typ: at+jwt` and `kid`, and
claims `iss`, `sub`, `aud`, `client_id`, `scope`, `jti`, `iat`, `exp`. Tokens
issued under a grant (a user's authorization, a personal access token) also
carry `gid`, the grant's id, so revoking the grant revokes them; tokens bound
to a DPoP key carry `cnf.jkt` (RFC 9449).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from oauth21.hashing import sha256_hex
from oauth21.jwk import b64url
from oauth21.keys import InvalidSignature, PublicKeys, Signer, verify_jws

ACCESS_TOKEN_TYP = "at+jwt"
# RFC 9068 section 4: "at+jwt" or, equally, the full media type.
_ACCEPTED_TYP = {"at+jwt", "application/at+jwt"}
CLOCK_LEEWAY = 30


class InvalidToken(Exception):
    """The token is not an active access token of this server (reason for logs only)."""


@dataclass(frozen=True)
class AccessToken:
    value: str
    claims: Mapping[str, Any]

    @property
    def expires_in(self) -> int:
        return int(self.claims["exp"]) - int(self.claims["iat"])


def new_jti() -> str:
    return secrets.token_urlsafe(16)


def is_jwt_shaped(token: str) -> bool:
    return token.count(".") == 2


class AccessTokenIssuer:
    def __init__(self, signer: Signer, settings: Any, clock: Callable[[], float]):
        self._signer = signer
        self._settings = settings
        self._clock = clock

    def issue(
        self,
        *,
        issuer: str,
        subject: str,
        client_id: str,
        scope: str,
        lifetime: int | None = None,
        grant_id: str | None = None,
        jkt: str | None = None,
        jti: str | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> AccessToken:
        now = int(self._clock())
        claims: dict[str, Any] = {
            "iss": issuer,
            "sub": subject,
            "aud": self._settings.access_token_audience or issuer,
            "client_id": client_id,
            "scope": scope,
            "jti": jti or new_jti(),
            "iat": now,
            "exp": now + (lifetime or self._settings.access_token_lifetime),
        }
        if grant_id:
            claims["gid"] = grant_id
        if jkt:
            claims["cnf"] = {"jkt": jkt}
        if extra:
            claims.update(extra)
        return AccessToken(self._signer.sign_jwt(claims, ACCESS_TOKEN_TYP), claims)


def verify_access_token(
    token: str,
    keys: PublicKeys,
    *,
    issuer: str,
    now: float,
    audience: str | None = None,
    allow_expired: bool = False,
) -> dict[str, Any]:
    """The claims of a valid access token of `issuer`, or `InvalidToken`.

    Checks the signature and `kid`, `typ`, `iss`, `exp`/`nbf` (with a small
    leeway for clock skew) and, when given, the audience. Revocation is the
    caller's second step (one BatchGetItem, `oauth21.store.revocations`).
    """
    try:
        header, claims = verify_jws(token, keys)
    except InvalidSignature as exc:
        raise InvalidToken(f"signature: {exc}") from None
    if str(header.get("typ", "")).lower() not in _ACCEPTED_TYP:
        raise InvalidToken("typ")
    if claims.get("iss") != issuer:
        raise InvalidToken("iss")
    for claim in ("exp", "iat", "jti", "client_id", "sub"):
        if claim not in claims:
            raise InvalidToken(f"missing {claim}")
    exp = claims["exp"]
    if not isinstance(exp, int) or (not allow_expired and exp <= now - CLOCK_LEEWAY):
        raise InvalidToken("expired")
    nbf = claims.get("nbf")
    if nbf is not None and (not isinstance(nbf, int) or nbf > now + CLOCK_LEEWAY):
        raise InvalidToken("nbf")
    if audience is not None:
        aud = claims.get("aud")
        audiences = aud if isinstance(aud, list) else [aud]
        if audience not in audiences:
            raise InvalidToken("aud")
    return claims


def token_type(claims: Mapping[str, Any]) -> str:
    """`DPoP` for a sender-constrained token (RFC 9449), else `Bearer`."""
    cnf = claims.get("cnf")
    return "DPoP" if isinstance(cnf, Mapping) and "jkt" in cnf else "Bearer"


def token_response(access: AccessToken, refresh_token: str | None = None) -> dict[str, Any]:
    """The success body: exactly these members (the seed's clients fail on others)."""
    body: dict[str, Any] = {
        "access_token": access.value,
        "token_type": token_type(access.claims),
        "expires_in": access.expires_in,
    }
    if refresh_token:
        body["refresh_token"] = refresh_token
    body["scope"] = access.claims["scope"]
    return body


# --- refresh tokens ------------------------------------------------------------
# A refresh token is "<grant key>.<rotation secret>", both 256-bit random. The
# grant's id is the SHA-256 of its key (oauth21.store.grants); the grant stores
# only the SHA-256 of the current secret.

_PART = re.compile(r"[A-Za-z0-9_-]{43}")


def new_grant_key() -> tuple[str, str]:
    """A new grant's secret key and its public id."""
    key = secrets.token_urlsafe(32)
    return key, grant_id_of(key)


def grant_id_of(grant_key: str) -> str:
    return b64url(hashlib.sha256(grant_key.encode("ascii")).digest())


def new_refresh_secret() -> tuple[str, str]:
    """A rotation secret and the hash the grant keeps of it."""
    secret = secrets.token_urlsafe(32)
    return secret, sha256_hex(secret)


def refresh_token(grant_key: str, secret: str) -> str:
    return f"{grant_key}.{secret}"


def grant_key_of(token: str) -> str:
    return token.partition(".")[0]


@dataclass(frozen=True)
class PresentedRefreshToken:
    grant_id: str
    secret_hash: str


def parse_refresh_token(token: str) -> PresentedRefreshToken | None:
    key, dot, secret = token.partition(".")
    if not dot or not _PART.fullmatch(key) or not _PART.fullmatch(secret):
        return None
    return PresentedRefreshToken(grant_id_of(key), sha256_hex(secret))
