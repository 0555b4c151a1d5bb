"""API Gateway (HTTP API, payload 2.0) events in, responses out.

Parsing is strict because every byte here is untrusted: a form body must be
`application/x-www-form-urlencoded`, valid percent-encoding, valid UTF-8,
within a size limit, and name each parameter once (RFC 6749 section 3.1).
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from oauth21.errors import (
    NO_STORE,
    InvalidClient,
    InvalidRequest,
    MethodNotAllowed,
    NotFound,
    OAuthError,
    ServerError,
    TemporarilyUnavailable,
)
from oauth21.store.errors import is_transient

Response = dict[str, Any]

_PERCENT = re.compile(rb"%([0-9A-Fa-f]{2})")
_BAD_PERCENT = re.compile(rb"%(?![0-9A-Fa-f]{2})")


def _decode_component(raw: bytes, what: str) -> str:
    """Decode one form-urlencoded name or value, refusing malformed input."""
    if _BAD_PERCENT.search(raw):
        raise InvalidRequest(f"The {what} has a malformed percent-encoding")
    decoded = _PERCENT.sub(lambda m: bytes([int(m.group(1), 16)]), raw.replace(b"+", b" "))
    try:
        return decoded.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidRequest(f"The {what} is not valid UTF-8") from None


def parse_pairs(raw: bytes, what: str = "request body") -> list[tuple[str, str]]:
    """Every name=value pair of a form-encoded string, decoded strictly, in order."""
    pairs = []
    for pair in raw.split(b"&"):
        if pair:
            name_raw, _, value_raw = pair.partition(b"=")
            pairs.append((_decode_component(name_raw, what), _decode_component(value_raw, what)))
    return pairs


def single_values(pairs: list[tuple[str, str]]) -> dict[str, str]:
    """Pairs as a dict; a repeated parameter is an error (RFC 6749 3.1).

    Parameters sent with an empty value are treated as omitted.
    """
    params: dict[str, str] = {}
    seen: set[str] = set()
    for name, value in pairs:
        if name in seen:
            raise InvalidRequest(f"The parameter '{name[:40]}' is repeated")
        seen.add(name)
        if value:
            params[name] = value
    return params


def parse_urlencoded(raw: bytes, what: str = "request body") -> dict[str, str]:
    return single_values(parse_pairs(raw, what))


@dataclass(frozen=True)
class ClientCredentials:
    """What the caller presented to identify itself as a client."""

    client_id: str
    secret: str | None
    # "client_secret_basic", "client_secret_post" or "none".
    method: str


@dataclass
class Request:
    method: str
    path: str
    headers: Mapping[str, str]
    raw_query: str
    body: bytes
    cookies: Mapping[str, str]
    source_ip: str
    request_id: str
    domain_name: str
    stage: str
    route_key: str = ""
    path_parameters: Mapping[str, str] = field(default_factory=dict)
    # What the Lambda authorizer put in the context (routes it protects).
    authorizer: Mapping[str, Any] = field(default_factory=dict)
    _form: dict[str, str] | None = field(default=None, repr=False)

    @classmethod
    def from_event(cls, event: Mapping[str, Any]) -> Request:
        context = event.get("requestContext") or {}
        http = context.get("http") or {}
        headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
        body = event.get("body") or ""
        if event.get("isBase64Encoded"):
            try:
                body_bytes = base64.b64decode(body, validate=True)
            except (binascii.Error, ValueError):
                raise InvalidRequest("The request body is not valid base64") from None
        else:
            body_bytes = body.encode("utf-8", "surrogatepass")
        cookies: dict[str, str] = {}
        for cookie in event.get("cookies") or ():
            name, _, value = cookie.partition("=")
            cookies.setdefault(name.strip(), value.strip())
        return cls(
            method=(http.get("method") or "GET").upper(),
            path=event.get("rawPath") or http.get("path") or "/",
            headers=headers,
            raw_query=event.get("rawQueryString") or "",
            body=body_bytes,
            cookies=cookies,
            source_ip=http.get("sourceIp") or "",
            request_id=context.get("requestId") or "",
            domain_name=context.get("domainName") or "",
            stage=context.get("stage") or "$default",
            route_key=event.get("routeKey") or "",
            path_parameters=event.get("pathParameters") or {},
            authorizer=(context.get("authorizer") or {}).get("lambda") or {},
        )

    @property
    def route(self) -> str:
        """The route's path as the template declares it (without any stage prefix)."""
        return self.route_key.partition(" ")[2] or self.path

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def form(self, max_bytes: int) -> dict[str, str]:
        """The form-encoded body, parsed once."""
        if self._form is None:
            content_type = (self.header("content-type") or "").split(";")
            if content_type[0].strip().lower() != "application/x-www-form-urlencoded":
                raise InvalidRequest("The request body must be application/x-www-form-urlencoded")
            for param in content_type[1:]:
                key, _, value = param.partition("=")
                if key.strip().lower() == "charset" and value.strip().strip('"').lower() not in (
                    "utf-8",
                    "utf8",
                ):
                    raise InvalidRequest("The request body must be encoded as UTF-8")
            if len(self.body) > max_bytes:
                raise InvalidRequest(f"The request body is larger than {max_bytes} bytes")
            self._form = parse_urlencoded(self.body)
        return self._form

    def query(self) -> dict[str, str]:
        return parse_urlencoded(self.raw_query.encode("utf-8"), "query string")

    def query_pairs(self) -> list[tuple[str, str]]:
        return parse_pairs(self.raw_query.encode("utf-8"), "query string")

    def client_credentials(self, form: Mapping[str, str]) -> ClientCredentials | None:
        """Client credentials from Basic authentication or the form (RFC 6749 2.3.1).

        A request may use one method only; `client_id` alone identifies a
        public client (method "none").
        """
        authorization = self.header("authorization")
        body_id = form.get("client_id")
        body_secret = form.get("client_secret")
        if authorization and authorization[:6].lower() == "basic ":
            client_id, secret = _parse_basic(authorization[6:].strip())
            if body_secret is not None:
                raise InvalidRequest("Use one client authentication method, not two")
            if body_id is not None and body_id != client_id:
                raise InvalidRequest("client_id does not match the Basic credentials")
            return ClientCredentials(client_id, secret, "client_secret_basic")
        if body_id is None:
            if body_secret is not None:
                raise InvalidRequest("client_secret was sent without client_id")
            return None
        if body_secret is not None:
            return ClientCredentials(body_id, body_secret, "client_secret_post")
        return ClientCredentials(body_id, None, "none")


