"""functions/rotate_keys: the scheduled rotation and the stack's InitialSigningKeys custom
resource, under moto, with CloudFormation's response URL served locally."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest

from devserver.lambdas import LambdaContext, load_module
from devserver.template import ROOT
from oauth21.config import load_settings
from oauth21.store.signing_keys import SigningKeyTable

STACK_ID = "arn:aws:cloudformation:us-east-1:123456789012:stack/oauth21-dev/0a1b2c3d"
SUCCESS_REASON = "see the function's log"


def load_function() -> ModuleType:
    """A fresh import, as a new Lambda environment: its Services come from the environment."""
    return load_module(ROOT / "functions" / "rotate_keys")


def invoke(module: ModuleType, event: Any) -> Any:
    return module.handler(event, LambdaContext(function_name="RotateKeysFunction"))


def key_table(aws: SimpleNamespace) -> SigningKeyTable:
    return SigningKeyTable(aws.dynamodb, load_settings().signing_keys_table)


def by_kid(aws: SimpleNamespace) -> dict[str, dict[str, Any]]:
    return {r["kid"]: r for r in key_table(aws).all()}


def by_status(aws: SimpleNamespace) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for record in key_table(aws).all():
        found.setdefault(record["status"], []).append(record["kid"])
    return found


class CloudFormation:
    """Where the function PUTs its answer: a pre-signed S3 URL, here a local server."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        received = self.requests

        class Handler(BaseHTTPRequestHandler):
            def do_PUT(self) -> None:
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                received.append({"path": self.path, "headers": self.headers, "raw": raw})
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = HTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self.path = "/cfn-response/InitialSigningKeys?X-Amz-Signature=abc%2Fdef&X-Amz-Expires=7200"
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}{self.path}"

    def __enter__(self) -> CloudFormation:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def event(self, request_type: str, **extra: Any) -> dict[str, Any]:
        return {
            "RequestType": request_type,
            "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:rotate",
            "ResponseURL": self.url,
            "StackId": STACK_ID,
            "RequestId": f"req-{request_type.lower()}-42",
            "LogicalResourceId": "InitialSigningKeys",
            "ResourceType": "Custom::SigningKeys",
            "ResourceProperties": {"ServiceToken": "arn:...", "SigningMode": "envelope"},
            **extra,
        }

    def answer(self) -> dict[str, Any]:
        """The one answer received (the function returns only after the PUT completes)."""
        assert len(self.requests) == 1
        request = self.requests[0]
        assert request["path"] == self.path
        # A pre-signed S3 URL is signed for an empty Content-Type.
        assert request["headers"]["Content-Type"] == ""
        return json.loads(request["raw"])


@pytest.fixture
def cloudformation() -> Iterator[CloudFormation]:
    with CloudFormation() as server:
        yield server


def expected_answer(request_type: str, status: str, reason: str) -> dict[str, Any]:
    return {
        "Status": status,
        "Reason": reason,
        "PhysicalResourceId": "signing-keys",
        "StackId": STACK_ID,
        "RequestId": f"req-{request_type.lower()}-42",
        "LogicalResourceId": "InitialSigningKeys",
    }


# --- the schedule ----------------------------------------------------------------

SCHEDULER_EVENT: dict[str, Any] = {}  # EventBridge Scheduler without an Input
EVENTBRIDGE_EVENT = {
    "version": "0",
    "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
    "detail-type": "Scheduled Event",
    "source": "aws.events",
    "account": "123456789012",
    "time": "2026-12-04T12:00:00Z",
    "region": "us-east-1",
    "resources": ["arn:aws:events:us-east-1:123456789012:rule/rotate"],
    "detail": {},
}


@pytest.mark.parametrize("event", [SCHEDULER_EVENT, EVENTBRIDGE_EVENT], ids=["scheduler", "rule"])
def test_a_scheduled_event_rotates(services, aws, clock, event):
    before = by_status(aws)
    assert {s: len(k) for s, k in before.items()} == {"current": 1, "next": 1}
    old_current, old_next = before["current"][0], before["next"][0]
    module = load_function()

    started = int(time.time())
    result = invoke(module, event)
    finished = int(time.time())

    after = by_kid(aws)
    (new_next,) = set(after) - {old_current, old_next}
    assert result == {
        "current": old_next,
        "next": new_next,
        "retired": [old_current],
        "changed": True,
    }
    assert {kid: r["status"] for kid, r in after.items()} == {
        old_current: "retired",
        old_next: "current",
        new_next: "next",
    }
    lifetime = services.settings.max_token_lifetime + services.settings.key_publication_margin
    retired = after[old_current]
    assert started + lifetime <= retired["expires_at"] <= finished + lifetime
    assert started <= retired["retired_at"] <= finished
    assert started <= after[old_next]["activated_at"] <= finished
    assert after[old_next]["created_at"] == int(clock())  # untouched by the promotion
    fresh = after[new_next]
    assert fresh["alg"] == "ES256" and started <= fresh["created_at"] <= finished
    plain = aws.kms.decrypt(
        CiphertextBlob=fresh["encrypted_private_key"], EncryptionContext={"kid": new_next}
    )
    assert plain["KeyId"].endswith(aws.key_id)


