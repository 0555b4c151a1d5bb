"""GET/POST /oauth/authorize: validation order, PKCE, login, consent, sessions, CSRF."""

from __future__ import annotations

import base64
import hashlib

import pytest

from oauth21.clients import GRANT_AUTHORIZATION_CODE, GRANT_REFRESH_TOKEN
from oauth21.hashing import sha256_hex
from tests.functional.flow import Browser, authorize_query, pkce_pair
from tests.support import ISSUER

CALLBACK = "https://app.example/callback"
EMAIL, PASSWORD = "alice@example.com", "correct horse battery staple"


@pytest.fixture
def authorize(function):
    return function("authorize")


@pytest.fixture
def spa(register):
    return register(
        client_type="public",
        client_id="spa",
        name="Photo Printer",
        redirect_uris=[CALLBACK, "myapp://oauth/callback"],
        grant_types=[GRANT_AUTHORIZATION_CODE, GRANT_REFRESH_TOKEN],
        scopes=["read", "write"],
    )[0]


@pytest.fixture
def alice(services):
    return services.accounts.create(EMAIL, PASSWORD, "Alice")


@pytest.fixture
def browser(authorize):
    return Browser(authorize)


def codes(aws):
    return aws.dynamodb.scan(TableName="oauth21-auth-codes")["Items"]


def sessions(aws):
    return aws.dynamodb.scan(TableName="oauth21-sessions")["Items"]


def query(**extra):
    return authorize_query("spa", CALLBACK, pkce_pair()[1], **extra)


def sign_in(browser, page, email=EMAIL, password=PASSWORD, **kw):
    return browser.submit(page, {"email": email, "password": password}, **kw)


# --- before the redirect URI is trusted: an error page, never a redirect ------


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"client_id": "nobody"}, "not registered"),
        ({"client_id": None}, "no client_id"),
        ({"redirect_uri": "https://evil.example/callback"}, "not registered"),
        ({"redirect_uri": CALLBACK + "/"}, "not registered"),
        ({"redirect_uri": CALLBACK.upper()}, "not registered"),
        ({"redirect_uri": CALLBACK + "?x=1"}, "not registered"),
        ({"redirect_uri": None}, "no redirect_uri"),
    ],
)
def test_bad_client_or_redirect_uri_gets_an_error_page(browser, spa, aws, params, fragment):
    q = query()
    for key, value in params.items():
        if value is None:
            q.pop(key)
        else:
            q[key] = value
    page = browser.get("/oauth/authorize", q)
    assert page.status == 400
    assert "Location" not in page.headers
    assert "text/html" in page.headers["Content-Type"]
    assert fragment in page.text
    assert codes(aws) == []


def test_a_repeated_client_id_or_redirect_uri_gets_an_error_page(browser, spa):
    q = query()
    raw = "&".join(f"{k}={v}" for k, v in q.items()) + "&client_id=spa"
    assert browser.get("/oauth/authorize", raw).status == 400
    raw = "&".join(f"{k}={v}" for k, v in q.items()) + f"&redirect_uri={CALLBACK}"
    assert browser.get("/oauth/authorize", raw).status == 400


def test_a_malformed_query_gets_an_error_page(browser, spa):
    page = browser.get("/oauth/authorize", "client_id=%zz")
    assert page.status == 400 and "Location" not in page.headers


def test_the_only_registered_redirect_uri_may_be_omitted(browser, register, alice):
    register(
        client_type="public",
        client_id="one",
        redirect_uris=[CALLBACK],
        first_party=True,
        grant_types=[GRANT_AUTHORIZATION_CODE],
    )
    q = authorize_query("one", CALLBACK, pkce_pair()[1])
    del q["redirect_uri"]
    page = sign_in(browser, browser.get("/oauth/authorize", q))
    assert page.status == 303 and page.location.startswith(CALLBACK + "?code=")


# --- after: redirect with error, error_description, state, iss -----------------


def test_missing_pkce_redirects_as_the_seed_test_expects(browser, spa, aws):
    q = query()
    del q["code_challenge"], q["code_challenge_method"]
    page = browser.get("/oauth/authorize", q)
    assert page.status == 302
    assert page.location.startswith(CALLBACK + "?")
    assert "error=invalid_request" in page.location
    assert "PKCE+code_challenge+is+required" in page.location
    params = page.redirect_params()
    assert params["state"] == "state-123" and params["iss"] == ISSUER
    assert codes(aws) == []


