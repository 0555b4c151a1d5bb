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
