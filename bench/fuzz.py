"""`python -m bench.fuzz` (what `make fuzz` runs): schemathesis against the local stack, at length.

It starts the local stack itself (`python -m devserver` on free ports, as
tests/e2e/conftest.py does), then sends every operation of openapi.yaml
FUZZ_EXAMPLES (default 500) generated requests, half of them valid per the
document and half violating it (schemathesis' positive and negative modes),
and checks every response: never a 5xx, a documented status and content
type, and headers and body as documented (schemathesis' conformance checks).

Requests go out as generated and also with real credentials swapped in (the
demo clients, a signed-in user's access token, live refresh tokens, device
and authorization codes, a session and CSRF cookie pair), so the paths
behind client authentication, the authorizer and the CSRF check are reached
too. Cases with generated credentials come from 127.0.0.2, so the login and
user-code throttling they trip counts against that address only.

It prints cases per operation (and per status), the total, and every distinct
failure with a curl command that reproduces it; it exits 1 if there is any.
Generation is deterministic (Hypothesis' derandomize): the same openapi.yaml
and settings send the same requests, apart from the server's own random
values (tokens, codes) they carry.

Settings (environment): FUZZ_EXAMPLES (per operation), FUZZ_OPERATIONS
(comma-separated labels such as "POST /oauth/token" to run only those).

tests/e2e/test_openapi_schemathesis.py runs the same `Fuzzer` with a few
examples per operation.
"""

from __future__ import annotations

import base64
import hashlib
import html
import http.cookiejar
import os
import re
import secrets
import socket
import string
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
from requests.adapters import HTTPAdapter

from devserver.process import local_stack

ROOT = Path(__file__).resolve().parent.parent
OPENAPI = ROOT / "openapi.yaml"
DEFAULT_EXAMPLES = 500
# Cases with generated (wrong) credentials come from here: the throttles they
# trip (logins, user codes: per source address) are this address's alone.
FUZZ_ADDRESS = "127.0.0.2"
# Cases that submit only real user codes come from here, so the wrong codes
# sent from FUZZ_ADDRESS cannot lock them out.
TRUSTED_ADDRESS = "127.0.0.3"
TIMEOUT = 30
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
CSRF_VALUE = "fuzz-csrf-" + "x" * 33  # a well-formed double-submit token (43 characters)
# Browser flows (no password once signed in) the pool may run per operation to
# renew codes and tokens, on top of one per case (no case needs more than one).
SPARE_FLOWS = 20


# --- the local stack -----------------------------------------------------------


# --- HTTP sessions ---------------------------------------------------------------


class _SourceAddressAdapter(HTTPAdapter):
    def __init__(self, address: str | None):
        self._address = address
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        if self._address:
            kwargs["source_address"] = (self._address, 0)
        super().init_poolmanager(*args, **kwargs)


class _NoCookies(http.cookiejar.DefaultCookiePolicy):
    """Each case sends exactly its own cookies: none are kept from responses."""

    def set_ok(self, cookie: Any, request: Any) -> bool:
        return False


def address_usable(address: str) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind((address, 0))
            return True
        except OSError:
            return False


def http_session(source_address: str | None = None, *, one_shot: bool = False) -> Any:
    """A requests session; `one_shot`: for one request, on a new connection, keeping no cookies.

    One-shot sessions are for the fuzz cases: each sends exactly its own cookies,
    and a new connection answers in half the time here (the local stack writes a
    response's headers and body separately, so on a kept-alive connection each
    response waits out a delayed ACK, about 40 ms).
    """
    session = requests.Session()
    if source_address and source_address not in _UNUSABLE:
        if address_usable(source_address):
            session.mount("http://", _SourceAddressAdapter(source_address))
        else:
            _UNUSABLE.add(source_address)
    if one_shot:
        session.cookies.set_policy(_NoCookies())
        session.headers["Connection"] = "close"
    return session


_UNUSABLE: set[str] = set()


# --- real credentials, the way a client and a browser get them -------------------


