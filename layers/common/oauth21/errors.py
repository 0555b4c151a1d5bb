"""OAuth errors as data, and the one place an error becomes an HTTP response.

Each error class carries its RFC error code and HTTP status. Code anywhere
raises them; the function boundary (`oauth21.http.endpoint`) turns them into
responses with `to_response`. Anything that is not an `OAuthError` becomes a
500 `server_error` with no detail.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
# RFC 6749 5.2: error_description = 1*( %x20-21 / %x23-5B / %x5D-7E )
_DESCRIPTION_CHARS = frozenset(chr(c) for c in range(0x20, 0x7F)) - {'"', "\\"}


def description_text(text: str) -> str:
    """An error description with only the characters RFC 6749 allows (it may quote input)."""
    return "".join(c if c in _DESCRIPTION_CHARS else "?" for c in text)


class OAuthError(Exception):
    """An error the client is told about (RFC 6749 section 5.2)."""

    error: ClassVar[str] = "invalid_request"
    status: ClassVar[int] = 400
    default_description: ClassVar[str] = ""
    # Routine answers (a device poll still pending) are not worth an INFO line each.
    log_level: ClassVar[str] = "info"

    def __init__(self, description: str | None = None, headers: dict[str, str] | None = None):
        self.description = description or self.default_description
        self.headers = dict(headers or {})
        super().__init__(f"{self.error}: {self.description}")

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.error}
        if self.description:
            body["error_description"] = description_text(self.description)
        return body

    def to_response(self) -> dict[str, Any]:
        """The API Gateway (payload 2.0) response for this error."""
        headers = {"Content-Type": "application/json", **NO_STORE, **self.headers}
        return {
            "statusCode": self.status,
            "headers": headers,
            "body": json.dumps(self.body()),
        }


class InvalidRequest(OAuthError):
    error = "invalid_request"


class InvalidClient(OAuthError):
    error = "invalid_client"
    status = 401
    default_description = "Client authentication failed"

    def __init__(self, description: str | None = None, *, basic: bool = False):
        # RFC 6749 5.2: a client that tried Basic gets a Basic challenge.
        headers = {"WWW-Authenticate": 'Basic realm="oauth", charset="UTF-8"'} if basic else {}
        super().__init__(description, headers)


class InvalidGrant(OAuthError):
    error = "invalid_grant"


class UnauthorizedClient(OAuthError):
    error = "unauthorized_client"


class UnsupportedGrantType(OAuthError):
    error = "unsupported_grant_type"


class InvalidScope(OAuthError):
    error = "invalid_scope"


class AccessDenied(OAuthError):
    error = "access_denied"


class ServerError(OAuthError):
    error = "server_error"
    status = 500
    default_description = "The server could not handle the request"


class TemporarilyUnavailable(OAuthError):
    """A dependency (DynamoDB, KMS) failed in a way a retry may fix."""

    error = "temporarily_unavailable"
    status = 503
    default_description = "The service is temporarily unavailable; retry shortly"

    def __init__(self, description: str | None = None, retry_after: int = 1):
        super().__init__(description, {"Retry-After": str(retry_after)})


class MethodNotAllowed(OAuthError):
    error = "invalid_request"
    status = 405


class NotFound(OAuthError):
    error = "invalid_request"
    status = 404


class UnsupportedResponseType(OAuthError):
    error = "unsupported_response_type"


class LoginRequired(OAuthError):
    """prompt=none, and nobody is signed in (OpenID Connect's code, widely used in OAuth)."""

    error = "login_required"
    default_description = "The user is not signed in and prompt=none forbids asking"


class ConsentRequired(OAuthError):
    error = "consent_required"
    default_description = "The user has not allowed this and prompt=none forbids asking"
