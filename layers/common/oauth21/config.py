"""Settings, read once from the environment.

Every setting has a default that suits the local stack, so a function (or
`oauthctl`) started with no configuration talks to `make dev`'s tables.

Settings are a frozen dataclass rather than a pydantic model: building the
first pydantic model costs about 0.15 s of cold start (a third of creating a
boto3 client), and these few typed fields need no more than `_parse`.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

# Plain-http issuers (and cookies without Secure) are for the local stack only.
LOOPBACK = ("127.0.0.1", "localhost", "::1")

# Table settings and their local names: the logical id in template.yaml is
# the setting's name in CamelCase (CLIENTS_TABLE <-> ClientsTable), and the
# local stack names each table "oauth21-" + the kebab-case of that id.
TABLE_SETTINGS = {
    "clients_table": "oauth21-clients",
    "signing_keys_table": "oauth21-signing-keys",
    "grants_table": "oauth21-grants",
    "revoked_tokens_table": "oauth21-revoked-tokens",
    "users_table": "oauth21-users",
    "sessions_table": "oauth21-sessions",
    "auth_codes_table": "oauth21-auth-codes",
    "consents_table": "oauth21-consents",
    "login_throttle_table": "oauth21-login-throttle",
    "device_codes_table": "oauth21-device-codes",
    "dpop_replay_table": "oauth21-dpop-replay",
}


@dataclasses.dataclass(frozen=True)
class Settings:
    # The issuer URL; empty means "derive it from the API Gateway request".
    issuer: str = ""
    supported_scopes: tuple[str, ...] = ("read", "write", "admin")
    # "envelope" (sign locally with a KMS-encrypted key) or "kms-sign".
    signing_mode: str = "envelope"
    # The symmetric KMS key that encrypts signing keys and the DPoP nonce secret.
    envelope_kms_key_id: str = ""
    # The ECC_NIST_P256 KMS key that signs in kms-sign mode.
    signing_kms_key_id: str = ""
    access_token_lifetime: int = 900
    # The `aud` of access tokens; empty means the issuer URL.
    access_token_audience: str = ""
    # RFC 7662 lets a server require client authentication for introspection;
    # off by default so that a token holder may ask about its own token.
    introspection_requires_auth: bool = False
    client_cache_seconds: int = 60
    key_refresh_seconds: int = 300
    # Signing keys rotate on a schedule; a retired key stays published for
    # the longest token lifetime plus this margin.
    key_publication_margin: int = 3600
    # Authorization code flow (seconds).
    auth_code_lifetime: int = 60
    session_lifetime: int = 28800
    grant_lifetime: int = 30 * 86400
    refresh_token_idle_lifetime: int = 14 * 86400
    # Off (0) by default: seconds after a refresh during which the previous
    # refresh token may be used once more, by a client that lost the response.
    refresh_grace_seconds: int = 0
    login_window_seconds: int = 900
    login_account_limit: int = 5
    login_address_limit: int = 20
    # Device authorization grant (RFC 8628).
    device_code_lifetime: int = 600
    device_poll_interval: int = 5
    user_code_attempt_limit: int = 10
    # DPoP (RFC 9449). Nonces are off by default: the seed's client does not
    # retry on use_dpop_nonce.
    dpop_proof_window: int = 60
    dpop_nonce_window: int = 300
    dpop_nonce_token_endpoint: bool = False
    dpop_nonce_resource: bool = False
    # Personal access tokens (seconds).
    pat_max_lifetime: int = 90 * 86400
    pat_default_lifetime: int = 30 * 86400
    # The Lambda authorizer. Issuer and audience default to the server's own.
    authorizer_issuer: str = ""
    authorizer_audience: str = ""
    authorizer_jwks_url: str = ""
    authorizer_local_only: bool = False
    authorizer_route_scopes: str = "{}"
    # The resource servers' public base URL, for DPoP `htu` (empty: from the request).
    authorizer_public_base_url: str = ""
    max_body_bytes: int = 16384
    dynamodb_max_attempts: int = 3
    aws_connect_timeout: float = 1.0
    aws_read_timeout: float = 3.0
    # One Lambda serves one request at a time; the local stack serves many.
    aws_max_pool_connections: int = 10
    clients_table: str = TABLE_SETTINGS["clients_table"]
    signing_keys_table: str = TABLE_SETTINGS["signing_keys_table"]
    grants_table: str = TABLE_SETTINGS["grants_table"]
    revoked_tokens_table: str = TABLE_SETTINGS["revoked_tokens_table"]
    users_table: str = TABLE_SETTINGS["users_table"]
    sessions_table: str = TABLE_SETTINGS["sessions_table"]
    auth_codes_table: str = TABLE_SETTINGS["auth_codes_table"]
    consents_table: str = TABLE_SETTINGS["consents_table"]
    login_throttle_table: str = TABLE_SETTINGS["login_throttle_table"]
    device_codes_table: str = TABLE_SETTINGS["device_codes_table"]
    dpop_replay_table: str = TABLE_SETTINGS["dpop_replay_table"]

    @property
    def max_token_lifetime(self) -> int:
        """The longest any token signed by a key can live (keeps it published)."""
        return max(self.access_token_lifetime, self.pat_max_lifetime)


class SettingsError(ValueError):
    """A setting in the environment has a value of the wrong kind."""


def _parse(field: dataclasses.Field[Any], raw: str) -> Any:
    kind = field.type
    try:
        if kind == "bool":
            lowered = raw.strip().lower()
            if lowered in ("1", "true", "yes", "on"):
                return True
            if lowered in ("0", "false", "no", "off", ""):
                return False
            raise ValueError(raw)
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
        if kind == "tuple[str, ...]":
            return tuple(raw.replace(",", " ").split())
    except ValueError as exc:
        raise SettingsError(f"{field.name.upper()} must be a {kind}, not {raw!r}") from exc
    return raw.strip()


def load_settings(environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Read every field from its upper-case environment variable.

    `overrides` (used by tests) win over the environment.
    """
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for field in dataclasses.fields(Settings):
        raw = env.get(field.name.upper())
        if raw is not None:
            values[field.name] = _parse(field, raw)
    values.update(overrides)
    settings = Settings(**values)
    if settings.signing_mode not in ("envelope", "kms-sign"):
        raise SettingsError("SIGNING_MODE must be envelope or kms-sign")
    try:
        routes = json.loads(settings.authorizer_route_scopes)
        valid = isinstance(routes, dict) and all(
            isinstance(v, list) and all(isinstance(s, str) for s in v) for v in routes.values()
        )
    except ValueError:
        valid = False
    if not valid:
        raise SettingsError('AUTHORIZER_ROUTE_SCOPES must be JSON: {"GET /path": ["scope"]}')
    issuer = urlsplit(settings.issuer)
    if settings.issuer and (
        issuer.scheme not in ("https", "http")
        or (issuer.scheme == "http" and issuer.hostname not in LOOPBACK)
        or issuer.query
        or issuer.fragment
    ):
        raise SettingsError("ISSUER must be an https URL (http only on a loopback address)")
    return settings