@dataclass(frozen=True)
class Identities:
    """Who the fuzz cases can be: the stack's demo clients and a user's credentials."""

    basic_client: tuple[str, str]  # confidential, client_credentials (client_secret_basic)
    post_client: tuple[str, str]  # confidential, code + refresh + client_credentials
    spa: str  # public, authorization code
    redirect_uri: str
    tv: str  # public, device code
    email: str
    password: str

    @classmethod
    def from_demo(
        cls, demo: dict[str, Any], email: str | None = None, password: str | None = None
    ) -> Identities:
        return cls(
            basic_client=(
                demo["confidential_client"]["client_id"],
                demo["confidential_client"]["client_secret"],
            ),
            post_client=(
                demo["seed_test_client"]["client_id"],
                demo["seed_test_client"]["client_secret"],
            ),
            spa=demo["public_client"]["client_id"],
            redirect_uri=demo["public_client"]["redirect_uri"],
            tv=demo["device_client"]["client_id"],
            email=email or demo["user"]["email"],
            password=password or demo["user"]["password"],
        )


_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


def _hidden_fields(page: str) -> dict[str, str]:
    return {html.unescape(k): html.unescape(v) for k, v in _HIDDEN.findall(page)}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class DpopKey:
    """A client's DPoP key (ES256) and its proofs (RFC 9449 4)."""

    def __init__(self) -> None:
        from cryptography.hazmat.primitives.asymmetric import ec

        self._key = ec.generate_private_key(ec.SECP256R1())
        numbers = self._key.public_key().public_numbers()
        self.jwk = {
            "kty": "EC",
            "crv": "P-256",
            "x": b64url(numbers.x.to_bytes(32, "big")),
            "y": b64url(numbers.y.to_bytes(32, "big")),
        }

    def proof(self, method: str, url: str, access_token: str | None = None, **claims: Any) -> str:
        """A proof for this request (`claims` override or add claims)."""
        import jwt

        claims = {
            "jti": secrets.token_urlsafe(16),
            "htm": method,
            "htu": url.split("?", 1)[0],
            "iat": int(time.time()),
            **claims,
        }
        if access_token is not None:
            claims["ath"] = b64url(hashlib.sha256(access_token.encode("ascii")).digest())
        headers = {"typ": "dpop+jwt", "jwk": self.jwk}
        return str(jwt.encode(claims, self._key, algorithm="ES256", headers=headers))


