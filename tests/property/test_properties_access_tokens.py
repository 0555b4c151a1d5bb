"""oauth21.tokens.verify_access_token: untrusted strings only ever give InvalidToken, and
what it accepts satisfies every check RFC 9068 asks for."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oauth21.tokens import (
    CLOCK_LEEWAY,
    AccessTokenIssuer,
    InvalidToken,
    is_jwt_shaped,
    verify_access_token,
)
from tests.property.support import (
    B64URL_ALPHABET,
    PROPERTY,
    any_text,
    json_values,
    key_ring,
    utf8_text,
)

ISSUER = "https://auth.example.test"
AUDIENCE = "https://api.example.test"
NOW = 1_900_000_000
# RFC 9068 2.1: "at+jwt", or the full media type; media types are case-insensitive.
ACCEPTED_TYP = {"at+jwt", "application/at+jwt"}


@settings(PROPERTY, max_examples=300)
@given(
    any_text
    | st.builds(lambda a, b, c: f"{a}.{b}.{c}", any_text, any_text, any_text)
    | st.just("eyJhbGciOiJub25lIn0.e30.")
)
def test_arbitrary_strings_are_invalid_tokens(token: str) -> None:
    with pytest.raises(InvalidToken):
        verify_access_token(token, key_ring().public_keys, issuer=ISSUER, now=NOW)


# Per claim: a plausible value, then anything at all (a claim may also be absent).
good_times = st.integers(NOW - 100, NOW + 100)
claim_strategies: dict[str, tuple[st.SearchStrategy[Any], st.SearchStrategy[Any]]] = {
    "iss": (st.just(ISSUER), st.sampled_from([ISSUER + "/", "https://evil.test"]) | json_values),
    "sub": (utf8_text, json_values),
    "aud": (st.sampled_from([AUDIENCE, ISSUER, [AUDIENCE, "x"]]), st.just(["x"]) | json_values),
    "client_id": (utf8_text, json_values),
    "scope": (utf8_text, json_values),
    "jti": (utf8_text, json_values),
    "iat": (good_times, json_values),
    "exp": (good_times, st.floats(allow_nan=False) | json_values),
    "nbf": (good_times, json_values),
}


@st.composite
def signed_tokens(draw: st.DrawFn) -> tuple[str, str, dict[str, Any]]:
    """Tokens this server signed, with any typ and any mix of good and bad claims."""
    kind = draw(st.integers(0, 9))
    if kind >= 2:
        typ = draw(
            st.sampled_from(["at+jwt", "AT+JWT", "application/at+jwt", "Application/AT+JWT"])
        )
    else:
        typ = draw(st.sampled_from(["JWT", "at+jwt "]) if kind else utf8_text)
    claims: dict[str, Any] = {}
    for name, (good, bad) in claim_strategies.items():
        choice = draw(st.integers(0, 9))
        if choice == 0 or (choice == 1 and name == "nbf"):
            continue
        claims[name] = draw(bad if choice == 1 else good)
    claims.update(draw(st.dictionaries(utf8_text, json_values, max_size=2)))
    return key_ring().signer.sign_jwt(claims, typ), typ, claims


@settings(PROPERTY, max_examples=400)
@given(signed_tokens(), st.none() | st.sampled_from([AUDIENCE, ISSUER]), st.booleans())
def test_what_is_accepted_passes_every_check(
    case: tuple[str, str, dict[str, Any]], audience: str | None, allow_expired: bool
) -> None:
    token, typ, signed = case
    try:
        claims = verify_access_token(
            token,
            key_ring().public_keys,
            issuer=ISSUER,
            now=NOW,
            audience=audience,
            allow_expired=allow_expired,
        )
    except InvalidToken:
        return
    assert claims == signed
    assert typ.lower() in ACCEPTED_TYP
    assert claims["iss"] == ISSUER
    assert {"exp", "iat", "jti", "client_id", "sub"} <= set(claims)
    assert isinstance(claims["exp"], int)
    assert allow_expired or claims["exp"] > NOW - CLOCK_LEEWAY
    nbf = claims.get("nbf")
    assert nbf is None or (isinstance(nbf, int) and nbf <= NOW + CLOCK_LEEWAY)
    if audience is not None:
        aud = claims.get("aud")
        assert audience == aud or (isinstance(aud, list) and audience in aud)


@settings(PROPERTY, max_examples=200)
@given(
    st.integers(1, 7200),
    # Seconds since issue: anywhere, or within a few seconds of expiry plus leeway.
    st.integers(-8000, 8000) | st.integers(-3, 3).map(lambda d: CLOCK_LEEWAY + d),
    st.sampled_from(["read", "read write", ""]),
    utf8_text,
)
def test_an_issued_token_verifies_until_it_expires(
    lifetime: int, elapsed: int, scope: str, subject: str
) -> None:
    ring = key_ring()
    issuer = AccessTokenIssuer(ring.signer, ring.settings, lambda: NOW)
    access = issuer.issue(
        issuer=ISSUER, subject=subject, client_id="spa", scope=scope, lifetime=lifetime
    )
    assert is_jwt_shaped(access.value)
    assert access.expires_in == lifetime
    if -3 <= elapsed - CLOCK_LEEWAY <= 3:
        elapsed += lifetime  # the boundary case: measured from the expiry
    now = NOW + elapsed
    if NOW + lifetime > now - CLOCK_LEEWAY:
        claims = verify_access_token(access.value, ring.public_keys, issuer=ISSUER, now=now)
        assert claims == access.claims
        assert claims["aud"] == ISSUER  # no ACCESS_TOKEN_AUDIENCE: the issuer
    else:
        with pytest.raises(InvalidToken):
            verify_access_token(access.value, ring.public_keys, issuer=ISSUER, now=now)
    assert verify_access_token(
        access.value, ring.public_keys, issuer=ISSUER, now=now, allow_expired=True
    ) == dict(access.claims)
    with pytest.raises(InvalidToken):
        verify_access_token(access.value, ring.public_keys, issuer=ISSUER + "/", now=now)


@settings(PROPERTY, max_examples=200)
@given(st.data())
def test_a_changed_access_token_is_invalid_or_unchanged(data: st.DataObject) -> None:
    ring = key_ring()
    issuer = AccessTokenIssuer(ring.signer, ring.settings, lambda: NOW)
    access = issuer.issue(issuer=ISSUER, subject="alice", client_id="spa", scope="read")
    token = access.value
    at = data.draw(st.integers(0, len(token) - 1))
    character = data.draw(st.sampled_from(B64URL_ALPHABET + ".").filter(lambda c: c != token[at]))
    mutated = token[:at] + character + token[at + 1 :]
    try:
        claims = verify_access_token(mutated, ring.public_keys, issuer=ISSUER, now=NOW)
    except InvalidToken:
        return
    assert claims == access.claims and at == len(token) - 1
