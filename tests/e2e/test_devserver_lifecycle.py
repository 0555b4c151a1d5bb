"""`python -m devserver` as a process: what it prints, how it stops, how it refuses a
port in use, and `--aws-only` (the endpoint for `sam local start-api`)."""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest

from devserver.process import child_environment, free_port, read_demo
from devserver.template import ROOT

START_TIMEOUT = 60
STOP_TIMEOUT = 10
ENV_FILE = ROOT / "env.local.json"


def _environment() -> dict[str, str]:
    return child_environment()


def _interruptible() -> None:
    # Ctrl-C in a terminal reaches a process whose SIGINT is not ignored; a shell that
    # started this test run in the background may have left it ignored, and children
    # inherit that.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@dataclass
class Devserver:
    process: subprocess.Popen
    stdout_path: Path
    stderr_path: Path

    @property
    def stdout(self) -> str:
        return self.stdout_path.read_text(errors="replace")

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def wait_until_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while "Ready." not in self.stdout:
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(
                    f"not ready (exit code {self.process.poll()}):\n{self.stdout}\n{self.stderr}"
                )
            time.sleep(0.05)

    def stop(self, signum: int) -> int:
        self.process.send_signal(signum)
        return self.process.wait(timeout=STOP_TIMEOUT)


@pytest.fixture
def devserver(tmp_path: Path) -> Iterator:
    started: list[Devserver] = []

    def start(*args: str) -> Devserver:
        n = len(started)
        out, err = tmp_path / f"stdout{n}.txt", tmp_path / f"stderr{n}.txt"
        with open(out, "w") as stdout, open(err, "w") as stderr:
            process = subprocess.Popen(
                [sys.executable, "-m", "devserver", *args],
                cwd=ROOT,
                stdout=stdout,
                stderr=stderr,
                env=_environment(),
                preexec_fn=_interruptible,
            )
        server = Devserver(process, out, err)
        started.append(server)
        return server

    yield start
    for server in started:
        if server.process.poll() is None:
            server.process.kill()
            server.process.wait(timeout=STOP_TIMEOUT)


def _refused(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=5).close()
    except urllib.error.URLError as exc:
        return isinstance(exc.reason, ConnectionRefusedError)
    return False


def test_it_prints_the_demo_clients_and_stops_on_ctrl_c(devserver):
    port, aws_port = free_port(), free_port()
    server = devserver("--port", str(port), "--aws-port", str(aws_port))
    server.wait_until_ready()
    url, endpoint = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{aws_port}"

    lines = server.stdout.splitlines()
    assert lines[0] == f"oauth21 local stack: {url}"
    assert f"  metadata:  {url}/.well-known/oauth-authorization-server" in lines
    assert f"AWS endpoint (DynamoDB, KMS): {endpoint}" in lines
    assert f"  AWS_ENDPOINT_URL={endpoint} .venv/bin/oauthctl client list" in lines
    assert lines[-1] == "Ready. Ctrl-C stops."

    demo = read_demo(server.stdout)
    confidential = demo["confidential_client"]
    assert set(confidential) == {"client_id", "client_secret"}
    assert confidential["client_id"] == "demo-service"
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", confidential["client_secret"])
    assert demo["public_client"] == {
        "client_id": "demo-spa",
        "redirect_uri": "http://127.0.0.1:8080/callback",
    }
    assert demo["seed_test_client"] == {
        "client_id": "test-client-id",
        "client_secret": "test-client-secret",
    }

    # The printed secret is the one the running stack knows.
    form = urllib.parse.urlencode(
        {
            "grant_type": "client_credentials",
            "client_id": "demo-service",
            "client_secret": confidential["client_secret"],
            "scope": "read",
        }
    ).encode()
    with urllib.request.urlopen(f"{url}/oauth/token", data=form, timeout=30) as response:
        assert response.status == 200
        assert json.loads(response.read())["token_type"] == "Bearer"

    assert server.stop(signal.SIGINT) == 0
    assert "Stopping." in server.stderr.splitlines()
    assert "Traceback" not in server.stderr
    assert _refused(f"{url}/.well-known/jwks.json")


def test_sigterm_stops_it_too(devserver):
    port, aws_port = free_port(), free_port()
    server = devserver("--port", str(port), "--aws-port", str(aws_port))
    server.wait_until_ready()
    assert server.stop(signal.SIGTERM) == 0
    assert server.stderr.splitlines() == ["Stopping."]


@pytest.mark.parametrize("busy", ["--port", "--aws-port"])
def test_a_port_in_use_is_named_without_a_traceback(devserver, busy):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        held = holder.getsockname()[1]
        ports = {"--port": str(free_port()), "--aws-port": str(free_port()), busy: str(held)}
        server = devserver(*(item for pair in ports.items() for item in pair))
        code = server.process.wait(timeout=START_TIMEOUT)
    assert code == 1
    assert server.stderr == (
        f"port {held} on 127.0.0.1 is in use: stop what holds it, or pick another port\n"
    )
    assert "Ready." not in server.stdout


@pytest.fixture
def env_file() -> Iterator[Path]:
    """env.local.json at the repository root: kept aside if present, restored after."""
    saved = ENV_FILE.read_bytes() if ENV_FILE.exists() else None
    ENV_FILE.unlink(missing_ok=True)
    try:
        yield ENV_FILE
    finally:
        ENV_FILE.unlink(missing_ok=True)
        if saved is not None:
            ENV_FILE.write_bytes(saved)


def test_aws_only_writes_the_sam_env_file(devserver, env_file):
    port, aws_port = free_port(), free_port()
    server = devserver("--aws-only", "--port", str(port), "--aws-port", str(aws_port))
    server.wait_until_ready()
    endpoint = f"http://127.0.0.1:{aws_port}"

    lines = server.stdout.splitlines()
    assert lines[0] == f"AWS endpoint (DynamoDB, KMS): {endpoint}"
    assert lines[1] == "sam local env-vars file:      env.local.json"
    assert "  sam build && sam local start-api --env-vars env.local.json" in lines
    assert read_demo(server.stdout)["confidential_client"]["client_id"] == "demo-service"

    parameters = json.loads(env_file.read_text())["Parameters"]
    assert parameters["AWS_ENDPOINT_URL"] == f"http://host.docker.internal:{aws_port}"
    assert parameters["CLIENTS_TABLE"] == "oauth21-clients"
    assert parameters["SIGNING_KEYS_TABLE"] == "oauth21-signing-keys"
    assert parameters["AWS_DEFAULT_REGION"] == "us-east-1"
    assert all(isinstance(value, str) for value in parameters.values())

    # The file describes the running endpoint: its key and tables are there.
    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )
    kms = session.client("kms", endpoint_url=endpoint)
    key = kms.describe_key(KeyId=parameters["ENVELOPE_KMS_KEY_ID"])["KeyMetadata"]
    assert key["KeyUsage"] == "ENCRYPT_DECRYPT"
    dynamodb = session.client("dynamodb", endpoint_url=endpoint)
    clients = dynamodb.scan(TableName=parameters["CLIENTS_TABLE"])["Items"]
    assert "demo-service" in {item["client_id"]["S"] for item in clients}

    # Only the AWS endpoint: no API on --port.
    assert _refused(f"http://127.0.0.1:{port}/.well-known/jwks.json")

    assert server.stop(signal.SIGINT) == 0
    assert "Stopping." in server.stderr.splitlines()