@pytest.mark.parametrize(
    ("change", "error", "fragment"),
    [
        ({"code_challenge_method": "plain"}, "invalid_request", "S256"),
        ({"code_challenge_method": None}, "invalid_request", "code_challenge_method"),
        ({"code_challenge": "short"}, "invalid_request", "43"),
        ({"code_challenge": "a" * 44}, "invalid_request", "43"),
        ({"code_challenge": "+" * 43}, "invalid_request", "43"),
        ({"response_type": "token"}, "unsupported_response_type", "code"),
        ({"response_type": None}, "invalid_request", "response_type"),
        ({"scope": "read admin"}, "invalid_scope", "admin"),
        ({"scope": "read\x01"}, "invalid_request", "scope"),
        ({"prompt": "select_account"}, "invalid_request", "prompt"),
        ({"prompt": "none login"}, "invalid_request", "prompt"),
        ({"state": "x" * 1025}, "invalid_request", "state"),
    ],
)
def test_redirected_errors(browser, spa, aws, change, error, fragment):
    q = query()
    for key, value in change.items():
        if value is None:
            q.pop(key)
        else:
            q[key] = value
    page = browser.get("/oauth/authorize", q)
    assert page.status == 302
    params = page.redirect_params()
    assert params["error"] == error
    assert fragment in params["error_description"]
    assert params["iss"] == ISSUER
    assert codes(aws) == [] and sessions(aws) == []


def test_a_repeated_parameter_is_invalid_request(browser, spa):
    raw = "&".join(f"{k}={v}" for k, v in query().items()) + "&scope=read&scope=write"
    page = browser.get("/oauth/authorize", raw)
    assert page.redirect_params()["error"] == "invalid_request"


def test_a_client_without_the_grant_is_unauthorized(browser, register):
    register(
        client_type="confidential",
        client_id="m2m",
        redirect_uris=[CALLBACK],
        grant_types=["client_credentials"],
    )
    page = browser.get("/oauth/authorize", authorize_query("m2m", CALLBACK, pkce_pair()[1]))
    assert page.redirect_params()["error"] == "unauthorized_client"


def test_the_kotlin_clients_padded_challenge_is_accepted(browser, spa, alice, services):
    _, challenge = pkce_pair()
    page = browser.get("/oauth/authorize", query(code_challenge=challenge + "="))
    assert page.status == 200 and page.forms  # the login page, not an error
    consent = sign_in(browser, page)
    done = browser.submit(consent, button="allow")
    (item,) = services.dynamodb.scan(TableName="oauth21-auth-codes")["Items"]
    assert item["code_challenge"]["S"] == challenge
    assert done.status == 303


# --- the login page ----------------------------------------------------------


def test_the_login_page_is_safe_to_show(browser, spa):
    page = browser.get("/oauth/authorize", query())
    assert page.status == 200
    headers = page.headers
    csp = headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert "script-src" not in csp and "form-action 'self'" in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["Cache-Control"] == "no-store"
    body = page.response["body"]
    # The inline stylesheet is allowed by exactly its hash (and byte for byte as hashed).
    css = body.split("<style>", 1)[1].split("</style>", 1)[0]
    digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    assert f"style-src 'sha256-{digest}'" in csp
    assert '<label for="email">' in body and '<label for="password">' in body
    assert "<script" not in body
    assert "Photo Printer" in page.text
    csrf_cookie = next(c for c in page.response["cookies"] if c.startswith("__Host-oauth_csrf="))
    for attribute in ("Path=/", "HttpOnly", "SameSite=Lax", "Secure"):
        assert attribute in csrf_cookie
    fields = page.forms[0]["fields"]
    assert fields["csrf_token"] == browser.cookies["__Host-oauth_csrf"]
    assert fields["state"] == "state-123" and fields["client_id"] == "spa"


def test_page_text_is_escaped(browser, register):
    register(
        client_type="public",
        client_id="x",
        name="<script>alert(1)</script>",
        redirect_uris=[CALLBACK],
        grant_types=[GRANT_AUTHORIZATION_CODE],
    )
    page = browser.get("/oauth/authorize", authorize_query("x", CALLBACK, pkce_pair()[1]))
    assert "<script>" not in page.response["body"]
    assert "&lt;script&gt;" in page.response["body"]