class Flows:
    """Tokens and codes obtained over HTTP as the demo clients and a browser do."""

    def __init__(self, url: str, ids: Identities):
        self.url, self.ids = url, ids
        self.browser = http_session()  # keeps cookies: the session and the CSRF cookie

    def _ok(self, response: Any, *statuses: int) -> Any:
        if response.status_code not in (statuses or (200,)):
            raise RuntimeError(
                f"{response.request.method} {response.url}: {response.status_code} "
                f"{response.text[:300]}"
            )
        return response

    def client_credentials_token(self, dpop: DpopKey | None = None) -> str:
        endpoint = f"{self.url}/oauth/token"
        headers = {"DPoP": dpop.proof("POST", endpoint)} if dpop else {}
        answer = self._ok(
            requests.post(
                endpoint,
                data={"grant_type": "client_credentials"},
                auth=self.ids.basic_client,
                headers=headers,
                timeout=TIMEOUT,
            )
        )
        return str(answer.json()["access_token"])

    def device_authorization(self, scope: str = "read write admin") -> dict[str, Any]:
        answer = self._ok(
            requests.post(
                f"{self.url}/oauth/device/code",
                data={"client_id": self.ids.tv, "scope": scope},
                timeout=TIMEOUT,
            )
        )
        return dict(answer.json())

    def approve(self, user_code: str) -> None:
        """The verification page, as a user: enter the code, sign in if needed, allow."""
        endpoint = f"{self.url}/oauth/device"
        page = self._ok(
            self.browser.get(endpoint, params={"user_code": user_code}, timeout=TIMEOUT)
        )
        form = {**_hidden_fields(page.text), "user_code": user_code}
        page = self._ok(self.browser.post(endpoint, data=form, timeout=TIMEOUT))
        if 'name="step" value="login"' in page.text:
            login = {
                **_hidden_fields(page.text),
                "step": "login",
                "email": self.ids.email,
                "password": self.ids.password,
            }
            page = self._ok(self.browser.post(endpoint, data=login, timeout=TIMEOUT))
        confirm = {**_hidden_fields(page.text), "step": "confirm", "decision": "allow"}
        page = self._ok(self.browser.post(endpoint, data=confirm, timeout=TIMEOUT))
        if "connected" not in page.text:
            raise RuntimeError(f"the device code was not approved: {page.text[:300]}")

    def approved_device_code(self) -> str:
        device = self.device_authorization()
        self.approve(device["user_code"])
        return str(device["device_code"])

    def device_tokens(self, dpop: DpopKey | None = None) -> dict[str, Any]:
        """A user's tokens (read write admin) through the device flow: access and refresh
        (bound to `dpop`'s key when given)."""
        device_code = self.approved_device_code()
        endpoint = f"{self.url}/oauth/token"
        headers = {"DPoP": dpop.proof("POST", endpoint)} if dpop else {}
        answer = self._ok(
            requests.post(
                endpoint,
                data={
                    "grant_type": DEVICE_GRANT,
                    "device_code": device_code,
                    "client_id": self.ids.tv,
                },
                headers=headers,
                timeout=TIMEOUT,
            )
        )
        return dict(answer.json())

    def authorization_code(self) -> tuple[str, str]:
        """A fresh code for the public client and its PKCE verifier (signed in, consented)."""
        verifier = secrets.token_urlsafe(32)
        challenge = b64url(hashlib.sha256(verifier.encode("ascii")).digest())
        params = {
            "response_type": "code",
            "client_id": self.ids.spa,
            "redirect_uri": self.ids.redirect_uri,
            "scope": "read write",
            "state": "fuzz",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        endpoint = f"{self.url}/oauth/authorize"
        answer = self.browser.get(endpoint, params=params, allow_redirects=False, timeout=TIMEOUT)
        for _ in range(3):
            if answer.status_code != 200:
                break
            form = _hidden_fields(answer.text)
            if form.get("step") == "login":
                form.update(email=self.ids.email, password=self.ids.password)
            else:
                form["decision"] = "allow"
            answer = self.browser.post(endpoint, data=form, allow_redirects=False, timeout=TIMEOUT)
        self._ok(answer, 302, 303)
        query = parse_qs(urlsplit(answer.headers["Location"]).query)
        if "code" not in query:
            raise RuntimeError(f"no code in {answer.headers['Location']}")
        return query["code"][0], verifier

    def session_cookie(self) -> str:
        for cookie in self.browser.cookies:
            if cookie.name in ("oauth_session", "__Host-oauth_session"):
                return str(cookie.value)
        raise RuntimeError("the browser is not signed in")


class Pool:
    """Live credentials the cases borrow, renewed over HTTP as cases use them up.

    Each is made on first use; one that cannot be made (the flow that makes it
    failed) fails the cases that need it, as a `setup` finding, and only those.
    The user token for the routes behind the authorizer comes from a grant of
    its own, which no case is given to revoke; introspection and revocation get
    tokens of another grant (a refresh token chain, rotated by the cases that
    use it and renewed by a new device flow when a case revokes it).
    """

    def __init__(self, flows: Flows, max_flows: int = SPARE_FLOWS):
        """`max_flows`: browser flows allowed (`Fuzzer.run` sets it per operation)."""
        self.flows = flows
        self.flows_left = max_flows
        self.dpop = DpopKey()
        self._made: dict[str, Any] = {}
        self._chain: str | None = None
        self._stale = "A" * 43 + "." + "B" * 43

    def _once(self, name: str, make: Callable[[], Any]) -> Any:
        """Made once; a failure is kept too (and raised again) rather than retried per case."""
        if name not in self._made:
            try:
                self._made[name] = make()
            except Exception as exc:
                self._made[name] = exc
        made = self._made[name]
        if isinstance(made, Exception):
            raise RuntimeError(f"could not make the {name}: {made}") from made
        return made

    @property
    def user_token(self) -> str:
        return str(self._once("user token", lambda: self.flows.device_tokens()["access_token"]))

    @property
    def session(self) -> str:
        self.user_token  # noqa: B018  (the device flow signs the browser in)
        return str(self._once("session", self.flows.session_cookie))

    @property
    def service_token(self) -> str:
        return str(self._once("service token", self.flows.client_credentials_token))

    @property
    def dpop_user_token(self) -> str:
        """A user's access token bound to `dpop`'s key (a grant no case revokes)."""
        return str(
            self._once(
                "DPoP-bound user token",
                lambda: self.flows.device_tokens(self.dpop)["access_token"],
            )
        )

    def dpop_service_token(self) -> str:
        """A new client-credentials token bound to `dpop`'s key."""
        return self.flows.client_credentials_token(self.dpop)

    def _flow(self) -> bool:
        if self.flows_left <= 0:
            return False
        self.flows_left -= 1
        return True

    def refresh_token(self) -> str:
        """The chain's current refresh token (a new chain when the last one was revoked)."""
        if self._chain is None and self._flow():
            self._chain = str(self.flows.device_tokens()["refresh_token"])
        return self._chain or self._stale

    def note_refresh(self, presented: str, status: int, body: Any) -> None:
        """What a case did to the chain: rotated it (200), or killed it (400, or revoked)."""
        if presented != self._chain:
            return
        if status == 200 and isinstance(body, dict) and "refresh_token" in body:
            self._chain = str(body["refresh_token"])
        elif status in (200, 400):
            self._chain = None

    def fresh_access_token(self) -> str:
        """A new user access token of the chain's grant (one refresh)."""
        presented = self.refresh_token()
        answer = requests.post(
            f"{self.flows.url}/oauth/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": presented,
                "client_id": self.flows.ids.tv,
            },
            timeout=TIMEOUT,
        )
        body = answer.json()
        self.note_refresh(presented, answer.status_code, body)
        if "access_token" not in body:
            raise RuntimeError(f"no fresh access token: {answer.status_code} {answer.text[:200]}")
        return str(body["access_token"])

    def device_code(self, approved: bool = False) -> str:
        if approved and self._flow():
            return self.flows.approved_device_code()
        return str(self.flows.device_authorization()["device_code"])

    def user_code(self) -> str:
        return str(self.flows.device_authorization()["user_code"])

    def authorization_code(self) -> tuple[str, str]:
        if self._flow():
            return self.flows.authorization_code()
        return "used-up", "v" * 43

    def personal_token_id(self) -> str:
        answer = requests.post(
            f"{self.flows.url}/oauth/personal-access-tokens",
            json={"name": "fuzz", "scopes": ["read"], "expires_in": 3600},
            headers={"Authorization": f"Bearer {self.user_token}"},
            timeout=TIMEOUT,
        )
        if answer.status_code != 201:
            raise RuntimeError(f"no personal access token: {answer.status_code} {answer.text}")
        return str(answer.json()["id"])


