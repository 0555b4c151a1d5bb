"""DPoP state: the replay table (one conditional put per proof, TTL'd) and the
nonce secret (KMS-encrypted, in the signing-keys table)."""

from __future__ import annotations

import os
from typing import Any

from oauth21.hashing import sha256_hex
from oauth21.store.dynamo import conditional, from_item

NONCE_SECRET_KID = "secret:dpop-nonce"
_CONTEXT = {"purpose": "dpop-nonce"}


class DpopReplayTable:
    def __init__(self, dynamodb: Any, table: str):
        self._db = dynamodb
        self._table = table

    def record(self, jkt: str, jti: str, expires_at: int) -> bool:
        """True the first time this key uses this jti; False for a replay."""
        return conditional(
            self._db.put_item,
            TableName=self._table,
            Item={
                "proof_key": {"S": sha256_hex(f"{jkt}|{jti}")},
                "expires_at": {"N": str(expires_at)},
            },
            ConditionExpression="attribute_not_exists(proof_key)",
        ).done


def ensure_nonce_secret(dynamodb: Any, table: str, kms: Any, kms_key_id: str, now: int) -> bool:
    """Create the nonce secret once (encrypted with the envelope key); True if created."""
    encrypted = kms.encrypt(KeyId=kms_key_id, Plaintext=os.urandom(32), EncryptionContext=_CONTEXT)[
        "CiphertextBlob"
    ]
    return conditional(
        dynamodb.put_item,
        TableName=table,
        Item={
            "kid": {"S": NONCE_SECRET_KID},
            "encrypted_secret": {"B": encrypted},
            "created_at": {"N": str(now)},
        },
        ConditionExpression="attribute_not_exists(kid)",
    ).done


def load_nonce_secret(dynamodb: Any, table: str, kms: Any) -> bytes:
    item = dynamodb.get_item(
        TableName=table, Key={"kid": {"S": NONCE_SECRET_KID}}, ConsistentRead=True
    ).get("Item")
    if item is None:
        raise RuntimeError("no DPoP nonce secret: run `oauthctl keys rotate`")
    blob = from_item(item)["encrypted_secret"]
    return bytes(kms.decrypt(CiphertextBlob=blob, EncryptionContext=_CONTEXT)["Plaintext"])
