"""The seed's TypeScript `DPoPClient` (dpop-client.ts, transpiled without changing its
logic) under Node.js 20: a DPoP-bound token from the local stack, with a code from
the login flow, then /api/user with it."""

from __future__ import annotations

import json
import subprocess

import requests

from tests.e2e.browser_flow import pkce, through_the_pages
from tests.e2e.conftest import JS, transpile
from tests.seed_clients.extract import HERE as SEED_CLIENTS


def test_the_seed_dpop_client_gets_a_bound_token_and_reads_api_user(
    chromium, stack, setup, tmp_path
):
    verifier, challenge = pkce()
    code = through_the_pages(chromium, stack, setup, challenge)["code"]
    script = transpile(SEED_CLIENTS / "dpop_client.ts", tmp_path / "dpop_client.js", "commonjs")
    args = {
        "code": code,
        "clientId": setup["client_id"],
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
    assert result["body"] == {"id": setup["user_id"], "email": setup["email"], "name": "E2E User"}
    # The same token without its proof is refused.
    bearer = requests.get(
        f"{stack.url}/api/user",
        headers={"Authorization": f"Bearer {result['tokens']['access_token']}"},
        timeout=10,
    )
    assert bearer.status_code == 403
