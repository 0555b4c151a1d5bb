"""Make moto's DynamoDB writes atomic, as DynamoDB's are.

DynamoDB checks a ConditionExpression and writes in one atomic step per item,
which is what makes "one conditional write" redeem a code exactly once. moto
checks and then writes in two Python steps, so two threads can both pass the
check (measured here: 2 winners out of 20 in some trials). The local stack and
the tests therefore serialize moto's DynamoDB writes behind one lock, so that
parallel-redemption tests exercise this project's conditional writes rather
than moto's race.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

_WRITES = ("put_item", "update_item", "delete_item", "transact_write_items", "batch_write_item")
_lock = threading.RLock()
_applied = False


def make_moto_dynamodb_atomic() -> None:
    global _applied
    if _applied:
        return
    from moto.dynamodb.models import DynamoDBBackend

    for name in _WRITES:
        original = getattr(DynamoDBBackend, name)

        def serialized(*args: Any, __original: Any = original, **kwargs: Any) -> Any:
            with _lock:
                return __original(*args, **kwargs)

        setattr(DynamoDBBackend, name, functools.wraps(original)(serialized))
    _applied = True
