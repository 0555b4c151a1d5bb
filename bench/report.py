"""The tables `make bench` prints, the targets it checks, and bench/results.json."""

from __future__ import annotations

import json
import math
import os
import platform
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from bench.flows import Result
from devserver.template import ROOT

RESULTS = ROOT / "bench" / "results.json"
ORDER = (
    "client_credentials",
    "code_exchange",
    "refresh",
    "introspection",
    "revocation",
    "device_poll",
    "authorizer_bearer",
    "authorizer_dpop",
    # Beside the eight: what the call-count targets compare against.
    "client_credentials_dpop",
    "device_poll_approved",
    "authorizer_local_only",
)
FLOOR_RATIO_TARGET = 3.0
COLD_RATIO_TARGET = 1.5


# --- formatting -------------------------------------------------------------------


def calls_text(calls: Mapping[str, float], *, without: str = "") -> str:
    shown = {api: n for api, n in calls.items() if not api.startswith(without or "\0")}
    if not shown:
        return "none"
    parts = []
    for api, n in shown.items():
        count = str(int(n)) if float(n).is_integer() else f"{n:.2f}"
        parts.append(f"{api}×{count}")  # noqa: RUF001  (the issue's notation)
    return " + ".join(parts)


def counted(calls: Iterable[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for call in calls:
        found[call] = found.get(call, 0) + 1
    return dict(sorted(found.items()))


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[int]) -> str:
    widths = [max(len(str(x)) for x in column) for column in zip(headers, *rows, strict=True)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            str(c).rjust(w) if i in right else str(c).ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), rule, *(line(r) for r in rows)])


def ms(value: float | None, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.{digits}f}"


# --- the flows ------------------------------------------------------------------------


def flow_record(result: Result) -> dict[str, Any]:
    summary = result.timing.summary()
    floor_ms = result.floor["median_ms"]
    warm = summary["calls_per_request"]
    return {
        "key": result.key,
        "flow": result.label,
        "function": result.function,
        "n": result.n,
        "warm_median_ms": summary["median_ms"],
        "warm_p95_ms": summary["p95_ms"],
        "sdk_median_ms": summary["sdk_median_ms"],
        "ours_median_ms": summary["ours_median_ms"],
        "ours_p95_ms": summary["ours_p95_ms"],
        "floor_median_ms": floor_ms,
        "floor_p95_ms": result.floor["p95_ms"],
        "ratio_to_floor": summary["ours_median_ms"] / floor_ms if floor_ms else None,
        "ours_replayed_median_ms": summary["ours_replayed_median_ms"],
        "replayed_ratio_to_floor": summary["ours_replayed_median_ms"] / floor_ms
        if floor_ms and summary["ours_replayed_median_ms"]
        else None,
        "floor_steps": result.floor_steps,
        "aws_calls_per_request": warm,
        "kms_calls_per_request": sum(n for api, n in warm.items() if api.startswith("kms:")),
        "call_patterns": summary["call_patterns"],
        "sdk_ms_per_request_by_api": summary["sdk_ms_per_request_by_api"],
        "first_request_calls": counted(result.first_calls),
        "first_request_ms": result.first_ms,
        "init_calls": counted(result.setup_calls),
        "notes": result.notes,
    }


def _ratio(value: float | None) -> str:
    return f"{value:.2f}x" if value else "-"


def flows_table(flows: Sequence[Mapping[str, Any]]) -> str:
    headers = (
        "flow",
        "n",
        "median ms",
        "p95 ms",
        "SDK ms",
        "our code ms",
        "floor ms",
        "ours/floor",
        "replayed ms",
        "/floor",
        "AWS calls per warm request (by API)",
        "KMS",
    )
    rows = []
    for f in flows:
        if "error" in f:
            rows.append((f["flow"], *["-"] * 7, "-", "-", "ERROR (see below)", "-"))
            continue
        rows.append(
            (
                f["flow"],
                str(f["n"]),
                ms(f["warm_median_ms"]),
                ms(f["warm_p95_ms"]),
                ms(f["sdk_median_ms"]),
                ms(f["ours_median_ms"]),
                ms(f["floor_median_ms"]),
                _ratio(f["ratio_to_floor"]),
                ms(f["ours_replayed_median_ms"]),
                _ratio(f["replayed_ratio_to_floor"]),
                calls_text(f["aws_calls_per_request"]),
                ms(f["kms_calls_per_request"], 0),
            )
        )
    text = table(headers, rows, right=(1, 2, 3, 4, 5, 6, 7, 8, 9, 11))
    errors = [f"ERROR {f['flow']}: {f['error']}" for f in flows if "error" in f]
    return "\n".join([text, *errors])


