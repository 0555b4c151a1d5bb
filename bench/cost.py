"""Cost per million token requests on AWS, from the measured figures.

`python -m bench.cost` prices bench/results.json (or `make bench` prints it at
the end). What is measured: each flow's AWS calls per warm request (by API)
and our code's time. What is assumed (stated so it can be checked): the list
prices below (us-east-1, on-demand), DynamoDB's latency as seen from Lambda
in the same region, the Lambda runtime's own overhead per invocation, item
sizes under 1 KB, and one cold start per 10,000 requests.
"""

from __future__ import annotations

import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results.json"

# List prices, us-east-1 (per unit).
LAMBDA_ARM_GB_SECOND = 0.0000133334
LAMBDA_REQUEST = 0.20 / 1e6
HTTP_API_REQUEST = 1.00 / 1e6
DYNAMODB_WRITE_UNIT = 0.625 / 1e6
DYNAMODB_READ_UNIT = 0.125 / 1e6
KMS_REQUEST = 0.03 / 1e4
COGNITO_M2M_TOKEN = 2.25 / 1e3  # first tier, plus $6 per app client per month

MEMORY_GB = 1.0  # template.yaml Globals: MemorySize 1024
RUNTIME_OVERHEAD_MS = 1.0  # Lambda's event and response handling around the handler
COLD_STARTS_PER_REQUEST = 1 / 10_000
COLD_START_SECONDS = 0.75  # measured init (bench cold start table), billed since 2025
COLD_START_KMS_CALLS = 2

# DynamoDB, per call: (latency ms from Lambda, read units, write units). Items < 1 KB.
DYNAMODB_CALLS = {
    "GetItem": (3.0, 1.0, 0.0),  # strongly consistent
    "BatchGetItem": (4.0, 1.5, 0.0),  # one consistent, one eventually consistent item
    "PutItem": (5.0, 0.0, 1.0),
    "UpdateItem": (5.0, 0.0, 1.0),
    "TransactWriteItems": (10.0, 0.0, 4.0),  # two items, transactional writes cost double
}


@dataclass
class Invocation:
    """One Lambda invocation of a flow: our code's time and its AWS calls."""

    ours_ms: float
    calls: dict[str, float]
    # False for the authorizer: it rides on the resource server's own API request.
    through_api: bool = True


def invocation_cost(step: Invocation) -> dict[str, float]:
    dynamo_ms = read_units = write_units = 0.0
    for api, count in step.calls.items():
        service, _, operation = api.partition(":")
        if service != "dynamodb":
            continue
        latency, reads, writes = DYNAMODB_CALLS[operation]
        dynamo_ms += latency * count
        read_units += reads * count
        write_units += writes * count
    billed_ms = math.ceil(step.ours_ms + RUNTIME_OVERHEAD_MS + dynamo_ms)
    cold = COLD_STARTS_PER_REQUEST * (
        COLD_START_SECONDS * MEMORY_GB * LAMBDA_ARM_GB_SECOND + COLD_START_KMS_CALLS * KMS_REQUEST
    )
    return {
        "HTTP API": HTTP_API_REQUEST if step.through_api else 0.0,
        "Lambda requests": LAMBDA_REQUEST,
        "Lambda duration": billed_ms / 1000 * MEMORY_GB * LAMBDA_ARM_GB_SECOND,
        "DynamoDB": read_units * DYNAMODB_READ_UNIT + write_units * DYNAMODB_WRITE_UNIT,
        "cold starts (init + KMS)": cold,
    }


def per_million(steps: list[Invocation]) -> dict[str, float]:
    total: dict[str, float] = {}
    for step in steps:
        for part, cost in invocation_cost(step).items():
            total[part] = total.get(part, 0.0) + cost * 1e6
    return total


def flows_from(results: dict) -> dict[str, list[Invocation]]:
    by_key = {f["key"]: f for f in results["flows"]}

    def measured(key: str) -> Invocation:
        flow = by_key[key]
        return Invocation(flow["ours_median_ms"], dict(flow["aws_calls_per_request"]))

    # The code flow's authorization step, for a signed-in user who consented
    # before: the session, its user, the remembered consent (3 GetItem, counted
    # as consistent: a slight overestimate) and the code (PutItem). Its time is
    # not benchmarked: taken as the code exchange's.
    exchange = measured("code_exchange")
    authorize = Invocation(exchange.ours_ms, {"dynamodb:GetItem": 3, "dynamodb:PutItem": 1})
    return {
        "client credentials": [measured("client_credentials")],
        "code flow (authorize + exchange)": [authorize, exchange],
        "refresh": [measured("refresh")],
        "authorizer check (Bearer)": [
            Invocation(**{**measured("authorizer_bearer").__dict__, "through_api": False})
        ],
    }


def table(results: dict) -> str:
    flows = {name: per_million(steps) for name, steps in flows_from(results).items()}
    parts = list(next(iter(flows.values())))
    header = ["per million", *parts, "total"]
    rows = [header]
    for name, costs in flows.items():
        rows.append([name, *(f"${costs[p]:.3f}" for p in parts), f"${sum(costs.values()):.2f}"])
    rows.append(
        ["Amazon Cognito M2M tokens", *["" for _ in parts], f"${COGNITO_M2M_TOKEN * 1e6:,.0f}"]
    )
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def main() -> int:
    results = json.loads(RESULTS.read_text())
    print("Cost per million requests on AWS (us-east-1 list prices; assumptions in bench/cost.py):")
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
