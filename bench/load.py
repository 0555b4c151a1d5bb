"""`python -m bench.load` (`make load`): a bounded load test of the local stack.

It is the seed's k6 load test, run by Python threads against the local stack
(`python -m devserver`), which it starts itself on free ports and stops at the
end (Ctrl-C included).

**The profile.** The seed's k6 stages: 10 virtual users over 30 s, 50 over
1 min, 100 over 2 min, 0 over 30 s. As k6's ramping-vus executor does, each
stage moves linearly from the previous target to its own, so the run peaks at
100 concurrent users at the end of the third stage; a user that falls above
the target finishes its iteration and then waits. The 4 minutes are scaled to
about 2 by default, to about 20 s by `--quick`; `LOAD_SCALE=2` stretches
either (`LOAD_SCALE=2 python -m bench.load` is the seed's own 4 minutes).

**An iteration** (each user loops without pause, over its own keep-alive
`requests.Session`):

1. `POST /oauth/token`: `grant_type=client_credentials`, `client_id` and
   `client_secret` in the form, `scope=read`, as the dedicated confidential
   client `load-test-client`; success is 200 with an `access_token`.
2. `GET /api/user` with `Authorization: Bearer <token>`: the route behind the
   Lambda authorizer (signature, claims, revocation lookup, scope). A
   client-credentials token has no user, so the function answers 403
   `{"error": "invalid_token", ...}` by design (`personal_tokens.NoUser`):
   that answer proves the authorizer verified the token and let the request
   through, and counts as success. API Gateway's own 403
   `{"message": "Forbidden"}` (the authorizer denied the token) is an error.
3. `POST /oauth/introspect` of the token, authenticated as the same client;
   success is 200 with `active: true`.

If the token request fails, the iteration ends there (k6 would go on with no
token, and count two more failures).

**The report**: per request kind, count, p50, p95 and max latency (ms, from
sending the request to reading the whole response) and error rate; overall
throughput; and whether the seed's thresholds held (p95 of every request under
500 ms, as k6's `http_req_duration`; fewer than 2 % failed requests).

**The correctness check**, after the load: 10 % of the issued tokens are
revoked (`POST /oauth/revoke`), then every issued token is introspected again
in parallel: each must be `active: true` except the revoked ones, which must
be `active: false`. The exit status is 1 on any mismatch, failed revocation or
an error rate above 2 % (the p95 threshold is reported, not enforced: the
machine, not the server, decides it here).

**Caveat.** The local stack is one Python process: the HTTP front end, every
function and the authorizer share one interpreter (and its GIL) with moto's
DynamoDB and KMS, and this load generator runs on the same machine. The
figures are the local stack's, not Lambda's: they find concurrency bugs and
gross regressions, not production latency.
"""

from __future__ import annotations

import argparse
import base64
import json
import math
import os
import random
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import requests

from bench.load_support import StackProcess, local_stack, percentile, render_table

# The seed's k6 stages: (seconds, target virtual users).
K6_STAGES: tuple[tuple[float, int], ...] = ((30, 10), (60, 50), (120, 100), (30, 0))
DEFAULT_SCALE = 0.5  # 4 min -> 2 min
QUICK_SCALE = 1 / 12  # 4 min -> 20 s

P95_LIMIT_MS = 500.0
ERROR_RATE_LIMIT = 0.02
REVOKE_FRACTION = 0.10
REQUEST_TIMEOUT = 30.0  # seconds: API Gateway's integration limit
CHECK_WORKERS = 16
EXPIRY_MARGIN = 60.0  # seconds: tokens this close to expiry are not revoked
NEAR_EXPIRY = "near expiry"  # tokens within 5 s of expiry are not checked

CLIENT_ID = "load-test-client"
CLIENT_SECRET = "load-test-secret"
KINDS = ("token", "api", "introspect")

T = TypeVar("T")
R = TypeVar("R")


# --- The profile ------------------------------------------------------------


