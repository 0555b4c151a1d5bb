"""The seed's TypeScript `DPoPClient` (dpop-client.ts, transpiled without changing its
logic) under Node.js 20: a DPoP-bound token from the local stack, with a code from
the login flow, then /api/user with it."""

from __future__ import annotations

import json
import subprocess
import uuid

import requests

from tests.e2e.app_server import AppServer
from tests.e2e.conftest import JS, transpile
from tests.e2e.test_browser_authorization_code import PASSWORD, pkce, through_the_pages
from tests.seed_clients.extract import HERE as SEED_CLIENTS


def test_the_seed_dpop_client_gets_a_bound_token_and_reads_api_user(
    chromium, stack, make_user, make_client, tmp_path
):
    suffix = uuid.uuid4().hex[:8]
    email = f"dpop-{suffix}@example.com"
    user_id = make_user(email, PASSWORD, "Dpop User")
    app = AppServer({"/callback": ("text/html", b"ok")}, stack.url)
    try:
        client_id = f"dpop-{suffix}"
        make_client(
            client_id,
            "--type",
            "public",
            "--redirect-uri",
            f"{app.url}/callback",
            "--grant-types",
            "authorization_code refresh_token",
            "--scopes",
            "read write",
        )
        setup = {"email": email, "client_id": client_id, "redirect_uri": f"{app.url}/callback"}
        verifier, challenge = pkce()
        code = through_the_pages(chromium, stack, setup, challenge)["code"]
    finally:
        app.close()
    script = transpile(SEED_CLIENTS / "dpop_client.ts", tmp_path / "dpop_client.js", "commonjs")
    args = {
        "code": code,
        "clientId": client_id,
        "redirectUri": setup["redirect_uri"],
        "codeVerifier": verifier,
        "tokenEndpoint": f"{stack.url}/oauth/token",
        "apiUrl": f"{stack.url}/api/user",
    }
    run = subprocess.run(
        ["node", str(JS / "run_dpop_client.js"), str(script), json.dumps(args)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    result = json.loads(
        next(line for line in run.stdout.splitlines() if line.startswith("RESULT "))[7:]
    )
    assert result["tokens"]["token_type"] == "DPoP"
    assert result["status"] == 200
    assert result["body"] == {"id": user_id, "email": email, "name": "Dpop User"}
    # The same token without its proof is refused.
    bearer = requests.get(
        f"{stack.url}/api/user",
        headers={"Authorization": f"Bearer {result['tokens']['access_token']}"},
        timeout=10,
    )
    assert bearer.status_code == 403
