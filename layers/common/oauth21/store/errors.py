"""Which AWS failures a retry may fix (503 + Retry-After) and which are bugs."""

from __future__ import annotations

from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

TRANSIENT_ERROR_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
        "TransactionInProgressException",
        "TransactionConflictException",
        "KMSInternalException",
        "DependencyTimeoutException",
        "LimitExceededException",
        "KeyUnavailableException",
    }
)


class StoreUnavailable(Exception):
    """DynamoDB left part of a request unprocessed after our retries."""


def error_code(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", ""))
    return ""


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, StoreUnavailable | EndpointConnectionError | ConnectTimeoutError):
        return True
    if isinstance(exc, ReadTimeoutError | ConnectionClosedError):
        return True
    if isinstance(exc, ClientError):
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return error_code(exc) in TRANSIENT_ERROR_CODES or status >= 500
    return False


def is_condition_failure(exc: BaseException) -> bool:
    return error_code(exc) == "ConditionalCheckFailedException"
