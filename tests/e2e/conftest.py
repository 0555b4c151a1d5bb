"""End-to-end tier: the local stack (`python -m devserver`, what `make dev` runs) over real HTTP."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from devserver.template import ROOT

ARTIFACTS = ROOT / "test-artifacts"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Stack:
    url: str
    aws_endpoint: str
    demo: dict
    process: subprocess.Popen
    log_path: Path

    def oauthctl(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
        env = {**os.environ, "AWS_ENDPOINT_URL": self.aws_endpoint}
        return subprocess.run(
            [sys.executable, "-m", "oauth21.cli", *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            check=False,
        )

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace")


def _read_demo(output: str) -> dict:
    start = output.index("Demo data:\n") + len("Demo data:\n")
    end = output.index("oauthctl against this stack:")
    return json.loads(output[start:end])


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    port, aws_port = free_port(), free_port()
    log_path = tmp_path_factory.mktemp("stack") / "devserver.log"
    env = {k: v for k, v in os.environ.items() if k not in ("AWS_ENDPOINT_URL", "ISSUER")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(ROOT / "layers" / "common")])
    env["POWERTOOLS_LOG_LEVEL"] = "INFO"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "devserver", "--port", str(port), "--aws-port", str(aws_port)],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while "Ready." not in log_path.read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError("the local stack did not start:\n" + log_path.read_text())
        time.sleep(0.1)
    urllib.request.urlopen(f"{url}/.well-known/jwks.json", timeout=10).close()
    stack = Stack(
        url, f"http://127.0.0.1:{aws_port}", _read_demo(log_path.read_text()), process, log_path
    )
    yield stack
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def chromium():
    """Debian's Chromium, driven by Playwright (its own browser download does not work here)."""
    if not CHROMIUM.exists():
        pytest.fail("Chromium is missing: `make system-deps` (as root) installs it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


JS = ROOT / "tests" / "js"


def transpile(source: Path, target: Path, module: str = "none") -> Path:
    """The seed's TypeScript, types erased and nothing else (tests/js/transpile.js)."""
    if not (JS / "node_modules" / "typescript").is_dir():
        pytest.fail("TypeScript is missing: `make test` runs `npm ci --prefix tests/js` first")
    subprocess.run(
        ["node", str(JS / "transpile.js"), str(source), str(target), module],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return target


@pytest.fixture
def make_user(stack):
    def make_user(email: str, password: str, name: str = "E2E User") -> str:
        created = stack.oauthctl(
            "user",
            "create",
            "--email",
            email,
            "--name",
            name,
            "--password-stdin",
            stdin=password + "\n",
        )
        assert created.returncode == 0, created.stderr
        return json.loads(created.stdout)["user_id"]

    return make_user


@pytest.fixture
def make_client(stack):
    def make_client(client_id: str, *args: str) -> dict:
        created = stack.oauthctl(
            "client", "create", "--name", client_id, "--client-id", client_id, *args
        )
        assert created.returncode == 0, created.stderr
        return json.loads(created.stdout)

    return make_client
