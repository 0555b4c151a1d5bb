"""The authorization request (RFC 6749 4.1.1, RFC 7636, RFC 9207), validated.

Order matters (RFC 6749 4.1.2.1): until the client and its redirect URI are
known to be genuine, nothing may be sent to the redirect URI, so those
failures are an HTML error page (`ErrorPage`). Every later failure is
redirected to the client with `error`, `error_description`, `state` and `iss`
(`AuthorizationRedirect`).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

from oauth21 import pkce
from oauth21.clients import GRANT_AUTHORIZATION_CODE, Client
from oauth21.errors import (
    InvalidRequest,
    OAuthError,
    UnauthorizedClient,
    UnsupportedResponseType,
)
from oauth21.scopes import grant_scope

# The parameters a login or consent form carries forward, to validate again.
CARRIED = (
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
    "prompt",
    "dpop_jkt",
)
PROMPTS = {"none", "login", "consent"}
_THUMBPRINT = re.compile(r"[A-Za-z0-9_-]{43}")
MAX_STATE = 1024


class ErrorPage(Exception):
    """A failure that must not be redirected: shown to the user instead."""

    def __init__(self, description: str):
        super().__init__(description)
        self.description = description


class AuthorizationRedirect(Exception):
    """A failure reported to the client at its redirect URI."""

    def __init__(self, location: str, error: OAuthError):
        super().__init__(error.error)
        self.location = location
        self.error = error


LOOPBACK_IPS = ("127.0.0.1", "[::1]")


def redirect_uri_matches(registered: str, presented: str) -> bool:
    """Character for character, except the port of a loopback IP redirect URI:
    native apps listen on whatever port the OS gives them (RFC 8252 7.3,
    OAuth 2.1 8.4.2)."""
    if presented == registered:
        return True
    reg, got = urlsplit(registered), urlsplit(presented)
    if reg.scheme != "http" or reg.netloc.rsplit(":", 1)[0] not in LOOPBACK_IPS:
        return False
    try:
        got.port  # noqa: B018  (a malformed port is no match)
    except ValueError:
        return False
    return (
        got.scheme == "http"
        and got.hostname == reg.hostname
        and (got.path, got.query, got.fragment) == (reg.path, reg.query, reg.fragment)
        and got.netloc.startswith(reg.netloc.rsplit(":", 1)[0])
    )


def check_redirect_uri(uri: str) -> None:
    """What may be registered (RFC 9700 2.1, OAuth 2.1 2.3): an absolute URI without
    a fragment; https, http only on a loopback host, or an app's private-use scheme."""
    parts = urlsplit(uri)
    if not parts.scheme or parts.fragment or "#" in uri:
        raise ValueError(f"redirect URI must be absolute and without a fragment: {uri}")
    if parts.scheme == "http" and parts.hostname not in ("localhost", "127.0.0.1", "::1"):
        raise ValueError(f"http redirect URIs are for loopback addresses only: {uri}")
    if parts.scheme in ("http", "https") and not parts.hostname:
        raise ValueError(f"redirect URI has no host: {uri}")
    if parts.scheme in ("javascript", "data", "file", "vbscript"):
        raise ValueError(f"redirect URI scheme not allowed: {uri}")


def add_query(uri: str, params: Mapping[str, str]) -> str:
    """Append form-encoded parameters (spaces as '+') to a URI that may have a query."""
    separator = "&" if urlsplit(uri).query else "?"
    return f"{uri}{separator}{urlencode(params)}"


def origin_of(uri: str) -> str:
    """The CSP source for a redirect URI: its origin, or its scheme for a custom scheme."""
    parts = urlsplit(uri)
    if parts.scheme in ("http", "https"):
        return f"{parts.scheme}://{parts.netloc}"
    return f"{parts.scheme}:"


