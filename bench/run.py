"""`make bench`: warm handler time per flow against its floor, AWS calls per
request, cold start against boto3's; one table, the targets, bench/results.json.

    python -m bench.run                    # the full run (a few minutes)
    python -m bench.run --iterations 200 --cold-runs 5 --output /tmp/quick.json
    python -m bench.run --profile client_credentials   # cProfile of one flow's warm loop

Warm figures are in-process, on moto's `mock_aws`: moto's calls are far slower
than DynamoDB's, which is why our own code (handler time minus the time inside
AWS SDK calls) is what is compared with the floor. Timing is not part of
`make test`: nothing there depends on these numbers.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import report
from bench.harness import METER, mocked_aws

# key: (label, how to run it); the order is the run's (the table has its own).
FLOW_METHODS: dict[str, tuple[str, Callable[[Any, int], Any]]] = {
    "client_credentials": ("client credentials", lambda b, n: b.client_credentials()),
    "client_credentials_dpop": (
        "client credentials + DPoP",
        lambda b, n: b.client_credentials_dpop(),
    ),
    "code_exchange": ("code exchange", lambda b, n: b.code_exchange()),
    "refresh": ("refresh", lambda b, n: b.refresh()),
    "introspection": ("introspection", lambda b, n: b.introspection()),
    "revocation": ("revocation", lambda b, n: b.revocation()),
    "device_poll_approved": (
        "device poll (approved)",
        lambda b, n: b.device_poll_approved(max(100, n // 10)),
    ),
    "device_poll": ("device poll (pending)", lambda b, n: b.device_poll()),
    "authorizer_bearer": ("authorizer, Bearer", lambda b, n: b.authorizer()),
    "authorizer_local_only": (
        "authorizer, Bearer, local-only",
        lambda b, n: b.authorizer(local_only=True),
    ),
    "authorizer_dpop": ("authorizer, DPoP", lambda b, n: b.authorizer_dpop()),
}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run_flows(iterations: int, only: list[str] | None = None) -> list[dict[str, Any]]:
    """Every flow, in one moto world; a flow that fails is reported, not fatal."""
    from bench.flows import Bench

    records: dict[str, dict[str, Any]] = {}
    with mocked_aws() as aws:
        METER.install()
        try:
            bench = Bench(aws, iterations)
            for key, (label, method) in FLOW_METHODS.items():
                if only and key not in only:
                    continue
                started = time.perf_counter()
                try:
                    bench.clear_one_time_tables()
                    result = method(bench, iterations)
                except Exception as exc:
                    log(f"  {label}: FAILED: {exc}")
                    records[key] = {"key": key, "flow": label, "error": str(exc)}
                    continue
                records[key] = report.flow_record(result)
                log(f"  {label}: {time.perf_counter() - started:.1f}s")
        finally:
            METER.uninstall()
    return [records[key] for key in report.ORDER if key in records]


def profile_flow(key: str, iterations: int, top: int) -> None:
    """cProfile one flow's replayed pass (every AWS call answered from a
    recording, so the profile is our code's alone) and print the biggest
    contributors."""
    from bench import flows as flows_module
    from bench.flows import Bench

    original = getattr(flows_module, "run_replayed")  # noqa: B009
    profiler = cProfile.Profile()

    def profiled(*args: Any, **kwargs: Any) -> Any:
        profiler.enable()
        try:
            return original(*args, **kwargs)
        finally:
            profiler.disable()

    setattr(flows_module, "run_replayed", profiled)  # noqa: B010
    with mocked_aws() as aws:
        METER.install()
        bench = Bench(aws, iterations)
        FLOW_METHODS[key][1](bench, iterations)
        METER.uninstall()
    stream = io.StringIO()
    stats = pstats.Stats(profiler, stream=stream)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    print(stream.getvalue())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--iterations", type=int, default=1000, help="timed calls per flow")
    parser.add_argument("--cold-runs", type=int, default=5, help="fresh processes per function")
    parser.add_argument("--skip-cold", action="store_true", help="warm flows only")
    parser.add_argument("--flows", nargs="*", choices=sorted(FLOW_METHODS), help="only these")
    parser.add_argument("--output", type=Path, default=report.RESULTS)
    parser.add_argument("--profile", choices=sorted(FLOW_METHODS), help="profile one flow")
    parser.add_argument("--top", type=int, default=30, help="rows of the profile")
    args = parser.parse_args(argv)

    if args.profile:
        profile_flow(args.profile, args.iterations, args.top)
        return 0

    started = time.perf_counter()
    env = report.environment()
    log(f"bench: {args.iterations} warm calls per flow, {args.cold_runs} cold starts per function")
    log("warm flows (in-process, moto's mock_aws):")
    flows = run_flows(args.iterations, args.flows)
    cold = None
    if not args.skip_cold:
        log("cold starts (fresh processes, AWS stubbed):")
        from bench import coldstart

        cold = coldstart.measure(runs=args.cold_runs, log=log)
    checks = report.targets({f["key"]: f for f in flows}, cold)
    runtime = time.perf_counter() - started

    print()
    print(
        f"Warm requests: {args.iterations} timed calls per flow after a warm-up, in-process on "
        "moto; milliseconds (medians unless p95)."
    )
    print(
        "SDK = inside AWS SDK calls (moto's included); our code = handler - SDK. replayed = our\n"
        "code again on the same calls with every AWS answer replayed from a recording (no moto\n"
        "running in the process between our code's steps, which slows it: see bench/harness.py)."
    )
    print(report.flows_table(flows))
    print()
    print("AWS calls by API: at function init (cold start), on an instance's first request, warm:")
    print(report.calls_table(flows))
    print()
    print(
        "Floors: the same request and token, timed in blocks of 50 after every 50 handler "
        "calls (same machine load, warm caches):"
    )
    print(report.floors_table(flows))
    if cold:
        print()
        print(
            f"Cold start: fresh interpreter to handler ready, median of {cold['runs']} processes "
            "per function; ratio to `import boto3; boto3.client('dynamodb')`."
        )
        print(report.cold_table(cold))
        slow = report.slow_imports_text(cold)
        if slow:
            print(
                "Biggest imports (ms, cumulative, one -X importtime run) where a ratio is > 1.5x:"
            )
            print(slow)
    print()
    print("Targets:")
    print(report.targets_text(checks))
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    document = {
        **env,
        "load_average_end": list(load) if load else None,
        "runtime_seconds": round(runtime, 1),
        "iterations": args.iterations,
        "flows": flows,
        "cold_start": cold,
        "targets": checks,
    }
    path = report.write(document, args.output)
    if not args.flows:
        from bench import cost

        print()
        print(
            "Cost per million requests on AWS (us-east-1 list prices; assumptions in"
            " bench/cost.py):"
        )
        print(cost.table(document))
    print()
    print(f"Written: {path} (commit {env['git_commit'][:12]}); runtime {runtime:.0f}s")
    if load and load[0] > (os.cpu_count() or 1):
        print(
            f"Note: load average {load[0]:.1f} on {os.cpu_count()} CPUs during the run: "
            "absolute times are inflated; floors are timed beside the calls they are compared with."
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
