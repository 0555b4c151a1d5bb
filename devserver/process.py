"""The local stack as a child process on free ports: what the e2e tests, `make fuzz`
and `make load` start, wait for, talk to with `oauthctl`, and stop."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devserver.template import ROOT

STARTUP_TIMEOUT = 90  # seconds: a busy machine starts it slowly
STOP_TIMEOUT = 15


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def read_demo(output: str) -> dict[str, Any]:
    """The demo data the local stack prints at start-up."""
    start = output.index("Demo data:\n") + len("Demo data:\n")
    end = output.index("oauthctl against this stack:")
    demo: dict[str, Any] = json.loads(output[start:end])
    return demo


def child_environment(**extra: str) -> dict[str, str]:
    """Our environment, minus what would point the stack elsewhere, plus the import paths."""
    env = {k: v for k, v in os.environ.items() if k not in ("AWS_ENDPOINT_URL", "ISSUER")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(ROOT / "layers" / "common")])
    env.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    env.setdefault("AWS_ACCESS_KEY_ID", "testing")
    env.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    env.update(extra)
    return env


@dataclass
class StackProcess:
    """`python -m devserver` running in its own process (and session)."""

    url: str
    aws_endpoint: str
    process: subprocess.Popen[bytes]
    log_path: Path

    @classmethod
    def start(cls, log_path: Path, log_level: str = "INFO") -> StackProcess:
        port, aws_port = free_port(), free_port()
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "devserver",
                    "--port",
                    str(port),
                    "--aws-port",
                    str(aws_port),
                ],
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=child_environment(POWERTOOLS_LOG_LEVEL=log_level),
                # Its own session: a Ctrl-C reaches the caller, who stops the stack last.
                start_new_session=True,
            )
        stack = cls(f"http://127.0.0.1:{port}", f"http://127.0.0.1:{aws_port}", process, log_path)
        try:
            stack._wait_until_ready()
        except BaseException:
            stack.stop()
            raise
        return stack

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while "Ready." not in self.logs():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the local stack did not start:\n" + self.log_tail())
            time.sleep(0.1)
        urllib.request.urlopen(f"{self.url}/.well-known/jwks.json", timeout=10).close()

    @property
    def demo(self) -> dict[str, Any]:
        return read_demo(self.logs())

    def oauthctl(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        """Run `oauthctl` against this stack's AWS endpoint."""
        return subprocess.run(
            [sys.executable, "-m", "oauth21.cli", *args],
            cwd=ROOT,
            input=stdin,
            capture_output=True,
            text=True,
            env=child_environment(AWS_ENDPOINT_URL=self.aws_endpoint),
            timeout=120,
            check=False,
        )

    def oauthctl_json(self, *args: str) -> Any:
        """`oauthctl`'s JSON output, or RuntimeError with its message."""
        done = self.oauthctl(*args)
        if done.returncode != 0:
            raise RuntimeError(f"oauthctl {' '.join(args[:2])} failed: {done.stderr.strip()}")
        return json.loads(done.stdout)

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace")

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.logs().splitlines()[-lines:])

    def stop(self) -> None:
        """SIGTERM (the devserver stops moto and exits), then SIGKILL if it lingers."""
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=STOP_TIMEOUT)


@contextmanager
def local_stack(log_path: Path, log_level: str = "INFO") -> Iterator[StackProcess]:
    stack = StackProcess.start(log_path, log_level)
    try:
        yield stack
    finally:
        stack.stop()
