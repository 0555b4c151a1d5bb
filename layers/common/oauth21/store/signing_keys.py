"""The signing-keys table: one item per key, keyed by its kid (RFC 7638 thumbprint).

A key is `next` (published, not yet signing), `current` (signing) or
`retired` (published until every token it signed has expired; then TTL
removes it). Status changes happen in one transaction whose conditions name
the status each key must still have, so two rotations cannot interleave.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from oauth21.store.dynamo import Item, scan_all, to_item, transact, values

NEXT, CURRENT, RETIRED = "next", "current", "retired"


class RotationConflict(Exception):
    """Another rotation changed the keys first."""


class SigningKeyTable:
    def __init__(self, dynamodb: Any, table: str):
        self._db = dynamodb
        self._table = table

    def all(self) -> list[Item]:
        """Every signing key (the table also holds secrets, whose kid starts "secret:")."""
        records = scan_all(self._db, self._table, ConsistentRead=True)
        return [r for r in records if not str(r["kid"]).startswith("secret:")]

    def ensure_nonce_secret(self, kms: Any, kms_key_id: str, now: int) -> None:
        """The DPoP nonce secret lives here too: create it once."""
        from oauth21.store.dpop import ensure_nonce_secret

        ensure_nonce_secret(self._db, self._table, kms, kms_key_id, now)

    def nonce_secret(self, kms: Any) -> bytes:
        from oauth21.store.dpop import load_nonce_secret

        return load_nonce_secret(self._db, self._table, kms)

    def apply(
        self,
        *,
        create: Sequence[Item] = (),
        promote: str | None = None,
        retire: Sequence[str] = (),
        now: int,
        retired_until: int,
    ) -> None:
        """Create keys, promote `next` to `current`, retire keys: all or nothing."""
        ops: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self._table,
                    "Item": to_item(record),
                    "ConditionExpression": "attribute_not_exists(kid)",
                }
            }
            for record in create
        ]
        if promote:
            ops.append(self._transition(promote, (NEXT,), CURRENT, "activated_at = :now", now=now))
        for kid in retire:
            ops.append(
                self._transition(
                    kid,
                    (CURRENT, NEXT),
                    RETIRED,
                    "retired_at = :now, expires_at = :until",
                    now=now,
                    until=retired_until,
                )
            )
        if not ops:
            return
        if transact(self._db, ops) is not None:
            raise RotationConflict

    def _transition(
        self, kid: str, old: Sequence[str], new: str, sets: str, **named: Any
    ) -> dict[str, Any]:
        """Change one key's status, on condition that it still has one of `old`."""
        olds = {f"old{i}": status for i, status in enumerate(old)}
        return {
            "Update": {
                "TableName": self._table,
                "Key": {"kid": {"S": kid}},
                "UpdateExpression": f"SET #status = :new, {sets}",
                "ConditionExpression": " OR ".join(f"#status = :{name}" for name in olds),
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": values(new=new, **olds, **named),
            }
        }
