"""The floor: the least work any implementation must do for the same request.

Per flow, on the flow's own request and token, with the libraries the server
uses (`oauth21.http.parse_urlencoded`, `hashlib`, `json`, `cryptography`'s
ES256): parse the same request, one SHA-256 where the flow needs one, one
ES256 signature (or verification) of the same token in JWS form, and the JSON
of the same token and response. A DPoP request carries a second JWS, the
proof: its verification (key from its `jwk`, RFC 7638 thumbprint) is part of
that flow's floor. Our code's time is printed as a ratio of this.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Mapping
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from oauth21.http import parse_urlencoded

_ECDSA = ec.ECDSA(hashes.SHA256())
_COMPACT = (",", ":")

Work = Callable[[], Any]


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def jwt_parts(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    header, payload, _ = token.split(".")
    return json.loads(b64url_decode(header)), json.loads(b64url_decode(payload))


def _form(event: Mapping[str, Any]) -> dict[str, str]:
    body = event.get("body") or ""
    raw = base64.b64decode(body) if event.get("isBase64Encoded") else body.encode("utf-8")
    return parse_urlencoded(raw)


def _sign(header: Mapping[str, Any], claims: Mapping[str, Any], key: Any) -> str:
    signing_input = (
        f"{b64url(json.dumps(header, separators=_COMPACT).encode())}."
        f"{b64url(json.dumps(claims, separators=_COMPACT).encode())}"
    ).encode("ascii")
    r, s = decode_dss_signature(key.sign(signing_input, _ECDSA))
    signature = b64url(r.to_bytes(32, "big") + s.to_bytes(32, "big"))
    return f"{signing_input.decode('ascii')}.{signature}"


def _verify(token: str, public_key: Any) -> dict[str, Any]:
    header_b64, payload_b64, signature_b64 = token.split(".")
    json.loads(b64url_decode(header_b64))
    signature = b64url_decode(signature_b64)
    der = encode_dss_signature(
        int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    )
    public_key.verify(der, f"{header_b64}.{payload_b64}".encode("ascii"), _ECDSA)
    claims: dict[str, Any] = json.loads(b64url_decode(payload_b64))
    return claims


def _verify_proof(proof: str) -> str:
    """An ES256 DPoP proof: key from its jwk, signature, claims, thumbprint."""
    header_b64, payload_b64, signature_b64 = proof.split(".")
    header = json.loads(b64url_decode(header_b64))
    jwk = header["jwk"]
    key = ec.EllipticCurvePublicNumbers(
        int.from_bytes(b64url_decode(jwk["x"]), "big"),
        int.from_bytes(b64url_decode(jwk["y"]), "big"),
        ec.SECP256R1(),
    ).public_key()
    signature = b64url_decode(signature_b64)
    der = encode_dss_signature(
        int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    )
    key.verify(der, f"{header_b64}.{payload_b64}".encode("ascii"), _ECDSA)
    json.loads(b64url_decode(payload_b64))
    canonical = json.dumps(
        {m: jwk[m] for m in ("crv", "kty", "x", "y")}, separators=_COMPACT, sort_keys=True
    )
    return b64url(hashlib.sha256(canonical.encode()).digest())


def issue(event: Mapping[str, Any], hashed: str, response: Mapping[str, Any]) -> Work:
    """Token-issuing flows: parse the form, SHA-256 of `hashed` (the secret, the
    code...), sign the same token's header and claims, the response's JSON."""
    header, claims = jwt_parts(response["access_token"])
    key = ec.generate_private_key(ec.SECP256R1())

    def work() -> Any:
        form = _form(event)
        hashlib.sha256(form[hashed].encode()).hexdigest()
        token = _sign(header, claims, key)
        return json.dumps({**response, "access_token": token}, separators=_COMPACT)

    return work


def issue_refresh(event: Mapping[str, Any], response: Mapping[str, Any]) -> Work:
    """The refresh grant: the SHA-256 is of the presented token's secret."""
    header, claims = jwt_parts(response["access_token"])
    key = ec.generate_private_key(ec.SECP256R1())

    def work() -> Any:
        form = _form(event)
        secret = form["refresh_token"].partition(".")[2]
        hashlib.sha256(secret.encode()).hexdigest()
        token = _sign(header, claims, key)
        return json.dumps({**response, "access_token": token}, separators=_COMPACT)

    return work


def issue_with_proof(event: Mapping[str, Any], hashed: str, response: Mapping[str, Any]) -> Work:
    """Client credentials with a DPoP proof: the proof's verification too."""
    base = issue(event, hashed, response)
    proof = event["headers"]["dpop"]

    def work() -> Any:
        _verify_proof(proof)
        return base()

    return work


def inspect(event: Mapping[str, Any], public_key: Any, response: Mapping[str, Any]) -> Work:
    """Introspection and revocation: parse the form, verify the token, its claims'
    JSON, the response's JSON."""

    def work() -> Any:
        form = _form(event)
        _verify(form["token"], public_key)
        return json.dumps(response, separators=_COMPACT)

    return work


def poll(event: Mapping[str, Any], response: Mapping[str, Any]) -> Work:
    """A device poll that is told to wait: parse, SHA-256 of the device code, the
    error's JSON (no token, so no signature)."""

    def work() -> Any:
        form = _form(event)
        hashlib.sha256(form["device_code"].encode()).hexdigest()
        return json.dumps(response, separators=_COMPACT)

    return work


def authorize(event: Mapping[str, Any], public_key: Any) -> Work:
    """The authorizer with a Bearer token: parse the header, verify, the claims' JSON."""

    def work() -> Any:
        _scheme, _, token = event["headers"]["authorization"].partition(" ")
        return _verify(token.strip(), public_key)

    return work


def authorize_dpop(event: Mapping[str, Any], public_key: Any) -> Work:
    """The authorizer with DPoP: the Bearer floor, the proof's verification and
    thumbprint, and the SHA-256 of the token for `ath`."""
    proof = event["headers"]["dpop"]

    def work() -> Any:
        _scheme, _, token = event["headers"]["authorization"].partition(" ")
        claims = _verify(token.strip(), public_key)
        b64url(hashlib.sha256(token.encode()).digest())
        _verify_proof(proof)
        return claims

    return work


STEPS = {
    "issue": "parse form + SHA-256 + ES256 sign (JWS) + JSON of token and response",
    "issue_refresh": "parse form + SHA-256 + ES256 sign (JWS) + JSON of token and response",
    "issue_with_proof": "the issue floor + proof: ES256 verify, JSON, thumbprint",
    "inspect": "parse form + ES256 verify (JWS) + JSON of claims and response",
    "poll": "parse form + SHA-256 + JSON of the response (no token)",
    "authorize": "parse header + ES256 verify (JWS) + JSON of claims",
    "authorize_dpop": "the Bearer floor + SHA-256 (ath) + proof: ES256 verify, JSON, thumbprint",
}
