"""The in-process rig for `make bench`: moto, the template's tables, keys, and
an AWS SDK meter.

Everything runs as the functional tests do (tests/functional/conftest.py):
handlers built by each function's `build(services)` on moto's `mock_aws`,
with an injected clock. The meter wraps `BaseClient._make_api_call`, so every
AWS call is counted by API and timed with `perf_counter_ns`: the handler's
time minus that is "our code".

moto runs in this process, and its work (milliseconds of Python per call)
evicts the CPU caches our code then runs in: measured here, the authorizer's
own code takes about 0.1 ms when replayed alone and 0.3-0.4 ms right after an
(untimed) moto call, on the same input. So each flow is also replayed: the
same events, every AWS call answered from a recording of what moto answered,
no moto in between (`run_replayed`). Both figures are reported.
"""

from __future__ import annotations

import copy
import gc
import io
import logging
import os
import statistics
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

# Before boto3 or the layer read anything: the environment the tests use, no
# real AWS, and the template's default log level (INFO), whose output goes to
# a null sink below (formatting it is still our code's cost, as in Lambda).
os.environ.update(
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    AWS_DEFAULT_REGION="us-east-1",
    POWERTOOLS_LOG_LEVEL="INFO",
)
for _variable in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "ISSUER"):
    os.environ.pop(_variable, None)

import boto3  # noqa: E402
from botocore.client import BaseClient  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402

from devserver.lambdas import LambdaContext, load_module  # noqa: E402
from devserver.template import ROOT, create_tables  # noqa: E402

NS = 1_000_000  # ns per ms


class SdkMeter:
    """Counts and times every AWS SDK call made in this process.

    It can also record what each call answered (or raised) and later replay
    those answers in order without calling moto: the handler then runs the
    same code on the same data with the SDK out of the way (see `run_replayed`).
    """

    def __init__(self) -> None:
        self.calls: list[str] = []  # "service:Operation", in order, since reset()
        self.ns = 0  # time inside _make_api_call since reset()
        self.ns_by_api: Counter[str] = Counter()
        self.recording: list[tuple[str, Any, BaseException | None]] | None = None
        self.replaying: list[tuple[str, Any, BaseException | None]] | None = None
        self._original: Any = None

    def install(self) -> None:
        if self._original is not None:
            return
        original = getattr(BaseClient, "_make_api_call")  # noqa: B009
        self._original = original
        meter = self

        def metered(client: BaseClient, operation_name: str, api_params: Any) -> Any:
            key = f"{client.meta.service_model.service_name}:{operation_name}"
            answer: Any = None
            error: BaseException | None = None
            start = time.perf_counter_ns()
            try:
                if meter.replaying is not None:
                    answer = meter.replay(key)
                else:
                    answer = original(client, operation_name, api_params)
                return answer
            except Exception as exc:
                error = exc
                raise
            finally:
                if meter.recording is not None:  # inside the span: not our code's time
                    meter.recording.append((key, copy.deepcopy(answer), error))
                spent = time.perf_counter_ns() - start
                meter.ns += spent
                meter.ns_by_api[key] += spent
                meter.calls.append(key)

        setattr(BaseClient, "_make_api_call", metered)  # noqa: B010

    def replay(self, key: str) -> Any:
        assert self.replaying is not None
        if not self.replaying:
            raise RuntimeError(f"replay: {key} was not called when recorded")
        recorded_key, answer, error = self.replaying.pop(0)
        if recorded_key != key:
            raise RuntimeError(f"replay: {key} called where {recorded_key} was recorded")
        if error is not None:
            if isinstance(error, ClientError):
                raise type(error)(copy.deepcopy(error.response), error.operation_name)
            raise error
        return copy.deepcopy(answer)

    def uninstall(self) -> None:
        if self._original is not None:
            setattr(BaseClient, "_make_api_call", self._original)  # noqa: B010
            self._original = None

    def reset(self) -> None:
        self.calls = []
        self.ns = 0
        self.ns_by_api = Counter()


METER = SdkMeter()


