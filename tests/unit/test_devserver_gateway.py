"""devserver.gateway: route matching, payload 2.0 events, responses and dispatch,
checked against what API Gateway HTTP APIs do (no AWS needed)."""

from __future__ import annotations

import base64
import calendar
import http.client
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from devserver.gateway import BoundRoute, Gateway, build_event, to_http
from devserver.lambdas import LambdaContext

SOURCE_IP = "198.51.100.7"


class Recorder:
    """A fake handler: records each (event, context) and answers `result`."""

    def __init__(self, result: Any = None):
        self.calls: list[tuple[dict[str, Any], Any]] = []
        self.result = result if result is not None else {"statusCode": 200, "body": "ok"}

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        self.calls.append((event, context))
        return self.result

    @property
    def event(self) -> dict[str, Any]:
        assert len(self.calls) == 1
        return self.calls[0][0]


def route(method: str, path: str, handler: Any = None, **kwargs: Any) -> BoundRoute:
    return BoundRoute(method, path, "TestFunction", handler or Recorder(), **kwargs)


def event(
    method: str = "GET",
    path: str = "/p",
    query: str = "",
    headers: list[tuple[str, str]] | None = None,
    body: bytes = b"",
    bound: BoundRoute | None = None,
    path_parameters: dict[str, str] | None = None,
) -> dict[str, Any]:
    pairs = [("Host", "auth.example.test")] + (headers or [])
    return build_event(method, path, query, pairs, body, SOURCE_IP, bound, path_parameters)


def json_body(response: tuple[int, list[tuple[str, str]], bytes]) -> Any:
    return json.loads(response[2])


# --- BoundRoute -------------------------------------------------------------


def test_an_exact_path_matches_only_itself():
    r = route("POST", "/oauth/token")
    assert r.match("POST", "/oauth/token") == {}
    assert r.match("POST", "/oauth/token/") is None
    assert r.match("POST", "/oauth/tokens") is None
    assert r.match("POST", "/oauth") is None
    assert r.match("POST", "/OAUTH/TOKEN") is None


def test_dots_in_a_path_are_literal():
    r = route("GET", "/.well-known/jwks.json")
    assert r.match("GET", "/.well-known/jwks.json") == {}
    assert r.match("GET", "/Xwell-known/jwksXjson") is None


def test_a_path_parameter_matches_one_segment():
    r = route("GET", "/clients/{id}/keys")
    assert r.match("GET", "/clients/abc-123/keys") == {"id": "abc-123"}
    assert r.match("GET", "/clients/a/b/keys") is None
    assert r.match("GET", "/clients//keys") is None


def test_several_path_parameters():
    r = route("GET", "/a/{first}/b/{second}")
    assert r.match("GET", "/a/1/b/2") == {"first": "1", "second": "2"}


def test_a_greedy_parameter_takes_the_rest_of_the_path():
    r = route("GET", "/files/{proxy+}")
    assert r.match("GET", "/files/a") == {"proxy": "a"}
    assert r.match("GET", "/files/a/b/c.txt") == {"proxy": "a/b/c.txt"}
    assert r.match("GET", "/files/") is None
    assert r.match("GET", "/files") is None


def test_another_method_does_not_match():
    r = route("GET", "/items/{id}")
    assert r.match("POST", "/items/1") is None
    assert r.match("get", "/items/1") is None


def test_any_matches_every_method():
    r = route("ANY", "/items")
    for method in ("GET", "POST", "DELETE", "PATCH"):
        assert r.match(method, "/items") == {}


def test_the_route_key_is_method_and_path():
    assert route("GET", "/items/{id}").key == "GET /items/{id}"


# --- build_event ------------------------------------------------------------


def test_headers_are_lower_cased_and_repeats_joined_with_a_comma():
    e = event(headers=[("X-Trace", "a"), ("Accept", "text/html"), ("x-trace", "b")])
    assert e["headers"] == {"host": "auth.example.test", "x-trace": "a,b", "accept": "text/html"}


