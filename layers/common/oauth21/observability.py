"""Structured JSON logs (Powertools Logger) that never carry a secret.

The code logs error codes, client ids and request ids only; request bodies,
headers, tokens, codes and passwords are never passed to the logger. Lambda's
own active tracing covers X-Ray: Powertools' Tracer costs ~0.4 s of cold
start and is not used.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

_logger: Logger | None = None


def make_logger(service: str) -> Logger:
    """The function's logger; layer code logs through it with `event`."""
    global _logger
    _logger = Logger(service=service)
    return _logger


def event(message: str, **fields: Any) -> None:
    """A security-relevant event (a refused login, a replayed token) as an INFO line.

    Fields are codes and ids, never a credential: callers pass no token,
    code, secret, password or email.
    """
    if _logger is not None:
        _logger.info(message, extra=fields)
