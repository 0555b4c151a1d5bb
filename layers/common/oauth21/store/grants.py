"""The grants table: one item per grant (a user's authorization of a client, a
device authorization, a personal access token), keyed by its public id.

A grant's id is the SHA-256 of a secret "grant key" that only its refresh
tokens carry (`<grant key>.<rotation secret>`). Access tokens name the grant by
its id (`gid`), so holding an access token does not let anyone forge a refresh
token of the grant, and any presented refresh token whose key matches but
whose secret is not the current one is a replay: the grant is revoked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from oauth21.store.dynamo import Item, conditional, from_item, to_item, values


def _binding(jkt: str | None) -> str:
    """A DPoP-bound grant refreshes only with a proof by its key (`:jkt`)."""
    if jkt is None:
        return "attribute_not_exists(dpop_jkt)"
    return "(attribute_not_exists(dpop_jkt) OR dpop_jkt = :jkt)"


@dataclass(frozen=True)
class Rotation:
    """The outcome of one conditional refresh: the grant as it now is, or as it was."""

    rotated: bool
    grant: Item | None


class GrantTable:
    def __init__(self, dynamodb: Any, table: str):
        self._db = dynamodb
        self.table = table

    def put_request(self, record: Item) -> dict[str, Any]:
        """The transaction item that creates a grant (never overwrites one)."""
        return {
            "Put": {
                "TableName": self.table,
                "Item": to_item(record),
                "ConditionExpression": "attribute_not_exists(grant_id)",
            }
        }

    def create(self, record: Item) -> None:
        self._db.put_item(**self.put_request(record)["Put"])

    def get(self, grant_id: str) -> Item | None:
        item = self._db.get_item(
            TableName=self.table, Key={"grant_id": {"S": grant_id}}, ConsistentRead=True
        ).get("Item")
        return from_item(item) if item else None

    def rotate_refresh(
        self,
        grant_id: str,
        *,
        presented: str,
        replacement: str,
        client_id: str,
        scopes: Sequence[str],
        jkt: str | None,
        now: int,
        idle_until: int,
        access_jti: str,
        access_exp: int,
    ) -> Rotation:
        """Swap the current refresh secret for a new one, in one conditional write.

        The condition holds only for the current secret of a live grant of this
        client, narrowed to scopes the grant has, and, for a DPoP-bound grant,
        with a proof by the same key (`jkt`). On failure the grant as it was
        comes back, so the caller can tell a replay from an expiry without
        reading again.
        """
        scope_checks = " AND ".join(f"contains(scopes, :s{i})" for i in range(len(scopes)))
        condition = (
            "refresh_hash = :presented AND client_id = :client"
            " AND attribute_not_exists(revoked_at)"
            " AND expires_at > :now AND refresh_expires_at > :now"
        )
        if scope_checks:
            condition += f" AND {scope_checks}"
        named: dict[str, Any] = {f"s{i}": s for i, s in enumerate(scopes)}
        condition += " AND " + _binding(jkt)
        if jkt is not None:
            named["jkt"] = jkt
        written = conditional(
            self._db.update_item,
            TableName=self.table,
            Key={"grant_id": {"S": grant_id}},
            UpdateExpression=(
                "SET refresh_hash = :replacement, previous_hash = :presented,"
                " rotated_at = :now, refresh_expires_at = :idle, grace_used = :false,"
                " last_access_jti = :jti, last_access_exp = :exp"
            ),
            ConditionExpression=condition,
            ExpressionAttributeValues=values(
                presented=presented,
                replacement=replacement,
                client=client_id,
                now=now,
                idle=idle_until,
                false=False,
                jti=access_jti,
                exp=access_exp,
                **named,
            ),
            ReturnValues="ALL_NEW",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
        return Rotation(written.done, written.attributes if written.done else written.old)

    def retry_within_grace(
        self,
        grant_id: str,
        *,
        previous: str,
        replacement: str,
        client_id: str,
        rotated_after: int,
        jkt: str | None,
        now: int,
        idle_until: int,
        access_jti: str,
        access_exp: int,
    ) -> Item | None:
        """Let the previous secret be used once more, shortly after a rotation.

        For a client that lost the response to its refresh. The pair it lost
        is replaced, and `grace_used` makes this a one-time, race-free step.
        """
        return conditional(
            self._db.update_item,
            TableName=self.table,
            Key={"grant_id": {"S": grant_id}},
            UpdateExpression=(
                "SET refresh_hash = :replacement, grace_used = :true,"
                " refresh_expires_at = :idle, last_access_jti = :jti, last_access_exp = :exp"
            ),
            ConditionExpression=(
                "previous_hash = :previous AND grace_used = :false AND rotated_at >= :after"
                " AND client_id = :client AND attribute_not_exists(revoked_at)"
                " AND expires_at > :now AND " + _binding(jkt)
            ),
            ExpressionAttributeValues=values(
                **({"jkt": jkt} if jkt else {}),
                replacement=replacement,
                previous=previous,
                client=client_id,
                after=rotated_after,
                now=now,
                idle=idle_until,
                true=True,
                false=False,
                jti=access_jti,
                exp=access_exp,
            ),
            ReturnValues="ALL_NEW",
        ).attributes

    def revoke(self, grant_id: str, reason: str, now: int) -> None:
        """Mark a grant revoked (idempotent: the first reason stays)."""
        conditional(
            self._db.update_item,
            TableName=self.table,
            Key={"grant_id": {"S": grant_id}},
            UpdateExpression="SET revoked_at = :now, revoked_reason = :reason",
            ConditionExpression="attribute_exists(grant_id) AND attribute_not_exists(revoked_at)",
            ExpressionAttributeValues=values(now=now, reason=reason),
        )

    def by_user(self, user_id: str, kind: str) -> list[Item]:
        """A user's grants of one kind (the `by_user` index), newest first."""
        items: list[Item] = []
        start: dict[str, Any] | None = None
        while True:
            page = self._db.query(
                TableName=self.table,
                IndexName="by_user",
                KeyConditionExpression="user_id = :user",
                FilterExpression="kind = :kind",
                ExpressionAttributeValues=values(user=user_id, kind=kind),
                ScanIndexForward=False,
                **({"ExclusiveStartKey": start} if start else {}),
            )
            items.extend(from_item(i) for i in page.get("Items", ()))
            start = page.get("LastEvaluatedKey")
            if not start:
                return items