def test_cookies_leave_the_headers_for_the_cookies_list():
    e = event(headers=[("Cookie", "a=1; b=2;  c=3"), ("cookie", "d=4")])
    assert e["cookies"] == ["a=1", "b=2", "c=3", "d=4"]
    assert "cookie" not in e["headers"]
    assert e["headers"] == {"host": "auth.example.test"}


def test_no_cookie_header_means_no_cookies_field():
    assert "cookies" not in event()


def test_the_query_string_is_kept_verbatim_and_parsed_with_repeats_joined():
    raw = "scope=read%20write&a=1&a=2&redirect_uri=https%3A%2F%2Fx.test%2Fcb&flag"
    e = event(query=raw)
    assert e["rawQueryString"] == raw
    assert e["queryStringParameters"] == {
        "scope": "read write",
        "a": "1,2",
        "redirect_uri": "https://x.test/cb",
        "flag": "",
    }


def test_no_query_string_means_no_parameters():
    e = event()
    assert e["rawQueryString"] == ""
    assert "queryStringParameters" not in e


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "application/json; charset=utf-8", "text/plain", "TEXT/HTML"],
)
def test_text_bodies_are_passed_as_text(content_type):
    raw = '{"name": "é"}'.encode()
    e = event("POST", headers=[("Content-Type", content_type)], body=raw)
    assert e["body"] == '{"name": "é"}'
    assert e["isBase64Encoded"] is False


def test_form_bodies_are_base64_encoded_as_api_gateway_does():
    # As in tests/events/http_api_token_request.json, recorded from a real HTTP API.
    raw = b"grant_type=client_credentials&scope=read"
    e = event("POST", headers=[("Content-Type", "application/x-www-form-urlencoded")], body=raw)
    assert e["isBase64Encoded"] is True
    assert base64.b64decode(e["body"]) == raw


def test_form_bodies_with_a_charset_are_base64_encoded_byte_for_byte():
    raw = b"grant_type=client_credentials&scope=read+write&x=%C3%A9"
    e = event(
        "POST",
        headers=[("Content-Type", "Application/X-WWW-Form-Urlencoded; charset=utf-8")],
        body=raw,
    )
    assert e["isBase64Encoded"] is True
    assert e["body"] == base64.b64encode(raw).decode("ascii")


@pytest.mark.parametrize(
    ("content_type", "raw"),
    [
        ("application/octet-stream", b"\x00\x01\x02hello"),
        ("application/xml", b"<a/>"),
        ("application/problem+json", b"{}"),
        ("image/png", b"\x89PNG\r\n\x1a\n"),
        ("", b"no content type"),
        ("application/json", b'{"a": "\xff"}'),  # claims text, is not UTF-8
        ("text/plain", b"caf\xe9"),
    ],
)
def test_binary_or_non_utf8_bodies_are_base64_encoded(content_type, raw):
    headers = [("Content-Type", content_type)] if content_type else []
    e = event("POST", headers=headers, body=raw)
    assert e["isBase64Encoded"] is True
    assert e["body"] == base64.b64encode(raw).decode("ascii")


def test_an_empty_body_is_absent_and_not_base64():
    e = event("POST", headers=[("Content-Type", "application/octet-stream")])
    assert "body" not in e
    assert e["isBase64Encoded"] is False


def test_route_keys_come_from_the_route():
    e = event("GET", "/items/7", bound=route("GET", "/items/{id}"))
    assert e["routeKey"] == "GET /items/{id}"
    assert e["requestContext"]["routeKey"] == "GET /items/{id}"
    unrouted = event()
    assert unrouted["routeKey"] == "$default"
    assert unrouted["requestContext"]["routeKey"] == "$default"


