"""oauth21.tokens refresh tokens: '<grant key>.<secret>' parses back exactly; nothing else does."""

from __future__ import annotations

import re

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from oauth21.hashing import sha256_hex
from oauth21.jwk import b64url
from oauth21.tokens import (
    PresentedRefreshToken,
    grant_id_of,
    grant_key_of,
    is_jwt_shaped,
    new_grant_key,
    new_refresh_secret,
    parse_refresh_token,
    refresh_token,
)
from tests.property.support import (
    B64URL_ALPHABET,
    PROPERTY,
    any_text,
    b64url_text,
    ends_in_newline,
)

PART = re.compile(r"[A-Za-z0-9_-]{43}")
# What secrets.token_urlsafe(32) makes: 32 random bytes, unpadded base64url.
random_parts = st.binary(min_size=32, max_size=32).map(b64url)


def token_like() -> st.SearchStrategy[str]:
    return st.one_of(
        any_text,
        st.builds(lambda a, b: f"{a}.{b}", b64url_text(40, 46), b64url_text(40, 46)),
        st.builds(lambda a, b, c: f"{a}.{b}{c}", random_parts, random_parts, any_text),
        st.builds(lambda a, b, c: f"{c}{a}.{b}", random_parts, random_parts, any_text),
        st.builds(lambda a, b: f"{a}{b}", random_parts, random_parts),
        st.builds(
            lambda a, b, at, end: f"{a}.{b}"[:at] + end + f"{a}.{b}"[at:],
            random_parts,
            random_parts,
            st.sampled_from([0, 43, 44, 87]),
            st.sampled_from([" ", "\t", "\r", "\n", "="]),
        ),
    )


@settings(PROPERTY, max_examples=400)
@given(token_like())
def test_parse_refresh_token_accepts_only_two_43_character_parts(token: str) -> None:
    assume(not ends_in_newline(token))
    presented = parse_refresh_token(token)
    key, dot, secret = token.partition(".")
    well_formed = bool(dot and PART.fullmatch(key) and PART.fullmatch(secret))
    if not well_formed:
        assert presented is None
        return
    assert presented == PresentedRefreshToken(grant_id_of(key), sha256_hex(secret))


@settings(PROPERTY, max_examples=200)
@given(random_parts, random_parts)
def test_a_built_refresh_token_parses_back(key: str, secret: str) -> None:
    token = refresh_token(key, secret)
    assert grant_key_of(token) == key
    assert not is_jwt_shaped(token)
    assert parse_refresh_token(token) == PresentedRefreshToken(grant_id_of(key), sha256_hex(secret))


def test_new_grant_keys_and_secrets_parse_back() -> None:
    for _ in range(200):
        key, grant_id = new_grant_key()
        secret, secret_hash = new_refresh_secret()
        assert parse_refresh_token(refresh_token(key, secret)) == PresentedRefreshToken(
            grant_id, secret_hash
        )


@settings(PROPERTY, max_examples=300)
@given(random_parts, random_parts, st.data())
def test_a_changed_character_names_another_grant_or_secret(
    key: str, secret: str, data: st.DataObject
) -> None:
    token = refresh_token(key, secret)
    at = data.draw(st.integers(0, len(token) - 1))
    replacement = data.draw(
        st.sampled_from(B64URL_ALPHABET + ".=+/ ").filter(lambda c: c != token[at])
    )
    mutated = token[:at] + replacement + token[at + 1 :]
    original = parse_refresh_token(token)
    presented = parse_refresh_token(mutated)
    assert original is not None
    if presented is not None:
        assert (presented.grant_id, presented.secret_hash) != (
            original.grant_id,
            original.secret_hash,
        )
        assert (presented.grant_id == original.grant_id) == (at > len(key))


@settings(PROPERTY, max_examples=200)
@given(any_text | st.text(st.sampled_from("a."), max_size=8))
def test_is_jwt_shaped_means_exactly_three_segments(token: str) -> None:
    assert is_jwt_shaped(token) is (len(token.split(".")) == 3)


# --- Bug found by the properties above (do not fix here; see the report) -----------


def test_a_refresh_token_with_a_trailing_newline_is_malformed() -> None:
    key, secret = new_grant_key()[0], new_refresh_secret()[0]
    assert parse_refresh_token(refresh_token(key, secret) + "\n") is None
