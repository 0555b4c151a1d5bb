"""oauth21.pkce (RFC 7636, S256 only): strict formats, and only the right verifier verifies."""

from __future__ import annotations

import hashlib
import re

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from oauth21.errors import InvalidGrant, InvalidRequest
from oauth21.jwk import b64url
from oauth21.pkce import check_verifier_format, normalize_challenge, verify
from tests.property.support import (
    B64URL_ALPHABET,
    PROPERTY,
    UNRESERVED,
    any_text,
    b64url_text,
)

RFC7636_VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
RFC7636_CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"

verifiers = st.text(st.sampled_from(UNRESERVED), min_size=43, max_size=128)
# The seed's Kotlin client: Base64.URL_SAFE with its '=' padding.
padded_verifiers = st.builds(
    lambda body, pad: body + pad,
    b64url_text(42, 127),
    st.sampled_from(["=", "=="]),
)
challenges = b64url_text(43, 43)


def s256(verifier: str) -> str:
    return b64url(hashlib.sha256(verifier.encode("ascii")).digest())


def near_challenges() -> st.SearchStrategy[str]:
    """Challenges and things one step from being one."""
    return st.one_of(
        challenges,
        challenges.map(lambda c: c + "="),
        challenges.map(lambda c: c + "=="),
        st.builds(
            lambda c, pad: c + pad, challenges, st.text(st.sampled_from("=+/ \t\r\n"), max_size=3)
        ),
        b64url_text(40, 46),
        st.builds(lambda c, s: c + s, challenges, any_text),
        st.builds(lambda s, c: s + c, any_text, challenges),
        any_text,
    )


@settings(PROPERTY, max_examples=300)
@given(
    st.none() | near_challenges(),
    st.none() | st.sampled_from(["S256", "s256", "plain", "", "S256 "]) | any_text,
)
def test_normalize_challenge_returns_43_base64url_characters_or_refuses(
    challenge: str | None, method: str | None
) -> None:
    try:
        stored = normalize_challenge(challenge, method)
    except InvalidRequest:
        assert not (
            method == "S256"
            and challenge is not None
            and re.fullmatch(r"[A-Za-z0-9_-]{43}=?", challenge)
        )
        return
    assert method == "S256"
    assert challenge is not None and re.fullmatch(r"[A-Za-z0-9_-]{43}=?", challenge)
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", stored)
    assert challenge in (stored, stored + "=")


@settings(PROPERTY, max_examples=300)
@given(near_challenges())
def test_an_s256_challenge_is_accepted_exactly_when_well_formed(challenge: str) -> None:
    if re.fullmatch(r"[A-Za-z0-9_-]{43}=?", challenge):
        assert normalize_challenge(challenge, "S256") == challenge[:43]
    else:
        with pytest.raises(InvalidRequest):
            normalize_challenge(challenge, "S256")


@settings(PROPERTY, max_examples=300)
@given(
    st.one_of(
        verifiers,
        padded_verifiers,
        b64url_text(40, 131),
        any_text,
        st.builds(lambda v, end: v + end, verifiers, st.sampled_from([" ", "\t", "\r", "\n"])),
    )
)
def test_check_verifier_format_accepts_exactly_rfc7636_verifiers(verifier: str) -> None:
    acceptable = bool(
        re.fullmatch(r"[A-Za-z0-9._~-]{43,128}", verifier)
        or re.fullmatch(r"[A-Za-z0-9_-]{42,127}={1,2}", verifier)
    )
    if acceptable:
        check_verifier_format(verifier)
    else:
        with pytest.raises(InvalidRequest):
            check_verifier_format(verifier)


@settings(PROPERTY, max_examples=200)
@given(verifiers | padded_verifiers)
def test_a_verifier_verifies_against_its_own_challenge(verifier: str) -> None:
    check_verifier_format(verifier)
    challenge = s256(verifier)
    verify(verifier, normalize_challenge(challenge, "S256"))
    # The Kotlin client sends its challenge padded: same stored value.
    verify(verifier, normalize_challenge(challenge + "=", "S256"))


@settings(PROPERTY, max_examples=200)
@given(verifiers | padded_verifiers, verifiers | padded_verifiers)
def test_any_other_verifier_fails(verifier: str, other: str) -> None:
    assume(other != verifier)
    with pytest.raises(InvalidGrant):
        verify(other, normalize_challenge(s256(verifier), "S256"))


@settings(PROPERTY, max_examples=200)
@given(
    st.text(max_size=140),
    st.text(max_size=50) | challenges,
)
def test_verify_on_any_input_only_says_invalid_grant(verifier: str, challenge: str) -> None:
    try:
        verify(verifier, challenge)
    except InvalidGrant:
        return
    assert challenge == s256(verifier)


@settings(PROPERTY, max_examples=200)
@given(any_text | verifiers, challenges)
def test_the_grants_format_check_shields_verify(verifier: str, challenge: str) -> None:
    """The authorization_code grant checks the format before it verifies, so
    arbitrary text reaches verify only as an unreserved ASCII verifier."""
    try:
        check_verifier_format(verifier)
        verify(verifier, challenge)
    except (InvalidRequest, InvalidGrant):
        return
    assert challenge == s256(verifier)


def test_rfc7636_appendix_b() -> None:
    assert normalize_challenge(RFC7636_CHALLENGE, "S256") == RFC7636_CHALLENGE
    verify(RFC7636_VERIFIER, RFC7636_CHALLENGE)


def test_the_alphabets_are_what_rfc7636_says() -> None:
    assert set(B64URL_ALPHABET) < set(UNRESERVED)
    assert set(UNRESERVED) - set(B64URL_ALPHABET) == {".", "~"}


# --- Bugs found by the properties above (do not fix here; see the report) ----------


def test_verify_with_a_non_ascii_verifier_is_invalid_grant() -> None:
    with pytest.raises(InvalidGrant):
        verify("é" * 43, RFC7636_CHALLENGE)


def test_verify_against_a_non_ascii_challenge_is_invalid_grant() -> None:
    with pytest.raises(InvalidGrant):
        verify(RFC7636_VERIFIER, "é")


def test_a_challenge_with_a_trailing_newline_is_refused() -> None:
    with pytest.raises(InvalidRequest):
        normalize_challenge(RFC7636_CHALLENGE + "\n", "S256")


def test_a_verifier_with_a_trailing_newline_is_refused() -> None:
    with pytest.raises(InvalidRequest):
        check_verifier_format(RFC7636_VERIFIER + "\n")