@dataclass(frozen=True)
class Profile:
    stages: tuple[tuple[float, int], ...]

    @property
    def duration(self) -> float:
        return sum(seconds for seconds, _ in self.stages)

    @property
    def peak(self) -> int:
        return max(target for _, target in self.stages)

    def scaled(self, factor: float) -> Profile:
        return Profile(tuple((seconds * factor, target) for seconds, target in self.stages))

    def target_at(self, elapsed: float) -> float:
        """k6's ramping-vus: each stage moves linearly from the previous target to its own."""
        stage_start, previous = 0.0, 0
        for seconds, target in self.stages:
            if elapsed < stage_start + seconds:
                progress = (elapsed - stage_start) / seconds
                return previous + (target - previous) * progress
            stage_start, previous = stage_start + seconds, target
        return float(previous)

    def describe(self) -> str:
        steps = ", ".join(f"{target} over {seconds:.1f} s" for seconds, target in self.stages)
        return f"{steps} ({self.duration:.0f} s in all, peak {self.peak} users)"


def chosen_profile(quick: bool) -> Profile:
    try:
        stretch = float(os.environ.get("LOAD_SCALE") or 1)
    except ValueError:
        stretch = 0
    if not 0 < stretch < math.inf:
        raise SystemExit("LOAD_SCALE must be a positive number")
    factor = (QUICK_SCALE if quick else DEFAULT_SCALE) * stretch
    return Profile(K6_STAGES).scaled(factor)


# --- HTTP calls and what counts as success ------------------------------------


class LoadClient:
    """The calls of one user (or checker thread), over its own keep-alive session."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.session = requests.Session()

    def _post(self, path: str, **form: str) -> requests.Response:
        # client_secret_post: the seed's k6 script sends the credentials in the form.
        form.update(client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
        return self.session.post(f"{self.base_url}{path}", data=form, timeout=REQUEST_TIMEOUT)

    def request_token(self) -> requests.Response:
        return self._post("/oauth/token", grant_type="client_credentials", scope="read")

    def call_api(self, token: str) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}"}
        url = f"{self.base_url}/api/user"
        return self.session.get(url, headers=headers, timeout=REQUEST_TIMEOUT)

    def introspect(self, token: str) -> requests.Response:
        return self._post("/oauth/introspect", token=token)

    def revoke(self, token: str) -> requests.Response:
        return self._post("/oauth/revoke", token=token, token_type_hint="access_token")

    def close(self) -> None:
        self.session.close()


@dataclass(frozen=True)
class Outcome:
    ok: bool
    label: str  # what happened, e.g. "200 active=true" or "503 temporarily_unavailable"
    example: str = ""  # the response, kept for failures


def json_body(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def shown(response: requests.Response) -> str:
    return f"{response.status_code} {response.text[:300]}"


def unexpected(response: requests.Response) -> Outcome:
    body = json_body(response)
    reason = body.get("error") or body.get("message") or "(not a JSON object)"
    return Outcome(False, f"{response.status_code} {reason}", shown(response))


def transport_failure(exc: requests.RequestException) -> Outcome:
    return Outcome(False, type(exc).__name__, str(exc)[:300])


def classify_token(response: requests.Response) -> Outcome:
    if response.status_code == 200 and json_body(response).get("access_token"):
        return Outcome(True, "200 access_token")
    return unexpected(response)


def classify_api(response: requests.Response) -> Outcome:
    body = json_body(response)
    if response.status_code == 403 and body.get("error") == "invalid_token":
        return Outcome(True, "403 invalid_token from the function (authorizer allowed; no user)")
    if response.status_code == 403 and body == {"message": "Forbidden"}:
        return Outcome(False, "403 Forbidden from the gateway (authorizer denied)", shown(response))
    return unexpected(response)


def classify_introspection(response: requests.Response) -> Outcome:
    active = json_body(response).get("active")
    if response.status_code == 200 and active is True:
        return Outcome(True, "200 active=true")
    if response.status_code == 200 and active is False:
        return Outcome(False, "200 active=false for a fresh token", shown(response))
    return unexpected(response)


# --- Recording --------------------------------------------------------------


@dataclass
class KindStats:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    examples: dict[str, str] = field(default_factory=dict)


class Recorder:
    """Every request's latency and outcome, and every issued token (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.stats = {kind: KindStats() for kind in KINDS}
        self.tokens: list[str] = []
        self.iterations = 0
        self.closed = False  # set on Ctrl-C: stragglers' failures are not the server's

    def record(self, kind: str, milliseconds: float, outcome: Outcome) -> None:
        with self._lock:
            if self.closed:
                return
            stats = self.stats[kind]
            stats.latencies.append(milliseconds)
            stats.outcomes[outcome.label] += 1
            if not outcome.ok:
                stats.errors += 1
                stats.examples.setdefault(outcome.label, outcome.example)

    def add_token(self, token: str) -> None:
        with self._lock:
            if not self.closed:
                self.tokens.append(token)

    def end_iteration(self) -> None:
        with self._lock:
            if not self.closed:
                self.iterations += 1

    def totals(self) -> tuple[int, int]:
        with self._lock:
            requests_sent = sum(len(s.latencies) for s in self.stats.values())
            return requests_sent, sum(s.errors for s in self.stats.values())


