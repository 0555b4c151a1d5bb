"""Shared pieces of the property tests: the settings profile, strategies, fakes.

Nothing here touches AWS or a database: signing keys live in an in-memory
table whose records are made by `oauth21.keys` itself, with a KMS stand-in
whose "encryption" is the identity.
"""

from __future__ import annotations

import re
from typing import Any, cast

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from oauth21.config import Settings
from oauth21.keys import PublicKeys, Signer, _new_envelope_record
from oauth21.store.signing_keys import CURRENT, NEXT, SigningKeyTable
from tests.support import FakeClock

# Deterministic (the examples depend only on each test's source), no example
# database, no deadline (the first ECDSA call of a process is slow). Each test
# sets its own max_examples on top of this.
PROPERTY = settings(
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=False,
    suppress_health_check=[HealthCheck.too_slow],
)

B64URL_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
UNRESERVED = B64URL_ALPHABET + ".~"
B64URL_RE = re.compile(r"[A-Za-z0-9_-]*")

# Text as untrusted input can carry it: every code point, lone surrogates
# included (JSON's "\ud800" escapes reach a Lambda handler as such).
any_char = st.characters(exclude_categories=()) | st.characters(categories=["Cs"])
any_text = st.text(any_char, max_size=60)
# Text that a strict UTF-8 decoder can produce (what parse_pairs hands on).
utf8_text = st.text(max_size=40)


def b64url_text(min_size: int, max_size: int | None = None) -> st.SearchStrategy[str]:
    return st.text(st.sampled_from(B64URL_ALPHABET), min_size=min_size, max_size=max_size)


def ends_in_newline(value: str | None) -> bool:
    """The one input class behind the `$`-anchored regex bugs (see the xfail tests)."""
    return value is not None and value.endswith("\n")


json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | utf8_text
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(utf8_text, inner, max_size=3),
    max_leaves=8,
)


class FakeKms:
    """Envelope encryption without KMS: the ciphertext is the plaintext."""

    def encrypt(self, *, KeyId: str, Plaintext: bytes, EncryptionContext: Any) -> dict:  # noqa: N803
        return {"CiphertextBlob": Plaintext, "KeyId": KeyId}

    def decrypt(self, *, CiphertextBlob: bytes, EncryptionContext: Any) -> dict:  # noqa: N803
        return {"Plaintext": CiphertextBlob}


class FakeKeyTable:
    """The signing-keys table as `Signer` and `PublicKeys` read it (`all()`)."""

    def __init__(self, records: list[dict[str, Any]]):
        self.records = records
        self.scans = 0

    def all(self) -> list[dict[str, Any]]:
        self.scans += 1
        return [dict(record) for record in self.records]


class KeyRing:
    """A current and a next key, and the signer and verifier built on them."""

    def __init__(self, now: float = 1_900_000_000.0):
        self.clock = FakeClock(now)
        self.settings = Settings(issuer="https://auth.example.test")
        kms = FakeKms()
        self.table = FakeKeyTable(
            [
                _new_envelope_record(kms, "alias/property", CURRENT, int(now)),
                _new_envelope_record(kms, "alias/property", NEXT, int(now)),
            ]
        )
        self.kid = self.table.records[0]["kid"]
        table = cast(SigningKeyTable, self.table)  # it has the one method they call
        self.signer = Signer(table, kms, self.settings, self.clock).load()
        self.public_keys = PublicKeys(table, self.settings, self.clock).load()


_RING: KeyRing | None = None


def key_ring() -> KeyRing:
    """One key ring per process: generating keys is the slow part."""
    global _RING
    if _RING is None:
        _RING = KeyRing()
    return _RING
