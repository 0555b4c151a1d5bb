"""oauth21.http: strict form parsing, client credentials, public URLs."""

from __future__ import annotations

import base64

import pytest

from oauth21.errors import InvalidClient, InvalidRequest
from oauth21.http import Request, parse_urlencoded, public_base_url
from tests.support import api_event


def test_form_decoding():
    assert parse_urlencoded(b"a=1&b=hello+world&c=%C3%A9&d=&e") == {
        "a": "1",
        "b": "hello world",
        "c": "é",
    }


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        (b"a=1&a=2", "repeated"),
        (b"a=&a=2", "repeated"),
        (b"a=%", "percent"),
        (b"a=%G1", "percent"),
        (b"a=%ff", "UTF-8"),
        (b"%ff=1", "UTF-8"),
    ],
)
def test_form_refusals(raw, fragment):
    with pytest.raises(InvalidRequest) as caught:
        parse_urlencoded(raw)
    assert fragment.lower() in caught.value.description.lower()


def creds(headers=None, **form):
    request = Request.from_event(api_event("POST", "/oauth/token", form=form, headers=headers))
    return request.client_credentials(request.form(16384))


def basic(raw: bytes) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def test_credentials_methods():
    assert creds() is None
    post = creds(client_id="a", client_secret="s")
    assert (post.client_id, post.secret, post.method) == ("a", "s", "client_secret_post")
    public = creds(client_id="a")
    assert (public.secret, public.method) == (None, "none")
    b = creds(basic(b"a%3Ab:s%20t"))
    assert (b.client_id, b.secret, b.method) == ("a:b", "s t", "client_secret_basic")
    # A secret may itself contain a colon: only the first one splits.
    assert creds(basic(b"a:s:t")).secret == "s:t"
    assert creds({"Authorization": "bAsIc " + base64.b64encode(b"a:s").decode()}).client_id == "a"


@pytest.mark.parametrize("raw", [b":secret", b"nocolon", b"a%zz:s"])
def test_malformed_basic_is_invalid_client(raw):
    with pytest.raises(InvalidClient) as caught:
        creds(basic(raw))
    assert caught.value.headers["WWW-Authenticate"].startswith("Basic")


def test_non_basic_authorization_is_ignored_for_client_credentials():
    # A DPoP or Bearer header is not client authentication.
    assert creds({"Authorization": "Bearer x"}, client_id="a").method == "none"


def test_public_base_url():
    request = Request.from_event(api_event("GET", "/"))
    assert public_base_url(request, "") == "https://auth.example.test"
    assert public_base_url(request, "https://id.example.com/") == "https://id.example.com"
    request.stage = "v1"
    assert public_base_url(request, "") == "https://auth.example.test/v1"


def test_route_ignores_the_stage_prefix():
    event = api_event("POST", "/prod/oauth/token", route_path="/oauth/token")
    assert Request.from_event(event).route == "/oauth/token"


def test_cookies_and_headers_as_api_gateway_sends_them():
    event = api_event("GET", "/", headers={"X-Test": "1"}, cookies={"a": "1", "b": "x=y"})
    request = Request.from_event(event)
    assert request.cookies == {"a": "1", "b": "x=y"}
    assert request.header("x-test") == "1" and request.header("X-TEST") == "1"
