"""The consents table: which scopes a user has allowed a client (user_id, client_id)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from oauth21.store.dynamo import values


class ConsentTable:
    def __init__(self, dynamodb: Any, table: str):
        self._db = dynamodb
        self._table = table

    def scopes(self, user_id: str, client_id: str) -> set[str]:
        item = self._db.get_item(
            TableName=self._table,
            Key={"user_id": {"S": user_id}, "client_id": {"S": client_id}},
        ).get("Item")
        return set(item["scopes"]["SS"]) if item and "scopes" in item else set()

    def allow(self, user_id: str, client_id: str, scopes: Iterable[str], now: int) -> None:
        """Remember consent: the union of what was allowed before and now."""
        scope_set = sorted(set(scopes))
        if not scope_set:
            return
        self._db.update_item(
            TableName=self._table,
            Key={"user_id": {"S": user_id}, "client_id": {"S": client_id}},
            UpdateExpression="ADD scopes :scopes SET granted_at = :now",
            ExpressionAttributeValues={":scopes": {"SS": scope_set}, **values(now=now)},
        )

    def forget_user(self, user_id: str) -> None:
        """Every consent a user gave (when the user is deleted)."""
        page = self._db.query(
            TableName=self._table,
            KeyConditionExpression="user_id = :user",
            ExpressionAttributeValues=values(user=user_id),
            ProjectionExpression="client_id",
        )
        for item in page.get("Items", []):
            self._db.delete_item(
                TableName=self._table,
                Key={"user_id": {"S": user_id}, "client_id": item["client_id"]},
            )
