"""schemathesis against the local stack: every operation of openapi.yaml, a few dozen
generated requests each (valid and schema-violating, with and without real
credentials), checked for no 5xx, documented statuses and content types, and
headers and bodies as documented.

The cases come from bench/fuzz.py's `Fuzzer` (what `make fuzz` runs at length),
derandomized, so every run sends the same requests. SCHEMATHESIS_EXAMPLES sets
the examples per operation. `pytest -s` prints the cases run per operation and
in all.

The three bugs this found (a non-ASCII CSRF token, error descriptions echoing
characters RFC 6749 5.2 does not allow, a DPoP proof with `"iat": NaN`) are
fixed; each is a regular test below.
"""

from __future__ import annotations

import os
import re
import time
import uuid

import pytest
import requests

from bench.fuzz import (
    DpopKey,
    Fuzzer,
    Identities,
    OperationReport,
    load_schema,
    operation_labels,
)

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("schemathesis")]

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "40"))
OPERATIONS = operation_labels()
REPORTS: list[OperationReport] = []

# RFC 6749 5.2: error_description is limited to these characters.
ERROR_DESCRIPTION = re.compile(r"^[\x20-\x21\x23-\x5B\x5D-\x7E]*$")


@pytest.fixture(scope="module")
def fuzzer(stack):
    """The runner, signed in as a user of its own (other tests' logins never lock it out)."""
    email, password = f"schemathesis-{uuid.uuid4().hex[:8]}@example.com", uuid.uuid4().hex
    created = stack.oauthctl(
        "user", "create", "--email", email, "--password-stdin", stdin=password + "\n"
    )
    assert created.returncode == 0, created.stderr
    ids = Identities.from_demo(stack.demo, email, password)
    started = time.perf_counter()
    yield Fuzzer(stack.url, ids, load_schema())
    total = sum(report.cases for report in REPORTS)
    known = sum(sum(report.known.values()) for report in REPORTS)
    print(
        f"\nschemathesis: {total} cases over {len(REPORTS)} operations "
        f"({EXAMPLES} examples each) in {time.perf_counter() - started:.1f}s; "
        f"{known} failures were known bugs"
    )


@pytest.mark.parametrize("label", OPERATIONS)
def test_operation_conforms_to_openapi(fuzzer, label):
    report = fuzzer.run(label, EXAMPLES)
    REPORTS.append(report)
    print(f"\n{report.summary()}")
    assert report.cases > 0
    assert not report.findings, report.describe_findings()


@pytest.mark.parametrize("path", ["/oauth/authorize", "/oauth/device"])
@pytest.mark.parametrize(
    ("cookie", "submitted"), [("fuzz", "\u00e9"), ("\u00e9", "fuzz")], ids=["field", "cookie"]
)
def test_a_non_ascii_csrf_token_is_refused_not_a_server_error(stack, path, cookie, submitted):
    answer = requests.post(
        f"{stack.url}{path}",
        data={"step": "login", "csrf_token": submitted},
        cookies={"oauth_csrf": cookie},
        timeout=30,
    )
    assert answer.status_code == 403, answer.text[:200]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/oauth/token", "grant_type=%C3%A9%0D%22%5C"),
        ("/oauth/introspect", "token=x&%C3%A9=1&%C3%A9=2"),
    ],
    ids=["unsupported-grant-type", "repeated-parameter"],
)
def test_error_descriptions_keep_to_the_rfc_6749_characters(stack, path, body):
    answer = requests.post(
        f"{stack.url}{path}",
        data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=30,
    )
    assert answer.status_code == 400
    assert ERROR_DESCRIPTION.match(answer.json()["error_description"]), answer.text


def test_a_dpop_proof_with_a_nan_iat_is_invalid_not_a_server_error(stack):
    endpoint = f"{stack.url}/oauth/token"
    proof = DpopKey().proof("POST", endpoint, iat=float("nan"))  # JSON: "iat": NaN
    answer = requests.post(
        endpoint,
        data={
            "grant_type": "authorization_code",
            "client_id": stack.demo["public_client"]["client_id"],
            "code": "no-such-code",
            "code_verifier": "v" * 43,
        },
        headers={"DPoP": proof},
        timeout=30,
    )
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"] == "invalid_dpop_proof"