def test_request_context():
    before = time.time()
    e = event(
        "PUT",
        "/items/7",
        headers=[("User-Agent", "curl/8.0")],
    )
    after = time.time()
    ctx = e["requestContext"]
    assert e["version"] == "2.0"
    assert e["rawPath"] == "/items/7"
    assert ctx["http"] == {
        "method": "PUT",
        "path": "/items/7",
        "protocol": "HTTP/1.1",
        "sourceIp": SOURCE_IP,
        "userAgent": "curl/8.0",
    }
    assert ctx["stage"] == "$default"
    assert ctx["accountId"] == "123456789012"
    assert ctx["apiId"] == "local"
    assert int(before * 1000) <= ctx["timeEpoch"] <= int(after * 1000) + 1
    parsed = calendar.timegm(time.strptime(ctx["time"], "%d/%b/%Y:%H:%M:%S +0000"))
    assert parsed == ctx["timeEpoch"] // 1000
    assert len(ctx["requestId"]) == 32 and int(ctx["requestId"], 16) >= 0
    assert event()["requestContext"]["requestId"] != ctx["requestId"]


def test_the_domain_name_has_no_port():
    e = build_event("GET", "/", "", [("Host", "auth.example.test:3000")], b"", SOURCE_IP, None)
    assert e["requestContext"]["domainName"] == "auth.example.test"
    assert e["requestContext"]["domainPrefix"] == "auth"
    assert e["headers"]["host"] == "auth.example.test:3000"


def test_no_host_header_is_localhost():
    e = build_event("GET", "/", "", [], b"", SOURCE_IP, None)
    assert e["requestContext"]["domainName"] == "localhost"
    assert e["requestContext"]["http"]["userAgent"] == ""


def test_path_parameters():
    params = {"id": "7"}
    e = event("GET", "/items/7", path_parameters=params)
    assert e["pathParameters"] == {"id": "7"}
    params["id"] = "changed"
    assert e["pathParameters"] == {"id": "7"}
    assert "pathParameters" not in event()
    assert "pathParameters" not in event(path_parameters={})


# --- to_http ----------------------------------------------------------------


def test_a_full_result():
    status, headers, body = to_http(
        {
            "statusCode": 201,
            "headers": {"Content-Type": "application/json", "X-Count": 3},
            "cookies": ["a=1; HttpOnly", "b=2"],
            "body": '{"ok": true}',
        }
    )
    assert status == 201
    assert headers == [
        ("Content-Type", "application/json"),
        ("X-Count", "3"),
        ("Set-Cookie", "a=1; HttpOnly"),
        ("Set-Cookie", "b=2"),
    ]
    assert body == b'{"ok": true}'


def test_a_base64_body_is_decoded():
    raw = b"\x89PNG\x00\xff"
    status, headers, body = to_http(
        {"statusCode": "200", "body": base64.b64encode(raw).decode(), "isBase64Encoded": True}
    )
    assert (status, headers, body) == (200, [], raw)


def test_a_text_body_is_utf8():
    assert to_http({"statusCode": 200, "body": "é"})[2] == "é".encode()


def test_no_body():
    assert to_http({"statusCode": 204}) == (204, [], b"")
    assert to_http({"statusCode": 204, "body": None, "headers": None}) == (204, [], b"")


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        ({"message": "hi"}, b'{"message": "hi"}'),
        ([1, 2], b"[1, 2]"),
        (None, b"null"),
        (7, b"7"),
    ],
)
def test_anything_else_is_a_200_json_body(result, expected):
    assert to_http(result) == (200, [("Content-Type", "application/json")], expected)


# --- Gateway.dispatch -------------------------------------------------------


def test_dispatch_calls_the_matching_route_with_its_event():
    token = Recorder({"statusCode": 200, "body": "token"})
    item = Recorder({"statusCode": 202, "body": "item", "headers": {"X-A": "b"}})
    gateway = Gateway([route("POST", "/oauth/token", token), route("GET", "/items/{id}", item)])
    status, headers, body = gateway.dispatch(
        "GET", "/items/42?x=1&x=2", [("Host", "h.test:3000")], b"", SOURCE_IP
    )
    assert (status, headers, body) == (202, [("X-A", "b")], b"item")
    assert token.calls == []
    e, context = item.calls[0]
    assert e["routeKey"] == "GET /items/{id}"
    assert e["rawPath"] == "/items/42"
    assert e["rawQueryString"] == "x=1&x=2"
    assert e["queryStringParameters"] == {"x": "1,2"}
    assert e["pathParameters"] == {"id": "42"}
    assert e["requestContext"]["domainName"] == "h.test"
    assert isinstance(context, LambdaContext)
    assert context.function_name == "TestFunction"


