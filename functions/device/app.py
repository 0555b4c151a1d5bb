"""POST /oauth/device/code and the verification page GET/POST /oauth/device (RFC 8628)."""

from oauth21.device import DeviceAuthorizationEndpoint, VerificationPage
from oauth21.http import Handler, Request, Response, endpoint, route
from oauth21.observability import make_logger
from oauth21.services import Services

logger = make_logger("device")


def build(services: Services) -> Handler:
    services.warm("clients", "device_codes")
    routes = {
        "/oauth/device/code": DeviceAuthorizationEndpoint(services).handle,
        "/oauth/device": VerificationPage(services).handle,
    }

    @endpoint(logger)
    def handle(request: Request) -> Response:
        return route(routes, request)

    return handle


handler = build(Services())