@pytest.mark.parametrize(
    ("email", "password"), [(EMAIL, "wrong"), ("nobody@example.com", PASSWORD), ("", "")]
)
def test_wrong_credentials_never_say_whether_the_account_exists(
    browser, spa, alice, aws, email, password
):
    page = sign_in(browser, browser.get("/oauth/authorize", query()), email, password)
    assert page.status == 400
    assert "Wrong email or password." in page.text
    assert sessions(aws) == [] and codes(aws) == []


def test_login_then_consent_then_code(browser, spa, alice, aws, clock):
    login = browser.get("/oauth/authorize", query(scope="read write"))
    consent = sign_in(browser, login)
    assert consent.status == 200
    assert "Photo Printer" in consent.text and "Read your data" in consent.text
    assert "Change your data" in consent.text and "alice@example.com" in consent.text
    # The session cookie: __Host-, Secure, HttpOnly, SameSite=Lax; stored hashed.
    session_cookie = next(c for c in consent.response["cookies"] if "oauth_session=" in c)
    assert session_cookie.startswith("__Host-oauth_session=")
    for attribute in ("Path=/", "HttpOnly", "SameSite=Lax", "Secure"):
        assert attribute in session_cookie
    (stored,) = sessions(aws)
    cookie_value = browser.cookies["__Host-oauth_session"]
    assert stored["session_hash"]["S"] == sha256_hex(cookie_value) != cookie_value
    # The consent form may post on to the client's redirect URI.
    assert "https://app.example" in consent.headers["Content-Security-Policy"]

    done = browser.submit(consent, button="allow")
    assert done.status == 303
    params = done.redirect_params()
    assert set(params) == {"code", "state", "iss"}
    assert params["state"] == "state-123" and params["iss"] == ISSUER
    (code,) = codes(aws)
    assert code["code_hash"]["S"] == sha256_hex(params["code"])
    assert code["client_id"]["S"] == "spa" and code["user_id"]["S"] == alice.user_id
    assert code["redirect_uri"]["S"] == CALLBACK and code["scope"]["S"] == "read write"
    assert int(code["expires_at"]["N"]) == int(clock()) + 60
    assert params["code"] not in str(code)


def test_deny_is_access_denied_and_writes_no_code(browser, spa, alice, aws):
    consent = sign_in(browser, browser.get("/oauth/authorize", query()))
    done = browser.submit(consent, button="deny")
    assert done.status == 303
    params = done.redirect_params()
    assert params["error"] == "access_denied" and params["state"] == "state-123"
    assert codes(aws) == []


def test_consent_is_remembered_per_user_client_and_scope(browser, spa, alice, aws):
    consent = sign_in(browser, browser.get("/oauth/authorize", query(scope="read")))
    browser.submit(consent, button="allow")
    again = browser.get("/oauth/authorize", query(scope="read"))
    assert again.status == 302 and "code=" in again.location
    wider = browser.get("/oauth/authorize", query(scope="read write"))
    assert wider.status == 200 and "Change your data" in wider.text  # asks for the new scope


def test_a_first_party_client_skips_consent(browser, register, alice):
    register(
        client_type="public",
        client_id="own",
        redirect_uris=[CALLBACK],
        first_party=True,
        grant_types=[GRANT_AUTHORIZATION_CODE],
    )
    page = sign_in(
        browser, browser.get("/oauth/authorize", authorize_query("own", CALLBACK, pkce_pair()[1]))
    )
    assert page.status == 303 and "code=" in page.location


def test_prompt_none(browser, spa, alice, aws):
    page = browser.get("/oauth/authorize", query(prompt="none"))
    assert page.status == 302 and page.redirect_params()["error"] == "login_required"
    sign_in(browser, browser.get("/oauth/authorize", query()))  # signed in, not consented
    page = browser.get("/oauth/authorize", query(prompt="none"))
    assert page.redirect_params()["error"] == "consent_required"
    assert codes(aws) == []


def test_prompt_login_asks_again_and_prompt_consent_too(browser, spa, alice):
    browser.submit(sign_in(browser, browser.get("/oauth/authorize", query())), button="allow")
    forced = browser.get("/oauth/authorize", query(prompt="login"))
    assert forced.status == 200 and forced.forms[0]["fields"].get("email") == ""
    consent = browser.get("/oauth/authorize", query(prompt="consent"))
    assert consent.status == 200 and "wants access" in consent.text


