"""The throttle table: failure counters per key (an account, a source address)
in a fixed window, counted with atomic ADDs so parallel attempts all count."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from oauth21.store.dynamo import from_item, values
from oauth21.store.errors import StoreUnavailable, is_condition_failure


class ThrottleTable:
    def __init__(self, dynamodb: Any, table: str):
        self._db = dynamodb
        self._table = table

    def failures(self, keys: Iterable[str], window_start: int) -> dict[str, int]:
        """Failures counted since `window_start` for each key (one BatchGetItem)."""
        wanted = list(dict.fromkeys(keys))
        request: dict[str, Any] = {
            self._table: {
                "Keys": [{"throttle_key": {"S": k}} for k in wanted],
                "ConsistentRead": True,
            }
        }
        counts = dict.fromkeys(wanted, 0)
        for _ in range(3):
            answer = self._db.batch_get_item(RequestItems=request)
            for item in answer.get("Responses", {}).get(self._table, []):
                record = from_item(item)
                if record.get("window_start", 0) >= window_start:
                    counts[record["throttle_key"]] = int(record.get("failures", 0))
            request = answer.get("UnprocessedKeys") or {}
            if not request:
                return counts
        raise StoreUnavailable("BatchGetItem left keys unprocessed")

    def record_failure(self, key: str, now: int, window_start: int, expires_at: int) -> int:
        """Count one failure; a counter from an older window starts over. Returns the count."""
        try:
            answer = self._db.update_item(
                TableName=self._table,
                Key={"throttle_key": {"S": key}},
                UpdateExpression="ADD failures :one SET expires_at = :expires,"
                " window_start = if_not_exists(window_start, :now)",
                ConditionExpression="attribute_not_exists(window_start) OR window_start >= :start",
                ExpressionAttributeValues=values(
                    one=1, now=now, start=window_start, expires=expires_at
                ),
                ReturnValues="UPDATED_NEW",
            )
            return int(answer["Attributes"]["failures"]["N"])
        except Exception as exc:
            if not is_condition_failure(exc):
                raise
        # The old window is over: start a new one (a racing reset loses one count at most).
        self._db.put_item(
            TableName=self._table,
            Item={
                "throttle_key": {"S": key},
                "failures": {"N": "1"},
                "window_start": {"N": str(now)},
                "expires_at": {"N": str(expires_at)},
            },
        )
        return 1

    def clear(self, key: str) -> None:
        self._db.delete_item(TableName=self._table, Key={"throttle_key": {"S": key}})
