"""oauth21.keys.verify_jws: only this server's untouched ES256 tokens verify; every other
string, and every one-character change to a real token, is one opaque InvalidSignature
(except a change confined to the signature's unused base64 bits, which changes nothing)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from hypothesis import given, settings
from hypothesis import strategies as st

from oauth21.jwk import b64url
from oauth21.keys import InvalidSignature, verify_jws
from tests.property.support import (
    B64URL_ALPHABET,
    PROPERTY,
    any_text,
    b64url_text,
    json_values,
    key_ring,
    utf8_text,
)

claims_dicts = st.dictionaries(utf8_text, json_values, max_size=6)


def segment(value: Any) -> str:
    return b64url(json.dumps(value).encode())


@st.composite
def forged_tokens(draw: st.DrawFn) -> str:
    """Tokens that get past each check in turn: a real kid, an ES256 header, a
    signature of the right length, a signature by some other key."""
    ring = key_ring()
    header = draw(
        st.fixed_dictionaries(
            {"alg": st.sampled_from(["ES256", "none", "HS256", "es256"]) | json_values},
            optional={
                "kid": st.sampled_from([ring.kid, ring.table.records[1]["kid"]]) | json_values,
                "typ": st.just("at+jwt") | json_values,
            },
        )
        | json_values
    )
    header_b64 = draw(st.just(segment(header)) | b64url_text(0, 40) | any_text)
    payload_b64 = draw(st.just(segment(draw(claims_dicts))) | b64url_text(0, 40) | any_text)
    kind = draw(st.sampled_from(["random", "other-key", "text", "empty"]))
    if kind == "random":
        signature_b64 = b64url(draw(st.binary(min_size=62, max_size=66)))
    elif kind == "other-key":
        other = ec.derive_private_key(draw(st.integers(1, 2**64)), ec.SECP256R1())
        der = other.sign(f"{header_b64}.{payload_b64}".encode(), ec.ECDSA(hashes.SHA256()))
        r, s = decode_dss_signature(der)
        signature_b64 = b64url(r.to_bytes(32, "big") + s.to_bytes(32, "big"))
    elif kind == "text":
        signature_b64 = draw(any_text)
    else:
        signature_b64 = ""
    separator = draw(st.sampled_from([".", ".", ".", "", "..", "\n"]))
    return separator.join([header_b64, payload_b64, signature_b64])


@settings(PROPERTY, max_examples=300)
@given(any_text | forged_tokens())
def test_anything_but_our_tokens_is_invalid_signature(token: str) -> None:
    ring = key_ring()
    scans = ring.table.scans
    with pytest.raises(InvalidSignature):
        verify_jws(token, ring.public_keys)
    # Unknown kids do not turn requests into table scans (the clock stands still).
    assert ring.table.scans == scans


@settings(PROPERTY, max_examples=100)
@given(claims_dicts, utf8_text)
def test_our_tokens_verify_with_their_claims(claims: dict[str, Any], typ: str) -> None:
    ring = key_ring()
    token = ring.signer.sign_jwt(claims, typ)
    header, verified = verify_jws(token, ring.public_keys)
    assert header == {"alg": "ES256", "typ": typ, "kid": ring.kid}
    assert verified == claims


@st.composite
def one_character_changes(draw: st.DrawFn) -> tuple[str, str, int]:
    ring = key_ring()
    token = ring.signer.sign_jwt(draw(claims_dicts), "at+jwt")
    at = draw(st.integers(0, len(token) - 1))
    alphabet = B64URL_ALPHABET + ".=+/ \n\u00e9"
    change = draw(st.sampled_from(["replace", "insert", "delete"]))
    if change == "replace":
        character = draw(st.sampled_from(alphabet).filter(lambda c: c != token[at]))
        mutated = token[:at] + character + token[at + 1 :]
    elif change == "insert":
        at = draw(st.integers(0, len(token)))
        mutated = token[:at] + draw(st.sampled_from(alphabet)) + token[at:]
    else:
        mutated = token[:at] + token[at + 1 :]
    return token, mutated, at


@settings(PROPERTY, max_examples=300)
@given(one_character_changes())
def test_a_changed_token_is_rejected_unless_only_unused_bits_changed(
    case: tuple[str, str, int],
) -> None:
    token, mutated, at = case
    ring = key_ring()
    original = verify_jws(token, ring.public_keys)
    try:
        verified = verify_jws(mutated, ring.public_keys)
    except InvalidSignature:
        return
    assert verified == original
    # Only the last character of the signature has bits that carry no data.
    assert len(mutated) == len(token) and at == len(token) - 1


@settings(PROPERTY, max_examples=60)
@given(claims_dicts, st.sampled_from(B64URL_ALPHABET))
def test_the_signatures_spare_bits_are_ignored(claims: dict[str, Any], last: str) -> None:
    """64 bytes are 86 base64url characters; the last one's low 4 bits carry nothing."""
    ring = key_ring()
    token = ring.signer.sign_jwt(claims, "at+jwt")
    head, signature = token.rsplit(".", 1)
    assert len(signature) == 86
    mutated = f"{head}.{signature[:-1]}{last}"
    same_data = B64URL_ALPHABET.index(last) >> 4 == B64URL_ALPHABET.index(signature[-1]) >> 4
    if same_data:
        assert verify_jws(mutated, ring.public_keys) == verify_jws(token, ring.public_keys)
    else:
        with pytest.raises(InvalidSignature):
            verify_jws(mutated, ring.public_keys)


@settings(PROPERTY, max_examples=40)
@given(claims_dicts)
def test_a_token_of_another_key_with_our_kid_is_rejected(claims: dict[str, Any]) -> None:
    ring = key_ring()
    token = ring.signer.sign_jwt(claims, "at+jwt")
    head = token.rsplit(".", 1)[0]
    impostor = ec.generate_private_key(ec.SECP256R1())
    r, s = decode_dss_signature(impostor.sign(head.encode(), ec.ECDSA(hashes.SHA256())))
    forged = f"{head}.{b64url(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"
    with pytest.raises(InvalidSignature):
        verify_jws(forged, ring.public_keys)
    # And the padded standard-base64 spelling of a real signature is not ours either.
    padded = token.rsplit(".", 1)[1] + "=="
    with pytest.raises(InvalidSignature):
        verify_jws(f"{head}.{padded}", ring.public_keys)
    standard = base64.b64encode(base64.urlsafe_b64decode(padded)).decode()
    if standard != padded:
        with pytest.raises(InvalidSignature):
            verify_jws(f"{head}.{standard}", ring.public_keys)
