"""RFC 7638 thumbprints and base64url, checked against the RFC's own example."""

from __future__ import annotations

import pytest

from oauth21.jwk import b64url, b64url_decode, thumbprint

RFC7638_EXAMPLE = {
    "kty": "RSA",
    "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSo"
    "c_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0"
    "_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhA"
    "I4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
    "e": "AQAB",
    "alg": "RS256",
    "kid": "2011-04-29",
}


def test_the_rfc_example():
    assert thumbprint(RFC7638_EXAMPLE) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


def test_members_outside_the_required_set_do_not_matter():
    assert thumbprint({**RFC7638_EXAMPLE, "use": "sig"}) == thumbprint(RFC7638_EXAMPLE)


@pytest.mark.parametrize(
    "jwk",
    [
        {"kty": "oct", "k": "x"},
        {"kty": "EC", "crv": "P-256", "x": "a"},
        {"kty": "RSA", "n": 1, "e": "AQAB"},
    ],
)
def test_unsupported_or_incomplete_keys(jwk):
    with pytest.raises(ValueError):
        thumbprint(jwk)


def test_base64url_round_trip_and_strictness():
    assert b64url_decode(b64url(b"\xfb\xff")) == b"\xfb\xff"
    for bad in ("+/", "ab==", "a b", "é"):
        with pytest.raises(ValueError):
            b64url_decode(bad)
