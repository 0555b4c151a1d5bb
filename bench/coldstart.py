"""Cold start: a fresh interpreter to a handler ready to serve, per function.

Each measurement is a new `python -c` process that imports the function's
`app` module the way Lambda's runtime does (its code folder first on
`sys.path`, then the layer), which runs the module-level set-up: settings,
AWS clients, and, for the functions that sign or verify, the key schedule
read (Scan) and the signing keys decrypted (KMS Decrypt). AWS is stubbed, not
mocked: an import hook patches `botocore.client.BaseClient._make_api_call`
the moment botocore loads it (so botocore's own import is still timed) to
answer Scan with real signing-key records and Decrypt with their private
keys. No moto, no network.

The measured span runs from just before the function's module is imported
to the handler being ready; the process's whole wall time (interpreter
start-up included) is reported next to it. The baseline is the same
measurement of `import boto3; boto3.client("dynamodb")`.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.harness import median
from devserver.template import (
    ROOT,
    Resolver,
    functions,
    load_template,
    local_table_name,
    resources,
)

LAYER = ROOT / "layers" / "common"
BASELINE = "boto3 baseline"

CHILD = r"""
import sys, time
T_START = time.perf_counter()
import base64, importlib, importlib.abc, importlib.util, json
mode, code_dir, layer_dir, fixture_path, module_name = sys.argv[1:6]
with open(fixture_path) as f:
    fixture = json.load(f)
def _typed(value):
    if isinstance(value, dict):
        if set(value) == {"B"}:
            return {"B": base64.b64decode(value["B"])}
        return {k: _typed(v) for k, v in value.items()}
    return value
ITEMS = [_typed(item) for item in fixture["items"]]
PLAIN = {base64.b64decode(k): base64.b64decode(v) for k, v in fixture["plaintexts"].items()}
CALLS = []
def stubbed(self, operation, params):
    CALLS.append(self.meta.service_model.service_name + ":" + operation)
    if operation == "Scan":
        return {"Items": ITEMS, "Count": len(ITEMS), "ScannedCount": len(ITEMS)}
    if operation == "Decrypt":
        return {"Plaintext": PLAIN[bytes(params["CiphertextBlob"])], "KeyId": "bench"}
    if operation == "BatchGetItem":
        return {"Responses": {}, "UnprocessedKeys": {}}
    return {}
class StubBotocore(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name != "botocore.client":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        load = spec.loader.exec_module
        def exec_module(module):
            load(module)
            module.BaseClient._make_api_call = stubbed
        spec.loader.exec_module = exec_module
        return spec
sys.meta_path.insert(0, StubBotocore())
sys.path[0:0] = [code_dir, layer_dir]
sys.stderr.write("bench: span starts\n"); sys.stderr.flush()
T0 = time.perf_counter()
C0 = time.process_time()
if mode == "function":
    module = importlib.import_module(module_name)
    ready = callable(getattr(module, "handler", None))
else:
    import boto3
    boto3.client("dynamodb")
    ready = True
T1 = time.perf_counter()
C1 = time.process_time()
sys.stderr.write("bench: span ends\n"); sys.stderr.flush()
print(json.dumps({
    "ready": ready,
    "ready_ms": (T1 - T0) * 1000,
    "ready_cpu_ms": (C1 - C0) * 1000,
    "since_start_ms": (T1 - T_START) * 1000,
    "calls": CALLS,
    "modules": len(sys.modules),
}))
"""


def _fixture(directory: Path) -> Path:
    """Signing-key records (current and next) as the Scan returns them, and
    what Decrypt gives for each encrypted key."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    from oauth21.jwk import ec_public_jwk, thumbprint
    from oauth21.store.dynamo import to_item

    items, plaintexts = [], {}
    now = int(time.time())
    for status in ("current", "next"):
        key = ec.generate_private_key(ec.SECP256R1())
        jwk = ec_public_jwk(key.public_key())
        kid = thumbprint(jwk)
        blob = f"bench-ciphertext:{kid}".encode()
        der = key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        record = {
            "kid": kid,
            "status": status,
            "alg": "ES256",
            "public_jwk": json.dumps(jwk),
            "encrypted_private_key": blob,
            "created_at": now,
            "activated_at": now if status == "current" else None,
        }
        item = to_item(record)
        item["encrypted_private_key"] = {"B": base64.b64encode(blob).decode()}
        items.append(item)
        plaintexts[base64.b64encode(blob).decode()] = base64.b64encode(der).decode()
    path = directory / "signing-keys.json"
    path.write_text(json.dumps({"items": items, "plaintexts": plaintexts}))
    return path


def _environment(spec_env: dict[str, str]) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "PYTHONPATH", "ENVELOPE_KMS_KEY_ID")
    }
    env.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_REGION="us-east-1",
    )
    env.update(spec_env)
    return env