# --- how each case is sent: as generated, or with real credentials -------------


Mutate = Callable[[Any, Pool], dict[str, Any]]


@dataclass(frozen=True)
class Mode:
    """One way to send a generated case: `mutate` swaps real values in (and returns
    what `after` needs to know), `address` is the source address it is sent from."""

    name: str
    mutate: Mutate
    address: str = FUZZ_ADDRESS


def _form(case: Any) -> dict[str, Any] | None:
    return case.body if isinstance(case.body, dict) else None


def _set_form(case: Any, **values: Any) -> None:
    body = _form(case)
    if body is None:
        return
    for name, value in values.items():
        if value is None:
            body.pop(name, None)
        else:
            body[name] = value


def _set_header(case: Any, name: str, value: str | None) -> None:
    if value is None:
        case.headers.pop(name, None)
    else:
        case.headers[name] = value


def _basic(client: tuple[str, str]) -> str:
    return "Basic " + base64.b64encode(f"{client[0]}:{client[1]}".encode()).decode("ascii")


def as_generated(case: Any, pool: Pool) -> dict[str, Any]:
    return {}


def basic_auth(case: Any, pool: Pool) -> dict[str, Any]:
    _set_header(case, "Authorization", _basic(pool.flows.ids.basic_client))
    _set_form(case, client_id=None, client_secret=None)
    return {}


def post_auth(case: Any, pool: Pool) -> dict[str, Any]:
    client_id, secret = pool.flows.ids.post_client
    _set_header(case, "Authorization", None)
    _set_form(case, client_id=client_id, client_secret=secret)
    return {}