def calls_table(flows: Sequence[Mapping[str, Any]]) -> str:
    headers = ("flow", "function init (cold start)", "first request", "warm request")
    rows = [
        (
            f["flow"],
            calls_text(f["init_calls"]),
            calls_text(f["first_request_calls"]),
            calls_text(f["aws_calls_per_request"]),
        )
        for f in flows
        if "error" not in f
    ]
    return table(headers, rows, right=())


def floors_table(flows: Sequence[Mapping[str, Any]]) -> str:
    rows = [(f["flow"], f["floor_steps"]) for f in flows if "error" not in f]
    return table(("flow", "floor = the least work for the same request"), rows, right=())


# --- cold start -----------------------------------------------------------------------


def cold_table(cold: Mapping[str, Any]) -> str:
    headers = (
        "function",
        "runs",
        "ready median ms",
        "min",
        "max",
        "CPU ms",
        "process wall ms",
        "init AWS calls (stubbed)",
        "x boto3",
        "CPU x boto3",
    )
    rows = []
    for row in cold["functions"]:
        rows.append(
            (
                row["function"],
                str(row["runs"]),
                ms(row["ready_median_ms"], 1),
                ms(row["ready_min_ms"], 1),
                ms(row["ready_max_ms"], 1),
                ms(row["ready_cpu_median_ms"], 1),
                ms(row["process_wall_median_ms"], 1),
                calls_text(row["aws_calls_at_init"]),
                f"{row['ratio_to_baseline']:.2f}x",
                f"{row['cpu_ratio_to_baseline']:.2f}x",
            )
        )
    return table(headers, rows, right=(1, 2, 3, 4, 5, 6, 8, 9))


# --- targets --------------------------------------------------------------------------


def _total(calls: Mapping[str, float]) -> float:
    return sum(calls.values())


def _difference(more: Mapping[str, float], less: Mapping[str, float]) -> dict[str, float]:
    keys = set(more) | set(less)
    diff = {k: more.get(k, 0) - less.get(k, 0) for k in sorted(keys)}
    return {k: v for k, v in diff.items() if v}


