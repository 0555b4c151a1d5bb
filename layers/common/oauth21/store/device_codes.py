"""The device codes table (RFC 8628). Two items per device authorization, both
keyed by a hash: the device item (`code_hash` = SHA-256 of the device code),
which carries the state machine, and a user-code item (`code_hash` =
"user:" + SHA-256 of the user code), which makes user codes unique and finds
the device item from what the user typed.

States: pending -> approved | denied, approved -> issued. Every transition is
one conditional write; polling while pending is one conditional write too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from oauth21.hashing import sha256_hex
from oauth21.store.dynamo import Item, from_item, to_item, values
from oauth21.store.errors import is_condition_failure
from oauth21.store.grants import GrantTable

PENDING, APPROVED, DENIED, ISSUED = "pending", "approved", "denied", "issued"


class UserCodeTaken(Exception):
    pass


class NotPending(Exception):
    pass


def user_code_key(user_code: str) -> str:
    return "user:" + sha256_hex(user_code)


@dataclass(frozen=True)
class Poll:
    """A poll's outcome: `waiting` (pending and on time), or the item as it was."""

    waiting: bool
    item: Item | None


class DeviceCodeTable:
    def __init__(self, dynamodb: Any, table: str, grants: GrantTable):
        self._db = dynamodb
        self._table = table
        self._grants = grants

    def create(self, device: Item, user_code: str) -> None:
        link = {
            "code_hash": user_code_key(user_code),
            "device_code_hash": device["code_hash"],
            "expires_at": device["expires_at"],
        }
        try:
            self._db.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self._table,
                            "Item": to_item(item),
                            "ConditionExpression": "attribute_not_exists(code_hash)",
                        }
                    }
                    for item in (device, link)
                ]
            )
        except Exception as exc:
            if type(exc).__name__ == "TransactionCanceledException":
                raise UserCodeTaken from None
            raise

    def get(self, code_hash: str) -> Item | None:
        item = self._db.get_item(
            TableName=self._table, Key={"code_hash": {"S": code_hash}}, ConsistentRead=True
        ).get("Item")
        return from_item(item) if item else None

    def by_user_code(self, user_code: str) -> Item | None:
        link = self.get(user_code_key(user_code))
        return self.get(link["device_code_hash"]) if link else None

    def poll(self, code_hash: str, client_id: str, now: int) -> Poll:
        """A pending, on-time poll of this client's code: note it and wait again."""
        try:
            self._db.update_item(
                TableName=self._table,
                Key={"code_hash": {"S": code_hash}},
                UpdateExpression="SET next_poll_at = :now + poll_interval",
                ConditionExpression="client_id = :client AND #status = :pending"
                " AND expires_at > :now AND next_poll_at <= :now",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=values(client=client_id, pending=PENDING, now=now),
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
            return Poll(True, None)
        except Exception as exc:
            if not is_condition_failure(exc):
                raise
            old = getattr(exc, "response", {}).get("Item")
            return Poll(False, from_item(old) if old else None)

    def slow_down(self, code_hash: str, old_interval: int, now: int) -> None:
        """The client polled too fast: its interval grows by 5 s, and is remembered."""
        try:
            self._db.update_item(
                TableName=self._table,
                Key={"code_hash": {"S": code_hash}},
                UpdateExpression="SET poll_interval = :longer, next_poll_at = :later",
                ConditionExpression="poll_interval = :old",
                ExpressionAttributeValues=values(
                    longer=old_interval + 5, later=now + old_interval + 5, old=old_interval
                ),
            )
        except Exception as exc:
            if not is_condition_failure(exc):  # a parallel poll grew it already
                raise

    def decide(
        self, code_hash: str, approved: bool, user_id: str, auth_time: int, now: int
    ) -> None:
        """The user's answer, once, while the code is pending and unexpired."""
        try:
            self._db.update_item(
                TableName=self._table,
                Key={"code_hash": {"S": code_hash}},
                UpdateExpression="SET #status = :status, user_id = :user, auth_time = :auth,"
                " decided_at = :now",
                ConditionExpression="#status = :pending AND expires_at > :now",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=values(
                    status=APPROVED if approved else DENIED,
                    user=user_id,
                    auth=auth_time,
                    now=now,
                    pending=PENDING,
                ),
            )
        except Exception as exc:
            if is_condition_failure(exc):
                raise NotPending from None
            raise

    def issue(self, code_hash: str, grant: Item, now: int) -> bool:
        """Mark an approved code issued and create its grant, atomically; False if
        another poll did it first."""
        try:
            self._db.transact_write_items(
                TransactItems=[
                    {
                        "Update": {
                            "TableName": self._table,
                            "Key": {"code_hash": {"S": code_hash}},
                            "UpdateExpression": "SET #status = :issued, issued_at = :now,"
                            " grant_id = :grant",
                            "ConditionExpression": "#status = :approved",
                            "ExpressionAttributeNames": {"#status": "status"},
                            "ExpressionAttributeValues": values(
                                issued=ISSUED, approved=APPROVED, now=now, grant=grant["grant_id"]
                            ),
                        }
                    },
                    self._grants.put_request(grant),
                ]
            )
            return True
        except Exception as exc:
            if type(exc).__name__ == "TransactionCanceledException":
                return False
            raise
