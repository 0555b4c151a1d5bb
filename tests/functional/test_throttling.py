"""Login and user-code throttles under parallel attempts, and the API's route throttling."""

from __future__ import annotations

import threading

from devserver.template import load_template, resources
from oauth21.clients import GRANT_AUTHORIZATION_CODE, GRANT_DEVICE_CODE
from tests.functional.flow import Browser, authorize_query, pkce_pair

CALLBACK = "https://app.example/callback"


def in_parallel(n, action):
    barrier = threading.Barrier(n)
    results = []

    def run(i):
        barrier.wait()
        results.append(action(i))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def failures(aws, prefix):
    items = aws.dynamodb.scan(TableName="oauth21-login-throttle")["Items"]
    return {
        i["throttle_key"]["S"]: int(i["attempts"]["N"])
        for i in items
        if i["throttle_key"]["S"].startswith(prefix)
    }


def test_parallel_wrong_passwords_all_count(function, register, services, aws):
    register(
        client_type="public",
        client_id="spa",
        redirect_uris=[CALLBACK],
        grant_types=[GRANT_AUTHORIZATION_CODE],
    )
    services.accounts.create("victim@example.com", "the right one")
    handler = function("authorize")
    query = authorize_query("spa", CALLBACK, pkce_pair()[1])

    def attempt(i):
        browser = Browser(
            handler, source_ip=f"203.0.113.{i}"
        )  # 20 addresses: only the account limit applies
        page = browser.get("/oauth/authorize", query)
        return browser.submit(page, {"email": "victim@example.com", "password": f"guess-{i}"}).text

    results = in_parallel(20, attempt)
    limit = services.settings.login_account_limit
    # Exactly `limit` passwords were checked; the other attempts were refused unchecked.
    assert sum("Wrong email or password." in r for r in results) == limit
    assert sum("Too many attempts" in r for r in results) == 20 - limit
    assert list(failures(aws, "account:").values()) == [limit]
    browser = Browser(handler, source_ip="198.51.100.200")
    page = browser.get("/oauth/authorize", query)
    refused = browser.submit(page, {"email": "victim@example.com", "password": "the right one"})
    assert "Too many attempts" in refused.text


def test_parallel_wrong_user_codes_all_count(function, register, services, aws):
    register(client_type="public", client_id="tv", grant_types=[GRANT_DEVICE_CODE])
    handler = function("device")
    browser = Browser(handler)
    entry = browser.get("/oauth/device")

    results = in_parallel(20, lambda i: browser.submit(entry, {"user_code": "ZZZZ-ZZZZ"}).text)
    limit = services.settings.user_code_attempt_limit
    assert sum("not valid" in r for r in results) == limit
    assert sum("Too many wrong codes" in r for r in results) == 20 - limit
    (count,) = failures(aws, "user-code:").values()
    assert count == limit
    assert "Too many wrong codes" in browser.submit(entry, {"user_code": "BBBB-BBBB"}).text


def test_the_api_has_default_route_throttling():
    (api,) = resources(load_template(), "AWS::Serverless::HttpApi").values()
    settings = api["Properties"]["DefaultRouteSettings"]
    assert settings["ThrottlingRateLimit"] == {"Ref": "ThrottlingRateLimit"}
    assert settings["ThrottlingBurstLimit"] == {"Ref": "ThrottlingBurstLimit"}
