"""The device codes table (RFC 8628). Two items per device authorization, both
keyed by a hash: the device item (`code_hash` = SHA-256 of the device code),
which carries the state machine, and a user-code item (`code_hash` =
"user:" + SHA-256 of the user code), which makes user codes unique and finds
the device item from what the user typed.

States: pending -> approved | denied, approved -> issued. Every transition is
one conditional write; polling while pending is one conditional write too.
"""

from __future__ import annotations

from typing import Any

from oauth21.hashing import sha256_hex
from oauth21.store.dynamo import Item, Write, conditional, from_item, to_item, transact, values
from oauth21.store.grants import GrantTable

PENDING, APPROVED, DENIED, ISSUED = "pending", "approved", "denied", "issued"


class UserCodeTaken(Exception):
    pass


class NotPending(Exception):
    pass


def user_code_key(user_code: str) -> str:
    return "user:" + sha256_hex(user_code)


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
        puts = [
            {
                "Put": {
                    "TableName": self._table,
                    "Item": to_item(item),
                    "ConditionExpression": "attribute_not_exists(code_hash)",
                }
            }
            for item in (device, link)
        ]
        if transact(self._db, puts) is not None:
            raise UserCodeTaken

    def get(self, code_hash: str) -> Item | None:
        item = self._db.get_item(
            TableName=self._table, Key={"code_hash": {"S": code_hash}}, ConsistentRead=True
        ).get("Item")
        return from_item(item) if item else None

    def by_user_code(self, user_code: str) -> Item | None:
        link = self.get(user_code_key(user_code))
        return self.get(link["device_code_hash"]) if link else None

    def poll(self, code_hash: str, client_id: str, now: int) -> Write:
        """A pending, on-time poll of this client's code: note it (`done`: wait
        again). Otherwise the item as it was says why not."""
        return conditional(
            self._db.update_item,
            TableName=self._table,
            Key={"code_hash": {"S": code_hash}},
            UpdateExpression="SET next_poll_at = :now + poll_interval",
            ConditionExpression="client_id = :client AND #status = :pending"
            " AND expires_at > :now AND next_poll_at <= :now",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=values(client=client_id, pending=PENDING, now=now),
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )

    def slow_down(self, code_hash: str, old_interval: int, now: int) -> None:
        """The client polled too fast: its interval grows by 5 s, and is remembered
        (once, if parallel polls were too fast together)."""
        conditional(
            self._db.update_item,
            TableName=self._table,
            Key={"code_hash": {"S": code_hash}},
            UpdateExpression="SET poll_interval = :longer, next_poll_at = :later",
            ConditionExpression="poll_interval = :old",
            ExpressionAttributeValues=values(
                longer=old_interval + 5, later=now + old_interval + 5, old=old_interval
            ),
        )

    def decide(
        self, code_hash: str, approved: bool, user_id: str, auth_time: int, now: int
    ) -> None:
        """The user's answer, once, while the code is pending and unexpired."""
        written = conditional(
            self._db.update_item,
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
        if not written.done:
            raise NotPending

    def issue(self, code_hash: str, grant: Item, now: int) -> bool:
        """Mark an approved code issued and create its grant, atomically; False if
        another poll did it first."""
        mark_issued = {
            "Update": {
                "TableName": self._table,
                "Key": {"code_hash": {"S": code_hash}},
                "UpdateExpression": "SET #status = :issued, issued_at = :now, grant_id = :grant",
                "ConditionExpression": "#status = :approved",
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": values(
                    issued=ISSUED, approved=APPROVED, now=now, grant=grant["grant_id"]
                ),
            }
        }
        return transact(self._db, [mark_issued, self._grants.put_request(grant)]) is None
