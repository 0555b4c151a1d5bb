"""oauthctl's user commands, and one-time values redeemed in parallel over real HTTP."""

from __future__ import annotations

import json
import threading
import uuid

import requests

from tests.e2e.browser_flow import exchange, pkce, through_the_pages


def test_user_create_list_delete(stack):
    email = f"cli-{uuid.uuid4().hex[:8]}@example.com"
    created = stack.oauthctl(
        "user", "create", "--email", email, "--name", "Cli", "--password-stdin", stdin="pw one\n"
    )
    assert created.returncode == 0, created.stderr
    user = json.loads(created.stdout)
    assert user["email"] == email and len(user["user_id"]) == 26
    again = stack.oauthctl("user", "create", "--email", email.upper(), "--password", "x")
    assert again.returncode == 1 and "already exists" in again.stderr
    listed = json.loads(stack.oauthctl("user", "list").stdout)
    assert {"user_id": user["user_id"], "email": email, "name": "Cli"} in listed
    assert "password" not in stack.oauthctl("user", "list").stdout
    assert stack.oauthctl("user", "delete", user["user_id"]).returncode == 0
    assert all(
        u["user_id"] != user["user_id"] for u in json.loads(stack.oauthctl("user", "list").stdout)
    )
    assert stack.oauthctl("user", "delete", user["user_id"]).returncode == 1


def test_twenty_parallel_redemptions_over_http(chromium, stack, setup):
    verifier, challenge = pkce()
    code = through_the_pages(chromium, stack, setup, challenge)["code"]
    barrier = threading.Barrier(20)
    results: list[requests.Response] = []

    def redeem() -> None:
        barrier.wait()
        results.append(exchange(stack, setup, code, verifier))

    threads = [threading.Thread(target=redeem) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.status_code for r in results) == [200] + [400] * 19
    winner = next(r.json() for r in results if r.status_code == 200)
    # The replays revoked the grant the winner got.
    answer = requests.post(
        f"{stack.url}/oauth/introspect", data={"token": winner["access_token"]}, timeout=10
    )
    assert answer.json() == {"active": False}
