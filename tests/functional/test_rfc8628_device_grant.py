"""The device authorization grant (RFC 8628): device code request, polling, and the
verification page."""

from __future__ import annotations

import re
import threading

import pytest

from oauth21.clients import GRANT_DEVICE_CODE, GRANT_REFRESH_TOKEN
from oauth21.hashing import sha256_hex
from tests.functional.flow import Browser
from tests.support import ISSUER, api_event, basic, body, jwt_parts

DEVICE = "urn:ietf:params:oauth:grant-type:device_code"
EMAIL, PASSWORD = "tv-owner@example.com", "living room password"


@pytest.fixture
def device_fn(function):
    return function("device")


@pytest.fixture
def tv(register):
    return register(
        client_type="public",
        client_id="tv",
        name="Living Room TV",
        grant_types=[GRANT_DEVICE_CODE, GRANT_REFRESH_TOKEN],
        scopes=["read", "write"],
    )[0]


@pytest.fixture
def owner(services):
    return services.accounts.create(EMAIL, PASSWORD, "Owner")


def request_code(device_fn, headers=None, **form):
    form.setdefault("client_id", "tv")
    form = {k: v for k, v in form.items() if v is not None}
    return device_fn(api_event("POST", "/oauth/device/code", form=form, headers=headers))


def poll(token, device_code, client_id="tv"):
    form = {"grant_type": DEVICE, "device_code": device_code, "client_id": client_id}
    return token(api_event("POST", "/oauth/token", form=form))


def device_items(aws):
    return aws.dynamodb.scan(TableName="oauth21-device-codes")["Items"]


@pytest.fixture
def issued(device_fn, tv):
    return body(request_code(device_fn, scope="read write"))


def approve(device_fn, user_code, decision="allow", browser=None):
    browser = browser or Browser(device_fn)
    entry = browser.get("/oauth/device", {"user_code": user_code})
    login = browser.submit(entry)
    confirm = browser.submit(login, {"email": EMAIL, "password": PASSWORD})
    assert confirm.status == 200, confirm.text
    return browser.submit(confirm, button=decision), confirm


# --- POST /oauth/device/code -------------------------------------------------------


def test_device_authorization_response(device_fn, tv, aws, clock):
    response = request_code(device_fn, scope="read")
    assert response["statusCode"] == 200
    assert response["headers"]["Cache-Control"] == "no-store"
    data = body(response)
    assert set(data) == {
        "device_code",
        "user_code",
        "verification_uri",
        "verification_uri_complete",
        "expires_in",
        "interval",
    }
    assert re.fullmatch(r"[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}", data["user_code"])
    assert data["verification_uri"] == f"{ISSUER}/oauth/device"
    assert (
        data["verification_uri_complete"] == f"{ISSUER}/oauth/device?user_code={data['user_code']}"
    )
    assert data["expires_in"] == 600 and data["interval"] == 5
    assert len(data["device_code"]) == 43
    items = {i["code_hash"]["S"]: i for i in device_items(aws)}
    device = items[sha256_hex(data["device_code"])]
    assert device["status"]["S"] == "pending" and device["scope"]["S"] == "read"
    assert int(device["expires_at"]["N"]) == int(clock()) + 600
    user_key = "user:" + sha256_hex(data["user_code"].replace("-", ""))
    assert user_key in items  # the user code, hashed
    assert data["device_code"] not in str(items) and data["user_code"] not in str(items)


@pytest.mark.parametrize(
    ("form", "headers", "status", "error"),
    [
        ({"client_id": "nobody"}, None, 401, "invalid_client"),
        ({"client_id": None}, None, 401, "invalid_client"),
        ({"scope": "admin"}, None, 400, "invalid_scope"),
        ({"client_id": "web"}, None, 400, "unauthorized_client"),
    ],
)
def test_device_authorization_refusals(device_fn, tv, register, aws, form, headers, status, error):
    register(client_type="public", client_id="web", grant_types=["authorization_code"])
    response = request_code(device_fn, headers=headers, **form)
    assert response["statusCode"] == status and body(response)["error"] == error
    assert device_items(aws) == []


def test_a_confidential_client_authenticates(device_fn, register):
    _, secret = register(
        client_type="confidential", client_id="box", grant_types=[GRANT_DEVICE_CODE]
    )
    assert request_code(device_fn, client_id="box")["statusCode"] == 401
    ok = request_code(device_fn, client_id=None, headers=basic("box", secret))
    assert ok["statusCode"] == 200


def test_metadata_announces_the_device_grant(function):
    data = body(function("metadata")(api_event("GET", "/.well-known/oauth-authorization-server")))
    assert data["device_authorization_endpoint"] == f"{ISSUER}/oauth/device/code"
    assert DEVICE in data["grant_types_supported"]


