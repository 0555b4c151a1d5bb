"""DPoP (RFC 9449): proof validation, key thumbprints, replay protection, nonces.

A proof is checked in this order (node-oidc-provider's, with an atomic replay
check): exactly one `DPoP` header holding a compact JWS; `typ` is `dpop+jwt`;
`alg` in the allow-list (ES256, ES384, RS256, PS256, EdDSA: never `none` or an
HMAC); `jwk` a public key with no private members; the signature verifies with
it; `htm` is the request's method; `htu` is the endpoint's public URL
(compared without query and fragment, after normalising scheme and host case
and default ports); `iat` within `DPOP_PROOF_WINDOW` seconds (60) with 5 s of
leeway for clock skew; `ath` is the base64url SHA-256 of the access token
where one is presented; the nonce, where one is required. Last, the `jti` is
recorded for that key with one conditional put (TTL'd), so a replay within
the window fails, and of N parallel uses exactly one succeeds.

Every failure is `invalid_dpop_proof` with a plain description; the log may
say more. A missing or stale nonce is `use_dpop_nonce` with a fresh one in the
`DPoP-Nonce` header.

Nonces are stateless: the window's index and an HMAC of it under a key
derived from a secret (`oauth21.store.dpop`) for that window, so the key
rotates every `DPOP_NONCE_WINDOW` seconds; the current and previous windows'
nonces are accepted.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from oauth21.errors import OAuthError
from oauth21.jwk import b64url, b64url_decode, ec_public_key, es256_verify, thumbprint

ALLOWED_ALGS = ("ES256", "ES384", "RS256", "PS256", "EdDSA")
PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
IAT_LEEWAY = 5
MAX_PROOF_BYTES = 8192
_DEFAULT_PORTS = {"http": 80, "https": 443}


class InvalidDpopProof(OAuthError):
    error = "invalid_dpop_proof"
    default_description = "The DPoP proof is invalid"


class UseDpopNonce(OAuthError):
    error = "use_dpop_nonce"
    default_description = "Resend the request with the DPoP nonce this server provided"

    def __init__(self, nonce: str, description: str | None = None):
        super().__init__(description, {"DPoP-Nonce": nonce})
        self.nonce = nonce


@dataclass(frozen=True)
class Proof:
    jkt: str
    jti: str
    iat: int


def access_token_hash(token: str) -> str:
    return b64url(hashlib.sha256(token.encode("ascii", "replace")).digest())


def normalize_htu(url: str) -> str | None:
    """Scheme and host lower-cased, default port dropped, no query or fragment."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        host = f"{host}:{port}"
    return f"{scheme}://{host}{parts.path or '/'}"


class NonceIssuer:
    """Stateless nonces: window index + HMAC, under a key derived per window."""

    def __init__(self, secret: bytes, window: int, clock: Callable[[], float]):
        self._secret = secret
        self._window = window
        self._clock = clock

    def _mac(self, index: int) -> str:
        window_key = hmac.new(self._secret, b"dpop-nonce-key" + struct.pack(">Q", index), "sha256")
        mac = hmac.new(window_key.digest(), b"dpop-nonce" + struct.pack(">Q", index), "sha256")
        return b64url(mac.digest()[:16])

    def fresh(self) -> str:
        index = int(self._clock()) // self._window
        return f"{b64url(struct.pack('>Q', index))}.{self._mac(index)}"

    def valid(self, nonce: Any) -> bool:
        if not isinstance(nonce, str) or len(nonce) > 64 or nonce.count(".") != 1:
            return False
        index_b64, mac = nonce.split(".")
        try:
            raw = b64url_decode(index_b64)
        except ValueError:
            return False
        if len(raw) != 8:
            return False
        index = struct.unpack(">Q", raw)[0]
        current = int(self._clock()) // self._window
        return index in (current, current - 1) and hmac.compare_digest(mac, self._mac(index))


def _decode_segment(segment: str) -> Any:
    return json.loads(b64url_decode(segment))


def _public_jwk(header: Mapping[str, Any]) -> dict[str, Any]:
    jwk = header.get("jwk")
    if not isinstance(jwk, dict):
        raise InvalidDpopProof("The DPoP proof has no jwk header")
    if PRIVATE_MEMBERS & set(jwk):
        raise InvalidDpopProof("The DPoP proof's jwk must be a public key")
    if jwk.get("kty") not in ("EC", "RSA", "OKP"):
        raise InvalidDpopProof("The DPoP proof's jwk has an unsupported key type")
    return jwk


def _verify_es256(proof: str, jwk: Mapping[str, Any]) -> dict[str, Any]:
    """ES256 with P-256, the common case (the seed's clients), without PyJWT's overhead."""
    header_b64, payload_b64, signature_b64 = proof.split(".")
    try:
        if jwk.get("crv") != "P-256":
            raise ValueError("ES256 needs a P-256 key")
        es256_verify(
            ec_public_key(jwk),
            f"{header_b64}.{payload_b64}".encode("ascii"),
            b64url_decode(signature_b64),
        )
        claims = _decode_segment(payload_b64)
    except Exception as exc:
        raise InvalidDpopProof("The DPoP proof's signature does not verify with its jwk") from exc
    if not isinstance(claims, dict):
        raise InvalidDpopProof("The DPoP proof's payload is not an object")
    return claims


