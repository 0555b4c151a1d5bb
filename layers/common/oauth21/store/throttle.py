"""The throttle table: attempt counters per key (an account, a source address)
in fixed windows.

An attempt is *reserved* before the check it guards (a password, a user
code) with one conditional write that fails once the window's limit is
reached, so N parallel attempts cannot all slip past a limit of 5: the
counter is the gate, not a note taken afterwards. A successful check
releases its reservation.
"""

from __future__ import annotations

from typing import Any

from oauth21.store.dynamo import conditional, values


class ThrottleTable:
    def __init__(self, dynamodb: Any, table: str):
        self._db = dynamodb
        self._table = table

    def reserve(self, key: str, limit: int, window_start: int, expires_at: int) -> bool:
        """Count one attempt in the window starting at `window_start`; False past `limit`."""
        for _ in range(3):
            counted = conditional(
                self._db.update_item,
                TableName=self._table,
                Key={"throttle_key": {"S": key}},
                UpdateExpression="ADD attempts :one",
                ConditionExpression="window_start = :start AND attempts < :limit",
                ExpressionAttributeValues=values(one=1, start=window_start, limit=limit),
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
            if counted.done:
                return True
            if counted.old and counted.old.get("window_start") == window_start:
                return False  # this window's limit is reached
            if self._start_window(key, window_start, expires_at):
                return True
        return False

    def _start_window(self, key: str, window_start: int, expires_at: int) -> bool:
        """The first attempt of a window (the old counter, if any, is from before)."""
        # False: a parallel attempt started it first; count against that one.
        return conditional(
            self._db.put_item,
            TableName=self._table,
            Item={
                "throttle_key": {"S": key},
                "attempts": {"N": "1"},
                "window_start": {"N": str(window_start)},
                "expires_at": {"N": str(expires_at)},
            },
            ConditionExpression="attribute_not_exists(window_start) OR window_start < :start",
            ExpressionAttributeValues=values(start=window_start),
        ).done

    def release(self, key: str, window_start: int) -> None:
        """Give back a reservation whose check succeeded."""
        conditional(
            self._db.update_item,
            TableName=self._table,
            Key={"throttle_key": {"S": key}},
            UpdateExpression="ADD attempts :minus",
            ConditionExpression="window_start = :start AND attempts > :zero",
            ExpressionAttributeValues=values(minus=-1, start=window_start, zero=0),
        )
