"""Log hygiene: drive every flow against the local stack, keep every secret it saw
(client secrets, passwords, codes, verifiers, tokens, proofs, cookies), then read
everything the stack printed (the functions' Powertools JSON logs at INFO, the
devserver's request log, tracebacks) and require that none of them is there.

A secret counts as leaked in any of the shapes a careless log line would carry it:
as is, form-encoded, inside a Basic header, as one segment of a JWT or one half of
a refresh token, or inside a base64 blob (the local gateway base64-encodes form
bodies, so a logged event would hide them otherwise).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import secrets
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any
from urllib.parse import quote, quote_plus, unquote_plus

import pytest
import requests

from tests.dpop_keys import ProofKey
from tests.e2e.app_server import AppServer
from tests.e2e.browser_flow import PASSWORD, pkce, through_the_pages

# One worker should drive the flows once for every test here. (Under pytest 9,
# pytest-xdist 3.8's loadgroup cannot rename node ids, so the group is not
# honoured yet: a second worker that gets some of these tests drives the flows
# against its own stack, which is slower but just as correct.)
pytestmark = pytest.mark.xdist_group("log-hygiene")

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
TIMEOUT = 10

# Every kind of secret the flows below handle; each is its own test id.
KINDS = (
    "client secret",
    "user password",
    "wrong password",
    "authorization code",
    "pkce verifier",
    "state",
    "access token",
    "refresh token",
    "device code",
    "user code",
    "personal access token",
    "dpop proof",
    "session cookie",
    "csrf token",
    "failed request secret",
)


@dataclass
class Seen:
    """Secrets by kind, each with the shapes it could be logged in."""

    values: dict[str, set[str]] = field(default_factory=lambda: {k: set() for k in KINDS})

    def add(self, kind: str, *values: str) -> None:
        assert kind in self.values, kind
        for value in values:
            assert value, f"an empty {kind}"
            self.values[kind].add(value)

    def jwt(self, kind: str, token: str) -> None:
        """A JWT, and each of its segments (a segment alone identifies it)."""
        segments = token.split(".")
        assert len(segments) == 3, f"{kind} is not a JWT"
        self.add(kind, token, *segments)

    def refresh_token(self, token: str) -> None:
        """`<grant key>.<secret>`: the whole and either half."""
        key, dot, secret = token.partition(".")
        assert dot and key and secret, "not a refresh token"
        self.add("refresh token", token, key, secret)

    def user_code(self, shown: str) -> None:
        bare = shown.replace("-", "")
        self.add("user code", shown, bare, shown.lower(), bare.lower())

    def basic(self, client_id: str, secret: str) -> None:
        """What an Authorization: Basic header carries for this secret."""
        encoded = base64.b64encode(f"{quote_plus(client_id)}:{quote_plus(secret)}".encode())
        self.add("client secret", secret, encoded.decode())

    def shapes(self, kind: str) -> set[str]:
        found = set()
        for value in self.values[kind]:
            found |= {value, quote_plus(value), quote(value, safe="")}
        return found


class RecordingContext:
    """A Playwright context that records its cookies when it is closed."""

    def __init__(self, context: Any, seen: Seen, url: str):
        self._context, self._seen, self._url = context, seen, url

    def __getattr__(self, name: str) -> Any:
        return getattr(self._context, name)

    def record_cookies(self) -> None:
        for cookie in self._context.cookies(self._url):
            if not cookie["value"]:
                continue
            if cookie["name"].endswith("oauth_session"):
                self._seen.add("session cookie", cookie["value"])
            elif cookie["name"].endswith("oauth_csrf"):
                self._seen.add("csrf token", cookie["value"])

    def close(self) -> None:
        self.record_cookies()
        self._context.close()


class RecordingBrowser:
    """Chromium, with every context it opens recording its cookies (so that
    `through_the_pages`, which closes its own context, can be reused as is)."""

    def __init__(self, browser: Any, seen: Seen, url: str):
        self._browser, self._seen, self._url = browser, seen, url

    def new_context(self, **options: Any) -> RecordingContext:
        return RecordingContext(self._browser.new_context(**options), self._seen, self._url)


@dataclass
class Exercised:
    seen: Seen
    logs: str

    @cached_property
    def haystack(self) -> str:
        return _haystack(self.logs)


def _oauthctl(stack: Any, *args: str, stdin: str | None = None) -> dict:
    done = stack.oauthctl(*args, stdin=stdin)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _post(stack: Any, path: str, **kwargs: Any) -> requests.Response:
    return requests.post(f"{stack.url}{path}", timeout=TIMEOUT, **kwargs)


def _get(stack: Any, path: str, **kwargs: Any) -> requests.Response:
    return requests.get(f"{stack.url}{path}", timeout=TIMEOUT, **kwargs)


@pytest.fixture(scope="module")
def exercised(stack, chromium) -> Iterator[Exercised]:
    seen = Seen()
    browser = RecordingBrowser(chromium, seen, stack.url)
    app = AppServer({"/callback": ("text/html", b"<title>callback</title>ok")}, stack.url)
    try:
        _drive_every_flow(stack, browser, app, seen)
    finally:
        app.close()
    # The request log is written after the response: wait for the last request's line.
    end = f"/log-hygiene-end-{uuid.uuid4().hex}"
    assert _get(stack, end).status_code == 404
    deadline = time.monotonic() + 10
    while f"GET {end} 404" not in stack.logs():
        assert time.monotonic() < deadline, "the request log never showed the last request"
        time.sleep(0.05)
    yield Exercised(seen, stack.logs())


def _drive_every_flow(stack: Any, browser: RecordingBrowser, app: AppServer, seen: Seen) -> None:
    suffix = uuid.uuid4().hex[:8]
    callback = f"{app.url}/callback"
    email, device_email = f"hygiene-{suffix}@example.com", f"hygiene-tv-{suffix}@example.com"
    device_password = f"pw-{secrets.token_urlsafe(18)}"
    seen.add("user password", PASSWORD, device_password)

    # --- oauthctl: users and clients (in parallel: each is a Python start-up) ------
    commands: dict[str, tuple[tuple[str, ...], str | None]] = {
        "user": (("user", "create", "--email", email, "--password-stdin"), PASSWORD + "\n"),
        "device user": (
            ("user", "create", "--email", device_email, "--password-stdin"),
            device_password + "\n",
        ),
        "web": (
            (
                "client", "create", "--name", f"web-{suffix}", "--client-id", f"web-{suffix}",
                "--type", "confidential", "--redirect-uri", callback,
                "--grant-types",
                "authorization_code refresh_token client_credentials device_code",
                "--scopes", "read write",
            ),
            None,
        ),
        "spa": (
            (
                "client", "create", "--name", f"spa-{suffix}", "--client-id", f"spa-{suffix}",
                "--type", "public", "--redirect-uri", callback,
                "--grant-types", "authorization_code refresh_token", "--scopes", "read write",
            ),
            None,
        ),
        "tv": (
            (
                "client", "create", "--name", f"tv-{suffix}", "--client-id", f"tv-{suffix}",
                "--type", "public", "--grant-types", "device_code refresh_token",
                "--scopes", "read write",
            ),
            None,
        ),
    }  # fmt: skip
    with ThreadPoolExecutor(len(commands)) as pool:
        futures = {
            name: pool.submit(_oauthctl, stack, *args, stdin=stdin)
            for name, (args, stdin) in commands.items()
        }
        made = {name: future.result() for name, future in futures.items()}
    user_id = made["user"]["user_id"]
    web_id, web_secret = made["web"]["client_id"], made["web"]["client_secret"]
    spa_id, tv_id = made["spa"]["client_id"], made["tv"]["client_id"]
    seen.add("client secret", web_secret)
    seen.basic(web_id, web_secret)
    web_basic = (web_id, web_secret)

    # --- device authorization: code, first poll, approval in Chromium -------------
    started = _post(stack, "/oauth/device/code", data={"client_id": tv_id, "scope": "read"})
    assert started.status_code == 200, started.text
    device = started.json()
    seen.add("device code", device["device_code"])
    seen.user_code(device["user_code"])
    poll = {"grant_type": DEVICE_GRANT, "device_code": device["device_code"], "client_id": tv_id}
    first_poll = time.monotonic()
    pending = _post(stack, "/oauth/token", data=poll)
    assert pending.json()["error"] == "authorization_pending"

    context = browser.new_context()
    page = context.new_page()
    # verification_uri_complete: the user code travels in the query string.
    page.goto(device["verification_uri_complete"])
    page.get_by_role("button", name="Continue").click()
    wrong_password = f"wrong-{secrets.token_urlsafe(18)}"
    seen.add("wrong password", wrong_password)
    page.get_by_label("Email").fill(device_email)
    page.get_by_label("Password").fill(wrong_password)
    page.get_by_role("button", name="Sign in").click()
    assert "Wrong email or password." in page.content()
    page.get_by_label("Password").fill(device_password)
    page.get_by_role("button", name="Sign in").click()
    assert device["user_code"] in page.content()
    page.get_by_role("button", name="Allow").click()
    assert "connected" in page.content()
    context.record_cookies()
    page.goto(f"{stack.url}/oauth/logout")
    assert "signed out" in page.content()
    context.close()

    # --- authorization code, public client: exchange, refresh, replay, code replay -
    spa = {"email": email, "client_id": spa_id, "redirect_uri": callback}
    verifier, challenge = pkce()
    seen.add("pkce verifier", verifier)
    params = through_the_pages(browser, stack, spa, challenge)
    seen.add("authorization code", params["code"])
    seen.add("state", params["state"])
    exchange = {
        "grant_type": "authorization_code",
        "code": params["code"],
        "client_id": spa_id,
        "redirect_uri": callback,
        "code_verifier": verifier,
    }
    first = _post(stack, "/oauth/token", data=exchange)
    assert first.status_code == 200, first.text
    first_tokens = first.json()
    seen.jwt("access token", first_tokens["access_token"])
    seen.refresh_token(first_tokens["refresh_token"])
    for token in (first_tokens["access_token"], first_tokens["refresh_token"]):
        info = _post(stack, "/oauth/introspect", data={"token": token, "client_id": spa_id})
        assert info.json()["active"] is True
    refresh = {"grant_type": "refresh_token", "client_id": spa_id}
    rotated = _post(
        stack, "/oauth/token", data={**refresh, "refresh_token": first_tokens["refresh_token"]}
    )
    assert rotated.status_code == 200, rotated.text
    rotated_tokens = rotated.json()
    seen.jwt("access token", rotated_tokens["access_token"])
    seen.refresh_token(rotated_tokens["refresh_token"])
    # The old refresh token again: the revocation path (the whole grant dies).
    replayed = _post(
        stack, "/oauth/token", data={**refresh, "refresh_token": first_tokens["refresh_token"]}
    )
    assert replayed.json()["error"] == "invalid_grant"
    dead = _post(
        stack, "/oauth/token", data={**refresh, "refresh_token": rotated_tokens["refresh_token"]}
    )
    assert dead.json()["error"] == "invalid_grant"
    # The code again: refused, and its grant revoked.
    assert _post(stack, "/oauth/token", data=exchange).json()["error"] == "invalid_grant"
    # A wrong verifier for a code that does not exist any more.
    wrong_verifier = pkce()[0]
    seen.add("pkce verifier", wrong_verifier)
    assert (
        _post(stack, "/oauth/token", data={**exchange, "code_verifier": wrong_verifier}).json()[
            "error"
        ]
        == "invalid_grant"
    )

    # --- authorization code, confidential client (Basic): /api/user, PATs, revoke --
    web = {"email": email, "client_id": web_id, "redirect_uri": callback}
    verifier, challenge = pkce()
    seen.add("pkce verifier", verifier)
    params = through_the_pages(browser, stack, web, challenge)
    seen.add("authorization code", params["code"])
    seen.add("state", params["state"])
    exchanged = _post(
        stack,
        "/oauth/token",
        auth=web_basic,
        data={
            "grant_type": "authorization_code",
            "code": params["code"],
            "redirect_uri": callback,
            "code_verifier": verifier,
        },
    )
    assert exchanged.status_code == 200, exchanged.text
    web_tokens = exchanged.json()
    seen.jwt("access token", web_tokens["access_token"])
    seen.refresh_token(web_tokens["refresh_token"])
    bearer = {"Authorization": f"Bearer {web_tokens['access_token']}"}
    assert _get(stack, "/api/user", headers=bearer).json()["id"] == user_id
    created = _post(
        stack,
        "/oauth/personal-access-tokens",
        headers=bearer,
        json={"name": "hygiene", "scopes": ["read"], "expires_in": 3600},
    )
    assert created.status_code == 201, created.text
    pat = created.json()
    seen.jwt("personal access token", pat["access_token"])
    pat_bearer = {"Authorization": f"Bearer {pat['access_token']}"}
    assert _get(stack, "/api/user", headers=pat_bearer).status_code == 200
    assert _get(stack, "/oauth/personal-access-tokens", headers=bearer).status_code == 200
    deleted = requests.delete(
        f"{stack.url}/oauth/personal-access-tokens/{pat['id']}", headers=bearer, timeout=TIMEOUT
    )
    assert deleted.status_code == 204
    assert _get(stack, "/api/user", headers=pat_bearer).status_code == 403  # authorizer: denied
    info = _post(stack, "/oauth/introspect", auth=web_basic, data={"token": pat["access_token"]})
    assert info.json() == {"active": False}
    revoked = _post(
        stack, "/oauth/revoke", auth=web_basic, data={"token": web_tokens["refresh_token"]}
    )
    assert revoked.status_code == 200
    assert _post(stack, "/oauth/revoke", data={"token": web_tokens["access_token"]}).ok
    assert _get(stack, "/api/user", headers=bearer).status_code == 403

    # --- oauthctl personal-access-token, used at /api/user -------------------------
    cli_pat = _oauthctl(
        stack,
        "personal-access-token",
        "--issuer",
        stack.url,
        "--user-id",
        user_id,
        "--name",
        "hygiene cli",
        "--scopes",
        "read",
        "--expires-in",
        "3600",
    )
    seen.jwt("personal access token", cli_pat["access_token"])
    cli_bearer = {"Authorization": f"Bearer {cli_pat['access_token']}"}
    assert _get(stack, "/api/user", headers=cli_bearer).json()["id"] == user_id

    # --- client credentials: plain (client_secret_post) and DPoP-bound -------------
    plain = _post(
        stack,
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": web_id,
            "client_secret": web_secret,
            "scope": "read",
        },
    )
    assert plain.status_code == 200, plain.text
    seen.jwt("access token", plain.json()["access_token"])
    key = ProofKey("ES256")
    proof = key.proof("POST", f"{stack.url}/oauth/token")
    seen.jwt("dpop proof", proof)
    bound = _post(
        stack,
        "/oauth/token",
        auth=web_basic,
        headers={"DPoP": proof},
        data={"grant_type": "client_credentials", "scope": "read"},
    )
    assert bound.status_code == 200, bound.text
    assert bound.json()["token_type"] == "DPoP"
    bound_token = bound.json()["access_token"]
    seen.jwt("access token", bound_token)
    # The same proof again: a replay, refused (invalid_dpop_proof).
    again = _post(
        stack,
        "/oauth/token",
        auth=web_basic,
        headers={"DPoP": proof},
        data={"grant_type": "client_credentials", "scope": "read"},
    )
    assert again.json()["error"] == "invalid_dpop_proof"
    resource_proof = key.proof("GET", f"{stack.url}/api/user", access_token=bound_token)
    seen.jwt("dpop proof", resource_proof)
    # Through the authorizer; /api/user refuses a token with no user (403, logged).
    no_user = _get(
        stack,
        "/api/user",
        headers={"Authorization": f"DPoP {bound_token}", "DPoP": resource_proof},
    )
    assert no_user.status_code == 403 and no_user.json()["error"] == "invalid_token"
    info = _post(stack, "/oauth/introspect", auth=web_basic, data={"token": bound_token})
    assert info.json()["token_type"] == "DPoP"

    # --- failed requests: bad secrets, malformed bodies --------------------------
    bad_secret = secrets.token_urlsafe(32)
    seen.add("failed request secret", bad_secret)
    seen.basic(web_id, bad_secret)
    cc = {"grant_type": "client_credentials", "client_id": web_id}
    refused = _post(stack, "/oauth/token", data={**cc, "client_secret": bad_secret})
    assert refused.status_code == 401
    refused = _post(stack, "/oauth/token", auth=(web_id, bad_secret), data=cc)
    assert refused.status_code == 401
    refused = _post(
        stack, "/oauth/revoke", auth=(web_id, bad_secret), data={"token": cli_pat["access_token"]}
    )
    assert refused.status_code == 401
    refused = _post(
        stack,
        "/oauth/device/code",
        data={"client_id": web_id, "client_secret": bad_secret, "scope": "read"},
    )
    assert refused.status_code == 401
    form = "application/x-www-form-urlencoded"
    malformed = {
        "bad percent-encoding": f"grant_type=client_credentials&client_id={web_id}"
        f"&client_secret={web_secret}&scope=%ZZ",
        "not UTF-8": f"grant_type=client_credentials&client_id={web_id}"
        f"&client_secret={web_secret}&scope=%FF%FE",
        "repeated parameter": f"grant_type=client_credentials&client_id={web_id}"
        f"&client_secret={web_secret}&client_secret={web_secret}",
        "refresh token, bad encoding": "grant_type=refresh_token&client_id="
        f"{spa_id}&refresh_token={rotated_tokens['refresh_token']}%",
    }
    for what, raw in malformed.items():
        answer = _post(stack, "/oauth/token", data=raw, headers={"Content-Type": form})
        assert answer.status_code == 400 and answer.json()["error"] == "invalid_request", what
    as_json = _post(
        stack,
        "/oauth/token",
        json={"grant_type": "client_credentials", "client_id": web_id, "client_secret": web_secret},
    )
    assert as_json.json()["error"] == "invalid_request"
    bad_introspection = _post(
        stack,
        "/oauth/introspect",
        data=f"token={cli_pat['access_token']}&token={cli_pat['access_token']}",
        headers={"Content-Type": form},
    )
    assert bad_introspection.json()["error"] == "invalid_request"
    bad_pat = _post(
        stack,
        "/oauth/personal-access-tokens",
        headers={**cli_bearer, "Content-Type": "application/json"},
        data=f'{{"name": "{web_secret}", "scopes": ',
    )
    assert bad_pat.status_code == 400
    unknown_refresh = f"{secrets.token_urlsafe(32)}.{secrets.token_urlsafe(32)}"
    seen.add("failed request secret", unknown_refresh, *unknown_refresh.split("."))
    assert (
        _post(stack, "/oauth/token", data={**refresh, "refresh_token": unknown_refresh}).json()[
            "error"
        ]
        == "invalid_grant"
    )

    # --- the device polls again, once its interval has passed ----------------------
    time.sleep(max(0.0, first_poll + device["interval"] + 0.5 - time.monotonic()))
    issued = _post(stack, "/oauth/token", data=poll)
    assert issued.status_code == 200, issued.text
    device_tokens = issued.json()
    seen.jwt("access token", device_tokens["access_token"])
    seen.refresh_token(device_tokens["refresh_token"])
    assert _post(stack, "/oauth/token", data=poll).json()["error"] == "invalid_grant"
    assert _post(stack, "/oauth/revoke", data={"token": device_tokens["refresh_token"]}).ok


_B64_RUN = re.compile(r"[A-Za-z0-9+/_-]{16,}={0,2}")


def _haystack(logs: str) -> str:
    """The logs, plus what their percent-encoded and base64 parts decode to."""
    parts = [logs, unquote_plus(logs)]
    for run in _B64_RUN.findall(logs):
        urlsafe = "-" in run or "_" in run
        body = run.rstrip("=")
        for offset in range(4):  # a blob glued to other word characters
            piece = body[offset:]
            try:
                raw = (base64.urlsafe_b64decode if urlsafe else base64.b64decode)(
                    piece + "=" * (-len(piece) % 4)
                )
            except (binascii.Error, ValueError):
                continue
            parts.append(raw.decode("utf-8", "replace"))
    return "\n".join(parts)


def _json_lines(logs: str) -> list[dict[str, Any]]:
    lines = []
    for line in logs.splitlines():
        if line.startswith("{"):
            try:
                lines.append(json.loads(line))
            except ValueError:
                continue
    return lines


REQUEST_LINE = re.compile(r"^(GET|POST|PUT|DELETE|PATCH|HEAD|OPTIONS) (\S+) (\d{3}) \d+ms$")


def test_the_logs_hold_the_functions_json_lines(exercised):
    """The check below must not pass by capturing nothing."""
    logs = exercised.logs
    records = [r for r in _json_lines(logs) if "level" in r and "service" in r]
    services = {r["service"] for r in records}
    assert {"token", "introspect", "device", "userinfo", "authorizer"} <= services, services
    token_lines = [r for r in records if r["service"] == "token"]
    assert token_lines and all(r["level"] in ("INFO", "WARNING", "ERROR") for r in token_lines)
    refused = [r for r in records if r.get("message") == "request refused"]
    assert {r["error"] for r in refused} >= {
        "invalid_client",
        "invalid_grant",
        "invalid_request",
        "invalid_dpop_proof",
        "invalid_token",
    }, refused
    assert all(isinstance(r.get("status"), int) for r in refused)
    # A pending device poll is the normal answer every few seconds: DEBUG, not INFO.
    assert "authorization_pending" not in {r["error"] for r in refused}
    denied = [r for r in records if r["service"] == "authorizer" and r.get("message") == "denied"]
    assert denied and all(r.get("error") for r in denied)


def test_the_request_log_has_method_path_and_status_only(exercised):
    requests_logged = [m for m in map(REQUEST_LINE.match, exercised.logs.splitlines()) if m]
    seen = {(m[1], m[2], m[3]) for m in requests_logged}
    for expected in (
        ("GET", "/oauth/authorize", "200"),
        ("POST", "/oauth/authorize", "303"),
        ("GET", "/oauth/device", "200"),
        ("POST", "/oauth/device/code", "200"),
        ("POST", "/oauth/token", "200"),
        ("POST", "/oauth/token", "400"),
        ("POST", "/oauth/token", "401"),
        ("POST", "/oauth/personal-access-tokens", "201"),
        ("GET", "/api/user", "403"),
        ("GET", "/oauth/logout", "200"),
    ):
        assert expected in seen, expected
    assert all("?" not in m[2] for m in requests_logged)


def test_every_kind_of_secret_was_collected(exercised):
    empty = [kind for kind, values in exercised.seen.values.items() if not values]
    assert not empty


@pytest.mark.parametrize("kind", KINDS)
def test_no_secret_in_the_logs(exercised, kind):
    leaked = sorted(v for v in exercised.seen.shapes(kind) if v in exercised.haystack)
    assert not leaked, f"{kind} in the stack's logs: {leaked}"
