"""The Lambda REQUEST authorizer for resource servers (HTTP APIs and REST APIs)."""

from typing import Any

from oauth21.authorizer import Authorizer, Decision, respond
from oauth21.observability import make_logger
from oauth21.services import Services
from oauth21.store.errors import is_transient

logger = make_logger("authorizer")


def build(services: Services) -> Any:
    authorizer = Authorizer(services)
    services.warm("revocations", "dpop")  # dpop: and the nonce secret, when required
    try:
        authorizer.keys.load()  # cold start: the published keys, once
    except Exception as exc:
        if not is_transient(exc):
            raise
        logger.warning("cold start: keys not loaded; retrying on the first request")

    def handle(event: Any, context: Any) -> dict[str, Any]:
        try:
            decision = authorizer.decide(event)
        except Exception as exc:
            if not is_transient(exc):
                raise
            # Fail closed: a revocation we cannot check is a token we cannot trust.
            logger.warning("dependency unavailable: denied", extra={"cause": type(exc).__name__})
            decision = Decision(False, {}, "temporarily_unavailable", "Try again shortly")
        if not decision.allowed:
            logger.info("denied", extra={"error": decision.error})
        return respond(decision, event)

    return handle


handler = build(Services())