def public_client(client: str) -> Mutate:
    def mutate(case: Any, pool: Pool) -> dict[str, Any]:
        _set_header(case, "Authorization", None)
        _set_form(case, client_id=getattr(pool.flows.ids, client), client_secret=None)
        return {}

    return mutate


def grant(name: str) -> Mutate:
    """The token endpoint with a live grant of this kind (the rest as generated)."""

    def mutate(case: Any, pool: Pool) -> dict[str, Any]:
        ids = pool.flows.ids
        if name in ("client_credentials", "client_credentials+dpop"):
            basic_auth(case, pool)
            _set_form(case, grant_type="client_credentials")
            if name.endswith("+dpop"):
                _set_header(case, "DPoP", pool.dpop.proof("POST", f"{pool.flows.url}/oauth/token"))
            return {}
        _set_header(case, "Authorization", None)
        _set_header(case, "DPoP", None)
        if name == "refresh_token":
            presented = pool.refresh_token()
            _set_form(
                case,
                grant_type="refresh_token",
                refresh_token=presented,
                client_id=ids.tv,
                client_secret=None,
            )
            return {"refresh_token": presented}
        if name == "authorization_code":
            code, verifier = pool.authorization_code()
            _set_form(
                case,
                grant_type="authorization_code",
                code=code,
                code_verifier=verifier,
                redirect_uri=ids.redirect_uri,
                client_id=ids.spa,
                client_secret=None,
            )
            return {}
        approved = name == "device_approved"
        _set_form(
            case,
            grant_type=DEVICE_GRANT,
            device_code=pool.device_code(approved=approved),
            client_id=ids.tv,
            client_secret=None,
        )
        return {}

    return mutate


def presented_token(kind: str, auth: Mutate | None = None) -> Mutate:
    """Introspection and revocation of a live token (`auth`: who asks)."""

    def mutate(case: Any, pool: Pool) -> dict[str, Any]:
        if auth is not None:
            auth(case, pool)
        else:
            _set_header(case, "Authorization", None)
            _set_form(case, client_id=None, client_secret=None)
        if kind == "refresh":
            token = pool.refresh_token()
            _set_form(case, token=token)
            return {"refresh_token": token}
        if kind == "user":
            token = pool.fresh_access_token()
        elif kind == "dpop":
            token = pool.dpop_service_token()
        else:
            token = pool.service_token
        _set_form(case, token=token)
        return {}

    return mutate


def bearer(kind: str, scheme: str = "Bearer") -> Mutate:
    def mutate(case: Any, pool: Pool) -> dict[str, Any]:
        token = pool.user_token if kind == "user" else pool.service_token
        _set_header(case, "Authorization", f"{scheme} {token}")
        return {}

    return mutate


def dpop_user(case: Any, pool: Pool) -> dict[str, Any]:
    """`Authorization: DPoP` with a bound user token and a proof for this very request."""
    token = pool.dpop_user_token
    url = str(case.as_transport_kwargs(base_url=pool.flows.url)["url"])
    _set_header(case, "Authorization", f"DPoP {token}")
    _set_header(case, "DPoP", pool.dpop.proof(case.method, url, access_token=token))
    return {}


def own_personal_token(case: Any, pool: Pool) -> dict[str, Any]:
    bearer("user")(case, pool)
    case.path_parameters["id"] = pool.personal_token_id()
    return {}


def _same_site(case: Any) -> None:
    """What a browser sends with a form of this site (no cross-site Origin or Sec-Fetch-Site)."""
    _set_header(case, "Origin", None)
    _set_header(case, "Sec-Fetch-Site", "same-origin")


def authorize_client(*, session: bool = False, csrf: bool = False) -> Mutate:
    def mutate(case: Any, pool: Pool) -> dict[str, Any]:
        ids = pool.flows.ids
        target = case.query if case.method == "GET" else _form(case)
        if target is not None:
            target.update(client_id=ids.spa, redirect_uri=ids.redirect_uri)
        if session:
            case.cookies["oauth_session"] = pool.session
        if csrf:
            case.cookies["oauth_csrf"] = CSRF_VALUE
            _set_form(case, csrf_token=CSRF_VALUE)
        if csrf and session:
            _same_site(case)
        return {}

    return mutate


