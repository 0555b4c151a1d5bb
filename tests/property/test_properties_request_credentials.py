"""oauth21.http.Request: events, form bodies and client credentials from untrusted input.

Whatever the body, content type, base64 flag and Authorization header, a
request either yields its form and credentials or is refused with
`invalid_request` / `invalid_client`; nothing else may escape (anything else
would be a 500).
"""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import quote, quote_plus, urlencode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oauth21.errors import InvalidClient, InvalidRequest
from oauth21.http import ClientCredentials, Request
from tests.property.support import PROPERTY, any_text, utf8_text
from tests.support import api_event

FORM = "application/x-www-form-urlencoded"

content_types = st.sampled_from(
    [
        FORM,
        "APPLICATION/X-WWW-FORM-URLENCODED",
        f"{FORM}; charset=UTF-8",
        f'{FORM}; charset="utf8"',
        f"{FORM}; charset=latin-1",
        f"{FORM};charset",
        f"{FORM};;=",
        "application/json",
        "text/plain",
        "",
    ]
) | any_text.map(lambda extra: f"{FORM}{extra}")

credential_fields = st.fixed_dictionaries(
    {},
    optional={"client_id": utf8_text, "client_secret": utf8_text, "scope": utf8_text},
) | st.fixed_dictionaries({"client_id": utf8_text}, optional={"client_secret": utf8_text})


def _basic(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


authorizations = (
    st.none()
    | any_text
    | st.builds(
        lambda scheme, raw, pad: f"{scheme}{pad}{_basic(raw)}{pad}",
        st.sampled_from(["Basic ", "basic ", "BASIC ", "Basic", "Bearer "]),
        st.binary(max_size=40)
        | st.tuples(utf8_text, utf8_text).map(lambda p: f"{p[0]}:{p[1]}".encode())
        | st.tuples(utf8_text, utf8_text).map(
            lambda p: f"{quote_plus(p[0])}:{quote_plus(p[1])}".encode()
        ),
        st.sampled_from(["", " ", "\t"]),
    )
    | st.builds(lambda text: "Basic " + text, any_text)
)


@st.composite
def events(draw: st.DrawFn) -> dict[str, Any]:
    """A payload 2.0 event built by hand, with every field a caller can influence."""
    fields = draw(credential_fields)
    kind = draw(st.sampled_from(["form", "form", "form", "text", "bytes"]))
    body_bytes = draw(st.binary(max_size=80)) if kind == "bytes" else urlencode(fields).encode()
    flag = draw(st.sampled_from([True, False, None]))
    body: Any
    if kind == "text":
        body = draw(st.one_of(any_text, st.just(urlencode(fields))))
    elif flag:
        body = base64.b64encode(body_bytes).decode("ascii")
        if draw(st.booleans()):  # and sometimes damage the base64
            body = draw(any_text) + body[: draw(st.integers(0, len(body)))]
    else:
        body = body_bytes.decode("utf-8", "surrogateescape")
    headers: dict[str, str] = {}
    # Mostly the right content type, so that the body and credentials get parsed.
    content_type = draw(
        st.sampled_from([FORM, FORM, FORM, f"{FORM}; charset=utf-8", None]) | content_types
    )
    if content_type is not None:
        headers[draw(st.sampled_from(["content-type", "Content-Type", "CONTENT-TYPE"]))] = (
            content_type
        )
    authorization = draw(authorizations)
    if authorization is not None:
        headers[draw(st.sampled_from(["authorization", "Authorization"]))] = authorization
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "POST /oauth/token",
        "rawPath": "/oauth/token",
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "domainName": "auth.example.test",
            "http": {"method": "POST", "path": "/oauth/token", "sourceIp": "198.51.100.7"},
            "requestId": "property",
            "stage": "$default",
        },
    }
    if draw(st.integers(0, 9)):  # the body is sometimes missing altogether
        event["body"] = body
    if flag is not None:
        event["isBase64Encoded"] = flag
    return event


