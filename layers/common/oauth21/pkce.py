"""PKCE (RFC 7636), S256 only: required on every authorization request.

Compatibility: the seed's Kotlin client encodes with `Base64.URL_SAFE` but
without `NO_PADDING`, so its challenge is the 43 characters plus one `=`, and
its verifier carries the same padding. The one padded form of a valid value
is accepted (the padding is not part of the value's entropy); anything else
is refused as RFC 7636 says.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from oauth21.errors import InvalidGrant, InvalidRequest
from oauth21.jwk import b64url

# fullmatch only: `$` would also accept a trailing newline.
_CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}=?")
_VERIFIER = re.compile(r"[A-Za-z0-9._~-]{43,128}")
_PADDED_VERIFIER = re.compile(r"[A-Za-z0-9_-]{42,127}={1,2}")


def normalize_challenge(challenge: str | None, method: str | None) -> str:
    """The challenge to store, or `invalid_request` (what the authorize page redirects with)."""
    if challenge is None:
        raise InvalidRequest("PKCE code_challenge is required")
    if method is None:
        raise InvalidRequest(
            "code_challenge_method is required: only S256 is supported (RFC 7636 reads a missing"
            " method as plain)"
        )
    if method != "S256":
        raise InvalidRequest("code_challenge_method must be S256")
    if not _CHALLENGE.fullmatch(challenge):
        raise InvalidRequest("code_challenge must be 43 base64url characters (S256)")
    return challenge.rstrip("=")


def check_verifier_format(verifier: str) -> None:
    if not (_VERIFIER.fullmatch(verifier) or _PADDED_VERIFIER.fullmatch(verifier)):
        raise InvalidRequest("code_verifier must be 43 to 128 unreserved characters")


def verify(verifier: str, challenge: str) -> None:
    """`invalid_grant` unless SHA-256(verifier) is the stored challenge (constant time)."""
    if not verifier.isascii() or not challenge.isascii():
        raise InvalidGrant("code_verifier does not match the code_challenge")
    computed = b64url(hashlib.sha256(verifier.encode("ascii")).digest())
    if not hmac.compare_digest(computed.encode(), challenge.encode()):
        raise InvalidGrant("code_verifier does not match the code_challenge")