class Clock:
    """An injected clock (tests/support.FakeClock's twin): time moves only when told."""

    def __init__(self, now: float = 1_900_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class _Sink(io.TextIOBase):
    """Swallows log output, keeping the last few lines to explain a failure."""

    def __init__(self) -> None:
        self.last: deque[str] = deque(maxlen=3)

    def write(self, text: str) -> int:
        if text.strip():
            self.last.append(text.strip())
        return len(text)


LOG_SINK = _Sink()


def silence_logs() -> None:
    """Send every log handler's stream to the sink (after a build: Powertools
    binds its handler to sys.stdout when a Logger is made)."""
    loggers = [logging.getLogger()] + [
        logger
        for logger in logging.Logger.manager.loggerDict.values()
        if isinstance(logger, logging.Logger)
    ]
    for logger in loggers:
        for handler in logger.handlers:
            if isinstance(handler, logging.StreamHandler) and not isinstance(
                handler, logging.FileHandler
            ):
                handler.setStream(LOG_SINK)


def failure(what: str, response: Any) -> RuntimeError:
    logs = " | ".join(line[:1500] for line in LOG_SINK.last)
    return RuntimeError(
        f"{what}: {str(response)[:400]}" + (f"\nlast log lines: {logs}" if logs else "")
    )


@dataclass
class Aws:
    dynamodb: Any
    kms: Any
    key_id: str


@contextmanager
def mocked_aws() -> Iterator[Aws]:
    """moto in-process, the template's tables, one envelope KMS key."""
    from moto import mock_aws

    from devserver.moto_atomic import make_moto_dynamodb_atomic

    make_moto_dynamodb_atomic()
    with mock_aws():
        dynamodb = boto3.client("dynamodb")
        kms = boto3.client("kms")
        create_tables(dynamodb)
        key_id = kms.create_key(Description="envelope")["KeyMetadata"]["KeyId"]
        os.environ["ENVELOPE_KMS_KEY_ID"] = key_id
        yield Aws(dynamodb, kms, key_id)


def build_function(name: str, services: Any) -> tuple[Callable[[Any], Any], list[str]]:
    """functions/<name>/app.py's handler on `services`, and the AWS calls its
    `build` made (a cold start's reads). Importing the module builds its own
    module-level handler too (as the tests' loader does); that is not counted."""
    module = load_module(ROOT / "functions" / name)
    METER.reset()
    handle = module.build(services)
    setup_calls = list(METER.calls)
    silence_logs()
    context = LambdaContext(function_name=name)
    return (lambda event: handle(event, context)), setup_calls


# --- statistics -----------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def per_request(calls: Sequence[str], requests: int) -> dict[str, float]:
    """AWS calls per request, by API (exact when every request made the same calls)."""
    counts = Counter(calls)
    return {api: counts[api] / requests for api in sorted(counts)}


# --- the timed loop ---------------------------------------------------------------


@dataclass
class Timing:
    """Per-call nanoseconds: the handler, inside the SDK, and the rest (our code)."""

    total: list[int] = field(default_factory=list)
    sdk: list[int] = field(default_factory=list)
    ours: list[int] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    sdk_ns_by_api: Counter[str] = field(default_factory=Counter)
    per_call_sets: Counter[tuple[str, ...]] = field(default_factory=Counter)
    floor: list[int] = field(default_factory=list)
    # What each call sent and what AWS answered, for run_replayed.
    events: list[Any] = field(default_factory=list)
    answers: list[list[tuple[str, Any, BaseException | None]]] = field(default_factory=list)
    replayed_ours: list[int] = field(default_factory=list)
    last_event: Any = None
    last_response: Any = None

    def summary(self) -> dict[str, Any]:
        n = len(self.total)
        return {
            "n": n,
            "median_ms": median(self.total) / NS,
            "p95_ms": percentile(self.total, 95) / NS,
            "sdk_median_ms": median(self.sdk) / NS,
            "ours_median_ms": median(self.ours) / NS,
            "ours_p95_ms": percentile(self.ours, 95) / NS,
            "ours_replayed_median_ms": median(self.replayed_ours) / NS
            if self.replayed_ours
            else None,
            "floor_median_ms": median(self.floor) / NS if self.floor else None,
            "floor_p95_ms": percentile(self.floor, 95) / NS if self.floor else None,
            "calls_per_request": per_request(self.calls, n) if n else {},
            "sdk_ms_per_request_by_api": {
                api: ns / n / NS for api, ns in sorted(self.sdk_ns_by_api.items())
            },
            "call_patterns": {
                " + ".join(pattern) or "(none)": count
                for pattern, count in self.per_call_sets.most_common()
            },
        }


def run_timed(
    handler: Callable[[Any], Any],
    next_event: Callable[[int, Any], Any],
    count: int,
    check: Callable[[Any], bool],
    previous: Any = None,
    floor: Callable[[], Any] | None = None,
    chunk: int = 50,
    record: bool = False,
) -> Timing:
    """Call the handler `count` times; only the call itself is timed.

    `next_event(i, previous_response)` builds (or picks) each input outside
    the timed span; `check` must accept every response, so that only the
    success path is measured. The floor's work, when given, is timed in
    blocks of `chunk` calls after every `chunk` handler calls: close in time
    (both see the same machine load) and back to back (the floor at its best:
    caches warm, not just evicted by moto).
    """
    timing = Timing()
    gc.collect()
    perf = time.perf_counter_ns
    for i in range(count):
        event = next_event(i, previous)
        METER.reset()
        if record:
            METER.recording = []
        start = perf()
        try:
            response = handler(event)
        finally:
            total = perf() - start
            answers, METER.recording = METER.recording, None
        sdk = METER.ns
        if record:
            timing.events.append(event)
            timing.answers.append(answers or [])
        timing.total.append(total)
        timing.sdk.append(sdk)
        timing.ours.append(total - sdk)
        timing.calls.extend(METER.calls)
        timing.per_call_sets[tuple(sorted(Counter(METER.calls).elements()))] += 1
        timing.sdk_ns_by_api.update(METER.ns_by_api)
        if not check(response):
            raise failure(f"call {i} did not succeed", response)
        previous = response
        timing.last_event, timing.last_response = event, response
        if floor is not None and ((i + 1) % chunk == 0 or i + 1 == count):
            for _ in range(chunk if (i + 1) % chunk == 0 else (i + 1) % chunk):
                start = perf()
                floor()
                timing.floor.append(perf() - start)
    return timing


def run_replayed(
    handler: Callable[[Any], Any], timing: Timing, check: Callable[[Any], bool]
) -> None:
    """Run the recorded calls again, every AWS call answered from the recording.

    Same events, same answers, same code paths; no moto in between, so our
    code's time here is free of what moto's in-process work does to caches
    and the garbage collector. Fills `timing.replayed_ours`.
    """
    perf = time.perf_counter_ns
    gc.collect()
    for i, (event, answers) in enumerate(zip(timing.events, timing.answers, strict=True)):
        METER.reset()
        METER.replaying = list(answers)
        start = perf()
        try:
            response = handler(event)
        finally:
            total = perf() - start
            left, METER.replaying = METER.replaying, None
        if left:
            raise RuntimeError(f"replay {i}: {len(left)} recorded AWS calls were not made")
        if not check(response):
            raise failure(f"replayed call {i} did not succeed", response)
        timing.replayed_ours.append(total - METER.ns)