def targets() -> list[dict[str, Any]]:
    """Every function of template.yaml with its resolved environment, and the baseline."""
    template = load_template()
    refs: dict[str, Any] = {
        name: local_table_name(name) for name in resources(template, "AWS::DynamoDB::Table")
    }
    refs.update({name: f"bench-{name}" for name in resources(template, "AWS::KMS::Key")})
    refs.update({"AWS::Region": "us-east-1", "AWS::AccountId": "123456789012"})
    resolver = Resolver(template, refs)
    found = []
    for spec in functions(template).values():
        module_name = spec.handler.rpartition(".")[0]
        found.append(
            {
                "name": spec.code_dir.name,
                "logical_id": spec.logical_id,
                "mode": "function",
                "code_dir": str(spec.code_dir),
                "module": module_name,
                "env": _environment(resolver.environment(spec)),
            }
        )
    base_env = _environment({})
    found.append(
        {
            "name": BASELINE,
            "logical_id": "",
            "mode": "baseline",
            "code_dir": tempfile.gettempdir(),
            "module": "",
            "env": base_env,
        }
    )
    return found


def _spawn(target: dict[str, Any], fixture: Path, cwd: Path, *flags: str) -> dict[str, Any]:
    command = [
        sys.executable,
        *flags,
        "-c",
        CHILD,
        target["mode"],
        target["code_dir"],
        str(LAYER),
        str(fixture),
        target["module"] or "-",
    ]
    start = time.perf_counter()
    done = subprocess.run(
        command, env=target["env"], cwd=cwd, capture_output=True, text=True, timeout=120
    )
    wall = (time.perf_counter() - start) * 1000
    if done.returncode != 0:
        raise RuntimeError(f"cold start of {target['name']} failed:\n{done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    if not result["ready"]:
        raise RuntimeError(f"{target['name']}: no handler after import")
    result["wall_ms"] = wall
    result["stderr"] = done.stderr
    return result


def import_profile(target: dict[str, Any], fixture: Path, cwd: Path, top: int = 10) -> list:
    """The biggest imports of the measured span (`python -X importtime`):
    top-level imports (the function's module, and what its set-up imports
    lazily) by cumulative ms."""
    result = _spawn(target, fixture, cwd, "-X", "importtime")
    lines = result["stderr"].splitlines()
    try:
        span = lines[lines.index("bench: span starts") + 1 : lines.index("bench: span ends")]
    except ValueError:
        return []
    rows = []
    for line in span:
        parts = line.removeprefix("import time:").split("|")
        if len(parts) != 3 or not parts[1].strip().isdigit():
            continue
        name = parts[2].rstrip()
        if len(name) - len(name.lstrip()) == 1:  # top level
            rows.append((name.strip(), round(int(parts[1]) / 1000, 1)))
    rows.sort(key=lambda row: -row[1])
    return rows[:top]


def measure(runs: int = 5, warmup: int = 1, log: Any = print) -> dict[str, Any]:
    """Median of `runs` fresh processes per function and for the baseline,
    interleaved round by round (after `warmup` discarded rounds that fill
    the byte-code and page caches)."""
    chosen = targets()
    samples: dict[str, list[dict[str, Any]]] = {t["name"]: [] for t in chosen}
    with tempfile.TemporaryDirectory(prefix="bench-cold-") as scratch:
        cwd = Path(scratch)
        fixture = _fixture(cwd)
        for round_number in range(warmup + runs):
            for target in chosen:
                result = _spawn(target, fixture, cwd)
                if round_number >= warmup:
                    samples[target["name"]].append(result)
            log(f"  cold start round {round_number + 1}/{warmup + runs} done")
        baseline = median([s["ready_ms"] for s in samples[BASELINE]])
        baseline_cpu = median([s["ready_cpu_ms"] for s in samples[BASELINE]])
        table = []
        for target in chosen:
            runs_of = samples[target["name"]]
            ready = [s["ready_ms"] for s in runs_of]
            row = {
                "function": target["name"],
                "logical_id": target["logical_id"],
                "runs": len(ready),
                "ready_median_ms": median(ready),
                "ready_min_ms": min(ready),
                "ready_max_ms": max(ready),
                "ready_cpu_median_ms": median([s["ready_cpu_ms"] for s in runs_of]),
                "since_interpreter_start_median_ms": median([s["since_start_ms"] for s in runs_of]),
                "process_wall_median_ms": median([s["wall_ms"] for s in runs_of]),
                "modules_loaded": runs_of[-1]["modules"],
                "aws_calls_at_init": _count(runs_of[-1]["calls"]),
                "ratio_to_baseline": median(ready) / baseline,
                "cpu_ratio_to_baseline": median([s["ready_cpu_ms"] for s in runs_of])
                / baseline_cpu,
            }
            table.append(row)
        for row, target in zip(table, chosen, strict=True):
            slow = max(row["ratio_to_baseline"], row["cpu_ratio_to_baseline"]) > 1.5
            if target["mode"] == "function" and slow:
                row["top_imports_ms"] = import_profile(target, fixture, cwd)
    return {
        "runs": runs,
        "baseline_ready_median_ms": baseline,
        "baseline_ready_cpu_median_ms": baseline_cpu,
        "functions": table,
    }


def _count(calls: list[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for call in calls:
        counts[call] = counts.get(call, 0) + 1
    return counts