def test_logout_ends_the_session(browser, spa, alice, aws):
    browser.submit(sign_in(browser, browser.get("/oauth/authorize", query())), button="allow")
    assert len(sessions(aws)) == 1
    page = browser.get("/oauth/logout")
    assert page.status == 200 and "signed out" in page.text
    assert sessions(aws) == []
    assert "__Host-oauth_session" not in browser.cookies
    assert browser.get("/oauth/authorize", query(prompt="none")).redirect_params()["error"] == (
        "login_required"
    )


def test_an_expired_session_is_not_used(browser, spa, alice, clock, services):
    browser.submit(sign_in(browser, browser.get("/oauth/authorize", query())), button="allow")
    clock.advance(services.settings.session_lifetime + 1)
    page = browser.get("/oauth/authorize", query(prompt="none"))
    assert page.redirect_params()["error"] == "login_required"


# --- CSRF ----------------------------------------------------------------------


def test_a_form_without_the_csrf_token_is_refused(browser, spa, alice, aws):
    page = browser.get("/oauth/authorize", query())
    refused = browser.submit(page, {"email": EMAIL, "password": PASSWORD, "csrf_token": "forged"})
    assert refused.status == 403 and sessions(aws) == []
    browser.cookies.pop("__Host-oauth_csrf")
    refused = sign_in(browser, page)
    assert refused.status == 403 and sessions(aws) == []


def test_a_cross_site_post_is_refused(browser, spa, alice, aws):
    page = browser.get("/oauth/authorize", query())
    refused = sign_in(browser, page, headers={"Origin": "https://evil.example"})
    assert refused.status == 403 and sessions(aws) == []
    ok = sign_in(browser, page, headers={"Origin": ISSUER})
    assert ok.status == 200


def test_consent_cannot_be_forged_across_sites(browser, spa, alice, aws):
    consent = sign_in(browser, browser.get("/oauth/authorize", query()))
    refused = browser.submit(consent, button="allow", headers={"Sec-Fetch-Site": "cross-site"})
    assert refused.status == 403 and codes(aws) == []


def test_tampered_hidden_fields_are_validated_again(browser, spa, alice, aws):
    consent = sign_in(browser, browser.get("/oauth/authorize", query()))
    forged = browser.submit(consent, {"redirect_uri": "https://evil.example/cb"}, button="allow")
    assert forged.status == 400 and "Location" not in forged.headers
    wider = browser.submit(consent, {"scope": "read admin"}, button="allow")
    assert wider.redirect_params()["error"] == "invalid_scope"
    assert codes(aws) == []


# --- throttling -----------------------------------------------------------------


def test_failed_logins_lock_the_account_for_the_window(browser, spa, alice, aws, clock, services):
    page = browser.get("/oauth/authorize", query())
    for _ in range(services.settings.login_account_limit):
        assert "Wrong email or password." in sign_in(browser, page, password="nope").text
    locked = sign_in(browser, page)  # even the right password
    assert locked.status == 400 and "Too many attempts" in locked.text
    assert sessions(aws) == []
    other_ip = Browser(browser.handler, source_ip="203.0.113.99")
    other_page = other_ip.get("/oauth/authorize", query())
    assert "Too many attempts" in sign_in(other_ip, other_page).text  # per account
    clock.advance(services.settings.login_window_seconds)
    assert sign_in(browser, page).status == 200


def test_failed_logins_lock_the_source_address(browser, spa, services, aws):
    page = browser.get("/oauth/authorize", query())
    for i in range(services.settings.login_address_limit):
        sign_in(browser, page, email=f"guess{i}@example.com", password="x")
    services.accounts.create("bob@example.com", "bobs password")
    refused = sign_in(browser, page, email="bob@example.com", password="bobs password")
    assert "Too many attempts" in refused.text and sessions(aws) == []


def test_unknown_accounts_are_throttled_like_known_ones(browser, spa, services):
    page = browser.get("/oauth/authorize", query())
    for _ in range(services.settings.login_account_limit):
        sign_in(browser, page, email="ghost@example.com", password="x")
    assert "Too many attempts" in sign_in(browser, page, email="ghost@example.com").text


def test_http_issuer_cookies_drop_secure_and_the_prefix(function, services, aws, spa, alice):
    from oauth21.config import load_settings
    from oauth21.services import Services

    local = Services(
        load_settings(issuer="http://127.0.0.1:3000"),
        services.clock,
        aws={"dynamodb": aws.dynamodb, "kms": aws.kms},
    )
    browser = Browser(function("authorize", local))
    page = browser.get("/oauth/authorize", query())
    cookie = page.response["cookies"][0]
    assert cookie.startswith("oauth_csrf=") and "Secure" not in cookie