@dataclass(frozen=True)
class AuthorizationRequest:
    client: Client
    redirect_uri: str
    redirect_uri_explicit: bool
    state: str | None
    scope: str
    code_challenge: str
    prompts: frozenset[str]
    issuer: str
    dpop_jkt: str | None = None
    carried: Mapping[str, str] = field(default_factory=dict)

    def respond(self, params: Mapping[str, str]) -> str:
        """The redirect URI with the response parameters, `state` and `iss` (RFC 9207)."""
        full = dict(params)
        if self.state is not None:
            full["state"] = self.state
        full["iss"] = self.issuer
        return add_query(self.redirect_uri, full)

    def error(self, error: OAuthError) -> AuthorizationRedirect:
        return AuthorizationRedirect(self.respond(error.body()), error)


def _single(counts: Counter[str], params: Mapping[str, str], name: str) -> str | None:
    if counts[name] > 1:
        raise ErrorPage(f"The {name} parameter is repeated")
    return params.get(name)


def parse_authorization_request(
    pairs: list[tuple[str, str]],
    find_client: Callable[[str], Client | None],
    supported_scopes: tuple[str, ...],
    issuer: str,
) -> AuthorizationRequest:
    counts = Counter(name for name, _ in pairs)
    params = {name: value for name, value in reversed(pairs) if value}  # first value wins
    client_id = _single(counts, params, "client_id")
    if client_id is None:
        raise ErrorPage("The request has no client_id.")
    client = find_client(client_id)
    if client is None:
        raise ErrorPage("The application that sent you here is not registered.")
    redirect_uri = _single(counts, params, "redirect_uri")
    explicit = redirect_uri is not None
    if redirect_uri is None:
        if len(client.redirect_uris) != 1:
            raise ErrorPage("The request has no redirect_uri.")
        redirect_uri = client.redirect_uris[0]
    elif not any(redirect_uri_matches(r, redirect_uri) for r in client.redirect_uris):
        raise ErrorPage("The redirect_uri is not registered for this application.")

    state = params.get("state")
    partial = AuthorizationRequest(
        client, redirect_uri, explicit, state, "", "", frozenset(), issuer
    )
    try:
        return _validate(partial, counts, params, supported_scopes)
    except OAuthError as exc:
        raise partial.error(exc) from None


def _validate(
    partial: AuthorizationRequest,
    counts: Counter[str],
    params: Mapping[str, str],
    supported_scopes: tuple[str, ...],
) -> AuthorizationRequest:
    repeated = sorted(name for name, n in counts.items() if n > 1)
    if repeated:
        raise InvalidRequest(f"The parameter '{repeated[0][:40]}' is repeated")
    if partial.state is not None and len(partial.state) > MAX_STATE:
        raise InvalidRequest(f"state is longer than {MAX_STATE} characters")
    response_type = params.get("response_type")
    if response_type is None:
        raise InvalidRequest("The response_type parameter is required")
    if response_type != "code":
        raise UnsupportedResponseType("Only response_type=code is supported")
    if not partial.client.allows_grant(GRANT_AUTHORIZATION_CODE):
        raise UnauthorizedClient("This client may not use the authorization code grant")
    challenge = pkce.normalize_challenge(
        params.get("code_challenge"), params.get("code_challenge_method")
    )
    scope = grant_scope(params.get("scope"), partial.client.scopes, supported_scopes)
    prompts = frozenset(params.get("prompt", "").split())
    if not prompts <= PROMPTS:
        raise InvalidRequest("prompt may only be none, login or consent")
    if "none" in prompts and len(prompts) > 1:
        raise InvalidRequest("prompt=none cannot be combined with another prompt")
    dpop_jkt = params.get("dpop_jkt")
    if dpop_jkt is not None and not _THUMBPRINT.fullmatch(dpop_jkt):
        raise InvalidRequest("dpop_jkt must be a JWK SHA-256 thumbprint (43 base64url characters)")
    carried = {name: params[name] for name in CARRIED if name in params}
    return AuthorizationRequest(
        client=partial.client,
        redirect_uri=partial.redirect_uri,
        redirect_uri_explicit=partial.redirect_uri_explicit,
        state=partial.state,
        scope=scope,
        code_challenge=challenge,
        prompts=prompts,
        issuer=partial.issuer,
        dpop_jkt=dpop_jkt,
        carried=carried,
    )
