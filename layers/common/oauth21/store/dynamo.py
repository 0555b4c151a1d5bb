"""The AWS clients and DynamoDB's attribute-value encoding.

The store speaks to DynamoDB through botocore's low-level client rather than
an ORM: one BatchGetItem across two tables (the authorizer's revocation
check), transactions whose items live in different tables, and
ReturnValuesOnConditionCheckFailure are each one call here, and the client is
the same object the benchmarks count calls on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from oauth21.store.errors import is_condition_failure

Item = dict[str, Any]


_session: Any = None


def aws_clients(settings: Any, *services: str) -> dict[str, Any]:
    """Create clients for `services` with deliberate retries.

    One boto3 session per process: its loader parses each service model once,
    however many clients (or, in the local stack, functions) ask for it.

    Retries: botocore's standard mode, `DYNAMODB_MAX_ATTEMPTS` attempts in all
    (3 by default: two retries with jittered backoff absorb a throttling
    burst), a 1 s connect and 3 s read timeout, so a failing dependency turns
    into a prompt 503 well inside API Gateway's 30 s limit.
    """
    import boto3
    from botocore.config import Config

    config = Config(
        retries={"total_max_attempts": settings.dynamodb_max_attempts, "mode": "standard"},
        connect_timeout=settings.aws_connect_timeout,
        read_timeout=settings.aws_read_timeout,
        max_pool_connections=settings.aws_max_pool_connections,
    )
    global _session
    if _session is None:
        _session = boto3.session.Session()
    return {name: _session.client(name, config=config) for name in services}


def encode(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, int):
        return {"N": str(value)}
    if isinstance(value, bytes):
        return {"B": value}
    if isinstance(value, Mapping):
        return {"M": {k: encode(v) for k, v in value.items() if v is not None}}
    if isinstance(value, list | tuple):
        return {"L": [encode(v) for v in value]}
    raise TypeError(f"cannot store a {type(value).__name__}")


def decode(value: Mapping[str, Any]) -> Any:
    kind, raw = next(iter(value.items()))
    if kind == "S" or kind == "BOOL":
        return raw
    if kind == "N":
        return int(raw) if raw.lstrip("-").isdigit() else float(raw)
    if kind == "B":
        return bytes(raw)
    if kind == "M":
        return {k: decode(v) for k, v in raw.items()}
    if kind == "L":
        return [decode(v) for v in raw]
    if kind == "SS":
        return set(raw)
    if kind == "NULL":
        return None
    raise TypeError(f"unexpected attribute type {kind}")


def to_item(record: Mapping[str, Any]) -> Item:
    """Encode a record, leaving out attributes that are None."""
    return {k: encode(v) for k, v in record.items() if v is not None}


def from_item(item: Mapping[str, Any]) -> Item:
    return {k: decode(v) for k, v in item.items()}


def values(**named: Any) -> dict[str, Any]:
    """ExpressionAttributeValues from keyword arguments: values(now=1) -> {':now': ...}."""
    return {f":{k}": encode(v) for k, v in named.items()}


def scan_all(client: Any, table: str, **kwargs: Any) -> Iterable[Item]:
    """Every item of a (small) table, following pagination."""
    start: dict[str, Any] | None = None
    while True:
        page = client.scan(
            TableName=table, **kwargs, **({"ExclusiveStartKey": start} if start else {})
        )
        for item in page.get("Items", ()):
            yield from_item(item)
        start = page.get("LastEvaluatedKey")
        if not start:
            return


@dataclass(frozen=True)
class Write:
    """The outcome of one conditional write: done, with the item's new attributes
    (when asked for), or refused by its condition, with the item as it was (when
    asked for with ReturnValuesOnConditionCheckFailure)."""

    done: bool
    attributes: Item | None = None
    old: Item | None = None


def conditional(operation: Callable[..., Any], **request: Any) -> Write:
    """Run a conditional PutItem/UpdateItem/DeleteItem: a failed condition is an
    answer (`done=False`), not an error; every other failure is raised."""
    try:
        answer = operation(**request)
    except Exception as exc:
        if not is_condition_failure(exc):
            raise
        old = getattr(exc, "response", {}).get("Item")
        return Write(False, old=from_item(old) if old else None)
    attributes = answer.get("Attributes")
    return Write(True, attributes=from_item(attributes) if attributes else None)


def transact(dynamodb: Any, items: list[dict[str, Any]]) -> list[str] | None:
    """TransactWriteItems; None when it committed, else each item's cancellation
    code ("ConditionalCheckFailed", "None", ...) in order."""
    try:
        dynamodb.transact_write_items(TransactItems=items)
        return None
    except Exception as exc:
        if type(exc).__name__ != "TransactionCanceledException":
            raise
        reasons = getattr(exc, "response", {}).get("CancellationReasons") or []
        return [str(r.get("Code", "")) for r in reasons]
