"""Registered clients and client authentication (RFC 6749 section 2.3).

Confidential clients authenticate with `client_secret_basic` or
`client_secret_post`; public clients identify themselves with `client_id`
alone (`none`). Secrets are 256-bit random values; only their SHA-256 is
stored, and comparison is constant-time.

Client records are cached in memory for `CLIENT_CACHE_SECONDS` (60 s by
default), so a warm function authenticates a client without a DynamoDB call;
a deleted or changed client takes up to that long to be seen everywhere.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from oauth21.errors import InvalidClient
from oauth21.hashing import sha256_hex
from oauth21.http import ClientCredentials
from oauth21.store.clients import ClientTable
from oauth21.store.dynamo import Item

CONFIDENTIAL = "confidential"
PUBLIC = "public"
GRANT_CLIENT_CREDENTIALS = "client_credentials"
GRANT_AUTHORIZATION_CODE = "authorization_code"
GRANT_REFRESH_TOKEN = "refresh_token"
GRANT_DEVICE_CODE = "urn:ietf:params:oauth:grant-type:device_code"
DEFAULT_GRANT_TYPES = {
    CONFIDENTIAL: (GRANT_CLIENT_CREDENTIALS,),
    PUBLIC: (GRANT_AUTHORIZATION_CODE, GRANT_REFRESH_TOKEN),
}
_CACHE_LIMIT = 1024
# Generated secrets are 43 characters (256 bits); chosen ones (tests, migrations)
# must not be trivially short.
MIN_SECRET_LENGTH = 16


def hash_secret(secret: str) -> str:
    return sha256_hex(secret)


@dataclass(frozen=True)
class Client:
    client_id: str
    name: str
    client_type: str
    secret_hash: str
    grant_types: tuple[str, ...]
    scopes: tuple[str, ...]
    redirect_uris: tuple[str, ...] = ()
    first_party: bool = False
    require_dpop: bool = False
    created_at: int = 0

    @property
    def is_confidential(self) -> bool:
        return self.client_type == CONFIDENTIAL

    def allows_grant(self, grant_type: str) -> bool:
        return grant_type in self.grant_types

    @classmethod
    def from_record(cls, record: Item) -> Client:
        return cls(
            client_id=record["client_id"],
            name=record.get("name", ""),
            client_type=record["client_type"],
            secret_hash=record.get("secret_hash", ""),
            grant_types=tuple(record.get("grant_types", ())),
            scopes=tuple(record.get("scopes", ())),
            redirect_uris=tuple(record.get("redirect_uris", ())),
            first_party=bool(record.get("first_party", False)),
            require_dpop=bool(record.get("require_dpop", False)),
            created_at=int(record.get("created_at", 0)),
        )

    def to_record(self) -> Item:
        return {
            "client_id": self.client_id,
            "name": self.name,
            "client_type": self.client_type,
            "secret_hash": self.secret_hash or None,
            "grant_types": list(self.grant_types),
            "scopes": list(self.scopes),
            "redirect_uris": list(self.redirect_uris),
            "first_party": self.first_party,
            "require_dpop": self.require_dpop,
            "created_at": self.created_at,
        }

    def public_view(self) -> dict[str, object]:
        """What `oauthctl` shows: everything but the secret's hash."""
        view = {k: v for k, v in self.to_record().items() if k != "secret_hash"}
        view["has_secret"] = bool(self.secret_hash)
        return view


def new_client(
    *,
    name: str,
    client_type: str,
    grant_types: Iterable[str] | None,
    scopes: Iterable[str],
    redirect_uris: Iterable[str] = (),
    client_id: str | None = None,
    client_secret: str | None = None,
    first_party: bool = False,
    require_dpop: bool = False,
    now: float | None = None,
) -> tuple[Client, str | None]:
    """A new client record and, for a confidential client, its secret (shown once)."""
    if client_type not in (CONFIDENTIAL, PUBLIC):
        raise ValueError("client type must be confidential or public")
    if client_type == PUBLIC and client_secret:
        raise ValueError("a public client has no secret")
    if client_secret is not None and len(client_secret) < MIN_SECRET_LENGTH:
        raise ValueError(f"a chosen client secret needs at least {MIN_SECRET_LENGTH} characters")
    from oauth21.authorization import check_redirect_uri

    for uri in redirect_uris:
        check_redirect_uri(uri)
    secret = None
    if client_type == CONFIDENTIAL:
        secret = client_secret or secrets.token_urlsafe(32)
    chosen = tuple(grant_types) if grant_types is not None else DEFAULT_GRANT_TYPES[client_type]
    if client_type == PUBLIC and GRANT_CLIENT_CREDENTIALS in chosen:
        raise ValueError("client_credentials is for confidential clients only (OAuth 2.1)")
    client = Client(
        client_id=client_id or secrets.token_urlsafe(16),
        name=name,
        client_type=client_type,
        secret_hash=hash_secret(secret) if secret else "",
        grant_types=chosen,
        scopes=tuple(scopes),
        redirect_uris=tuple(redirect_uris),
        first_party=first_party,
        require_dpop=require_dpop,
        created_at=int(time.time() if now is None else now),
    )
    return client, secret


class ClientRegistry:
    """Looks clients up (with a short in-memory cache) and authenticates them."""

    def __init__(
        self,
        table: ClientTable,
        cache_seconds: int,
        clock: Callable[[], float] = time.time,
    ):
        self._table = table
        self._cache_seconds = cache_seconds
        self._clock = clock
        self._cache: dict[str, tuple[float, Client]] = {}
        self._lock = threading.Lock()

    def find(self, client_id: str) -> Client | None:
        now = self._clock()
        cached = self._cache.get(client_id)
        if cached and cached[0] > now:
            return cached[1]
        record = self._table.get(client_id) if len(client_id) <= 256 else None
        if record is None:
            return None
        client = Client.from_record(record)
        with self._lock:
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.pop(next(iter(self._cache)))
            self._cache[client_id] = (now + self._cache_seconds, client)
        return client

    def authenticate(self, credentials: ClientCredentials | None) -> Client:
        """The client these credentials prove, or `invalid_client`."""
        if credentials is None:
            raise InvalidClient("Client authentication is required")
        basic = credentials.method == "client_secret_basic"
        client = self.find(credentials.client_id)
        if client is None:
            raise InvalidClient("Unknown client or wrong credentials", basic=basic)
        if client.is_confidential:
            if credentials.secret is None:
                raise InvalidClient("This client must authenticate with its secret")
            presented = hash_secret(credentials.secret)
            if not hmac.compare_digest(presented, client.secret_hash):
                raise InvalidClient("Unknown client or wrong credentials", basic=basic)
        elif credentials.secret is not None:
            raise InvalidClient("A public client has no secret to send", basic=basic)
        return client

    def identify(self, credentials: ClientCredentials | None) -> Client | None:
        """Authenticate when credentials were sent; None when none were."""
        return None if credentials is None else self.authenticate(credentials)
