"""Caching and security headers on every endpoint's real handler responses.

- JSON endpoints (token, introspection, revocation, device authorization,
  personal access tokens, /api/user): `Cache-Control: no-store`, and
  `Pragma: no-cache` where the code sets it, on success and error alike.
- Metadata and JWKS: cacheable, `public, max-age=300`.
- HTML pages: a Content-Security-Policy with `default-src 'none'` and
  `frame-ancestors 'none'` and no script source, `X-Content-Type-Options:
  nosniff`, `Referrer-Policy: no-referrer`, `X-Frame-Options: DENY`,
  `Cache-Control: no-store`.
- Redirects from /oauth/authorize: `Cache-Control: no-store` and
  `Referrer-Policy: no-referrer` (the code and state must not be cached or
  leak to the next page's Referer).

Each endpoint and status is its own case (`<endpoint> <status> <what>`), and the
status is checked too, so an id cannot drift from what it tests.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.exceptions import ClientError

from oauth21.clients import (
    GRANT_AUTHORIZATION_CODE,
    GRANT_CLIENT_CREDENTIALS,
    GRANT_DEVICE_CODE,
    GRANT_REFRESH_TOKEN,
)
from tests.dpop_keys import ProofKey
from tests.functional.flow import Browser, Page, authorize_query, pkce_pair
from tests.support import ISSUER, api_event, basic, body

CALLBACK = "https://app.example/callback"
EMAIL, PASSWORD = "alice@example.com", "correct horse battery staple"
DEVICE = "urn:ietf:params:oauth:grant-type:device_code"
PAT = "/oauth/personal-access-tokens"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}

Response = dict[str, Any]


def _throttled(operation: str) -> ClientError:
    return ClientError(
        {
            "Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"},
            "ResponseMetadata": {"HTTPStatusCode": 400},
        },
        operation,
    )


class World:
    """One fresh stack (the functional fixtures): clients, a user, and the calls
    a client, a browser or API Gateway would make."""

    def __init__(self, function, register, services, aws, clock, monkeypatch):
        self._function, self.services, self.aws = function, services, aws
        self.clock, self._monkeypatch = clock, monkeypatch
        self._handlers: dict[str, Callable[[dict[str, Any]], Response]] = {}
        self.svc_secret = register(
            client_type="confidential",
            client_id="svc",
            name="Service",
            redirect_uris=[CALLBACK],
            grant_types=[
                GRANT_CLIENT_CREDENTIALS,
                GRANT_AUTHORIZATION_CODE,
                GRANT_REFRESH_TOKEN,
                GRANT_DEVICE_CODE,
            ],
            scopes=["read", "write"],
        )[1]
        register(
            client_type="public",
            client_id="spa",
            name="Photo Printer",
            redirect_uris=[CALLBACK],
            grant_types=[GRANT_AUTHORIZATION_CODE, GRANT_REFRESH_TOKEN],
            scopes=["read", "write"],
        )
        register(
            client_type="public",
            client_id="first",
            name="First Party",
            redirect_uris=[CALLBACK],
            grant_types=[GRANT_AUTHORIZATION_CODE, GRANT_REFRESH_TOKEN],
            scopes=["read", "write"],
            first_party=True,
        )
        register(
            client_type="public",
            client_id="tv",
            name="Living Room TV",
            grant_types=[GRANT_DEVICE_CODE, GRANT_REFRESH_TOKEN],
            scopes=["read", "write"],
        )
        self.alice = services.accounts.create(EMAIL, PASSWORD, "Alice")

    # --- calls ----------------------------------------------------------------

    def fn(self, name: str) -> Callable[[dict[str, Any]], Response]:
        if name not in self._handlers:
            self._handlers[name] = self._function(name)
        return self._handlers[name]

    def post(
        self,
        function: str,
        path: str,
        form: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        **event: Any,
    ) -> Response:
        return self.fn(function)(api_event("POST", path, form=form, headers=headers, **event))

    def get(self, function: str, path: str, **event: Any) -> Response:
        return self.fn(function)(api_event("GET", path, **event))

    def token(self, form: Mapping[str, str], headers: Mapping[str, str] | None = None) -> Response:
        return self.post("token", "/oauth/token", form, headers)

    @property
    def svc(self) -> dict[str, str]:
        return basic("svc", self.svc_secret)

    def cc_token(self) -> str:
        response = self.token({"grant_type": "client_credentials"}, self.svc)
        assert response["statusCode"] == 200, response
        return str(body(response)["access_token"])

    # --- the browser ----------------------------------------------------------

    def browser(self, function: str = "authorize") -> Browser:
        return Browser(self.fn(function))

    def login_page(self, client_id: str = "spa", **extra: str) -> tuple[Browser, Page, str]:
        verifier, challenge = pkce_pair()
        browser = self.browser()
        query = authorize_query(client_id, CALLBACK, challenge, **{"scope": "read write", **extra})
        page = browser.get("/oauth/authorize", query)
        return browser, page, verifier

    def consent_page(self) -> tuple[Browser, Page, str]:
        browser, page, verifier = self.login_page()
        consent = browser.submit(page, {"email": EMAIL, "password": PASSWORD})
        assert consent.status == 200 and "Allow" in consent.text, consent.text
        return browser, consent, verifier

    def code(self) -> tuple[str, str, Browser]:
        browser, consent, verifier = self.consent_page()
        done = browser.submit(consent, button="allow")
        assert done.status == 303, done.response
        return done.redirect_params()["code"], verifier, browser

    def code_tokens(self) -> dict[str, Any]:
        code, verifier, _ = self.code()
        response = self.token(
            {
                "grant_type": "authorization_code",
                "code": code,
                "client_id": "spa",
                "redirect_uri": CALLBACK,
                "code_verifier": verifier,
            }
        )
        assert response["statusCode"] == 200, response
        return dict(body(response))

    def refresh(self, refresh_token: str) -> Response:
        return self.token(
            {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": "spa"}
        )

    # --- the device grant -----------------------------------------------------

    def device_code(self, **form: str) -> Response:
        return self.post("device", "/oauth/device/code", {"client_id": "tv", **form})

    def issued(self) -> dict[str, Any]:
        response = self.device_code(scope="read")
        assert response["statusCode"] == 200, response
        return dict(body(response))

    def poll(self, device_code: str) -> Response:
        return self.token({"grant_type": DEVICE, "device_code": device_code, "client_id": "tv"})

    def device_entry(self, user_code: str) -> tuple[Browser, Page]:
        browser = self.browser("device")
        return browser, browser.get("/oauth/device", query={"user_code": user_code})

    def device_confirm(self, user_code: str) -> tuple[Browser, Page]:
        browser, entry = self.device_entry(user_code)
        login = browser.submit(entry)
        confirm = browser.submit(login, {"email": EMAIL, "password": PASSWORD})
        assert confirm.status == 200 and user_code in confirm.text, confirm.text
        return browser, confirm

    def approve(self, user_code: str, decision: str = "allow") -> Page:
        browser, confirm = self.device_confirm(user_code)
        return browser.submit(confirm, button=decision)

    # --- behind the authorizer ------------------------------------------------

    def behind_authorizer(
        self,
        function: str,
        method: str,
        path: str,
        *,
        user: bool = True,
        json_body: Any = None,
        raw: str | None = None,
        route: str | None = None,
        path_parameters: Mapping[str, str] | None = None,
    ) -> Response:
        """What API Gateway passes on once the authorizer allowed the request."""
        headers = {"Authorization": "Bearer (checked by the authorizer)"}
        if json_body is not None or raw is not None:
            headers["Content-Type"] = "application/json"
        event = api_event(
            method,
            path,
            headers=headers,
            body=raw if raw is not None else None if json_body is None else json.dumps(json_body),
            route_path=route or path,
            path_parameters=path_parameters,
        )
        context = {
            "sub": self.alice.user_id if user else "svc",
            "client_id": "spa" if user else "svc",
            "scope": "read write",
            "jti": "jti-1",
            "user_id": self.alice.user_id if user else "",
        }
        event["requestContext"]["authorizer"] = {"lambda": context}
        return self.fn(function)(event)

    def create_pat(self, **payload: Any) -> Response:
        payload = {"name": "CLI token", "scopes": ["read"], "expires_in": 3600, **payload}
        return self.behind_authorizer("personal_tokens", "POST", PAT, json_body=payload)

    # --- failures -------------------------------------------------------------

    def fail_aws(
        self,
        *warm: str,
        except_tables: tuple[str, ...] = (),
        exception: Exception | None = None,
    ) -> None:
        """From now on every DynamoDB call fails (throttled, or `exception`),
        except calls on `except_tables`; the `warm` functions start first."""
        for name in warm:
            self.fn(name)
        client = self.aws.dynamodb
        original = client._make_api_call

        def failing(operation: str, params: dict[str, Any]) -> Any:
            if any(table in json.dumps(params, default=str) for table in except_tables):
                return original(operation, params)
            raise exception or _throttled(operation)

        self._monkeypatch.setattr(client, "_make_api_call", failing)


@pytest.fixture
def world(function, register, services, aws, clock, monkeypatch) -> World:
    return World(function, register, services, aws, clock, monkeypatch)


@dataclass(frozen=True)
class Case:
    endpoint: str
    status: int
    what: str
    call: Callable[[World], Response]
    pragma: bool = True  # the code sets Pragma: no-cache here
    xfail: str = ""

    @property
    def id(self) -> str:
        return f"{self.endpoint} {self.status} {self.what}"

    def param(self) -> Any:
        marks = [pytest.mark.xfail(strict=True, reason=self.xfail)] if self.xfail else []
        return pytest.param(self, id=self.id, marks=marks)


def header(response: Mapping[str, Any], name: str) -> str | None:
    """A response header, by name in any case (API Gateway's headers are case-insensitive)."""
    found = [v for k, v in (response.get("headers") or {}).items() if k.lower() == name.lower()]
    assert len(found) <= 1, f"{name} is set {len(found)} times"
    return str(found[0]) if found else None


# --- JSON endpoints: no-store, success and error alike ------------------------------


def _token_client_credentials(w: World) -> Response:
    return w.token({"grant_type": "client_credentials"}, w.svc)


def _token_client_credentials_dpop(w: World) -> Response:
    proof = ProofKey().proof("POST", f"{ISSUER}/oauth/token", iat=w.clock())
    return w.token({"grant_type": "client_credentials"}, {**w.svc, "DPoP": proof})


def _token_authorization_code(w: World) -> Response:
    code, verifier, _ = w.code()
    form = {"code": code, "redirect_uri": CALLBACK, "code_verifier": verifier}
    return w.token({"grant_type": "authorization_code", "client_id": "spa", **form})


def _token_refresh(w: World) -> Response:
    return w.refresh(w.code_tokens()["refresh_token"])


def _token_refresh_replayed(w: World) -> Response:
    refresh_token = w.code_tokens()["refresh_token"]
    assert w.refresh(refresh_token)["statusCode"] == 200
    return w.refresh(refresh_token)


def _token_device_code(w: World) -> Response:
    issued = w.issued()
    assert w.approve(issued["user_code"]).status == 200
    w.clock.advance(issued["interval"])
    return w.poll(issued["device_code"])


def _token_pending(w: World) -> Response:
    return w.poll(w.issued()["device_code"])


def _token_slow_down(w: World) -> Response:
    device_code = w.issued()["device_code"]
    assert body(w.poll(device_code))["error"] == "authorization_pending"
    return w.poll(device_code)


def _token_device_denied(w: World) -> Response:
    issued = w.issued()
    assert w.approve(issued["user_code"], "deny").status == 200
    w.clock.advance(issued["interval"])
    return w.poll(issued["device_code"])


def _token_unknown_code(w: World) -> Response:
    form = {"code": "no-such-code", "redirect_uri": CALLBACK, "code_verifier": pkce_pair()[0]}
    return w.token({"grant_type": "authorization_code", "client_id": "spa", **form})


def _token_bad_dpop(w: World) -> Response:
    proof = ProofKey().proof("POST", "https://elsewhere.example/oauth/token", iat=w.clock())
    return w.token({"grant_type": "client_credentials"}, {**w.svc, "DPoP": proof})


def _token_malformed(w: World) -> Response:
    return w.post("token", "/oauth/token", headers=FORM, body="grant_type=%zz")


def _token_unavailable(w: World) -> Response:
    w.fail_aws("token")
    return _token_client_credentials(w)


def _token_server_error(w: World) -> Response:
    w.fail_aws("token", exception=RuntimeError("a bug"))
    return _token_client_credentials(w)


def _introspect(w: World, form: Mapping[str, str], headers: Mapping[str, str] | None = None):
    return w.post("introspect", "/oauth/introspect", form, headers)


def _revoke(w: World, form: Mapping[str, str], headers: Mapping[str, str] | None = None):
    return w.post("introspect", "/oauth/revoke", form, headers)


def _introspect_unavailable(w: World) -> Response:
    token = w.cc_token()
    w.fail_aws("introspect")
    return _introspect(w, {"token": token}, w.svc)


def _revoke_unavailable(w: World) -> Response:
    token = w.cc_token()
    w.fail_aws("introspect")
    return _revoke(w, {"token": token})


def _device_unavailable(w: World) -> Response:
    w.fail_aws("device")
    return w.device_code()


def _pat_create_unavailable(w: World) -> Response:
    w.fail_aws("personal_tokens")
    return w.create_pat()


def _pat_delete(w: World) -> Response:
    created = body(w.create_pat())
    return w.behind_authorizer(
        "personal_tokens",
        "DELETE",
        f"{PAT}/{created['id']}",
        route=f"{PAT}/{{id}}",
        path_parameters={"id": created["id"]},
    )


def _pat_delete_unknown(w: World) -> Response:
    return w.behind_authorizer(
        "personal_tokens",
        "DELETE",
        f"{PAT}/nothing",
        route=f"{PAT}/{{id}}",
        path_parameters={"id": "nothing"},
    )


def _user_gone(w: World) -> Response:
    w.services.user_table.delete(w.alice.user_id)
    return w.behind_authorizer("userinfo", "GET", "/api/user")


def _user_unavailable(w: World) -> Response:
    w.fail_aws("userinfo")
    return w.behind_authorizer("userinfo", "GET", "/api/user")


API_CASES = [
    # POST /oauth/token
    Case("token", 200, "client_credentials", _token_client_credentials),
    Case("token", 200, "client_credentials with DPoP", _token_client_credentials_dpop),
    Case("token", 200, "authorization_code", _token_authorization_code),
    Case("token", 200, "refresh_token", _token_refresh),
    Case("token", 200, "device_code", _token_device_code),
    Case("token", 400, "authorization_pending", _token_pending),
    Case("token", 400, "slow_down", _token_slow_down),
    Case("token", 400, "access_denied (device)", _token_device_denied),
    Case("token", 400, "invalid_request (no grant_type)", lambda w: w.token({}, w.svc)),
    Case("token", 400, "invalid_request (malformed body)", _token_malformed),
    Case(
        "token",
        400,
        "unsupported_grant_type",
        lambda w: w.token({"grant_type": "password"}, w.svc),
    ),
    Case(
        "token",
        401,
        "invalid_client (client_secret_post)",
        lambda w: w.token(
            {"grant_type": "client_credentials", "client_id": "svc", "client_secret": "wrong"}
        ),
    ),
    Case(
        "token",
        401,
        "invalid_client (client_secret_basic)",
        lambda w: w.token({"grant_type": "client_credentials"}, basic("svc", "wrong")),
    ),
    Case(
        "token",
        400,
        "unauthorized_client",
        lambda w: w.token({"grant_type": "client_credentials", "client_id": "spa"}),
    ),
    Case("token", 400, "invalid_grant (unknown code)", _token_unknown_code),
    Case("token", 400, "invalid_grant (refresh token replayed)", _token_refresh_replayed),
    Case("token", 400, "invalid_dpop_proof", _token_bad_dpop),
    Case("token", 405, "GET", lambda w: w.get("token", "/oauth/token")),
    Case("token", 503, "temporarily_unavailable", _token_unavailable),
    Case("token", 500, "server_error", _token_server_error),
    # POST /oauth/introspect
    Case(
        "introspect",
        200,
        "active",
        lambda w: _introspect(w, {"token": w.cc_token()}, w.svc),
    ),
    Case("introspect", 200, "inactive", lambda w: _introspect(w, {"token": "nothing"}, w.svc)),
    Case("introspect", 400, "invalid_request (no token)", lambda w: _introspect(w, {}, w.svc)),
    Case(
        "introspect",
        401,
        "invalid_client",
        lambda w: _introspect(w, {"token": "x"}, basic("svc", "wrong")),
    ),
    Case("introspect", 405, "GET", lambda w: w.get("introspect", "/oauth/introspect")),
    Case("introspect", 503, "temporarily_unavailable", _introspect_unavailable),
    # POST /oauth/revoke
    Case("revoke", 200, "access token", lambda w: _revoke(w, {"token": w.cc_token()}, w.svc)),
    Case(
        "revoke",
        200,
        "refresh token",
        lambda w: _revoke(w, {"token": w.code_tokens()["refresh_token"], "client_id": "spa"}),
    ),
    Case("revoke", 200, "unknown token", lambda w: _revoke(w, {"token": "nothing"})),
    Case("revoke", 400, "invalid_request (no token)", lambda w: _revoke(w, {})),
    Case(
        "revoke",
        400,
        "invalid_grant (another client's token)",
        lambda w: _revoke(w, {"token": w.cc_token(), "client_id": "spa"}),
    ),
    Case(
        "revoke",
        401,
        "invalid_client",
        lambda w: _revoke(w, {"token": "x"}, basic("svc", "wrong")),
    ),
    Case("revoke", 405, "GET", lambda w: w.get("introspect", "/oauth/revoke")),
    Case("revoke", 503, "temporarily_unavailable", _revoke_unavailable),
    # POST /oauth/device/code
    Case("device_authorization", 200, "public client", lambda w: w.device_code(scope="read")),
    Case(
        "device_authorization",
        200,
        "confidential client",
        lambda w: w.post("device", "/oauth/device/code", {"scope": "read"}, w.svc),
    ),
    Case(
        "device_authorization",
        401,
        "invalid_client",
        lambda w: w.device_code(client_id="nobody"),
    ),
    Case(
        "device_authorization",
        400,
        "unauthorized_client",
        lambda w: w.device_code(client_id="spa"),
    ),
    Case("device_authorization", 400, "invalid_scope", lambda w: w.device_code(scope="admin")),
    Case(
        "device_authorization",
        405,
        "GET",
        lambda w: w.get("device", "/oauth/device/code"),
    ),
    Case("device_authorization", 503, "temporarily_unavailable", _device_unavailable),
    # /oauth/personal-access-tokens (behind the authorizer)
    Case("personal_access_tokens", 201, "create", lambda w: w.create_pat()),
    Case(
        "personal_access_tokens",
        200,
        "list",
        lambda w: w.behind_authorizer("personal_tokens", "GET", PAT),
    ),
    Case("personal_access_tokens", 204, "delete", _pat_delete, pragma=False),
    Case("personal_access_tokens", 404, "delete unknown", _pat_delete_unknown),
    Case(
        "personal_access_tokens",
        400,
        "invalid_request (not JSON)",
        lambda w: w.behind_authorizer("personal_tokens", "POST", PAT, raw='{"name": '),
    ),
    Case(
        "personal_access_tokens",
        400,
        "invalid_scope",
        lambda w: w.create_pat(scopes=["admin"]),
    ),
    Case(
        "personal_access_tokens",
        403,
        "no user (client credentials)",
        lambda w: w.behind_authorizer("personal_tokens", "GET", PAT, user=False),
    ),
    Case("personal_access_tokens", 503, "temporarily_unavailable", _pat_create_unavailable),
    # GET /api/user (behind the authorizer)
    Case("api_user", 200, "profile", lambda w: w.behind_authorizer("userinfo", "GET", "/api/user")),
    Case(
        "api_user",
        403,
        "no user (client credentials)",
        lambda w: w.behind_authorizer("userinfo", "GET", "/api/user", user=False),
    ),
    Case("api_user", 404, "user gone", _user_gone),
    Case(
        "api_user",
        405,
        "POST",
        lambda w: w.behind_authorizer("userinfo", "POST", "/api/user", route="/api/user"),
    ),
    Case("api_user", 503, "temporarily_unavailable", _user_unavailable),
    # JSON refusals from the page and metadata functions (a wrong method, an unknown path).
    Case(
        "logout",
        405,
        "POST",
        lambda w: w.post("authorize", "/oauth/logout", {}),
    ),
    Case(
        "device page",
        405,
        "PUT",
        lambda w: w.fn("device")(api_event("PUT", "/oauth/device")),
    ),
    Case(
        "metadata",
        404,
        "unknown path",
        lambda w: w.get("metadata", "/.well-known/openid-configuration"),
    ),
    Case(
        "authorize", 405, "PUT", lambda w: w.fn("authorize")(api_event("PUT", "/oauth/authorize"))
    ),
]


@pytest.mark.parametrize("case", [c.param() for c in API_CASES])
def test_json_responses_are_not_stored(world, case):
    response = case.call(world)
    assert response["statusCode"] == case.status, response
    assert header(response, "Cache-Control") == "no-store"
    if case.pragma:
        assert header(response, "Pragma") == "no-cache"
    if response.get("body"):
        assert header(response, "Content-Type") == "application/json"


# --- metadata: cacheable ----------------------------------------------------------


METADATA_CASES = [
    Case(
        "metadata",
        200,
        "oauth-authorization-server",
        lambda w: w.get("metadata", "/.well-known/oauth-authorization-server"),
    ),
    Case("metadata", 200, "jwks.json", lambda w: w.get("metadata", "/.well-known/jwks.json")),
]


@pytest.mark.parametrize("case", [c.param() for c in METADATA_CASES])
def test_metadata_and_jwks_are_cacheable(world, case):
    response = case.call(world)
    assert response["statusCode"] == case.status
    assert header(response, "Cache-Control") == "public, max-age=300"
    assert header(response, "Pragma") is None
    assert body(response)


# --- HTML pages: CSP and friends -------------------------------------------------


def _page(page: Page) -> Response:
    return page.response


def _login_wrong_password(w: World) -> Response:
    browser, page, _ = w.login_page()
    return browser.submit(page, {"email": EMAIL, "password": "wrong"}).response


def _csrf_refused(w: World) -> Response:
    browser, page, _ = w.login_page()
    fields = {"email": EMAIL, "password": PASSWORD, "csrf_token": "forged" * 5}
    return browser.submit(page, fields).response


def _unknown_step(w: World) -> Response:
    browser, page, _ = w.login_page()
    return browser.submit(page, {"step": "teleport"}).response


def _logged_out(w: World) -> Response:
    _, _, browser = w.code()
    return browser.get("/oauth/logout").response


def _authorize_unavailable(w: World) -> Response:
    browser = w.browser()
    w.fail_aws()
    return browser.get(
        "/oauth/authorize", authorize_query("spa", CALLBACK, pkce_pair()[1])
    ).response


def _device_bad_code(w: World) -> Response:
    browser = w.browser("device")
    entry = browser.get("/oauth/device")
    return browser.submit(entry, {"user_code": "BCDF-GHJK"}).response


def _device_login(w: World) -> Response:
    browser, entry = w.device_entry(w.issued()["user_code"])
    return browser.submit(entry).response


def _device_login_wrong_password(w: World) -> Response:
    browser, entry = w.device_entry(w.issued()["user_code"])
    login = browser.submit(entry)
    return browser.submit(login, {"email": EMAIL, "password": "wrong"}).response


def _device_used_twice(w: World) -> Response:
    browser, confirm = w.device_confirm(w.issued()["user_code"])
    assert browser.submit(confirm, button="allow").status == 200
    return browser.submit(confirm, button="allow").response


def _device_incomplete(w: World) -> Response:
    browser, confirm = w.device_confirm(w.issued()["user_code"])
    return browser.submit(confirm, button="maybe").response


def _device_csrf(w: World) -> Response:
    browser, entry = w.device_entry(w.issued()["user_code"])
    return browser.submit(entry, {"csrf_token": "forged" * 5}).response


def _device_unavailable_page(w: World) -> Response:
    browser, entry = w.device_entry(w.issued()["user_code"])
    w.fail_aws()
    return browser.submit(entry).response


PAGE_CASES = [
    # /oauth/authorize and /oauth/logout
    Case("authorize page", 200, "login", lambda w: _page(w.login_page()[1])),
    Case("authorize page", 400, "login, wrong password", _login_wrong_password),
    Case("authorize page", 200, "consent", lambda w: _page(w.consent_page()[1])),
    Case(
        "authorize page",
        400,
        "error page (unknown client)",
        lambda w: _page(w.login_page("nobody")[1]),
    ),
    Case(
        "authorize page",
        400,
        "error page (malformed query)",
        lambda w: w.browser().get("/oauth/authorize", "client_id=%zz").response,
    ),
    Case("authorize page", 400, "error page (unknown form step)", _unknown_step),
    Case("authorize page", 403, "CSRF refused", _csrf_refused),
    Case("authorize page", 503, "dependency unavailable", _authorize_unavailable),
    Case("logout page", 200, "signed out", _logged_out),
    # /oauth/device
    Case("device page", 200, "entry", lambda w: w.browser("device").get("/oauth/device").response),
    Case(
        "device page",
        200,
        "entry, pre-filled",
        lambda w: _page(w.device_entry(w.issued()["user_code"])[1]),
    ),
    Case("device page", 400, "entry, wrong code", _device_bad_code),
    Case("device page", 200, "login", _device_login),
    Case("device page", 400, "login, wrong password", _device_login_wrong_password),
    Case(
        "device page",
        200,
        "confirmation",
        lambda w: _page(w.device_confirm(w.issued()["user_code"])[1]),
    ),
    Case("device page", 200, "connected", lambda w: _page(w.approve(w.issued()["user_code"]))),
    Case(
        "device page",
        200,
        "denied",
        lambda w: _page(w.approve(w.issued()["user_code"], "deny")),
    ),
    Case("device page", 400, "code already used", _device_used_twice),
    Case("device page", 400, "incomplete form", _device_incomplete),
    Case("device page", 403, "CSRF refused", _device_csrf),
    Case("device page", 503, "dependency unavailable", _device_unavailable_page),
]


def csp_directives(policy: str) -> dict[str, list[str]]:
    directives: dict[str, list[str]] = {}
    for part in policy.split(";"):
        name, *values = part.split()
        assert name.lower() not in directives, f"{name} is repeated"
        directives[name.lower()] = values
    return directives


@pytest.mark.parametrize("case", [c.param() for c in PAGE_CASES])
def test_pages_carry_the_security_headers(world, case):
    response = case.call(world)
    assert response["statusCode"] == case.status, response
    assert (header(response, "Content-Type") or "").startswith("text/html")
    policy = header(response, "Content-Security-Policy")
    assert policy, "no Content-Security-Policy"
    csp = csp_directives(policy)
    assert csp.get("default-src") == ["'none'"], policy
    assert csp.get("frame-ancestors") == ["'none'"], policy
    assert not {"script-src", "script-src-elem", "script-src-attr"} & set(csp), policy
    assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy
    assert header(response, "X-Content-Type-Options") == "nosniff"
    assert header(response, "Referrer-Policy") == "no-referrer"
    assert header(response, "X-Frame-Options") == "DENY"
    assert header(response, "Cache-Control") == "no-store"
    assert header(response, "Pragma") == "no-cache"
    assert "<script" not in response["body"].lower()


# --- redirects from /oauth/authorize -------------------------------------------------


def _redirect_after_consent(w: World) -> Response:
    browser, consent, _ = w.consent_page()
    return browser.submit(consent, button="allow").response


def _redirect_signed_in(w: World) -> Response:
    _, _, browser = w.code()  # signed in, consent remembered: straight back with a code
    query = authorize_query("spa", CALLBACK, pkce_pair()[1], scope="read write")
    return browser.get("/oauth/authorize", query).response


def _redirect_after_login(w: World) -> Response:
    browser, page, _ = w.login_page("first")  # first party: no consent page
    return browser.submit(page, {"email": EMAIL, "password": PASSWORD}).response


def _redirect_denied(w: World) -> Response:
    browser, consent, _ = w.consent_page()
    return browser.submit(consent, button="deny").response


def _redirect_no_pkce(w: World) -> Response:
    query = authorize_query("spa", CALLBACK, pkce_pair()[1])
    del query["code_challenge"], query["code_challenge_method"]
    return w.browser().get("/oauth/authorize", query).response


def _redirect_unavailable(w: World) -> Response:
    browser, page, _ = w.login_page("first")
    w.fail_aws(except_tables=("oauth21-clients",))
    return browser.submit(page, {"email": EMAIL, "password": PASSWORD}).response


REDIRECT_CASES = [
    Case("authorize redirect", 302, "code (signed in, consent remembered)", _redirect_signed_in),
    Case("authorize redirect", 303, "code (after consent)", _redirect_after_consent),
    Case("authorize redirect", 303, "code (after login, first party)", _redirect_after_login),
    Case("authorize redirect", 303, "access_denied", _redirect_denied),
    Case("authorize redirect", 302, "invalid_request (no PKCE)", _redirect_no_pkce),
    Case(
        "authorize redirect",
        302,
        "invalid_scope",
        lambda w: _page(w.login_page(scope="admin")[1]),
    ),
    Case(
        "authorize redirect",
        302,
        "login_required (prompt=none)",
        lambda w: _page(w.login_page(prompt="none")[1]),
    ),
    Case("authorize redirect", 303, "temporarily_unavailable", _redirect_unavailable),
]


@pytest.mark.parametrize("case", [c.param() for c in REDIRECT_CASES])
def test_authorize_redirects_are_not_stored(world, case):
    response = case.call(world)
    assert response["statusCode"] == case.status, response
    location = header(response, "Location") or ""
    assert location.startswith(CALLBACK + "?")
    assert "iss=" in location and "state=" in location
    assert header(response, "Cache-Control") == "no-store"
    assert header(response, "Referrer-Policy") == "no-referrer"