def test_dispatch_passes_greedy_parameters():
    handler = Recorder()
    gateway = Gateway([route("ANY", "/static/{proxy+}", handler)])
    assert gateway.dispatch("DELETE", "/static/css/site.css", [], b"", SOURCE_IP)[0] == 200
    assert handler.event["pathParameters"] == {"proxy": "css/site.css"}
    assert handler.event["routeKey"] == "ANY /static/{proxy+}"


def test_an_exact_route_has_no_path_parameters():
    handler = Recorder()
    Gateway([route("GET", "/x", handler)]).dispatch("GET", "/x", [], b"", SOURCE_IP)
    assert "pathParameters" not in handler.event


@pytest.mark.parametrize(
    ("method", "target"),
    [("GET", "/nowhere"), ("GET", "/oauth/token"), ("POST", "/oauth/token/extra")],
)
def test_unknown_routes_are_404_not_found(method, target):
    handler = Recorder()
    gateway = Gateway([route("POST", "/oauth/token", handler)])
    response = gateway.dispatch(method, target, [], b"", SOURCE_IP)
    assert response == (404, [("Content-Type", "application/json")], b'{"message": "Not Found"}')
    assert json_body(response) == {"message": "Not Found"}
    assert handler.calls == []


def test_a_handler_that_raises_is_500(capsys):
    def broken(event: Any, context: Any) -> Any:
        raise RuntimeError("secret detail")

    response = Gateway([route("GET", "/boom", broken)]).dispatch("GET", "/boom", [], b"", SOURCE_IP)
    assert response[0] == 500
    assert response[1] == [("Content-Type", "application/json")]
    assert json_body(response) == {"message": "Internal Server Error"}
    assert b"secret detail" not in response[2]
    assert "RuntimeError: secret detail" in capsys.readouterr().err


@pytest.mark.parametrize(("status", "message"), [(401, "Unauthorized"), (403, "Forbidden")])
def test_an_authorizer_refusal_short_circuits(status, message):
    handler = Recorder()
    seen: list[dict[str, Any]] = []

    def authorizer(e: dict[str, Any]) -> tuple[int, dict[str, Any] | None]:
        seen.append(e)
        return status, None

    gateway = Gateway([route("GET", "/api/{id}", handler, authorizer=authorizer)])
    response = gateway.dispatch("GET", "/api/9", [("Authorization", "Bearer x")], b"", SOURCE_IP)
    assert response[0] == status
    assert json_body(response) == {"message": message}
    assert handler.calls == []
    assert seen[0]["headers"]["authorization"] == "Bearer x"
    assert seen[0]["pathParameters"] == {"id": "9"}


def test_an_authorizer_context_reaches_the_handler():
    handler = Recorder()
    gateway = Gateway(
        [route("GET", "/api", handler, authorizer=lambda e: (200, {"sub": "u1", "n": 2}))]
    )
    assert gateway.dispatch("GET", "/api", [], b"", SOURCE_IP)[0] == 200
    assert handler.event["requestContext"]["authorizer"] == {"lambda": {"sub": "u1", "n": 2}}


def test_an_authorizer_without_context_gives_an_empty_one():
    handler = Recorder()
    gateway = Gateway([route("GET", "/api", handler, authorizer=lambda e: (200, None))])
    gateway.dispatch("GET", "/api", [], b"", SOURCE_IP)
    assert handler.event["requestContext"]["authorizer"] == {"lambda": {}}


def test_no_authorizer_no_authorizer_context():
    handler = Recorder()
    Gateway([route("GET", "/api", handler)]).dispatch("GET", "/api", [], b"", SOURCE_IP)
    assert "authorizer" not in handler.event["requestContext"]


def test_an_authorizer_that_raises_is_500(capsys):
    def authorizer(e: dict[str, Any]) -> tuple[int, dict[str, Any] | None]:
        raise RuntimeError("authorizer broke")

    handler = Recorder()
    gateway = Gateway([route("GET", "/api", handler, authorizer=authorizer)])
    response = gateway.dispatch("GET", "/api", [], b"", SOURCE_IP)
    assert response[0] == 500
    assert json_body(response) == {"message": "Internal Server Error"}
    assert handler.calls == []


