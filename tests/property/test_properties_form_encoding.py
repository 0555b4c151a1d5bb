"""oauth21.http form decoding: total on bytes, faithful to urlencode, strict on repeats."""

from __future__ import annotations

from urllib.parse import parse_qsl, quote, urlencode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oauth21.errors import InvalidRequest
from oauth21.http import parse_pairs, parse_urlencoded, single_values
from tests.property.support import PROPERTY, utf8_text

# Bytes that look like form bodies often enough to reach every branch:
# separators, good and broken percent-escapes, multi-byte UTF-8 both raw and
# escaped (whole and cut short), and arbitrary bytes in between.
FORM_PIECES = [
    b"a",
    b"b",
    b"client_id",
    b"=",
    b"&",
    b"+",
    b"%",
    b"%2",
    b"%41",
    b"%2B",
    b"%25",
    b"%3D",
    b"%26",
    b"%C3%A9",
    b"%c3",
    b"%A9",
    b"%e2%82%ac",
    b"%F0%9F%98",
    b"%ff",
    b"%G1",
    b"\xc3\xa9",
    b"\xc3",
    b"\xa9",
    b"\xed\xa0\x80",
    b" ",
    b"\x00",
]
form_bytes = st.lists(
    st.sampled_from(FORM_PIECES) | st.binary(min_size=1, max_size=3), max_size=24
).map(b"".join)
raw_bodies = form_bytes | st.binary(max_size=64)

pair_lists = st.lists(st.tuples(utf8_text, utf8_text), max_size=8)


@settings(PROPERTY, max_examples=500)
@given(raw_bodies)
def test_any_bytes_parse_or_are_invalid_request(raw: bytes) -> None:
    try:
        pairs = parse_pairs(raw)
    except InvalidRequest:
        with pytest.raises(InvalidRequest):
            parse_urlencoded(raw)
        return
    for name, value in pairs:
        # Decoded strictly: no lone surrogates, nothing that cannot be re-encoded.
        assert isinstance(name, str) and isinstance(value, str)
        name.encode("utf-8")
        value.encode("utf-8")
    # Empty pieces between separators are skipped; every other piece is a pair.
    assert len(pairs) == len([piece for piece in raw.split(b"&") if piece])
    try:
        params = parse_urlencoded(raw)
    except InvalidRequest:
        names = [name for name, _ in pairs]
        assert len(set(names)) < len(names), "refused without a repeated name"
        return
    assert params == {name: value for name, value in pairs if value}


@settings(PROPERTY, max_examples=300)
@given(raw_bodies)
def test_parse_pairs_agrees_with_the_standard_library(raw: bytes) -> None:
    """Whatever the strict parser accepts, urllib reads the same way."""
    try:
        text = raw.decode("utf-8")
        pairs = parse_pairs(raw)
    except (UnicodeDecodeError, InvalidRequest):
        return
    assert pairs == parse_qsl(text, keep_blank_values=True, errors="strict")


@settings(PROPERTY, max_examples=200)
@given(st.dictionaries(utf8_text, st.text(min_size=1, max_size=40), max_size=8))
def test_urlencoded_dict_round_trips(params: dict[str, str]) -> None:
    assert parse_urlencoded(urlencode(params).encode("ascii")) == params
    # Spaces as %20 rather than '+' mean the same.
    assert parse_urlencoded(urlencode(params, quote_via=quote).encode("ascii")) == params


@settings(PROPERTY, max_examples=200)
@given(pair_lists)
def test_urlencoded_pairs_round_trip_in_order(pairs: list[tuple[str, str]]) -> None:
    assert parse_pairs(urlencode(pairs).encode("ascii")) == pairs


@st.composite
def pairs_with_a_repeat(draw: st.DrawFn) -> list[tuple[str, str]]:
    pairs = draw(pair_lists)
    name = draw(utf8_text)
    for value in (draw(utf8_text), draw(utf8_text)):  # empty values count as sent
        pairs.insert(draw(st.integers(0, len(pairs))), (name, value))
    return pairs


@settings(PROPERTY, max_examples=200)
@given(pairs_with_a_repeat())
def test_a_repeated_name_is_always_refused(pairs: list[tuple[str, str]]) -> None:
    with pytest.raises(InvalidRequest, match="repeated"):
        single_values(pairs)
    with pytest.raises(InvalidRequest, match="repeated"):
        parse_urlencoded(urlencode(pairs).encode("ascii"))


@settings(PROPERTY, max_examples=200)
@given(pair_lists)
def test_single_values_keeps_each_non_empty_value(pairs: list[tuple[str, str]]) -> None:
    names = [name for name, _ in pairs]
    if len(set(names)) < len(names):
        with pytest.raises(InvalidRequest):
            single_values(pairs)
    else:
        assert single_values(pairs) == {name: value for name, value in pairs if value}