# --- polling ------------------------------------------------------------------------


def test_pending_then_slow_down_with_a_growing_interval(token, issued, clock, aws):
    assert body(poll(token, issued["device_code"]))["error"] == "authorization_pending"
    assert body(poll(token, issued["device_code"]))["error"] == "slow_down"  # at once
    clock.advance(5)
    # The interval grew to 10 s, and is remembered.
    assert body(poll(token, issued["device_code"]))["error"] == "slow_down"
    (device,) = [i for i in device_items(aws) if i.get("kind", {}).get("S") == "device"]
    assert device["poll_interval"]["N"] == "15"
    clock.advance(15)
    assert body(poll(token, issued["device_code"]))["error"] == "authorization_pending"
    clock.advance(14)
    assert body(poll(token, issued["device_code"]))["error"] == "slow_down"


def test_a_pending_poll_is_one_write(token, issued, aws_calls):
    poll(token, issued["device_code"])  # first sight of the client
    aws_calls.clear()
    # (the interval has not passed, so this one is slow_down: 2 writes)
    assert body(poll(token, issued["device_code"]))["error"] == "slow_down"
    assert aws_calls.by_api() == {"dynamodb:UpdateItem": 2}


def test_an_on_time_pending_poll_makes_one_call(token, issued, aws_calls, clock):
    poll(token, issued["device_code"])
    clock.advance(5)
    aws_calls.clear()
    assert body(poll(token, issued["device_code"]))["error"] == "authorization_pending"
    assert aws_calls.by_api() == {"dynamodb:UpdateItem": 1}


def test_deny_is_access_denied(device_fn, token, issued, owner):
    done, _ = approve(device_fn, issued["user_code"], "deny")
    assert done.status == 200 and "denied" in done.text.lower()
    response = poll(token, issued["device_code"])
    assert response["statusCode"] == 400 and body(response)["error"] == "access_denied"


def test_expiry_is_expired_token(token, issued, clock, aws):
    clock.advance(600)
    assert body(poll(token, issued["device_code"]))["error"] == "expired_token"


def test_another_client_cannot_poll(token, issued, register, aws):
    register(client_type="public", client_id="other", grant_types=[GRANT_DEVICE_CODE])
    response = poll(token, issued["device_code"], client_id="other")
    assert body(response)["error"] == "invalid_grant"
    (device,) = [i for i in device_items(aws) if i.get("kind", {}).get("S") == "device"]
    assert device["status"]["S"] == "pending" and device["next_poll_at"]["N"] == str(
        int(device["created_at"]["N"])
    )


def test_unknown_device_code_is_invalid_grant(token, tv):
    assert body(poll(token, "no-such-code"))["error"] == "invalid_grant"


def test_approval_issues_tokens_once(device_fn, token, issued, owner, aws, clock):
    done, _ = approve(device_fn, issued["user_code"])
    assert done.status == 200 and "connected" in done.text
    response = poll(token, issued["device_code"])
    assert response["statusCode"] == 200
    data = body(response)
    assert set(data) == {"access_token", "token_type", "expires_in", "refresh_token", "scope"}
    claims = jwt_parts(data["access_token"])[1]
    assert claims["sub"] == owner.user_id and claims["client_id"] == "tv"
    assert claims["scope"] == "read write"
    again = poll(token, issued["device_code"])
    assert again["statusCode"] == 400 and body(again)["error"] == "invalid_grant"
    grants = aws.dynamodb.scan(TableName="oauth21-grants")["Items"]
    assert len(grants) == 1 and grants[0]["kind"]["S"] == "device"
    # The refresh token works like any other.
    refreshed = token(
        api_event(
            "POST",
            "/oauth/token",
            form={
                "grant_type": "refresh_token",
                "refresh_token": data["refresh_token"],
                "client_id": "tv",
            },
        )
    )
    assert refreshed["statusCode"] == 200


def test_twenty_parallel_polls_after_approval_yield_one_token_response(
    device_fn, token, issued, owner, aws
):
    approve(device_fn, issued["user_code"])
    barrier = threading.Barrier(20)
    results: list[dict] = []

    def go():
        barrier.wait()
        results.append(poll(token, issued["device_code"]))

    threads = [threading.Thread(target=go) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r["statusCode"] for r in results) == [200] + [400] * 19
    assert {body(r)["error"] for r in results if r["statusCode"] == 400} == {"invalid_grant"}
    assert len(aws.dynamodb.scan(TableName="oauth21-grants")["Items"]) == 1


# --- the verification page -----------------------------------------------------------


def test_the_code_can_be_typed_loosely(device_fn, issued, owner):
    loose = issued["user_code"].replace("-", " ").lower()
    browser = Browser(device_fn)
    entry = browser.get("/oauth/device")
    assert entry.status == 200 and entry.forms
    login = browser.submit(entry, {"user_code": loose})
    assert login.status == 200 and login.forms[0]["fields"].get("password") == ""


