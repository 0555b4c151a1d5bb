"""Users, passwords (argon2id), login throttling and login sessions.

Passwords are hashed with `cryptography`'s Argon2id into the PHC string
format (m=19 MiB, t=2, p=1: OWASP's minimum, about 40 ms here). A failed
login says "wrong email or password" whether or not the account exists, and
costs the same time either way.

Failed logins are counted per account and per source address in a fixed
window (`LOGIN_WINDOW_SECONDS`); past the limit every attempt in that window
is refused before the password is checked.

A login session is a random 256-bit cookie value; only its SHA-256 is stored,
with the user, the authentication time and an expiry (also a TTL).
"""

from __future__ import annotations

import functools
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidKey
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

from oauth21.hashing import sha256_hex
from oauth21.store.sessions import SessionTable
from oauth21.store.throttle import ThrottleTable
from oauth21.store.users import UserTable

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_user_id(now: float | None = None) -> str:
    """A ULID: 48-bit milliseconds then 80 random bits, Crockford base32 (26 chars)."""
    millis = int((time.time() if now is None else now) * 1000)
    value = (millis << 80) | int.from_bytes(os.urandom(10), "big")
    return "".join(_CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))


def normalize_email(email: str) -> str:
    return email.strip().lower()


def hash_password(password: str) -> str:
    kdf = Argon2id(salt=os.urandom(16), length=32, iterations=2, lanes=1, memory_cost=19 * 1024)
    return kdf.derive_phc_encoded(password.encode("utf-8"))


def verify_password(password: str, phc: str) -> bool:
    try:
        Argon2id.verify_phc_encoded(password.encode("utf-8"), phc)
        return True
    except (InvalidKey, ValueError):
        return False


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the account does not exist, so both paths cost the same
    (made on first use: it costs a hash's time, which cold start need not pay)."""
    return hash_password(secrets.token_urlsafe(16))


@dataclass(frozen=True)
class User:
    user_id: str
    email: str
    name: str

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> User:
        return cls(record["user_id"], record["email"], record.get("name", ""))

    def public_view(self) -> dict[str, str]:
        return {"id": self.user_id, "email": self.email, "name": self.name}


class LoginThrottled(Exception):
    pass


@dataclass(frozen=True)
class LoginPolicy:
    window_seconds: int = 900
    account_limit: int = 5
    address_limit: int = 20


class Accounts:
    """Creating users and checking their passwords, with throttling."""

    def __init__(
        self,
        users: UserTable,
        throttle: ThrottleTable,
        policy: LoginPolicy,
        clock: Callable[[], float] = time.time,
    ):
        self._users = users
        self._throttle = throttle
        self._policy = policy
        self._clock = clock

    def create(self, email: str, password: str, name: str = "") -> User:
        if not password:
            raise ValueError("the password must not be empty")
        record = {
            "user_id": new_user_id(self._clock()),
            "email": normalize_email(email),
            "name": name,
            "password_hash": hash_password(password),
            "created_at": int(self._clock()),
        }
        self._users.create(record)
        return User.from_record(record)

    def login(self, email: str, password: str, source_ip: str) -> User | None:
        """The user, or None for wrong credentials; LoginThrottled past the limits.

        Each attempt reserves a place under the account's and the address's
        limits before the password is checked; a successful login gives both back.
        """
        now = int(self._clock())
        email = normalize_email(email)
        window = self._policy.window_seconds
        start, expires = now - now % window, now - now % window + 2 * window
        account, address = f"account:{sha256_hex(email)}", f"address:{source_ip}"
        if not self._throttle.reserve(address, self._policy.address_limit, start, expires):
            raise LoginThrottled
        if not self._throttle.reserve(account, self._policy.account_limit, start, expires):
            raise LoginThrottled
        record = self._users.by_email(email)
        valid = verify_password(password, record["password_hash"] if record else _dummy_hash())
        if record is None or not valid:
            return None
        self._throttle.release(account, start)
        self._throttle.release(address, start)
        return User.from_record(record)


@dataclass(frozen=True)
class Session:
    session_hash: str
    user_id: str
    auth_time: int
    expires_at: int


class Sessions:
    def __init__(self, table: SessionTable, lifetime: int, clock: Callable[[], float] = time.time):
        self._table = table
        self._lifetime = lifetime
        self._clock = clock

    def start(self, user_id: str) -> tuple[str, Session]:
        """A new session; returns the cookie value (shown once) and the session."""
        cookie = secrets.token_urlsafe(32)
        now = int(self._clock())
        session = Session(sha256_hex(cookie), user_id, now, now + self._lifetime)
        self._table.create(
            {
                "session_hash": session.session_hash,
                "user_id": user_id,
                "auth_time": now,
                "expires_at": session.expires_at,
            }
        )
        return cookie, session

    def find(self, cookie: str | None) -> Session | None:
        if not cookie or len(cookie) > 128:
            return None
        record = self._table.get(sha256_hex(cookie))
        if record is None or record["expires_at"] <= self._clock():
            return None
        return Session(
            record["session_hash"], record["user_id"], record["auth_time"], record["expires_at"]
        )

    def end(self, cookie: str | None) -> None:
        if cookie and len(cookie) <= 128:
            self._table.delete(sha256_hex(cookie))

    @property
    def lifetime(self) -> int:
        return self._lifetime
