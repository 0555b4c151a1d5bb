"""Functional tier: handlers called with API Gateway events, AWS mocked in-process by moto.

Tables come from template.yaml; each test gets fresh tables, a fresh KMS key,
fresh signing keys, and functions imported anew (a new execution environment).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from botocore.client import BaseClient
from botocore.config import Config
from moto import mock_aws

from devserver.lambdas import LambdaContext, load_module
from devserver.moto_atomic import make_moto_dynamodb_atomic
from devserver.template import ROOT, create_tables
from oauth21.clients import Client, new_client
from oauth21.config import Settings, load_settings
from oauth21.keys import rotate
from oauth21.services import Services
from tests.support import FakeClock

make_moto_dynamodb_atomic()
FAIL_FAST = Config(retries={"max_attempts": 1, "mode": "standard"})


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[SimpleNamespace]:
    with mock_aws():
        dynamodb = boto3.client("dynamodb", config=FAIL_FAST)
        kms = boto3.client("kms", config=FAIL_FAST)
        create_tables(dynamodb)
        key_id = kms.create_key(Description="envelope")["KeyMetadata"]["KeyId"]
        monkeypatch.setenv("ENVELOPE_KMS_KEY_ID", key_id)
        yield SimpleNamespace(dynamodb=dynamodb, kms=kms, key_id=key_id)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def settings(aws: SimpleNamespace) -> Settings:
    return load_settings()


@pytest.fixture
def services(aws: SimpleNamespace, settings: Settings, clock: FakeClock) -> Services:
    services = Services(settings, clock, aws={"dynamodb": aws.dynamodb, "kms": aws.kms})
    rotate(services.signing_key_table, aws.kms, settings, now=clock())
    return services


@pytest.fixture
def function(
    services: Services, aws: SimpleNamespace
) -> Callable[..., Callable[[dict[str, Any]], dict[str, Any]]]:
    """Import functions/<name>/app.py afresh and wire it to services of its own
    (its own caches, as a separate Lambda has) on the test's AWS and clock."""

    def load(name: str, with_services: Services | None = None) -> Any:
        own = with_services or Services(
            services.settings, services.clock, aws={"dynamodb": aws.dynamodb, "kms": aws.kms}
        )
        handle = load_module(ROOT / "functions" / name).build(own)
        return lambda event: handle(event, LambdaContext(function_name=name))

    return load


@pytest.fixture
def token(function: Callable[..., Any]) -> Any:
    """The token function (POST /oauth/token), as most tests call it."""
    return function("token")


@pytest.fixture
def introspect(function: Callable[..., Any]) -> Any:
    """The introspect function (POST /oauth/introspect and /oauth/revoke)."""
    return function("introspect")


@pytest.fixture
def register(services: Services) -> Callable[..., tuple[Client, str | None]]:
    def register(**kwargs: Any) -> tuple[Client, str | None]:
        kwargs.setdefault("name", "test client")
        kwargs.setdefault("scopes", services.settings.supported_scopes)
        kwargs.setdefault("grant_types", None)
        client, secret = new_client(**kwargs)
        services.client_table.create(client.to_record())
        return client, secret

    return register


class AwsCalls(list[tuple[str, str]]):
    def by_api(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for service, operation in self:
            key = f"{service}:{operation}"
            counts[key] = counts.get(key, 0) + 1
        return counts


@pytest.fixture
def aws_calls(monkeypatch: pytest.MonkeyPatch) -> AwsCalls:
    """Every AWS API call made from here on, as (service, operation)."""
    calls = AwsCalls()
    original = BaseClient._make_api_call

    def counting(self: BaseClient, operation_name: str, api_params: Any) -> Any:
        calls.append((self.meta.service_model.service_name, operation_name))
        return original(self, operation_name, api_params)

    monkeypatch.setattr(BaseClient, "_make_api_call", counting)
    return calls


@pytest.fixture
def user_token(services: Services) -> Callable[..., str]:
    """An access token of a user's grant, minted by the server's own code."""
    from oauth21.tokens import new_grant_key
    from tests.support import ISSUER

    def mint(user_id: str, scope: str = "read write", client_id: str = "spa", **issue: Any) -> str:
        _, grant_id = new_grant_key()
        now = int(services.clock())
        services.grants.create(
            {
                "grant_id": grant_id,
                "kind": "authorization_code",
                "client_id": client_id,
                "user_id": user_id,
                "scope": scope,
                "scopes": scope.split(),
                "created_at": now,
                "expires_at": now + 86400,
            }
        )
        return str(
            services.access_tokens.issue(
                issuer=issue.pop("issuer", ISSUER),
                subject=user_id,
                client_id=client_id,
                scope=scope,
                grant_id=grant_id,
                **issue,
            ).value
        )

    return mint