def test_the_complete_uri_prefills_but_the_user_confirms(device_fn, issued, owner, aws):
    browser = Browser(device_fn)
    entry = browser.get("/oauth/device", {"user_code": issued["user_code"]})
    assert entry.forms[0]["fields"]["user_code"] == issued["user_code"]  # pre-filled only
    (device,) = [i for i in device_items(aws) if i.get("kind", {}).get("S") == "device"]
    assert device["status"]["S"] == "pending"
    login = browser.submit(entry)
    confirm = browser.submit(login, {"email": EMAIL, "password": PASSWORD})
    assert "Living Room TV" in confirm.text and issued["user_code"] in confirm.text
    assert "Read your data" in confirm.text and "Change your data" in confirm.text
    (device,) = [i for i in device_items(aws) if i.get("kind", {}).get("S") == "device"]
    assert device["status"]["S"] == "pending"  # nothing happens before Allow


def test_the_verification_page_headers(device_fn):
    page = Browser(device_fn).get("/oauth/device")
    csp = page.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "default-src 'none'" in csp
    assert page.headers["Cache-Control"] == "no-store"
    assert '<label for="user_code">' in page.response["body"]


def test_wrong_codes_are_refused_and_throttled(device_fn, issued, owner, services, aws):
    browser = Browser(device_fn)
    entry = browser.get("/oauth/device")
    for _ in range(services.settings.user_code_attempt_limit):
        wrong = browser.submit(entry, {"user_code": "BBBB-BBBB"})
        assert wrong.status == 400 and "not valid" in wrong.text
    refused = browser.submit(entry, {"user_code": issued["user_code"]})
    assert "Too many wrong codes" in refused.text
    elsewhere = Browser(device_fn, source_ip="203.0.113.5")
    assert (
        elsewhere.submit(elsewhere.get("/oauth/device"), {"user_code": issued["user_code"]}).status
        == 200
    )


@pytest.mark.parametrize("typed", ["ABCD-EFGH", "BCDF", "BCDFGHJKLM", "ÄÄÄÄ-ÄÄÄÄ", ""])
def test_malformed_codes_are_refused(device_fn, typed):
    browser = Browser(device_fn)
    page = browser.submit(browser.get("/oauth/device"), {"user_code": typed})
    assert page.status == 400 and "not valid" in page.text


def test_a_decided_code_cannot_be_used_again(device_fn, issued, owner, aws):
    browser = Browser(device_fn)
    approve(device_fn, issued["user_code"], browser=browser)
    again = browser.submit(browser.get("/oauth/device"), {"user_code": issued["user_code"]})
    assert again.status == 400 and "not valid" in again.text


def test_a_replayed_confirmation_cannot_change_the_decision(device_fn, issued, owner, aws):
    browser = Browser(device_fn)
    _, confirm = approve(device_fn, issued["user_code"], browser=browser)
    replay = browser.submit(confirm, button="deny")
    assert replay.status == 400
    (device,) = [i for i in device_items(aws) if i.get("kind", {}).get("S") == "device"]
    assert device["status"]["S"] == "approved"


def test_an_expired_code_is_refused_on_the_page(device_fn, issued, owner, clock):
    clock.advance(600)
    browser = Browser(device_fn)
    page = browser.submit(browser.get("/oauth/device"), {"user_code": issued["user_code"]})
    assert page.status == 400


def test_the_verification_forms_need_the_csrf_token(device_fn, issued, owner, aws):
    browser = Browser(device_fn)
    entry = browser.get("/oauth/device", {"user_code": issued["user_code"]})
    refused = browser.submit(entry, {"csrf_token": "forged"})
    assert refused.status == 403
    login = browser.submit(entry)
    confirm = browser.submit(login, {"email": EMAIL, "password": PASSWORD})
    forged = browser.submit(confirm, button="allow", headers={"Origin": "https://evil.example"})
    assert forged.status == 403
    (device,) = [i for i in device_items(aws) if i.get("kind", {}).get("S") == "device"]
    assert device["status"]["S"] == "pending"


def test_a_signed_in_user_goes_straight_to_confirmation(device_fn, function, issued, owner):
    browser = Browser(device_fn)
    entry = browser.get("/oauth/device", {"user_code": issued["user_code"]})
    confirm = browser.submit(browser.submit(entry), {"email": EMAIL, "password": PASSWORD})
    assert confirm.status == 200
    # Same session, a second device: no login page this time.
    second = body(request_code(device_fn))
    page = browser.submit(browser.get("/oauth/device", {"user_code": second["user_code"]}))
    assert "wants access" in page.text
