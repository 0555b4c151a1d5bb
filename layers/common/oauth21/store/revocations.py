"""Is an access token revoked? Revoked `jti`s and grant status, in one call.

A revoked access token's `jti` is kept (with TTL) until the token would
have expired anyway. A token issued under a grant (`gid` claim) is also dead
once that grant is revoked, or gone. Both are answered by one BatchGetItem
across the two tables.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from oauth21.store.dynamo import to_item
from oauth21.store.errors import StoreUnavailable


class RevocationTable:
    def __init__(self, dynamodb: Any, revoked_table: str, grants_table: str):
        self._db = dynamodb
        self._revoked = revoked_table
        self._grants = grants_table

    def revoke_access_token(self, jti: str, expires_at: int, now: int) -> None:
        self._db.put_item(
            TableName=self._revoked,
            Item=to_item({"jti": jti, "revoked_at": now, "expires_at": expires_at}),
        )

    def is_revoked(self, claims: Mapping[str, Any]) -> bool:
        request: dict[str, Any] = {
            self._revoked: {
                "Keys": [{"jti": {"S": str(claims["jti"])}}],
                "ProjectionExpression": "jti",
            }
        }
        grant_id = claims.get("gid")
        if grant_id:
            request[self._grants] = {
                "Keys": [{"grant_id": {"S": str(grant_id)}}],
                "ProjectionExpression": "grant_id, revoked_at",
                "ConsistentRead": True,
            }
        found = self._batch_get(request)
        if found.get(self._revoked):
            return True
        if grant_id:
            grants = found.get(self._grants) or []
            return not grants or "revoked_at" in grants[0]
        return False

    def _batch_get(self, request: dict[str, Any]) -> dict[str, list[Any]]:
        found: dict[str, list[Any]] = {}
        for _ in range(3):
            answer = self._db.batch_get_item(RequestItems=request)
            for table, items in answer.get("Responses", {}).items():
                found.setdefault(table, []).extend(items)
            request = answer.get("UnprocessedKeys") or {}
            if not request:
                return found
        raise StoreUnavailable("BatchGetItem left keys unprocessed")