def measure(
    recorder: Recorder,
    kind: str,
    send: Callable[[], requests.Response],
    classify: Callable[[requests.Response], Outcome],
) -> requests.Response | None:
    """Send, time and classify one request; the response if it succeeded."""
    started = time.perf_counter()
    try:
        response = send()
    except requests.RequestException as exc:
        recorder.record(kind, (time.perf_counter() - started) * 1000, transport_failure(exc))
        return None
    elapsed = (time.perf_counter() - started) * 1000
    outcome = classify(response)
    recorder.record(kind, elapsed, outcome)
    return response if outcome.ok else None


def run_iteration(client: LoadClient, recorder: Recorder) -> None:
    issued = measure(recorder, "token", client.request_token, classify_token)
    if issued is not None:
        token = issued.json()["access_token"]
        recorder.add_token(token)
        measure(recorder, "api", partial(client.call_api, token), classify_api)
        measure(recorder, "introspect", partial(client.introspect, token), classify_introspection)
    recorder.end_iteration()


# --- Virtual users ----------------------------------------------------------


class VirtualUsers:
    """k6's ramping-vus executor with threads: user i iterates while i < the target."""

    def __init__(self, profile: Profile, base_url: str, recorder: Recorder):
        self.profile = profile
        self.base_url = base_url
        self.recorder = recorder
        self.peak_active = 0
        self.elapsed = 0.0
        self._active = 0
        self._finished = False
        self._turn = threading.Condition()

    def run(self) -> None:
        """Run the whole profile; then let running iterations finish (k6's graceful stop)."""
        threads = [
            threading.Thread(target=self._user, args=(index,), name=f"vu-{index}", daemon=True)
            for index in range(self.profile.peak)
        ]
        for thread in threads:
            thread.start()
        started = time.monotonic()
        next_progress = started
        try:
            while (elapsed := time.monotonic() - started) < self.profile.duration:
                self._set_active(math.ceil(self.profile.target_at(elapsed)))
                if time.monotonic() >= next_progress:
                    self._print_progress(elapsed)
                    next_progress += max(5.0, self.profile.duration / 12)
                time.sleep(0.1)
            self._stop(threads, grace=REQUEST_TIMEOUT * 3)
        except BaseException:
            self.recorder.closed = True
            self._stop(threads, grace=2.0)
            raise
        finally:
            self.elapsed = time.monotonic() - started

    def _user(self, index: int) -> None:
        client = LoadClient(self.base_url)
        try:
            while self._wait_for_turn(index):
                run_iteration(client, self.recorder)
        finally:
            client.close()

    def _wait_for_turn(self, index: int) -> bool:
        with self._turn:
            self._turn.wait_for(lambda: self._finished or index < self._active)
            return not self._finished

    def _set_active(self, count: int) -> None:
        if count == self._active:
            return
        with self._turn:
            self._active = count
            self.peak_active = max(self.peak_active, count)
            self._turn.notify_all()

    def _stop(self, threads: Sequence[threading.Thread], grace: float) -> None:
        with self._turn:
            self._finished = True
            self._turn.notify_all()
        deadline = time.monotonic() + grace
        for thread in threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))

    def _print_progress(self, elapsed: float) -> None:
        sent, errors = self.recorder.totals()
        print(
            f"  [{elapsed:5.0f} s] users {self._active:3d}  requests {sent:6d}  errors {errors}",
            file=sys.stderr,
            flush=True,
        )