def _parse_basic(encoded: str) -> tuple[str, str]:
    try:
        decoded = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidClient("The Basic credentials are not valid base64", basic=True) from None
    user, colon, password = decoded.partition(b":")
    if not colon or not user:
        raise InvalidClient("The Basic credentials are malformed", basic=True)
    try:
        # RFC 6749 2.3.1: both parts are form-urlencoded before Base64.
        return (
            _decode_component(user, "Basic credentials"),
            _decode_component(password, "Basic credentials"),
        )
    except InvalidRequest as exc:
        raise InvalidClient(exc.description, basic=True) from None


def public_base_url(request: Request, issuer: str) -> str:
    """The server's public URL: the configured issuer, else API Gateway's own name.

    Derived from the request context (never from the Host header, which the
    caller controls).
    """
    if issuer:
        return issuer.rstrip("/")
    base = f"https://{request.domain_name}"
    if request.stage and request.stage != "$default":
        base += f"/{request.stage}"
    return base


def json_response(
    body: Any, status: int = 200, headers: Mapping[str, str] | None = None, *, cache: str = ""
) -> Response:
    """A JSON response; `no-store` unless `cache` gives a Cache-Control value."""
    base = {"Cache-Control": cache} if cache else dict(NO_STORE)
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json", **base, **(headers or {})},
        "body": json.dumps(body, separators=(",", ":")),
    }


def require_method(request: Request, *allowed: str) -> None:
    if request.method not in allowed:
        raise MethodNotAllowed(
            f"Use {' or '.join(allowed)} for this endpoint", {"Allow": ", ".join(allowed)}
        )


Handler = Callable[[Mapping[str, Any], Any], Response]
View = Callable[[Request], Response]


def route(routes: Mapping[str, View], request: Request) -> Response:
    """Dispatch a function that serves several routes by the route's path."""
    view = routes.get(request.route)
    if view is None:
        raise NotFound(f"No such endpoint: {request.route[:80]}")
    return view(request)


def endpoint(logger: Any) -> Callable[[View], Handler]:
    """Wrap a function of a Request into a Lambda handler with the error boundary.

    OAuth errors become their RFC shape; a dependency that failed in a way a
    retry can fix becomes 503 with Retry-After; anything else a bare 500
    `server_error`, logged with the request id and never shown to the caller.
    """

    def wrap(view: View) -> Handler:
        @functools.wraps(view)
        def handler(event: Mapping[str, Any], context: Any) -> Response:
            request_id = getattr(context, "aws_request_id", "") or ""
            logger.append_keys(request_id=request_id)
            try:
                request = Request.from_event(event)
                return view(request)
            except OAuthError as exc:
                log = logger.debug if exc.log_level == "debug" else logger.info
                log("request refused", extra={"error": exc.error, "status": exc.status})
                return exc.to_response()
            except Exception as exc:
                if is_transient(exc):
                    logger.warning("dependency unavailable", extra={"cause": type(exc).__name__})
                    return TemporarilyUnavailable().to_response()
                logger.exception("unhandled error")
                return ServerError().to_response()

        return handler

    return wrap
