"""GET /api/user: a sample protected resource behind the Lambda authorizer."""

from oauth21.http import Handler, Request, Response, endpoint
from oauth21.observability import make_logger
from oauth21.resources import user_profile
from oauth21.services import Services

logger = make_logger("userinfo")


def build(services: Services) -> Handler:
    services.warm("user_table")

    @endpoint(logger)
    def handle(request: Request) -> Response:
        return user_profile(services, request)

    return handle


handler = build(Services())