def device_form(*, code: bool = False, session: bool = False) -> Mutate:
    def mutate(case: Any, pool: Pool) -> dict[str, Any]:
        case.cookies["oauth_csrf"] = CSRF_VALUE
        _set_form(case, csrf_token=CSRF_VALUE)
        if code:
            _set_form(case, user_code=pool.user_code())
            _same_site(case)
        if session:
            case.cookies["oauth_session"] = pool.session
        return {}

    return mutate


GENERATED = Mode("generated", as_generated)
CLIENT_MODES = [
    GENERATED,
    Mode("basic", basic_auth),
    Mode("post", post_auth),
]
TOKEN_QUERY_MODES = [
    *CLIENT_MODES,
    Mode("public", public_client("spa")),
    Mode("user-token", presented_token("user")),
    Mode("user-token+basic", presented_token("user", basic_auth)),
    Mode("service-token+basic", presented_token("service", basic_auth)),
    Mode("dpop-token+basic", presented_token("dpop", basic_auth)),
    Mode("refresh-token+tv", presented_token("refresh", public_client("tv"))),
    Mode("refresh-token", presented_token("refresh")),
]
RESOURCE_MODES = [
    GENERATED,
    Mode("user", bearer("user")),
    Mode("service", bearer("service")),
    Mode("user-as-dpop", bearer("user", "DPoP")),
    Mode("dpop-user", dpop_user),
]
MODES: dict[str, list[Mode]] = {
    "GET /oauth/authorize": [
        GENERATED,
        Mode("client", authorize_client()),
        Mode("client+session", authorize_client(session=True)),
    ],
    "POST /oauth/authorize": [
        GENERATED,
        Mode("client", authorize_client()),
        Mode("client+csrf", authorize_client(csrf=True)),
        Mode("client+csrf+session", authorize_client(csrf=True, session=True)),
    ],
    "POST /oauth/token": [
        *CLIENT_MODES,
        Mode("public", public_client("spa")),
        Mode("client_credentials", grant("client_credentials")),
        Mode("client_credentials+dpop", grant("client_credentials+dpop")),
        Mode("refresh_token", grant("refresh_token")),
        Mode("authorization_code", grant("authorization_code")),
        Mode("device_pending", grant("device_pending")),
        Mode("device_approved", grant("device_approved")),
    ],
    "POST /oauth/introspect": TOKEN_QUERY_MODES,
    "POST /oauth/revoke": TOKEN_QUERY_MODES,
    "POST /oauth/device/code": [*CLIENT_MODES, Mode("public", public_client("tv"))],
    "POST /oauth/device": [
        GENERATED,
        Mode("csrf", device_form()),
        Mode("csrf+code", device_form(code=True), TRUSTED_ADDRESS),
        Mode("csrf+code+session", device_form(code=True, session=True), TRUSTED_ADDRESS),
    ],
    "GET /api/user": RESOURCE_MODES,
    "POST /oauth/personal-access-tokens": RESOURCE_MODES,
    "GET /oauth/personal-access-tokens": RESOURCE_MODES,
    "DELETE /oauth/personal-access-tokens/{id}": [
        *RESOURCE_MODES,
        Mode("own-token", own_personal_token),
    ],
}


# --- the run ---------------------------------------------------------------------


def load_schema(path: Path = OPENAPI) -> Any:
    import schemathesis
    from hypothesis import strategies as st

    safe = string.ascii_letters + string.digits + "-._~+/="
    # The DPoP authentication scheme's Authorization header (http scheme "DPoP").
    schemathesis.openapi.format("_dpop_auth", st.text(safe).map("DPoP {}".format))
    schema = schemathesis.openapi.from_path(str(path))
    # Reproductions must carry their cookies and credentials (the local stack's, throwaway).
    schema.config.output.sanitization.update(enabled=False)
    return schema


HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def operation_labels(path: Path = OPENAPI) -> list[str]:
    """`METHOD /path` of every operation, in the document's order (no schemathesis needed)."""
    import yaml

    with open(path, encoding="utf-8") as handle:
        document = yaml.safe_load(handle)
    return [
        f"{method.upper()} {route}"
        for route, item in document["paths"].items()
        for method in item
        if method in HTTP_METHODS
    ]