@pytest.mark.parametrize(
    ("routes", "method", "path", "expected"),
    [
        (["GET /pets/dog/{id}", "GET /pets/dog/1"], "GET", "/pets/dog/1", "GET /pets/dog/1"),
        (["GET /pets/{proxy+}", "GET /pets/{id}"], "GET", "/pets/1", "GET /pets/{id}"),
        (["ANY /pets/{id}", "GET /pets/{id}"], "GET", "/pets/1", "GET /pets/{id}"),
    ],
)
def test_the_most_specific_route_wins(routes, method, path, expected):
    bound = [route(*key.split(" ", 1)) for key in routes]
    found, _ = Gateway(bound).find(method, path)
    assert found is not None and found.key == expected


def test_route_selection_when_routes_are_listed_most_specific_first():
    keys = ["GET /pets/dog/1", "GET /pets/dog/{id}", "GET /pets/{proxy+}", "ANY /{proxy+}"]
    gateway = Gateway([route(*key.split(" ", 1)) for key in keys])
    expectations = {
        ("GET", "/pets/dog/1"): ("GET /pets/dog/1", {}),
        ("GET", "/pets/dog/2"): ("GET /pets/dog/{id}", {"id": "2"}),
        ("GET", "/pets/cat/1"): ("GET /pets/{proxy+}", {"proxy": "cat/1"}),
        ("POST", "/pets/cat/1"): ("ANY /{proxy+}", {"proxy": "pets/cat/1"}),
    }
    for (method, path), (key, params) in expectations.items():
        found, found_params = gateway.find(method, path)
        assert found is not None
        assert (found.key, found_params) == (key, params)


# --- Gateway.serve ----------------------------------------------------------


@pytest.fixture
def served() -> Iterator[tuple[int, Recorder, list[str]]]:
    handler = Recorder(
        {
            "statusCode": 200,
            "headers": {"Content-Type": "text/plain"},
            "cookies": ["a=1", "b=2"],
            "body": "hello",
        }
    )
    lines: list[str] = []
    server = Gateway([route("ANY", "/echo", handler)], log=lines.append).serve("127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], handler, lines
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_serve_over_http(served):
    port, handler, lines = served
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(
            "POST",
            "/echo?code=SECRET",
            body=b"x=1",
            headers={"Content-Type": "application/json", "Cookie": "s=1"},
        )
        response = connection.getresponse()
        assert response.status == 200
        assert response.read() == b"hello"
        assert response.headers.get_all("Set-Cookie") == ["a=1", "b=2"]
        assert response.headers["Content-Length"] == "5"
    finally:
        connection.close()
    e = handler.event
    assert e["body"] == "x=1"
    assert e["cookies"] == ["s=1"]
    assert e["queryStringParameters"] == {"code": "SECRET"}
    assert e["requestContext"]["http"]["sourceIp"] == "127.0.0.1"
    assert e["requestContext"]["domainName"] == "127.0.0.1"
    # The line is logged after the response is written: poll for it.
    deadline = time.monotonic() + 5
    while not lines and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(lines) == 1
    assert lines[0].startswith("POST /echo 200 ") and lines[0].endswith("ms")
    assert "SECRET" not in lines[0]


def test_serve_head_has_no_body(served):
    port, _, _ = served
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("HEAD", "/echo")
        response = connection.getresponse()
        assert response.status == 200
        assert response.headers["Content-Length"] == "5"
        assert response.read() == b""
    finally:
        connection.close()


def test_serve_refuses_a_body_over_the_payload_limit(served):
    port, handler, _ = served
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.putrequest("POST", "/echo")
        connection.putheader("Content-Length", str(10 * 1024 * 1024 + 1))
        connection.endheaders()
        response = connection.getresponse()
        assert response.status == 413
        assert json.loads(response.read()) == {"message": "Request Entity Too Large"}
    finally:
        connection.close()
    assert handler.calls == []