def test_each_scheduled_run_advances_one_step(services, aws):
    module = load_function()
    first = invoke(module, SCHEDULER_EVENT)
    second = invoke(module, SCHEDULER_EVENT)
    assert second["current"] == first["next"]
    assert second["retired"] == [first["current"]]
    statuses = by_status(aws)
    assert statuses["current"] == [second["current"]]
    assert statuses["next"] == [second["next"]]
    assert len(statuses["retired"]) == 2


def test_a_scheduled_event_on_an_empty_table_creates_current_and_next(aws):
    result = invoke(load_function(), SCHEDULER_EVENT)
    statuses = by_status(aws)
    assert statuses == {"current": [result["current"]], "next": [result["next"]]}
    assert result["retired"] == [] and result["current"] != result["next"]


# --- the custom resource ---------------------------------------------------------


@pytest.mark.parametrize("request_type", ["Create", "Update"])
def test_a_create_on_an_empty_table_makes_the_first_keys(aws, cloudformation, request_type):
    assert key_table(aws).all() == []
    returned = invoke(load_function(), cloudformation.event(request_type))
    expected = expected_answer(request_type, "SUCCESS", SUCCESS_REASON)
    assert cloudformation.answer() == expected
    assert returned == expected
    records = key_table(aws).all()
    assert sorted(r["status"] for r in records) == ["current", "next"]
    assert all("encrypted_private_key" in r for r in records)


def test_a_create_when_keys_exist_changes_nothing(services, aws, cloudformation):
    before = by_kid(aws)
    returned = invoke(load_function(), cloudformation.event("Create"))
    expected = expected_answer("Create", "SUCCESS", SUCCESS_REASON)
    assert cloudformation.answer() == expected
    assert returned == expected
    assert by_kid(aws) == before


@pytest.mark.parametrize("keys", [True, False], ids=["with-keys", "empty-table"])
def test_a_delete_changes_nothing_and_answers_success(request, aws, cloudformation, keys):
    if keys:
        request.getfixturevalue("services")  # creates a current and a next key
    before = by_kid(aws)
    returned = invoke(load_function(), cloudformation.event("Delete"))
    expected = expected_answer("Delete", "SUCCESS", SUCCESS_REASON)
    assert cloudformation.answer() == expected
    assert returned == expected
    assert by_kid(aws) == before
    assert len(before) == (2 if keys else 0)


@pytest.mark.parametrize(
    ("key_id", "error"),
    [("", "ParamValidationError"), ("alias/no-such-key", "NotFoundException")],
    ids=["unset", "unknown"],
)
def test_a_failure_answers_failed_without_raising(aws, cloudformation, monkeypatch, key_id, error):
    monkeypatch.setenv("ENVELOPE_KMS_KEY_ID", key_id)
    returned = invoke(load_function(), cloudformation.event("Create"))
    expected = expected_answer("Create", "FAILED", f"{error}: see the function's log")
    assert cloudformation.answer() == expected
    assert returned == expected
    assert key_table(aws).all() == []


def test_a_missing_table_answers_failed(aws, cloudformation):
    aws.dynamodb.delete_table(TableName=load_settings().signing_keys_table)
    returned = invoke(load_function(), cloudformation.event("Create"))
    expected = expected_answer(
        "Create", "FAILED", "ResourceNotFoundException: see the function's log"
    )
    assert cloudformation.answer() == expected
    assert returned == expected


def test_a_failure_never_reports_the_exception_text(aws, cloudformation, monkeypatch):
    secret = "alias/secret-looking-key-name"
    monkeypatch.setenv("ENVELOPE_KMS_KEY_ID", secret)
    invoke(load_function(), cloudformation.event("Create"))
    assert secret.encode() not in cloudformation.requests[0]["raw"]


def test_logging_at_info_carries_the_rotation(aws, cloudformation):
    """At Lambda's INFO level the results are logged as extra fields, which must not
    collide with a LogRecord's own attributes."""
    module = load_function()
    # Powertools configures a service's logger once per process: set the level here.
    level = module.logger.log_level
    module.logger.setLevel(logging.INFO)
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    module.logger.addHandler(handler)
    try:
        invoke(module, cloudformation.event("Create"))
        rotated = invoke(module, SCHEDULER_EVENT)
    finally:
        module.logger.removeHandler(handler)
        module.logger.setLevel(level)
    messages = [(r.getMessage(), getattr(r, "current", None)) for r in records]
    assert ("creating the first signing keys", rotated["retired"][0]) in messages
    assert ("signing keys rotated", rotated["current"]) in messages