class _Checks:
    """The issue's targets, one PASS/MISS each, with the measured value."""

    def __init__(self, flows: Mapping[str, Mapping[str, Any]]):
        self.failed = {key: f for key, f in flows.items() if "error" in f}
        self.flows = {key: f for key, f in flows.items() if "error" not in f}
        self.checks: list[dict[str, Any]] = []

    def check(self, name: str, ok: bool, measured: str) -> None:
        self.checks.append({"target": name, "ok": bool(ok), "measured": measured})

    def measured(self, name: str, *keys: str) -> bool:
        """True when every flow the target needs was measured; else a MISS saying why."""
        broken = [self.failed[k]["flow"] for k in keys if k in self.failed]
        if broken:
            self.check(name, False, f"not measured: {', '.join(broken)} failed")
        return not broken and all(k in self.flows for k in keys)

    def warm(self, key: str) -> dict[str, float]:
        return dict(self.flows[key]["aws_calls_per_request"])

    def floors(self) -> None:
        for key, label in (
            ("client_credentials", "client credentials"),
            ("authorizer_bearer", "authorizer, Bearer"),
            ("authorizer_dpop", "authorizer, DPoP"),
        ):
            name = f"our code <= {FLOOR_RATIO_TARGET:g}x floor: {label}"
            if not self.measured(name, key):
                continue
            f = self.flows[key]
            self.check(
                name,
                f["ratio_to_floor"] <= FLOOR_RATIO_TARGET,
                f"{f['ratio_to_floor']:.2f}x ({ms(f['ours_median_ms'])} ms vs "
                f"{ms(f['floor_median_ms'])} ms); SDK replayed: "
                f"{_ratio(f['replayed_ratio_to_floor'])} ({ms(f['ours_replayed_median_ms'])} ms)",
            )

    def cold(self, cold: Mapping[str, Any]) -> None:
        for row in cold["functions"]:
            if row["logical_id"]:
                self.check(
                    f"cold start <= {COLD_RATIO_TARGET:g}x boto3 baseline: {row['function']}",
                    row["ratio_to_baseline"] <= COLD_RATIO_TARGET,
                    f"{row['ratio_to_baseline']:.2f}x ({ms(row['ready_median_ms'], 1)} ms vs "
                    f"{ms(cold['baseline_ready_median_ms'], 1)} ms; CPU "
                    f"{row['cpu_ratio_to_baseline']:.2f}x)",
                )

    def calls(self) -> None:
        name = "AWS calls: client credentials 0 when warm"
        if self.measured(name, "client_credentials"):
            warm = self.warm("client_credentials")
            self.check(name, _total(warm) == 0, calls_text(warm))
            first = self.flows["client_credentials"]["first_request_calls"]
            self.check(
                "AWS calls: client credentials at most 1 otherwise (first request)",
                _total(first) <= 1,
                calls_text(first),
            )
        for key, label, limit in (
            ("code_exchange", "code exchange", 2),
            ("refresh", "refresh", 2),
            ("authorizer_bearer", "authorizer", 1),
        ):
            name = f"AWS calls: {label} at most {limit}"
            if self.measured(name, key):
                first = calls_text(self.flows[key]["first_request_calls"])
                warm = self.warm(key)
                self.check(
                    name, _total(warm) <= limit, f"{calls_text(warm)} (first request: {first})"
                )
        for key, name, expected in (
            ("authorizer_local_only", "AWS calls: authorizer 0 in local-only mode", 0),
            ("device_poll", "AWS calls: device poll 1", 1),
        ):
            if self.measured(name, key):
                self.check(name, _total(self.warm(key)) == expected, calls_text(self.warm(key)))
        for with_proof, without, where in (
            ("client_credentials_dpop", "client_credentials", "token endpoint"),
            ("authorizer_dpop", "authorizer_bearer", "authorizer"),
        ):
            name = f"AWS calls: DPoP adds exactly 1 write ({where})"
            if self.measured(name, with_proof, without):
                added = _difference(self.warm(with_proof), self.warm(without))
                self.check(name, added == {"dynamodb:PutItem": 1}, f"adds {calls_text(added)}")
        kms = {
            f["flow"]: f["kms_calls_per_request"]
            for f in self.flows.values()
            if f["kms_calls_per_request"]
        }
        text = "none" if not kms else ", ".join(f"{k}: {v}" for k, v in kms.items())
        if self.failed:
            text += f" (not measured: {', '.join(f['flow'] for f in self.failed.values())})"
        self.check("no KMS call on any warm request", not kms and not self.failed, text)


def targets(flows: Mapping[str, Mapping[str, Any]], cold: Mapping[str, Any] | None) -> list:
    checks = _Checks(flows)
    checks.floors()
    if cold:
        checks.cold(cold)
    checks.calls()
    return checks.checks


def slow_imports_text(cold: Mapping[str, Any]) -> str:
    """For functions over 1.5x (wall or CPU): their biggest imports, from -X importtime."""
    lines = []
    for row in cold["functions"]:
        if row.get("top_imports_ms"):
            top = ", ".join(f"{name} {value:.0f}" for name, value in row["top_imports_ms"][:8])
            lines.append(f"{row['function']}: {top}")
    return "\n".join(lines)


def targets_text(checks: Sequence[Mapping[str, Any]]) -> str:
    width = max(len(c["target"]) for c in checks)
    lines = [
        f"{'PASS' if c['ok'] else 'MISS'}  {c['target'].ljust(width)}  {c['measured']}"
        for c in checks
    ]
    passed = sum(c["ok"] for c in checks)
    lines.append(f"{passed}/{len(checks)} targets met")
    return "\n".join(lines)


# --- the results file ---------------------------------------------------------------------


def _git(*args: str) -> str:
    try:
        done = subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=30, check=True
        )
        return done.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def environment() -> dict[str, Any]:
    dirty = _git("status", "--porcelain", "--untracked-files=no")
    return {
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "git_commit": _git("rev-parse", "HEAD"),
        "git_dirty_files": len(dirty.splitlines()) if dirty else 0,
        "python": sys.version.split()[0],
        "python_implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor(),
        "cpu_count": os.cpu_count(),
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    }


def write(document: Mapping[str, Any], path: Path = RESULTS) -> Path:
    path.write_text(json.dumps(document, indent=2, sort_keys=False, default=str) + "\n")
    return path
