"""A small API Gateway HTTP API: HTTP in, payload 2.0 events to handlers, responses out.

Faithful where handlers can tell: lower-cased headers with repeats joined by
commas, cookies split out of the headers, the raw query string, base64 bodies
for non-text content, `routeKey`, `pathParameters`, `requestContext`, the
route's Lambda authorizer run first (401/403 as API Gateway answers), and
`{"message": "Not Found"}` for unknown routes.
"""

from __future__ import annotations

import base64
import json
import re
import sys
import time
import traceback
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote_plus

from devserver.lambdas import Handler, LambdaContext

# HTTP APIs pass only text/* and JSON bodies as text; everything else, forms
# included, arrives base64-encoded (isBase64Encoded: true).
_TEXT_TYPES = re.compile(r"^(text/.*|application/json)$")
MAX_BODY = 10 * 1024 * 1024  # HTTP API's payload limit


@dataclass
class BoundRoute:
    method: str
    path: str
    function: str
    handler: Handler
    authorizer: Callable[[dict[str, Any]], tuple[int, dict[str, Any] | None]] | None = None

    def __post_init__(self) -> None:
        pattern = re.escape(self.path)
        pattern = re.sub(r"\\\{(\w+)\\\+\\\}", r"(?P<\1>.+)", pattern)
        pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", pattern)
        self._regex = re.compile(f"^{pattern}$")

    def match(self, method: str, path: str) -> dict[str, str] | None:
        if self.method not in (method, "ANY"):
            return None
        found = self._regex.match(path)
        return found.groupdict() if found else None

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def specificity(self) -> tuple[tuple[int, ...], bool]:
        """API Gateway's order: static segments before {param} before {proxy+},
        a method before ANY, whatever the order routes were declared in."""
        ranks = tuple(
            2 if part.endswith("+}") else 1 if part.startswith("{") else 0
            for part in self.path.strip("/").split("/")
        )
        return ranks, self.method == "ANY"


