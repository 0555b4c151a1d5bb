"""oauth21.jwk: unpadded base64url is exact and strict; RFC 7638 thumbprints are canonical."""

from __future__ import annotations

import base64
import hashlib
import json
import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oauth21.jwk import THUMBPRINT_MEMBERS, b64url, b64url_decode, thumbprint
from tests.property.support import (
    B64URL_ALPHABET,
    B64URL_RE,
    PROPERTY,
    any_char,
    any_text,
    b64url_text,
    json_values,
    utf8_text,
)


@settings(PROPERTY, max_examples=300)
@given(st.binary(max_size=100))
def test_b64url_round_trips(data: bytes) -> None:
    text = b64url(data)
    assert B64URL_RE.fullmatch(text)
    assert len(text) == -(-len(data) * 4 // 3)  # ceil(4n/3): no padding
    assert b64url_decode(text) == data
    assert text == base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


@settings(PROPERTY, max_examples=400)
@given(b64url_text(0, 90))
def test_b64url_decode_of_the_alphabet(text: str) -> None:
    """Over the alphabet, decoding fails only on an impossible length, and is
    exact up to the unused low bits of the last character."""
    if len(text) % 4 == 1:
        with pytest.raises(ValueError):
            b64url_decode(text)
        return
    data = b64url_decode(text)
    assert len(data) == len(text) * 3 // 4
    again = b64url(data)
    assert again[:-1] == text[:-1]
    if text:
        # The last character differs at most in bits that carry no data.
        spare = {2: 4, 3: 2, 0: 0}[len(text) % 4]
        mask = ~((1 << spare) - 1)
        index = B64URL_ALPHABET.index
        assert index(again[-1]) & mask == index(text[-1]) & mask


@st.composite
def text_with_a_foreign_character(draw: st.DrawFn) -> str:
    good = draw(b64url_text(0, 60))
    bad = draw(
        st.sampled_from("+/=. \t\n\x00\u00e9\ud800")
        | any_char.filter(lambda c: c not in B64URL_ALPHABET)
    )
    at = draw(st.integers(0, len(good)))
    return good[:at] + bad + good[at:]


@settings(PROPERTY, max_examples=300)
@given(text_with_a_foreign_character())
def test_b64url_decode_refuses_any_other_character(text: str) -> None:
    # '=', '+', '/', whitespace, non-ASCII and lone surrogates alike.
    with pytest.raises(ValueError):
        b64url_decode(text)


@settings(PROPERTY, max_examples=100)
@given(st.one_of(st.binary(), st.integers(), st.none(), st.lists(st.integers(), max_size=2)))
def test_b64url_decode_refuses_what_is_not_text(value: Any) -> None:
    with pytest.raises(ValueError):
        b64url_decode(value)


jwk_member_values = any_text | json_values
jwk_like = st.dictionaries(
    st.sampled_from(["kty", "crv", "x", "y", "e", "n", "kid", "use", "alg"]) | utf8_text,
    st.sampled_from(["EC", "RSA", "OKP", "oct", "P-256"]) | jwk_member_values,
    max_size=8,
)


@settings(PROPERTY, max_examples=300)
@given(jwk_like)
def test_thumbprint_is_a_digest_or_a_value_error(jwk: dict[str, Any]) -> None:
    try:
        result = thumbprint(jwk)
    except ValueError:
        members = THUMBPRINT_MEMBERS.get(str(jwk.get("kty")))
        assert members is None or any(not isinstance(jwk.get(m), str) for m in members)
        return
    assert len(result) == 43
    assert B64URL_RE.fullmatch(result)


@st.composite
def complete_jwks(draw: st.DrawFn) -> dict[str, Any]:
    kty = draw(st.sampled_from(sorted(THUMBPRINT_MEMBERS)))
    jwk: dict[str, Any] = {m: draw(b64url_text(0, 50)) for m in THUMBPRINT_MEMBERS[kty]}
    jwk["kty"] = kty
    return jwk


@settings(PROPERTY, max_examples=150)
@given(
    complete_jwks(),
    st.dictionaries(utf8_text, json_values, max_size=5),
    st.randoms(use_true_random=False),
)
def test_thumbprint_ignores_extra_members_and_order(
    jwk: dict[str, Any], extra: dict[str, Any], shuffle: random.Random
) -> None:
    expected = thumbprint(jwk)
    members = THUMBPRINT_MEMBERS[jwk["kty"]]
    # RFC 7638 3.2, written out: the required members in order, no whitespace.
    canonical = "{" + ",".join(f'"{m}":{json.dumps(jwk[m])}' for m in sorted(members)) + "}"
    assert expected == b64url(hashlib.sha256(canonical.encode()).digest())
    items = [*jwk.items(), *((k, v) for k, v in extra.items() if k not in members)]
    shuffle.shuffle(items)
    assert thumbprint(dict(items)) == expected


@settings(PROPERTY, max_examples=100)
@given(complete_jwks(), st.data())
def test_thumbprint_depends_on_every_required_member(jwk: dict[str, Any], data: Any) -> None:
    member = data.draw(st.sampled_from([m for m in THUMBPRINT_MEMBERS[jwk["kty"]] if m != "kty"]))
    changed = data.draw(b64url_text(0, 50).filter(lambda v: v != jwk[member]))
    assert thumbprint({**jwk, member: changed}) != thumbprint(jwk)
