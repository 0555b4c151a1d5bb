"""Scopes (RFC 6749 section 3.3): what a client may ask for and what it gets."""

from __future__ import annotations

import re
from collections.abc import Iterable

from oauth21.errors import InvalidRequest, InvalidScope

# scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
_SCOPE_TOKEN = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+")

# Plain words for the consent and device pages.
DESCRIPTIONS = {
    "read": "Read your data",
    "write": "Change your data",
    "admin": "Administer your account",
}


def parse_scope(raw: str) -> list[str]:
    """Split a scope parameter, refusing characters RFC 6749 does not allow."""
    asked = raw.split(" ")
    if any(not s or not _SCOPE_TOKEN.fullmatch(s) for s in asked):
        raise InvalidRequest("The scope parameter is malformed")
    return list(dict.fromkeys(asked))


def grant_scope(requested: str | None, allowed: Iterable[str], supported: Iterable[str]) -> str:
    """The granted scope: what was asked, or every allowed scope when omitted.

    A scope the server does not support or the client may not use is
    `invalid_scope` (RFC 6749 5.2).
    """
    supported_set = set(supported)
    permitted = [s for s in allowed if s in supported_set]
    if requested is None:
        return " ".join(permitted)
    asked = parse_scope(requested)
    refused = [s for s in asked if s not in permitted]
    if refused:
        raise InvalidScope(f"Scope not allowed for this client: {' '.join(refused)[:100]}")
    return " ".join(asked)


def is_subset(narrower: str, wider: str) -> bool:
    return set(narrower.split()) <= set(wider.split())


def describe(scope: str) -> list[tuple[str, str]]:
    return [(s, DESCRIPTIONS.get(s, s)) for s in scope.split()]
