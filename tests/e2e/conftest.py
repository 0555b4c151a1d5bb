"""End-to-end tier: the local stack (`python -m devserver`, what `make dev` runs) over real HTTP."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from devserver.process import StackProcess
from devserver.template import ROOT

ARTIFACTS = ROOT / "test-artifacts"
# The tests' name for the running local stack.
Stack = StackProcess


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackProcess]:
    running = StackProcess.start(tmp_path_factory.mktemp("stack") / "devserver.log")
    yield running
    running.stop()


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


@pytest.fixture
def app(stack):
    """The client app's web server, which the redirect URI points at."""
    from tests.e2e.app_server import AppServer

    server = AppServer({"/callback": ("text/html", b"<title>callback</title>ok")}, stack.url)
    yield server
    server.close()


@pytest.fixture
def setup(app, make_user, make_client) -> dict:
    """A user and a public client registered with oauthctl, as a new user would."""
    import uuid

    from tests.e2e.browser_flow import PASSWORD

    suffix = uuid.uuid4().hex[:8]
    email = f"user-{suffix}@example.com"
    user_id = make_user(email, PASSWORD)
    client_id = f"public-{suffix}"
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
    return {
        "email": email,
        "user_id": user_id,
        "client_id": client_id,
        "redirect_uri": f"{app.url}/callback",
    }
