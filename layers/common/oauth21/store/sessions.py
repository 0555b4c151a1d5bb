"""The sessions table: login sessions, keyed by the SHA-256 of the cookie's value."""

from __future__ import annotations

from typing import Any

from oauth21.store.dynamo import Item, from_item, to_item


class SessionTable:
    def __init__(self, dynamodb: Any, table: str):
        self._db = dynamodb
        self._table = table

    def create(self, record: Item) -> None:
        self._db.put_item(TableName=self._table, Item=to_item(record))

    def get(self, session_hash: str) -> Item | None:
        item = self._db.get_item(
            TableName=self._table, Key={"session_hash": {"S": session_hash}}, ConsistentRead=True
        ).get("Item")
        return from_item(item) if item else None

    def delete(self, session_hash: str) -> None:
        self._db.delete_item(TableName=self._table, Key={"session_hash": {"S": session_hash}})