# --- The load report --------------------------------------------------------


@dataclass(frozen=True)
class LoadSummary:
    requests: int
    errors: int
    p95_ms: float

    @property
    def error_rate(self) -> float:
        return self.errors / self.requests if self.requests else 0.0

    @property
    def p95_held(self) -> bool:
        return self.p95_ms < P95_LIMIT_MS

    @property
    def errors_held(self) -> bool:
        return self.requests > 0 and self.error_rate < ERROR_RATE_LIMIT


def latency_row(name: str, latencies: list[float], errors: int) -> list[str]:
    ordered = sorted(latencies)
    count = len(ordered)
    if not count:
        return [name, "0", "-", "-", "-", "0", "-"]
    return [
        name,
        str(count),
        f"{percentile(ordered, 0.50):.0f}",
        f"{percentile(ordered, 0.95):.0f}",
        f"{ordered[-1]:.0f}",
        str(errors),
        f"{errors / count:.2%}",
    ]


def print_load_report(recorder: Recorder, users: VirtualUsers, interrupted: bool) -> LoadSummary:
    every = [ms for stats in recorder.stats.values() for ms in stats.latencies]
    summary = LoadSummary(
        requests=len(every),
        errors=sum(stats.errors for stats in recorder.stats.values()),
        p95_ms=percentile(sorted(every), 0.95),
    )
    rows = [latency_row(kind, s.latencies, s.errors) for kind, s in recorder.stats.items()]
    rows.append(latency_row("all", every, summary.errors))
    header = ["request", "count", "p50 ms", "p95 ms", "max ms", "errors", "error rate"]
    seconds = max(users.elapsed, 1e-9)
    print()
    print("Load" + (" (interrupted: partial figures)" if interrupted else ""))
    print(render_table(header, rows))
    print(
        f"\n{summary.requests} requests and {recorder.iterations} iterations in {seconds:.1f} s: "
        f"{summary.requests / seconds:.1f} requests/s, {recorder.iterations / seconds:.1f} "
        f"iterations/s; peak {users.peak_active} concurrent users; "
        f"{len(recorder.tokens)} tokens issued"
    )
    print("k6 thresholds:")
    print(f"  p95 < {P95_LIMIT_MS:.0f} ms:  {summary.p95_ms:.0f} ms  {verdict(summary.p95_held)}")
    print(
        f"  errors < {ERROR_RATE_LIMIT:.0%}:    {summary.error_rate:.2%}  "
        f"{verdict(summary.errors_held)}"
    )
    print_outcomes(recorder)
    return summary


def verdict(held: bool) -> str:
    return "held" if held else "FAILED"


def print_outcomes(recorder: Recorder) -> None:
    print("Responses:")
    for kind, stats in recorder.stats.items():
        for label, count in stats.outcomes.most_common():
            print(f"  {kind:<10} {count:7d}  {label}")
    if any(stats.examples for stats in recorder.stats.values()):
        print("Failures, one example of each:")
    for kind, stats in recorder.stats.items():
        for label, example in stats.examples.items():
            print(f"  {kind} / {label}: {example}")


# --- The correctness check --------------------------------------------------


@dataclass
class CheckResult:
    checked: int = 0
    active: int = 0
    revoked_inactive: int = 0
    skipped_near_expiry: int = 0
    mismatches: list[str] = field(default_factory=list)
    failed_requests: int = 0  # introspections that got no usable answer (among mismatches)
    revocation_failures: list[str] = field(default_factory=list)
    revoked: int = 0
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return not self.mismatches and not self.revocation_failures


