"""oauth21.scopes (RFC 6749 3.3): a parsed scope is well-formed; a granted one is permitted."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oauth21.errors import InvalidRequest, InvalidScope
from oauth21.scopes import grant_scope, parse_scope
from tests.property.support import PROPERTY, any_text

# scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
SCOPE_TOKEN = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+")
scope_tokens = st.sampled_from(["read", "write", "admin", "openid", "a:b", "x"]) | st.text(
    st.sampled_from([chr(c) for c in range(0x21, 0x7F) if c not in (0x22, 0x5C)]),
    min_size=1,
    max_size=8,
)
requested_scopes = st.one_of(
    st.lists(scope_tokens, min_size=1, max_size=5).map(" ".join),
    st.lists(
        scope_tokens
        | st.sampled_from(["", "\t", "r\u00e9ad", '"', "\\"])
        | st.builds(lambda s, end: s + end, scope_tokens, st.sampled_from(["\t", "\r", "\n"])),
        max_size=5,
    ).map(" ".join),
    any_text,
)


@settings(PROPERTY, max_examples=300)
@given(requested_scopes)
def test_parse_scope_yields_rfc6749_tokens_or_refuses(raw: str) -> None:
    try:
        parsed = parse_scope(raw)
    except InvalidRequest:
        assert not all(SCOPE_TOKEN.fullmatch(s) for s in raw.split(" "))
        return
    assert parsed, "an accepted scope names at least one token"
    assert all(SCOPE_TOKEN.fullmatch(s) for s in parsed)
    assert len(set(parsed)) == len(parsed)
    assert parsed == list(dict.fromkeys(raw.split(" ")))


@settings(PROPERTY, max_examples=200)
@given(st.lists(scope_tokens, min_size=1, max_size=6))
def test_parse_scope_round_trips_a_token_list(tokens: list[str]) -> None:
    assert parse_scope(" ".join(tokens)) == list(dict.fromkeys(tokens))


token_sets = st.lists(scope_tokens, max_size=6)


@settings(PROPERTY, max_examples=400)
@given(st.none() | requested_scopes, token_sets, token_sets)
def test_a_granted_scope_is_within_allowed_and_supported(
    requested: str | None, allowed: list[str], supported: list[str]
) -> None:
    try:
        granted = grant_scope(requested, allowed, supported)
    except (InvalidRequest, InvalidScope):
        assert requested is not None
        return
    permitted = set(allowed) & set(supported)
    tokens = granted.split(" ") if granted else []
    assert set(tokens) <= permitted
    if requested is None:
        assert tokens == [s for s in allowed if s in permitted]
    else:
        assert tokens == list(dict.fromkeys(requested.split(" ")))


@settings(PROPERTY, max_examples=150)
@given(st.lists(scope_tokens, min_size=1, max_size=4), token_sets, token_sets, st.data())
def test_any_permitted_request_is_granted_as_asked(
    permitted: list[str], only_allowed: list[str], only_supported: list[str], data: st.DataObject
) -> None:
    allowed = [*only_allowed, *permitted]
    supported = [*permitted, *(s for s in only_supported if s not in allowed)]
    asked = data.draw(st.lists(st.sampled_from(permitted), min_size=1, max_size=4))
    assert grant_scope(" ".join(asked), allowed, supported) == " ".join(dict.fromkeys(asked))
    outsider = data.draw(scope_tokens.filter(lambda s: s not in permitted))
    with pytest.raises(InvalidScope):
        grant_scope(" ".join([*asked, outsider]), allowed, supported)


# --- Bug found by the properties above (do not fix here; see the report) -----------


def test_a_scope_with_a_trailing_newline_is_malformed() -> None:
    with pytest.raises(InvalidRequest):
        parse_scope("read\n")
