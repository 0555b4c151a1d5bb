"""The seed's Python `DeviceFlowClient` (device_flow.py), unmodified, against the local
stack, while a real Chromium approves the code through the verification page."""

from __future__ import annotations

import re
import threading
import uuid

import requests

from tests.seed_clients.device_flow import DeviceFlowClient

PASSWORD = "device owner password"


def test_the_seed_device_client_completes(
    chromium, stack, make_user, make_client, artifacts, capsys
):
    suffix = uuid.uuid4().hex[:8]
    email = f"tv-{suffix}@example.com"
    make_user(email, PASSWORD)
    client_id = f"tv-{suffix}"
    make_client(
        client_id,
        "--type",
        "public",
        "--grant-types",
        "device_code refresh_token",
        "--scopes",
        "read write",
    )

    client = DeviceFlowClient(client_id=client_id, auth_server_url=stack.url)
    outcome: dict = {}
    device = threading.Thread(target=lambda: outcome.update(result=client.authorize("read write")))
    device.start()
    try:
        # Read what the device prints, as its user would.
        printed, shown = "", {}
        for _ in range(100):
            printed += capsys.readouterr().out
            visit = re.search(r"Please visit: (\S+)", printed)
            code = re.search(r"Enter code: (\S+)", printed)
            if visit and code:
                shown = {"verification_uri": visit[1], "user_code": code[1]}
                break
            threading.Event().wait(0.1)
        assert shown, "the device never showed a code"
        context = chromium.new_context()
        page = context.new_page()
        page.goto(shown["verification_uri"])
        page.get_by_label("Code").fill(shown["user_code"].lower().replace("-", " "))
        page.screenshot(path=str(artifacts / "device-verification-page.png"), full_page=True)
        page.get_by_role("button", name="Continue").click()
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        assert shown["user_code"] in page.content()
        page.screenshot(path=str(artifacts / "device-confirm-page.png"), full_page=True)
        page.get_by_role("button", name="Allow").click()
        assert "connected" in page.content()
        context.close()
    finally:
        device.join(timeout=60)
    result = outcome["result"]
    assert set(result) == {"access_token", "token_type", "expires_in", "refresh_token", "scope"}
    assert result["scope"] == "read write"
    assert shown["verification_uri"] == f"{stack.url}/oauth/device"
    info = requests.post(
        f"{stack.url}/oauth/introspect", data={"token": result["access_token"]}, timeout=10
    )
    assert info.json()["active"] is True and info.json()["client_id"] == client_id
    assert (artifacts / "device-verification-page.png").stat().st_size > 1000