class ThreadClients:
    """One LoadClient per pool thread, all closed at the end."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self._local = threading.local()
        self._all: list[LoadClient] = []
        self._lock = threading.Lock()

    def get(self) -> LoadClient:
        client = getattr(self._local, "client", None)
        if client is None:
            client = self._local.client = LoadClient(self.base_url)
            with self._lock:
                self._all.append(client)
        return client

    def close(self) -> None:
        for client in self._all:
            client.close()


def in_parallel(work: Callable[[T], R], items: Sequence[T]) -> list[R]:
    """`work` over `items` on CHECK_WORKERS threads, in order; Ctrl-C drops the queue."""
    pool = ThreadPoolExecutor(max_workers=CHECK_WORKERS, thread_name_prefix="check")
    try:
        results = list(pool.map(work, items))
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()
    return results


def token_expiry(token: str) -> float:
    """The `exp` claim, read without verifying (the server verifies)."""
    payload = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return float(claims["exp"])


def revoke(clients: ThreadClients, token: str) -> str | None:
    """None once revoked, else what went wrong."""
    try:
        response = clients.get().revoke(token)
    except requests.RequestException as exc:
        return f"{type(exc).__name__}: {str(exc)[:200]}"
    return None if response.status_code == 200 else shown(response)


def introspected_state(clients: ThreadClients, token: str) -> tuple[bool | None, str]:
    """(active, the answer); active is None when there is no valid answer."""
    if time.time() >= token_expiry(token) - 5:
        return None, NEAR_EXPIRY
    try:
        response = clients.get().introspect(token)
    except requests.RequestException as exc:
        return None, f"{type(exc).__name__}: {str(exc)[:200]}"
    active = json_body(response).get("active")
    if response.status_code != 200 or not isinstance(active, bool):
        return None, shown(response)
    return active, shown(response)


def choose_revocations(tokens: Sequence[str], rng: random.Random) -> list[str]:
    """REVOKE_FRACTION of the tokens not close to expiry (at least one, if any)."""
    now = time.time()
    candidates = [t for t in tokens if token_expiry(t) - now > EXPIRY_MARGIN]
    if not candidates:
        return []
    count = max(1, round(len(candidates) * REVOKE_FRACTION))
    return rng.sample(candidates, count)


def verify_tokens(base_url: str, tokens: Sequence[str], rng: random.Random) -> CheckResult:
    """Revoke a sample, then introspect every token: revoked ones inactive, the rest active."""
    result = CheckResult()
    started = time.monotonic()
    clients = ThreadClients(base_url)
    try:
        chosen = choose_revocations(tokens, rng)
        failures = in_parallel(partial(revoke, clients), chosen)
        revoked = {t for t, failure in zip(chosen, failures, strict=True) if failure is None}
        result.revoked = len(revoked)
        result.revocation_failures = [f for f in failures if f is not None]
        # A token whose revocation failed has no known expected state: leave it out.
        unsure = set(chosen) - revoked
        to_check = [t for t in tokens if t not in unsure]
        states = in_parallel(partial(introspected_state, clients), to_check)
    finally:
        clients.close()
    for index, (token, (active, answer)) in enumerate(zip(to_check, states, strict=True)):
        tally(result, index, token in revoked, active, answer)
    result.seconds = time.monotonic() - started
    return result


def tally(
    result: CheckResult, index: int, was_revoked: bool, active: bool | None, answer: str
) -> None:
    if answer == NEAR_EXPIRY:
        result.skipped_near_expiry += 1
        return
    result.checked += 1
    if was_revoked and active is False:
        result.revoked_inactive += 1
    elif not was_revoked and active is True:
        result.active += 1
    else:
        result.failed_requests += active is None
        expected = "inactive (revoked)" if was_revoked else "active"
        result.mismatches.append(f"token #{index}, expected {expected}: {answer}")


def print_check_report(result: CheckResult) -> None:
    print()
    print(
        f"Correctness check ({result.seconds:.1f} s): revoked {result.revoked} tokens, then "
        "introspected every issued token"
    )
    print(
        f"  tokens checked: {result.checked}, active: {result.active}, "
        f"revoked and inactive: {result.revoked_inactive}, mismatches: {len(result.mismatches)}"
        + (f" ({result.failed_requests} with no valid answer)" if result.failed_requests else "")
    )
    if result.skipped_near_expiry:
        print(f"  not checked, within 5 s of expiry: {result.skipped_near_expiry}")
    for failure in result.revocation_failures[:5]:
        print(f"  revocation failed: {failure}")
    if result.revocation_failures:
        print(f"  revocations failed: {len(result.revocation_failures)}")
    for mismatch in result.mismatches[:10]:
        print(f"  MISMATCH {mismatch}")
    print(f"  {'passed' if result.passed else 'FAILED'}")


# --- The server's side ------------------------------------------------------


def server_problems(stack: StackProcess) -> tuple[int, int]:
    """(5xx responses, tracebacks) in the local stack's log."""
    lines = stack.logs().splitlines()
    five_hundreds = sum(1 for line in lines if _gateway_status(line).startswith("5"))
    tracebacks = sum(1 for line in lines if line.startswith("Traceback"))
    return five_hundreds, tracebacks


