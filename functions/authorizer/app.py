"""The Lambda REQUEST authorizer for resource servers (HTTP APIs and REST APIs)."""

from typing import Any

from oauth21.authorizer import Authorizer, respond
from oauth21.observability import make_logger
from oauth21.services import Services

logger = make_logger("authorizer")


def build(services: Services) -> Any:
    authorizer = Authorizer(services)
    authorizer.keys.load()  # cold start: the published keys, once
    if not services.settings.authorizer_local_only:
        services.revocations  # noqa: B018
    services.dpop  # noqa: B018  (and the nonce secret, when nonces are required)

    def handle(event: Any, context: Any) -> dict[str, Any]:
        decision = authorizer.decide(event)
        if not decision.allowed:
            logger.info("denied", extra={"error": decision.error})
        return respond(decision, event)

    return handle


handler = build(Services())
