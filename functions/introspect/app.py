"""POST /oauth/introspect (RFC 7662) and POST /oauth/revoke (RFC 7009)."""

from oauth21.http import Handler, Request, Response, endpoint, route
from oauth21.introspection import IntrospectionEndpoint, TokenInspector
from oauth21.observability import make_logger
from oauth21.revocation import RevocationEndpoint
from oauth21.services import Services

logger = make_logger("introspect")


def build(services: Services) -> Handler:
    services.warm("public_keys", "clients", "revocations")
    inspector = TokenInspector(services)
    routes = {
        "/oauth/introspect": IntrospectionEndpoint(services, inspector).handle,
        "/oauth/revoke": RevocationEndpoint(services, inspector).handle,
    }

    @endpoint(logger)
    def handle(request: Request) -> Response:
        return route(routes, request)

    return handle


handler = build(Services())