def _verify_signature(proof: str, jwk: Mapping[str, Any], alg: str) -> dict[str, Any]:
    if alg == "ES256" and jwk.get("kty") == "EC":
        return _verify_es256(proof, jwk)
    import jwt  # PyJWT: the other algorithms, and key checks per type

    try:
        key = jwt.PyJWK(dict(jwk), algorithm=alg)
        if jwk.get("kty") == "RSA" and key.key.key_size < 2048:
            raise ValueError("RSA key too small")
        claims = jwt.decode(
            proof,
            key=key.key,
            algorithms=[alg],
            options={
                "verify_signature": True,
                "verify_exp": False,
                "verify_nbf": False,
                "verify_iat": False,
                "verify_aud": False,
                "verify_iss": False,
            },
        )
    except Exception as exc:
        raise InvalidDpopProof("The DPoP proof's signature does not verify with its jwk") from exc
    if not isinstance(claims, dict):
        raise InvalidDpopProof("The DPoP proof's payload is not an object")
    return claims


class DpopVerifier:
    """Checks proofs for one deployment's settings; `record_jti` is the replay store."""

    def __init__(
        self,
        *,
        window: int,
        clock: Callable[[], float],
        record_jti: Callable[[str, str, int], bool],
        nonces: NonceIssuer | None = None,
    ):
        self._window = window
        self._clock = clock
        self._record_jti = record_jti
        self.nonces = nonces

    def verify(
        self,
        header_value: str | None,
        *,
        method: str,
        url: str,
        access_token: str | None = None,
        require_nonce: bool = False,
    ) -> Proof:
        if not header_value:
            raise InvalidDpopProof("A DPoP proof is required")
        if "," in header_value or len(header_value) > MAX_PROOF_BYTES:
            raise InvalidDpopProof("Send exactly one DPoP header")
        parts = header_value.strip().split(".")
        if len(parts) != 3:
            raise InvalidDpopProof("The DPoP proof is not a compact JWS")
        try:
            header = _decode_segment(parts[0])
        except ValueError:
            raise InvalidDpopProof("The DPoP proof's header is not valid") from None
        if not isinstance(header, dict) or header.get("typ") != "dpop+jwt":
            raise InvalidDpopProof("The DPoP proof's typ must be dpop+jwt")
        alg = header.get("alg")
        if alg not in ALLOWED_ALGS:
            raise InvalidDpopProof(f"The DPoP proof's alg must be one of {', '.join(ALLOWED_ALGS)}")
        jwk = _public_jwk(header)
        claims = _verify_signature(header_value.strip(), jwk, str(alg))
        proof = self._check_claims(claims, jwk, method, url, access_token)
        if require_nonce:
            if self.nonces is None:
                raise RuntimeError("DPoP nonces are required but no nonce secret is loaded")
            if not self.nonces.valid(claims.get("nonce")):
                raise UseDpopNonce(self.nonces.fresh())
        if not self._record_jti(proof.jkt, proof.jti, proof.iat + self._window + IAT_LEEWAY):
            raise InvalidDpopProof("The DPoP proof was already used")
        return proof

    def _check_claims(
        self,
        claims: Mapping[str, Any],
        jwk: Mapping[str, Any],
        method: str,
        url: str,
        access_token: str | None,
    ) -> Proof:
        jti, iat = claims.get("jti"), claims.get("iat")
        if not isinstance(jti, str) or not 0 < len(jti) <= 256:
            raise InvalidDpopProof("The DPoP proof needs a jti")
        if claims.get("htm") != method:
            raise InvalidDpopProof("The DPoP proof's htm does not match the request method")
        htu = claims.get("htu")
        if not isinstance(htu, str) or normalize_htu(htu) != normalize_htu(url):
            raise InvalidDpopProof("The DPoP proof's htu does not match the request URL")
        if isinstance(iat, bool) or not isinstance(iat, int | float) or not math.isfinite(iat):
            raise InvalidDpopProof("The DPoP proof needs an iat")
        now = self._clock()
        if iat > now + IAT_LEEWAY or iat < now - self._window - IAT_LEEWAY:
            raise InvalidDpopProof("The DPoP proof's iat is outside the acceptable window")
        if access_token is not None:
            ath = claims.get("ath")
            if not isinstance(ath, str) or not hmac.compare_digest(
                ath, access_token_hash(access_token)
            ):
                raise InvalidDpopProof("The DPoP proof's ath does not match the access token")
        try:
            jkt = thumbprint(jwk)
        except ValueError:
            raise InvalidDpopProof("The DPoP proof's jwk is incomplete") from None
        return Proof(jkt=jkt, jti=jti, iat=int(iat))