@settings(PROPERTY, max_examples=500)
@given(events(), st.just(16384) | st.integers(min_value=0, max_value=200))
def test_requests_are_parsed_or_refused_with_an_oauth_error(
    event: dict[str, Any], max_bytes: int
) -> None:
    try:
        request = Request.from_event(event)
        form = request.form(max_bytes)
        credentials = request.client_credentials(form)
    except (InvalidRequest, InvalidClient):
        return
    assert len(request.body) <= max_bytes
    assert all(isinstance(k, str) and isinstance(v, str) and v for k, v in form.items())
    if credentials is None:
        assert "client_id" not in form and "client_secret" not in form
        return
    assert isinstance(credentials, ClientCredentials)
    authorization = request.header("authorization") or ""
    if credentials.method == "client_secret_basic":
        assert authorization[:6].lower() == "basic "
        assert credentials.client_id
        assert "client_secret" not in form
        assert form.get("client_id", credentials.client_id) == credentials.client_id
    else:
        assert authorization[:6].lower() != "basic "
        assert credentials.client_id == form["client_id"]
        assert credentials.secret == form.get("client_secret")
        expected = "none" if credentials.secret is None else "client_secret_post"
        assert credentials.method == expected


@settings(PROPERTY, max_examples=100)
@given(st.binary(min_size=1, max_size=300), st.integers(min_value=0, max_value=299))
def test_a_body_over_the_limit_is_refused(body: bytes, max_bytes: int) -> None:
    event = api_event("POST", "/oauth/token", body=body, headers={"Content-Type": FORM})
    request = Request.from_event(event)
    assert request.body == body  # the event builder's base64 is undone exactly
    if len(body) > max_bytes:
        with pytest.raises(InvalidRequest, match="larger than"):
            request.form(max_bytes)


@settings(PROPERTY, max_examples=150)
@given(st.dictionaries(utf8_text, st.text(min_size=1, max_size=30), max_size=6))
def test_a_form_survives_the_gateway(params: dict[str, str]) -> None:
    """A form sent through the local stack's event builder parses back exactly."""
    request = Request.from_event(api_event("POST", "/oauth/token", form=params))
    assert request.form(16384) == params


@settings(PROPERTY, max_examples=250)
@given(
    st.text(min_size=1, max_size=40),
    st.text(max_size=40),
    st.sampled_from(["Basic ", "basic ", "BASIC "]),
    st.sampled_from([quote_plus, quote]),
    st.booleans(),
)
def test_basic_credentials_round_trip(
    client_id: str, secret: str, scheme: str, encode: Any, repeat_id_in_body: bool
) -> None:
    """RFC 6749 2.3.1: form-encode id and secret, join with ':', base64; parse back."""
    token = _basic(f"{encode(client_id, safe='')}:{encode(secret, safe='')}".encode("ascii"))
    form = {"grant_type": "client_credentials"}
    if repeat_id_in_body:
        form["client_id"] = client_id
    event = api_event("POST", "/oauth/token", form=form, headers={"Authorization": scheme + token})
    request = Request.from_event(event)
    credentials = request.client_credentials(request.form(16384))
    assert credentials == ClientCredentials(client_id, secret, "client_secret_basic")


@settings(PROPERTY, max_examples=100)
@given(st.text(min_size=1, max_size=30), st.text(max_size=30), st.text(min_size=1, max_size=30))
def test_basic_and_a_different_body_client_id_conflict(
    client_id: str, secret: str, other_id: str
) -> None:
    token = _basic(f"{quote_plus(client_id)}:{quote_plus(secret)}".encode("ascii"))
    event = api_event(
        "POST",
        "/oauth/token",
        form={"client_id": other_id},
        headers={"Authorization": "Basic " + token},
    )
    request = Request.from_event(event)
    form = request.form(16384)
    if other_id == client_id:
        assert request.client_credentials(form) == ClientCredentials(
            client_id, secret, "client_secret_basic"
        )
    else:
        with pytest.raises(InvalidRequest, match="does not match"):
            request.client_credentials(form)