def build_event(
    method: str,
    raw_path: str,
    raw_query: str,
    header_pairs: list[tuple[str, str]],
    body: bytes,
    source_ip: str,
    route: BoundRoute | None,
    path_parameters: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in header_pairs:
        lowered = name.lower()
        if lowered == "cookie":
            cookies.extend(c.strip() for c in value.split(";") if c.strip())
            continue
        headers[lowered] = f"{headers[lowered]},{value}" if lowered in headers else value
    host = headers.get("host", "localhost").split(":")[0]
    content_type = headers.get("content-type", "").split(";")[0].strip().lower()
    is_text = not body or bool(_TEXT_TYPES.match(content_type))
    if is_text:
        try:
            body_field = body.decode("utf-8")
        except UnicodeDecodeError:
            is_text = False
    if not is_text:
        body_field = base64.b64encode(body).decode("ascii")
    query: dict[str, str] = {}
    for pair in raw_query.split("&"):
        if pair:
            name, _, value = pair.partition("=")
            name, value = unquote_plus(name), unquote_plus(value)
            query[name] = f"{query[name]},{value}" if name in query else value
    now = time.time()
    route_key = route.key if route else "$default"
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": raw_path,
        "rawQueryString": raw_query,
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": host,
            "domainPrefix": host.split(".")[0],
            "http": {
                "method": method,
                "path": raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": uuid.uuid4().hex,
            "routeKey": route_key,
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": not is_text,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = query
    if path_parameters:
        event["pathParameters"] = dict(path_parameters)
    if body:
        event["body"] = body_field
    return event


def to_http(result: Any) -> tuple[int, list[tuple[str, str]], bytes]:
    """A payload 2.0 handler result as status, headers and body."""
    if not isinstance(result, dict) or "statusCode" not in result:
        # API Gateway's inference: anything else is a 200 JSON body.
        text = result if isinstance(result, str) else json.dumps(result)
        return 200, [("Content-Type", "application/json")], text.encode()
    headers = [(k, str(v)) for k, v in (result.get("headers") or {}).items()]
    headers += [("Set-Cookie", c) for c in result.get("cookies") or ()]
    raw = result.get("body") or ""
    body = base64.b64decode(raw) if result.get("isBase64Encoded") else str(raw).encode()
    return int(result["statusCode"]), headers, body


class Cors:
    """HTTP API's CORS: it answers preflights itself and adds headers to responses."""

    def __init__(self, config: Mapping[str, Any]):
        self.origins = [o.lower() for o in config.get("AllowOrigins", [])]
        self.methods = ",".join(m.upper() for m in config.get("AllowMethods", []))
        self.headers = ",".join(h.lower() for h in config.get("AllowHeaders", []))
        self.expose = ",".join(h.lower() for h in config.get("ExposeHeaders", []))
        self.max_age = str(config.get("MaxAge", 0))

    def allowed(self, origin: str | None) -> str | None:
        if not origin:
            return None
        if "*" in self.origins:
            return "*"
        return origin if origin.lower() in self.origins else None

    def preflight(self, origin: str | None) -> tuple[int, list[tuple[str, str]], bytes]:
        allowed = self.allowed(origin)
        headers = []
        if allowed:
            headers = [
                ("Access-Control-Allow-Origin", allowed),
                ("Access-Control-Allow-Methods", self.methods),
                ("Access-Control-Allow-Headers", self.headers),
                ("Access-Control-Max-Age", self.max_age),
            ]
        return 204, headers, b""

    def decorate(self, origin: str | None, headers: list[tuple[str, str]]) -> None:
        allowed = self.allowed(origin)
        if allowed:
            headers.append(("Access-Control-Allow-Origin", allowed))
            if self.expose:
                headers.append(("Access-Control-Expose-Headers", self.expose))


class Gateway:
    def __init__(
        self,
        routes: list[BoundRoute],
        log: Callable[[str], None] | None = None,
        cors: Cors | None = None,
    ):
        self.routes = sorted(routes, key=lambda r: r.specificity)
        self.cors = cors
        self._log = log or (lambda line: print(line, file=sys.stderr, flush=True))

    def find(self, method: str, path: str) -> tuple[BoundRoute | None, dict[str, str]]:
        for route in self.routes:
            params = route.match(method, path)
            if params is not None:
                return route, params
        return None, {}

    def dispatch(
        self,
        method: str,
        target: str,
        header_pairs: list[tuple[str, str]],
        body: bytes,
        source_ip: str,
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        origin = next((v for k, v in header_pairs if k.lower() == "origin"), None)
        preflight = any(k.lower() == "access-control-request-method" for k, _ in header_pairs)
        if self.cors is not None and method == "OPTIONS" and preflight:
            return self.cors.preflight(origin)
        status, headers, body_out = self._dispatch(method, target, header_pairs, body, source_ip)
        if self.cors is not None:
            self.cors.decorate(origin, headers)
        return status, headers, body_out

    def _dispatch(
        self,
        method: str,
        target: str,
        header_pairs: list[tuple[str, str]],
        body: bytes,
        source_ip: str,
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        raw_path, _, raw_query = target.partition("?")
        route, params = self.find(method, raw_path)
        if route is None:
            return _message(404, "Not Found")
        event = build_event(
            method, raw_path, raw_query, header_pairs, body, source_ip, route, params
        )
        try:
            if route.authorizer is not None:
                status, context = route.authorizer(event)
                if status != 200:
                    return _message(status, "Unauthorized" if status == 401 else "Forbidden")
                event["requestContext"]["authorizer"] = {"lambda": context or {}}
            result = route.handler(event, LambdaContext(function_name=route.function))
        except Exception:
            traceback.print_exc()
            return _message(500, "Internal Server Error")
        return to_http(result)

    def serve(self, host: str, port: int) -> ThreadingHTTPServer:
        gateway = self

        class RequestHandler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in separate sends: without TCP_NODELAY, a
            # kept-alive connection waits ~40 ms for a delayed ACK per response.
            disable_nagle_algorithm = True

            def _handle(self) -> None:
                started = time.perf_counter()
                length = int(self.headers.get("Content-Length") or 0)
                if length > MAX_BODY:
                    status, headers, body = _message(413, "Request Entity Too Large")
                else:
                    body_in = self.rfile.read(length) if length else b""
                    status, headers, body = gateway.dispatch(
                        self.command,
                        self.path,
                        list(self.headers.items()),
                        body_in,
                        self.client_address[0],
                    )
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)
                elapsed = (time.perf_counter() - started) * 1000
                # The path only: query strings carry codes and states.
                gateway._log(f"{self.command} {self.path.split('?')[0]} {status} {elapsed:.0f}ms")

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _handle  # noqa: N815

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return _Server((host, port), RequestHandler)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # The default backlog of 5 resets connections under a burst of parallel
    # requests (the parallel-redemption tests send 20 at once).
    request_queue_size = 128


def _message(status: int, message: str) -> tuple[int, list[tuple[str, str]], bytes]:
    return status, [("Content-Type", "application/json")], json.dumps({"message": message}).encode()
