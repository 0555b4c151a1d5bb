"""The users table: one item per user (keyed by user_id), and one claim item per
email address that makes emails unique. The `by_email` index holds users only
(claim items carry no `email` attribute)."""

from __future__ import annotations

from typing import Any

from oauth21.store.dynamo import Item, from_item, scan_all, to_item, transact, values


class EmailTaken(Exception):
    pass


def _claim_key(email: str) -> dict[str, Any]:
    return {"user_id": {"S": f"email:{email}"}}


class UserTable:
    def __init__(self, dynamodb: Any, table: str):
        self._db = dynamodb
        self._table = table

    def create(self, record: Item) -> None:
        """The user and the claim on their email, together or not at all."""
        claim = {**_claim_key(record["email"]), "owner": {"S": record["user_id"]}}
        puts = [
            {
                "Put": {
                    "TableName": self._table,
                    "Item": item,
                    "ConditionExpression": "attribute_not_exists(user_id)",
                }
            }
            for item in (claim, to_item(record))
        ]
        if transact(self._db, puts) is not None:
            raise EmailTaken(record["email"])

    def get(self, user_id: str) -> Item | None:
        item = self._db.get_item(
            TableName=self._table, Key={"user_id": {"S": user_id}}, ConsistentRead=True
        ).get("Item")
        record = from_item(item) if item else None
        return record if record and "email" in record else None

    def by_email(self, email: str) -> Item | None:
        items = self._db.query(
            TableName=self._table,
            IndexName="by_email",
            KeyConditionExpression="email = :email",
            ExpressionAttributeValues=values(email=email),
            Limit=1,
        ).get("Items", [])
        return from_item(items[0]) if items else None

    def delete(self, user_id: str) -> bool:
        record = self.get(user_id)
        if record is None:
            return False
        self._db.transact_write_items(
            TransactItems=[
                {"Delete": {"TableName": self._table, "Key": {"user_id": {"S": user_id}}}},
                {"Delete": {"TableName": self._table, "Key": _claim_key(record["email"])}},
            ]
        )
        return True

    def all(self) -> list[Item]:
        users = scan_all(self._db, self._table, FilterExpression="attribute_exists(email)")
        return sorted(users, key=lambda u: u["email"])
