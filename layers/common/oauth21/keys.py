"""Signing keys: KMS-protected, rotated, published as a JWKS (RFC 7517).

Two modes (`SIGNING_MODE`):

- `envelope` (default): rotation generates an EC P-256 key, encrypts its
  private half with KMS Encrypt (encryption context: the kid) and stores it
  with the public JWK. A function decrypts the current and the next key once
  per cold start and signs ES256 locally, so no warm request calls KMS, and
  KMS's quota never limits token issuance.
- `kms-sign`: the configured ECC_NIST_P256 KMS key signs every token (KMS Sign,
  its DER signature converted to JOSE form); the private key never leaves KMS.

Rotation publishes the next key a whole rotation period before it signs, and
keeps a retired key published until every token it signed has expired.
Because functions load the next key's private half at cold start, a warm
function that notices a rotation (it re-reads the table every
`KEY_REFRESH_SECONDS`) starts signing with it without a KMS call.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from oauth21.jwk import (
    b64url,
    b64url_decode,
    ec_public_jwk,
    ec_public_key,
    es256_verify,
    thumbprint,
)
from oauth21.store.signing_keys import CURRENT, NEXT, RETIRED, SigningKeyTable

ALG = "ES256"
_ECDSA = ec.ECDSA(hashes.SHA256())


def _jose_signature(der: bytes) -> bytes:
    r, s = decode_dss_signature(der)
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def _encode_segment(value: Mapping[str, Any]) -> str:
    return b64url(json.dumps(value, separators=(",", ":")).encode("utf-8"))


def _new_envelope_record(kms: Any, kms_key_id: str, status: str, now: int) -> dict[str, Any]:
    private_key = ec.generate_private_key(ec.SECP256R1())
    jwk = ec_public_jwk(private_key.public_key())
    kid = thumbprint(jwk)
    der = private_key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    encrypted = kms.encrypt(KeyId=kms_key_id, Plaintext=der, EncryptionContext={"kid": kid})
    return {
        "kid": kid,
        "status": status,
        "alg": ALG,
        "public_jwk": json.dumps(jwk),
        "encrypted_private_key": encrypted["CiphertextBlob"],
        "created_at": now,
        "activated_at": now if status == CURRENT else None,
    }


def _kms_public_record(kms: Any, kms_key_id: str, now: int) -> dict[str, Any]:
    answer = kms.get_public_key(KeyId=kms_key_id)
    public_key = serialization.load_der_public_key(answer["PublicKey"])
    if not isinstance(public_key, ec.EllipticCurvePublicKey):
        raise ValueError("the kms-sign key must be ECC_NIST_P256")
    jwk = ec_public_jwk(public_key)
    return {
        "kid": thumbprint(jwk),
        "status": CURRENT,
        "alg": ALG,
        "public_jwk": json.dumps(jwk),
        "kms_key_id": answer["KeyId"],
        "created_at": now,
        "activated_at": now,
    }


def rotate(table: SigningKeyTable, kms: Any, settings: Any, now: float | None = None) -> dict:
    """Advance the key schedule by one step; what `rotate_keys` and `oauthctl` run.

    envelope: promote `next` to `current`, retire the old `current`, create a
    new `next`. Without a `next` (a new stack) it creates what is missing: a
    `next`, and a `current` too when there is none usable in this mode.
    kms-sign: publish the configured KMS key as `current` and retire any other
    (that mode has no `next`: a new KMS key signs from the moment it is
    configured).
    """
    at = int(time.time() if now is None else now)
    table.ensure_nonce_secret(kms, settings.envelope_kms_key_id, at)
    records = table.all()
    retired_until = at + settings.max_token_lifetime + settings.key_publication_margin
    current = [r for r in records if r.get("status") == CURRENT]
    if settings.signing_mode == "kms-sign":
        record = _kms_public_record(kms, settings.signing_kms_key_id, at)
        if any(r["kid"] == record["kid"] for r in current):
            return {"current": record["kid"], "changed": False}
        retire = [r["kid"] for r in records if r.get("status") in (CURRENT, NEXT)]
        table.apply(create=[record], retire=retire, now=at, retired_until=retired_until)
        return {"current": record["kid"], "retired": retire, "changed": True}

    key_id = settings.envelope_kms_key_id
    envelope = "encrypted_private_key"
    upcoming = [r["kid"] for r in records if r.get("status") == NEXT and envelope in r]
    usable = [r["kid"] for r in current if envelope in r]
    create = [_new_envelope_record(kms, key_id, NEXT, at)]
    promote = upcoming[0] if upcoming else None
    if promote or not usable:
        retire = [r["kid"] for r in current]
    else:
        retire = []
    if not promote and not usable:
        create.append(_new_envelope_record(kms, key_id, CURRENT, at))
    table.apply(create=create, promote=promote, retire=retire, now=at, retired_until=retired_until)
    new_current = promote or (usable[0] if usable else create[-1]["kid"])
    return {"current": new_current, "next": create[0]["kid"], "retired": retire, "changed": True}


def has_signing_key(table: SigningKeyTable, settings: Any) -> bool:
    """Is there a current key usable in the configured mode?"""
    field = "kms_key_id" if settings.signing_mode == "kms-sign" else "encrypted_private_key"
    return any(r.get("status") == CURRENT and field in r for r in table.all())


def is_published(record: Mapping[str, Any], now: float) -> bool:
    """Keys stay in the JWKS until every token they signed has expired."""
    if record.get("status") != RETIRED:
        return True
    return now < int(record.get("expires_at", 0))


@dataclass(frozen=True)
class _SigningKey:
    kid: str
    sign: Callable[[bytes], bytes]


class Signer:
    """Signs JWTs with the current key, refreshing the schedule now and then."""

    def __init__(
        self,
        table: SigningKeyTable,
        kms: Any,
        settings: Any,
        clock: Callable[[], float] = time.time,
    ):
        self._table = table
        self._kms = kms
        self._settings = settings
        self._clock = clock
        self._private: dict[str, ec.EllipticCurvePrivateKey] = {}
        self._current: _SigningKey | None = None
        self._loaded_at = float("-inf")
        self._lock = threading.Lock()

    def load(self) -> Signer:
        """Read the key schedule and decrypt what signing needs.

        At cold start that is the current and the next key, so that a later
        rotation (seen on a refresh) switches keys without a KMS call. A
        refresh decrypts only a current key not yet held: an instance that
        outlives two rotations pays one KMS call then.
        """
        cold = self._current is None
        records = self._table.all()
        by_status = {r.get("status"): r for r in records if r.get("status") in (CURRENT, NEXT)}
        current = by_status.get(CURRENT)
        if current is None:
            raise RuntimeError("no current signing key: run `oauthctl keys rotate`")
        if self._settings.signing_mode == "kms-sign":
            self._current = _SigningKey(current["kid"], self._kms_signer(current["kms_key_id"]))
        else:
            wanted = [current] + ([by_status[NEXT]] if cold and NEXT in by_status else [])
            for record in wanted:
                if record["kid"] not in self._private:
                    self._private[record["kid"]] = self._decrypt(record)
            key = self._private[current["kid"]]
            self._current = _SigningKey(current["kid"], lambda data: key.sign(data, _ECDSA))
        self._loaded_at = self._clock()
        return self

    def _decrypt(self, record: Mapping[str, Any]) -> ec.EllipticCurvePrivateKey:
        plain = self._kms.decrypt(
            CiphertextBlob=record["encrypted_private_key"],
            EncryptionContext={"kid": record["kid"]},
        )["Plaintext"]
        key = serialization.load_der_private_key(plain, password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise RuntimeError("signing key is not an EC key")
        return key

    def _kms_signer(self, kms_key_id: str) -> Callable[[bytes], bytes]:
        def sign(data: bytes) -> bytes:
            answer = self._kms.sign(
                KeyId=kms_key_id,
                Message=data,
                MessageType="RAW",
                SigningAlgorithm="ECDSA_SHA_256",
            )
            return answer["Signature"]

        return sign

    def _key(self) -> _SigningKey:
        if self._clock() - self._loaded_at >= self._settings.key_refresh_seconds:
            with self._lock:
                if self._clock() - self._loaded_at >= self._settings.key_refresh_seconds:
                    self.load()
        assert self._current is not None
        return self._current

    def sign_jwt(self, claims: Mapping[str, Any], typ: str) -> str:
        key = self._key()
        header = {"alg": ALG, "typ": typ, "kid": key.kid}
        signing_input = f"{_encode_segment(header)}.{_encode_segment(claims)}".encode("ascii")
        signature = _jose_signature(key.sign(signing_input))
        return f"{signing_input.decode('ascii')}.{b64url(signature)}"


class PublicKeys:
    """The published keys: the JWKS document and signature verification.

    Re-read every `KEY_REFRESH_SECONDS`, and on an unknown kid at most once
    every `unknown_kid_interval` seconds (so garbage kids cannot turn every
    request into a table scan).
    """

    def __init__(
        self,
        table: SigningKeyTable,
        settings: Any,
        clock: Callable[[], float] = time.time,
        unknown_kid_interval: float = 10.0,
    ):
        self._table = table
        self._settings = settings
        self._clock = clock
        self._unknown_kid_interval = unknown_kid_interval
        self._records: dict[str, dict[str, Any]] = {}
        self._keys: dict[str, ec.EllipticCurvePublicKey] = {}
        self._loaded_at = float("-inf")
        self._lock = threading.Lock()

    def load(self) -> PublicKeys:
        records = self._table.all()
        keys = {r["kid"]: ec_public_key(json.loads(r["public_jwk"])) for r in records}
        with self._lock:
            self._records, self._keys = {r["kid"]: r for r in records}, keys
            self._loaded_at = self._clock()
        return self

    def _fresh(self) -> None:
        if self._clock() - self._loaded_at >= self._settings.key_refresh_seconds:
            self.load()

    def find(self, kid: str) -> ec.EllipticCurvePublicKey | None:
        self._fresh()
        now = self._clock()
        record = self._records.get(kid)
        if record is None and now - self._loaded_at >= self._unknown_kid_interval:
            self.load()
            record = self._records.get(kid)
        if record is None or not is_published(record, now):
            return None
        return self._keys.get(kid)

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        self._fresh()
        now = self._clock()
        order = {NEXT: 0, CURRENT: 1, RETIRED: 2}
        published = sorted(
            (r for r in self._records.values() if is_published(r, now)),
            key=lambda r: (order.get(r.get("status", ""), 3), -int(r.get("created_at", 0))),
        )
        return {
            "keys": [
                {**json.loads(r["public_jwk"]), "kid": r["kid"], "alg": ALG, "use": "sig"}
                for r in published
            ]
        }


class InvalidSignature(Exception):
    pass


def verify_jws(token: str, keys: PublicKeys) -> tuple[dict[str, Any], dict[str, Any]]:
    """Check an ES256 compact JWS made by this server; return (header, claims).

    Every failure is one opaque `InvalidSignature`: callers say "invalid
    token", never which part was wrong.
    """
    try:
        header_b64, payload_b64, signature_b64 = token.split(".")
        header = json.loads(b64url_decode(header_b64))
        if not isinstance(header, dict) or header.get("alg") != ALG:
            raise ValueError("alg")
        public_key = keys.find(str(header.get("kid", "")))
        if public_key is None:
            raise ValueError("kid")
        signing_input = f"{header_b64}.{payload_b64}".encode("ascii")
        es256_verify(public_key, signing_input, b64url_decode(signature_b64))
        claims = json.loads(b64url_decode(payload_b64))
        if not isinstance(claims, dict):
            raise ValueError("claims")
        return header, claims
    except Exception as exc:
        raise InvalidSignature(type(exc).__name__) from None
