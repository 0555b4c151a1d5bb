"""Wiring: the one place that builds AWS clients, tables, caches and keys.

A function's `app.py` creates one `Services` at module level and touches what
it needs there, so the work happens once per cold start and a fresh import
(a new Lambda environment, or a test) starts with fresh caches.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING, Any

from oauth21.config import Settings, load_settings

if TYPE_CHECKING:
    from oauth21.clients import ClientRegistry
    from oauth21.dpop import DpopVerifier
    from oauth21.keys import PublicKeys, Signer
    from oauth21.store.clients import ClientTable
    from oauth21.store.codes import CodeTable
    from oauth21.store.consents import ConsentTable
    from oauth21.store.device_codes import DeviceCodeTable
    from oauth21.store.grants import GrantTable
    from oauth21.store.revocations import RevocationTable
    from oauth21.store.signing_keys import SigningKeyTable
    from oauth21.store.throttle import ThrottleTable
    from oauth21.store.users import UserTable
    from oauth21.tokens import AccessTokenIssuer
    from oauth21.users import Accounts, Sessions


class Services:
    def __init__(
        self,
        settings: Settings | None = None,
        clock: Callable[[], float] = time.time,
        aws: dict[str, Any] | None = None,
    ):
        self.settings = settings or load_settings()
        self.clock = clock
        self._aws = aws or {}

    def warm(self, *names: str) -> None:
        """Build these parts now, at cold start, so requests find them ready.

        A dependency that is down for a moment (KMS, DynamoDB) must not fail
        the whole init: the part is left unbuilt, the failure logged, and the
        first request builds it again, answering 503 if it still cannot.
        """
        from oauth21.store.errors import is_transient

        for name in names:
            try:
                getattr(self, name)
            except Exception as exc:
                if not is_transient(exc):
                    raise
                logging.getLogger("oauth21").warning(
                    "cold start: %s not ready (%s); retrying on the first request",
                    name,
                    type(exc).__name__,
                )

    def _client(self, service: str) -> Any:
        if service not in self._aws:
            from oauth21.store.dynamo import aws_clients

            self._aws.update(aws_clients(self.settings, service))
        return self._aws[service]

    @cached_property
    def dynamodb(self) -> Any:
        return self._client("dynamodb")

    @cached_property
    def kms(self) -> Any:
        return self._client("kms")

    @cached_property
    def client_table(self) -> ClientTable:
        from oauth21.store.clients import ClientTable

        return ClientTable(self.dynamodb, self.settings.clients_table)

    @cached_property
    def clients(self) -> ClientRegistry:
        from oauth21.clients import ClientRegistry

        return ClientRegistry(self.client_table, self.settings.client_cache_seconds, self.clock)

    @cached_property
    def signing_key_table(self) -> SigningKeyTable:
        from oauth21.store.signing_keys import SigningKeyTable

        return SigningKeyTable(self.dynamodb, self.settings.signing_keys_table)

    @cached_property
    def signer(self) -> Signer:
        from oauth21.keys import Signer

        return Signer(self.signing_key_table, self.kms, self.settings, self.clock).load()

    @cached_property
    def public_keys(self) -> PublicKeys:
        from oauth21.keys import PublicKeys

        return PublicKeys(self.signing_key_table, self.settings, self.clock).load()

    @cached_property
    def access_tokens(self) -> AccessTokenIssuer:
        from oauth21.tokens import AccessTokenIssuer

        return AccessTokenIssuer(self.signer, self.settings, self.clock)

    @cached_property
    def grants(self) -> GrantTable:
        from oauth21.store.grants import GrantTable

        return GrantTable(self.dynamodb, self.settings.grants_table)

    @cached_property
    def codes(self) -> CodeTable:
        from oauth21.store.codes import CodeTable

        return CodeTable(self.dynamodb, self.settings.auth_codes_table, self.grants)

    @cached_property
    def user_table(self) -> UserTable:
        from oauth21.store.users import UserTable

        return UserTable(self.dynamodb, self.settings.users_table)

    @cached_property
    def throttle(self) -> ThrottleTable:
        from oauth21.store.throttle import ThrottleTable

        return ThrottleTable(self.dynamodb, self.settings.login_throttle_table)

    @cached_property
    def accounts(self) -> Accounts:
        from oauth21.users import Accounts, LoginPolicy

        s = self.settings
        policy = LoginPolicy(s.login_window_seconds, s.login_account_limit, s.login_address_limit)
        return Accounts(self.user_table, self.throttle, policy, self.clock)

    @cached_property
    def device_codes(self) -> DeviceCodeTable:
        from oauth21.store.device_codes import DeviceCodeTable

        return DeviceCodeTable(self.dynamodb, self.settings.device_codes_table, self.grants)

    @cached_property
    def sessions(self) -> Sessions:
        from oauth21.store.sessions import SessionTable
        from oauth21.users import Sessions

        table = SessionTable(self.dynamodb, self.settings.sessions_table)
        return Sessions(table, self.settings.session_lifetime, self.clock)

    @cached_property
    def consents(self) -> ConsentTable:
        from oauth21.store.consents import ConsentTable

        return ConsentTable(self.dynamodb, self.settings.consents_table)

    @cached_property
    def dpop(self) -> DpopVerifier:
        from oauth21.dpop import DpopVerifier, NonceIssuer
        from oauth21.store.dpop import DpopReplayTable

        s = self.settings
        replay = DpopReplayTable(self.dynamodb, s.dpop_replay_table)
        nonces = None
        if s.dpop_nonce_token_endpoint or s.dpop_nonce_resource:
            secret = self.signing_key_table.nonce_secret(self.kms)
            nonces = NonceIssuer(secret, s.dpop_nonce_window, self.clock)
        return DpopVerifier(
            window=s.dpop_proof_window, clock=self.clock, record_jti=replay.record, nonces=nonces
        )

    @cached_property
    def revocations(self) -> RevocationTable:
        from oauth21.store.revocations import RevocationTable

        s = self.settings
        return RevocationTable(self.dynamodb, s.revoked_tokens_table, s.grants_table)