def conformance_checks() -> list[Any]:
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_headers_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    return [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_headers_conformance,
        response_schema_conformance,
    ]


@dataclass
class Finding:
    title: str
    status: int | None
    mode: str
    detail: str
    reproduce: str
    count: int = 1

    def describe(self) -> str:
        detail = "\n".join("      " + line for line in self.detail.strip().splitlines()[:25])
        return (
            f"  [{self.count}x] {self.title} (status {self.status}, mode {self.mode})\n"
            f"{detail}\n    Reproduce with:\n      {self.reproduce}"
        )


@dataclass
class OperationReport:
    label: str
    cases: int = 0
    seconds: float = 0.0
    by_generation: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    modes: Counter[str] = field(default_factory=Counter)
    findings: dict[str, Finding] = field(default_factory=dict)
    # Failures a `KnownBug` classifier recognised (by name): reported, not counted.
    known: Counter[str] = field(default_factory=Counter)

    @property
    def failures(self) -> int:
        return sum(f.count for f in self.findings.values())

    def summary(self) -> str:
        statuses = " ".join(f"{s}:{n}" for s, n in sorted(self.statuses.items()))
        generation = "/".join(str(self.by_generation[k]) for k in ("positive", "negative"))
        known = "".join(f"  known bug {name}: {n}" for name, n in sorted(self.known.items()))
        return (
            f"{self.label:<42} {self.cases:>6} cases (+/- {generation:>9}) "
            f"{self.seconds:6.1f}s  {statuses}{known}"
        )

    def describe_findings(self) -> str:
        return "\n".join(
            [f"{self.label}: {len(self.findings)} distinct failure(s)"]
            + [finding.describe() for finding in self.findings.values()]
        )


# Names a failure that is a known, reported bug (case, response, failure), or None.
KnownBug = Callable[[Any, Any, Any], str | None]


