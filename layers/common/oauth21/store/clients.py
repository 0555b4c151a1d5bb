"""The clients table: one item per registered client, keyed by client_id."""

from __future__ import annotations

from typing import Any

from oauth21.store.dynamo import Item, conditional, from_item, scan_all, to_item


class ClientExists(Exception):
    pass


class ClientTable:
    def __init__(self, dynamodb: Any, table: str):
        self._db = dynamodb
        self._table = table

    def get(self, client_id: str) -> Item | None:
        # Consistent: a client registered a moment ago must authenticate at once.
        item = self._db.get_item(
            TableName=self._table, Key={"client_id": {"S": client_id}}, ConsistentRead=True
        ).get("Item")
        return from_item(item) if item else None

    def create(self, record: Item) -> None:
        written = conditional(
            self._db.put_item,
            TableName=self._table,
            Item=to_item(record),
            ConditionExpression="attribute_not_exists(client_id)",
        )
        if not written.done:
            raise ClientExists(record["client_id"])

    def delete(self, client_id: str) -> bool:
        old = self._db.delete_item(
            TableName=self._table, Key={"client_id": {"S": client_id}}, ReturnValues="ALL_OLD"
        )
        return "Attributes" in old

    def all(self) -> list[Item]:
        return sorted(scan_all(self._db, self._table), key=lambda c: c["client_id"])
