"""Authorization server metadata (RFC 8414) and the JWKS document.

The metadata lists only what this server implements; both documents are
cacheable for five minutes (a new signing key is published a whole rotation
period before it signs, so a cached JWKS is never missing a signing key).
"""

from __future__ import annotations

from typing import Any

from oauth21.dpop import ALLOWED_ALGS
from oauth21.grants import GRANT_MODULES

CACHE_CONTROL = "public, max-age=300"
CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]


def authorization_server_metadata(base_url: str, settings: Any) -> dict[str, Any]:
    return {
        "issuer": base_url,
        "authorization_endpoint": f"{base_url}/oauth/authorize",
        "token_endpoint": f"{base_url}/oauth/token",
        "device_authorization_endpoint": f"{base_url}/oauth/device/code",
        "jwks_uri": f"{base_url}/.well-known/jwks.json",
        "introspection_endpoint": f"{base_url}/oauth/introspect",
        "revocation_endpoint": f"{base_url}/oauth/revoke",
        "grant_types_supported": list(GRANT_MODULES),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": True,
        "scopes_supported": list(settings.supported_scopes),
        "token_endpoint_auth_methods_supported": CLIENT_AUTH_METHODS,
        "introspection_endpoint_auth_methods_supported": CLIENT_AUTH_METHODS,
        "revocation_endpoint_auth_methods_supported": CLIENT_AUTH_METHODS,
        "dpop_signing_alg_values_supported": list(ALLOWED_ALGS),
    }
