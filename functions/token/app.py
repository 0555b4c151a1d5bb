"""POST /oauth/token: every grant type, one registry (oauth21.grants)."""

from oauth21.grants import TokenEndpoint
from oauth21.http import Handler, Request, Response, endpoint
from oauth21.observability import make_logger
from oauth21.services import Services

logger = make_logger("token")


def build(services: Services) -> Handler:
    # Cold start: load and decrypt the signing keys now, not on the first request.
    services.warm("access_tokens", "clients", "dpop")
    token_endpoint = TokenEndpoint(services)

    @endpoint(logger)
    def handle(request: Request) -> Response:
        return token_endpoint.handle(request)

    return handle


handler = build(Services())
