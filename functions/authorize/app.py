"""GET/POST /oauth/authorize (with its login and consent pages) and GET /oauth/logout."""

from oauth21.authorize_endpoint import AuthorizeEndpoint
from oauth21.http import Handler, Request, Response, endpoint, route
from oauth21.observability import make_logger
from oauth21.services import Services

logger = make_logger("authorize")


def build(services: Services) -> Handler:
    services.warm("clients", "sessions")
    authorize = AuthorizeEndpoint(services)
    routes = {"/oauth/authorize": authorize.authorize, "/oauth/logout": authorize.logout}

    @endpoint(logger)
    def handle(request: Request) -> Response:
        return route(routes, request)

    return handle


handler = build(Services())
