"""How secrets are stored: the SHA-256 of a 256-bit random value (argon2id only
for human passwords, in oauth21.users). One function, so every table agrees."""

from __future__ import annotations

import hashlib


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()
