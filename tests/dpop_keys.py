"""Real DPoP keys and proofs for tests: ES256, ES384, RS256, PS256, EdDSA."""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from oauth21.jwk import b64url, thumbprint


class ProofKey:
    def __init__(self, alg: str = "ES256"):
        self.alg = alg
        if alg == "ES256":
            self.private: Any = ec.generate_private_key(ec.SECP256R1())
        elif alg == "ES384":
            self.private = ec.generate_private_key(ec.SECP384R1())
        elif alg in ("RS256", "PS256"):
            self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        elif alg == "EdDSA":
            self.private = ed25519.Ed25519PrivateKey.generate()
        else:
            raise ValueError(alg)
        algorithm = jwt.get_algorithm_by_name(alg)
        self.public_jwk: dict[str, Any] = json.loads(algorithm.to_jwk(self.private.public_key()))
        self.public_jwk.pop("alg", None)
        self.private_jwk: dict[str, Any] = json.loads(algorithm.to_jwk(self.private))

    @property
    def jkt(self) -> str:
        return thumbprint(self.public_jwk)

    def proof(
        self,
        method: str,
        url: str,
        *,
        access_token: str | None = None,
        nonce: str | None = None,
        iat: float | None = None,
        jti: str | None = None,
        header: dict[str, Any] | None = None,
        claims: dict[str, Any] | None = None,
        jwk: dict[str, Any] | None = None,
    ) -> str:
        body: dict[str, Any] = {
            "jti": jti or secrets.token_urlsafe(16),
            "htm": method,
            "htu": url,
            "iat": int(time.time() if iat is None else iat),
        }
        if access_token is not None:
            body["ath"] = b64url(hashlib.sha256(access_token.encode()).digest())
        if nonce is not None:
            body["nonce"] = nonce
        body.update(claims or {})
        headers = {"typ": "dpop+jwt", "jwk": jwk or self.public_jwk, **(header or {})}
        return jwt.encode(body, self.private, algorithm=self.alg, headers=headers)


def unsigned(method: str, url: str, key: ProofKey, alg: str = "none", secret: bytes = b"") -> str:
    """A proof with alg none or an HMAC: what must never be accepted."""
    header = {"typ": "dpop+jwt", "alg": alg, "jwk": key.public_jwk}
    body = {"jti": secrets.token_urlsafe(8), "htm": method, "htu": url, "iat": int(time.time())}
    segments = [b64url(json.dumps(part).encode()) for part in (header, body)]
    signing_input = ".".join(segments)
    if alg == "none":
        return signing_input + "."
    import hmac

    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(mac)}"
