"""GET /.well-known/oauth-authorization-server (RFC 8414) and /.well-known/jwks.json."""

from oauth21.http import Handler, Request, Response, endpoint, json_response, public_base_url, route
from oauth21.metadata import CACHE_CONTROL, authorization_server_metadata
from oauth21.observability import make_logger
from oauth21.services import Services

logger = make_logger("metadata")


def build(services: Services) -> Handler:
    services.warm("public_keys")

    def server_metadata(request: Request) -> Response:
        base_url = public_base_url(request, services.settings.issuer)
        document = authorization_server_metadata(base_url, services.settings)
        return json_response(document, cache=CACHE_CONTROL)

    def jwks(request: Request) -> Response:
        return json_response(
            services.public_keys.jwks(),
            headers={"Content-Type": "application/jwk-set+json"},
            cache=CACHE_CONTROL,
        )

    routes = {
        "/.well-known/oauth-authorization-server": server_metadata,
        "/.well-known/jwks.json": jwks,
    }

    @endpoint(logger)
    def handle(request: Request) -> Response:
        return route(routes, request)

    return handle


handler = build(Services())
