"""Helpers for `bench.load`: the local stack as a subprocess, oauthctl, and statistics.

Nothing here knows about the load profile; `bench/load.py` does.
"""

from __future__ import annotations

import json
import math
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
STARTUP_TIMEOUT = 90  # seconds: the machine may be busy with other work
STOP_TIMEOUT = 15


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _child_environment(**extra: str) -> dict[str, str]:
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
    """`python -m devserver` running in its own process (and session) on free ports."""

    url: str
    aws_endpoint: str
    process: subprocess.Popen[bytes]
    log_path: Path

    @classmethod
    def start(cls, log_path: Path) -> StackProcess:
        port, aws_port = free_port(), free_port()
        command = [sys.executable, "-m", "devserver", "--port", str(port)]
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                [*command, "--aws-port", str(aws_port)],
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=_child_environment(),
                # Its own session: Ctrl-C reaches us only, and we stop the load
                # before the stack, so an interrupted run does not end in a burst of
                # connection errors.
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
        while "Ready." not in self.log():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the local stack did not start:\n" + self.log_tail())
            time.sleep(0.1)
        urllib.request.urlopen(f"{self.url}/.well-known/jwks.json", timeout=10).close()

    def oauthctl(self, *args: str) -> Any:
        """Run `oauthctl` against this stack's AWS endpoint; its JSON output."""
        done = subprocess.run(
            [sys.executable, "-m", "oauth21.cli", *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            env=_child_environment(AWS_ENDPOINT_URL=self.aws_endpoint),
            timeout=120,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"oauthctl {' '.join(args[:2])} failed: {done.stderr.strip()}")
        return json.loads(done.stdout)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log().splitlines()[-lines:])

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
def local_stack(log_path: Path) -> Iterator[StackProcess]:
    stack = StackProcess.start(log_path)
    try:
        yield stack
    finally:
        stack.stop()


def percentile(ordered: Sequence[float], fraction: float) -> float:
    """The `fraction` quantile of an ascending sequence, interpolated linearly."""
    if not ordered:
        return math.nan
    position = (len(ordered) - 1) * fraction
    below = math.floor(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)


def render_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain-text table: the first column left-aligned, the others right-aligned."""
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        parts = [
            str(cell).ljust(width) if i == 0 else str(cell).rjust(width)
            for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(parts)

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([line(header), rule, *(line(row) for row in rows)])
