"""Tokens minted with the local stack's own signing key, for what a browser cannot
produce on demand (an expired token, a token for another audience)."""

from __future__ import annotations

from typing import Any

import boto3

from oauth21.config import load_settings
from oauth21.services import Services
from oauth21.tokens import new_grant_key


def stack_services(stack: Any) -> Services:
    clients = {
        name: boto3.client(  # type: ignore[call-overload]
            name,
            endpoint_url=stack.aws_endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        for name in ("dynamodb", "kms")
    }
    return Services(load_settings(issuer=stack.url), aws=clients)


def user_access_token(services: Services, user_id: str, scope: str = "read", **extra: Any) -> str:
    """An access token under a real grant of `user_id`, as the token endpoint mints one."""
    _, grant_id = new_grant_key()
    now = int(services.clock())
    services.grants.create(
        {
            "grant_id": grant_id,
            "kind": "authorization_code",
            "client_id": "forge",
            "user_id": user_id,
            "scope": scope,
            "scopes": scope.split(),
            "created_at": now,
            "expires_at": now + 3600,
        }
    )
    token = services.access_tokens.issue(
        issuer=services.settings.issuer,
        subject=user_id,
        client_id="forge",
        scope=scope,
        grant_id=grant_id,
        extra=extra or None,
    )
    return str(token.value)
