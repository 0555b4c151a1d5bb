"""The authorization codes table: one item per code, keyed by the code's SHA-256.

A code is redeemed in one transaction that marks it consumed (on condition
that it was not) and creates its grant: either both happen or neither, so a
throttled or failed exchange leaves the code usable for a retry, and of N
parallel redemptions exactly one wins.
"""

from __future__ import annotations

from typing import Any

from oauth21.store.dynamo import Item, from_item, to_item, transact, values
from oauth21.store.errors import StoreUnavailable
from oauth21.store.grants import GrantTable


class CodeAlreadyRedeemed(Exception):
    pass


class CodeTable:
    def __init__(self, dynamodb: Any, table: str, grants: GrantTable):
        self._db = dynamodb
        self._table = table
        self._grants = grants

    def create(self, record: Item) -> None:
        self._db.put_item(
            TableName=self._table,
            Item=to_item(record),
            ConditionExpression="attribute_not_exists(code_hash)",
        )

    def get(self, code_hash: str) -> Item | None:
        item = self._db.get_item(
            TableName=self._table, Key={"code_hash": {"S": code_hash}}, ConsistentRead=True
        ).get("Item")
        return from_item(item) if item else None

    def redeem(self, code_hash: str, grant: Item, now: int) -> None:
        """Consume the code and create its grant, atomically."""
        consume = {
            "Update": {
                "TableName": self._table,
                "Key": {"code_hash": {"S": code_hash}},
                "UpdateExpression": "SET consumed_at = :now, grant_id = :grant",
                "ConditionExpression": "attribute_exists(code_hash)"
                " AND attribute_not_exists(consumed_at)",
                "ExpressionAttributeValues": values(now=now, grant=grant["grant_id"]),
            }
        }
        cancelled = transact(self._db, [consume, self._grants.put_request(grant)])
        if cancelled is not None:
            if cancelled[:1] == ["ConditionalCheckFailed"]:
                raise CodeAlreadyRedeemed
            raise StoreUnavailable(f"transaction cancelled: {cancelled}")