def _gateway_status(line: str) -> str:
    """The status of a gateway access-log line ("POST /oauth/token 200 12ms"), else ""."""
    parts = line.split()
    if len(parts) == 4 and parts[0].isupper() and parts[3].endswith("ms"):
        return parts[2]
    return ""


# --- Main -------------------------------------------------------------------


def create_load_client(stack: StackProcess) -> None:
    stack.oauthctl_json(
        "client",
        "create",
        "--name",
        CLIENT_ID,
        "--client-id",
        CLIENT_ID,
        "--client-secret",
        CLIENT_SECRET,
        "--type",
        "confidential",
        "--scopes",
        "read",
    )


def machine_load() -> str:
    one, five, _ = os.getloadavg()
    return f"Machine: {os.cpu_count()} CPUs, load average {one:.2f} (1 min), {five:.2f} (5 min)"


def run(profile: Profile, log_path: Path) -> int:
    with local_stack(log_path) as stack:
        print(f"Local stack: {stack.url} (AWS endpoint {stack.aws_endpoint}), log {log_path}")
        print(machine_load())
        create_load_client(stack)
        print(f"Client {CLIENT_ID} created. Load: {profile.describe()}", flush=True)
        recorder = Recorder()
        users = VirtualUsers(profile, stack.url, recorder)
        try:
            users.run()
        except KeyboardInterrupt:
            print_load_report(recorder, users, interrupted=True)
            raise
        summary = print_load_report(recorder, users, interrupted=False)
        check = verify_tokens(stack.url, recorder.tokens, random.Random(len(recorder.tokens)))
        print_check_report(check)
        five_hundreds, tracebacks = server_problems(stack)
    print(f"\nLocal stack log: {five_hundreds} responses 5xx, {tracebacks} tracebacks")
    print(machine_load())
    failed = not check.passed or not summary.errors_held
    print("Result: " + ("FAILED" if failed else "passed"))
    return 1 if failed else 0


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.load",
        description="The seed's k6 load test against the local stack it starts (about 2 min). "
        "LOAD_SCALE=N stretches the stages N times (LOAD_SCALE=2: the seed's 4 minutes).",
    )
    parser.add_argument(
        "--quick", action="store_true", help="about 20 s (times LOAD_SCALE) instead of about 2 min"
    )
    return parser.parse_args(argv)


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    profile = chosen_profile(args.quick)
    signal.signal(signal.SIGTERM, _interrupt)  # stop the stack on SIGTERM too
    log_dir = Path(tempfile.mkdtemp(prefix="oauth21-load-"))
    status = 1
    try:
        status = run(profile, log_dir / "devserver.log")
    except KeyboardInterrupt:
        print("\nInterrupted; the local stack is stopped.", file=sys.stderr)
        status = 130
    finally:
        if status != 1:
            shutil.rmtree(log_dir, ignore_errors=True)
        else:
            print(f"The local stack's log is kept: {log_dir / 'devserver.log'}", file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
