"""Signing-key rotation: on the schedule, once at deploy, and by `oauthctl keys rotate`.

Invoked by the schedule it advances the key schedule one step. Invoked as
the stack's `InitialSigningKeys` custom resource it only makes sure a
signing key exists for the configured mode, then reports to CloudFormation.
"""

import json
import time
import urllib.request
from typing import Any

from oauth21.keys import has_signing_key, rotate
from oauth21.observability import make_logger
from oauth21.services import Services

logger = make_logger("rotate_keys")
services = Services()


def handler(event: Any, context: Any) -> dict[str, Any]:
    if isinstance(event, dict) and "RequestType" in event:
        return _custom_resource(event, context)
    result = rotate(services.signing_key_table, services.kms, services.settings)
    logger.info("signing keys rotated", extra=result)
    return result


def _custom_resource(event: dict[str, Any], context: Any) -> dict[str, Any]:
    status, reason = "SUCCESS", ""
    try:
        if event["RequestType"] != "Delete":
            table, settings = services.signing_key_table, services.settings
            if has_signing_key(table, settings):
                table.ensure_nonce_secret(
                    services.kms, settings.envelope_kms_key_id, int(time.time())
                )
            else:
                logger.info(
                    "creating the first signing keys",
                    extra=rotate(table, services.kms, settings),
                )
    except Exception as exc:  # CloudFormation must hear back, or it waits an hour
        logger.exception("initial key creation failed")
        status, reason = "FAILED", f"{type(exc).__name__}: see the function's log"
    body = {
        "Status": status,
        "Reason": reason or "see the function's log",
        "PhysicalResourceId": "signing-keys",
        "StackId": event["StackId"],
        "RequestId": event["RequestId"],
        "LogicalResourceId": event["LogicalResourceId"],
    }
    data = json.dumps(body).encode()
    request = urllib.request.Request(
        event["ResponseURL"], data=data, method="PUT", headers={"Content-Type": ""}
    )
    with urllib.request.urlopen(request, timeout=10):
        pass
    return body