class Fuzzer:
    """Runs schemathesis cases of openapi.yaml against a running stack.

    `known` may set aside failures that are known bugs (counted in
    `OperationReport.known`); `python -m bench.fuzz` sets none aside.
    """

    def __init__(
        self,
        url: str,
        ids: Identities,
        schema: Any | None = None,
        known: KnownBug | None = None,
    ):
        self.url = url.rstrip("/")
        self.schema = schema if schema is not None else load_schema()
        self.checks = conformance_checks()
        self.pool = Pool(Flows(self.url, ids))
        self.known = known

    def operation(self, label: str) -> Any:
        method, path = label.split(" ", 1)
        return self.schema[path][method]

    def run(self, label: str, max_examples: int) -> OperationReport:
        from hypothesis.errors import Unsatisfiable
        from schemathesis import GenerationMode

        operation = self.operation(label)
        report = OperationReport(label)
        modes = MODES.get(label, [GENERATED])
        examples = operation.get_strategies_from_examples()
        self.pool.flows_left = SPARE_FLOWS + max_examples + len(examples) * len(modes)
        started = time.perf_counter()
        for example in examples:
            for mode in modes:  # the document's examples, once with each way of sending
                self._run_strategy(example, [mode], 1, "positive", report)
        positive = max_examples - max_examples // 2
        budgets = [
            (GenerationMode.POSITIVE, positive),
            (GenerationMode.NEGATIVE, max_examples // 2),
        ]
        for generation, budget in budgets:
            if budget <= 0:
                continue
            try:
                strategy = operation.as_strategy(generation_mode=generation)
                self._run_strategy(strategy, modes, budget, generation.value, report)
            except Unsatisfiable:
                pass  # nothing to negate (an operation without parameters)
        report.seconds = time.perf_counter() - started
        return report

    def _run_strategy(
        self, strategy: Any, modes: list[Mode], budget: int, generation: str, report: Any
    ) -> None:
        from hypothesis import HealthCheck, Phase, given, settings
        from hypothesis import strategies as st

        @given(case=strategy, mode=st.sampled_from(modes))
        @settings(
            max_examples=budget,
            derandomize=True,
            database=None,
            deadline=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
            report_multiple_bugs=False,
        )
        def exercise(case: Any, mode: Mode) -> None:
            self.exercise(case, mode, report)
            report.by_generation[generation] += 1

        exercise()

    def exercise(self, case: Any, mode: Mode, report: OperationReport) -> None:
        """Send one case (with `mode`'s credentials), check the response, note any failure."""
        from schemathesis.core.failures import FailureGroup

        report.cases += 1
        report.modes[mode.name] += 1
        try:
            noted = mode.mutate(case, self.pool)
        except Exception as exc:  # the pool could not renew a credential
            self._note(report, "setup", None, mode, f"{type(exc).__name__}: {exc}", "")
            return
        try:
            with http_session(mode.address, one_shot=True) as session:
                response = case.call(base_url=self.url, session=session, timeout=TIMEOUT)
        except Exception as exc:
            curl = _curl(case)
            self._note(report, "transport", None, mode, f"{type(exc).__name__}: {exc}", curl)
            return
        report.statuses[response.status_code] += 1
        self._after(report.label, noted, response)
        try:
            case.validate_response(response, checks=self.checks)
        except FailureGroup as group:
            curl = _curl(case, response)
            for failure in group.exceptions:
                bug = self.known(case, response, failure) if self.known else None
                if bug is not None:
                    report.known[bug] += 1
                    continue
                key = getattr(failure, "_unique_key", None) or failure.message[:120]
                self._note(
                    report,
                    f"{failure.code} {failure.title}",
                    response.status_code,
                    mode,
                    failure.message,
                    curl,
                    key=f"{failure.code}:{response.status_code}:{key}",
                )

    def _after(self, label: str, noted: dict[str, Any], response: Any) -> None:
        presented = noted.get("refresh_token")
        if presented is None:
            return
        try:
            body = response.json()
        except Exception:
            body = None
        if label == "POST /oauth/token":
            self.pool.note_refresh(presented, response.status_code, body)
        elif label == "POST /oauth/revoke" and response.status_code == 200:
            self.pool.note_refresh(presented, 400, None)  # its grant is revoked

    @staticmethod
    def _note(
        report: OperationReport,
        title: str,
        status: int | None,
        mode: Mode,
        detail: str,
        reproduce: str,
        key: str | None = None,
    ) -> None:
        key = key or f"{title}:{status}:{detail[:120]}"
        if key in report.findings:
            report.findings[key].count += 1
        else:
            report.findings[key] = Finding(title, status, mode.name, detail, reproduce)


def _curl(case: Any, response: Any | None = None) -> str:
    try:
        headers = dict(response.request.headers) if response is not None else None
        return str(case.as_curl_command(headers=headers))
    except Exception as exc:
        return f"(no curl command: {type(exc).__name__})"


# --- `python -m bench.fuzz` ------------------------------------------------------


def main() -> int:
    import schemathesis

    examples = int(os.environ.get("FUZZ_EXAMPLES", DEFAULT_EXAMPLES))
    schema = load_schema()
    labels = operation_labels()
    wanted = [w.strip() for w in os.environ.get("FUZZ_OPERATIONS", "").split(",") if w.strip()]
    unknown = sorted(set(wanted) - set(labels))
    if unknown:
        print(f"unknown operations: {', '.join(unknown)}", file=sys.stderr)
        return 2
    labels = [label for label in labels if not wanted or label in wanted]
    log_path = Path(tempfile.mkdtemp(prefix="fuzz-")) / "devserver.log"
    started = time.perf_counter()
    reports: list[OperationReport] = []
    with local_stack(log_path, log_level="WARNING") as stack:
        print(
            f"schemathesis {schemathesis.__version__}: {OPENAPI.name} against {stack.url}, "
            f"{examples} examples per operation (derandomized); stack log {log_path}",
            flush=True,
        )
        fuzzer = Fuzzer(stack.url, Identities.from_demo(stack.demo), schema)
        for label in labels:
            report = fuzzer.run(label, examples)
            reports.append(report)
            print(report.summary(), flush=True)
    elapsed = time.perf_counter() - started
    total = sum(r.cases for r in reports)
    failures = [r for r in reports if r.findings]
    print(f"{'total':<42} {total:>6} cases in {elapsed:.1f}s ({len(reports)} operations)")
    distinct = sum(len(r.findings) for r in failures)
    print(f"failures: {distinct} distinct, {sum(r.failures for r in failures)} cases")
    for report in failures:
        print()
        print(report.describe_findings())
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
