"""POST/GET /oauth/personal-access-tokens and DELETE /oauth/personal-access-tokens/{id}."""

from oauth21.http import Handler, Request, Response, endpoint
from oauth21.observability import make_logger
from oauth21.personal_tokens import PersonalTokensEndpoint
from oauth21.services import Services

logger = make_logger("personal_tokens")


def build(services: Services) -> Handler:
    services.warm("access_tokens", "grants")
    tokens = PersonalTokensEndpoint(services)

    @endpoint(logger)
    def handle(request: Request) -> Response:
        return tokens.handle(request)

    return handle


handler = build(Services())
