"""Lambda authorizers as an HTTP API runs them, for routes the template protects.

API Gateway answers 401 itself when an identity source is missing, calls the
authorizer with the request event plus `type`, `routeArn` and
`identitySource`, and answers 403 when the authorizer denies (simple
response `isAuthorized: false`, or an IAM Deny). A "Unauthorized" exception is
401; any other failure is 500.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from devserver.lambdas import Handler, LambdaContext

Decision = tuple[int, dict[str, Any] | None]


def authorizer_event(event: Mapping[str, Any], identity: list[str]) -> dict[str, Any]:
    method = event["requestContext"]["http"]["method"]
    path = event["rawPath"]
    return {
        **event,
        "type": "REQUEST",
        "routeArn": f"arn:aws:execute-api:us-east-1:123456789012:local/$default/{method}{path}",
        "identitySource": identity,
    }


def make_authorizer(
    handler: Handler, config: Mapping[str, Any], name: str
) -> Callable[[dict[str, Any]], Decision]:
    headers = [h.lower() for h in (config.get("Identity") or {}).get("Headers", ["Authorization"])]
    simple = bool(config.get("EnableSimpleResponses"))

    def authorize(event: dict[str, Any]) -> Decision:
        identity = [event["headers"].get(h) for h in headers]
        if any(value is None or value == "" for value in identity):
            return 401, None
        try:
            result = handler(
                authorizer_event(event, [str(v) for v in identity]),
                LambdaContext(function_name=name),
            )
        except Exception as exc:
            if str(exc) == "Unauthorized":
                return 401, None
            raise
        if simple:
            return (200, result.get("context") or {}) if result.get("isAuthorized") else (403, None)
        statements = (result.get("policyDocument") or {}).get("Statement") or []
        allowed = bool(statements) and all(s.get("Effect") == "Allow" for s in statements)
        return (200, result.get("context") or {}) if allowed else (403, None)

    return authorize
