"""The flows `make bench` times, each on a freshly built function (its own
caches, as a new Lambda instance), driven as the functional tests drive them.

Every flow prepares its inputs before the timed loop: one-time values (codes,
device codes, DPoP proofs, tokens to revoke) are made in advance, one per
call, so the timed span is the handler call alone. A flow's first request is
its instance's first (counted apart: it may fill a cache); a short warm-up
follows; then the timed calls.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench import floor
from bench.harness import (
    Aws,
    Clock,
    Timing,
    build_function,
    failure,
    run_replayed,
    run_timed,
)
from oauth21.clients import (
    GRANT_AUTHORIZATION_CODE,
    GRANT_CLIENT_CREDENTIALS,
    GRANT_DEVICE_CODE,
    GRANT_REFRESH_TOKEN,
    new_client,
)
from oauth21.config import load_settings
from oauth21.hashing import sha256_hex
from oauth21.jwk import ec_public_key
from oauth21.keys import rotate
from oauth21.services import Services
from tests.dpop_keys import ProofKey
from tests.support import DOMAIN, api_event

ISSUER = f"https://{DOMAIN}"
TOKEN_URL = f"{ISSUER}/oauth/token"
API_URL = f"{ISSUER}/api/user"
CALLBACK = "https://app.example/callback"
DEVICE_GRANT = GRANT_DEVICE_CODE
ROUTE_SCOPES = json.dumps({"GET /api/user": ["read"]})
WARMUP = 50


def body(response: dict[str, Any]) -> Any:
    return json.loads(response["body"]) if response.get("body") else None


def ok(response: dict[str, Any]) -> bool:
    return response.get("statusCode") == 200


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(32)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def post(path: str, form: dict[str, str], headers: dict[str, str] | None = None) -> dict:
    return api_event("POST", path, form=form, headers=headers)


def authorizer_event(token: str, scheme: str = "Bearer", proof: str | None = None) -> dict:
    """An HTTP API (payload 2.0) REQUEST authorizer event for GET /api/user."""
    headers = {"Authorization": f"{scheme} {token}"}
    if proof is not None:
        headers["DPoP"] = proof
    event = api_event("GET", "/api/user", headers=headers)
    event.update(
        type="REQUEST", routeArn="arn:aws:execute-api:us-east-1:1:api/$default/GET/api/user"
    )
    event["identitySource"] = [headers["Authorization"]]
    return event


@dataclass
class Result:
    key: str
    label: str
    function: str
    n: int
    timing: Timing
    floor: dict[str, float]
    floor_steps: str
    setup_calls: list[str]
    first_calls: list[str]
    first_ms: float
    notes: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


class Bench:
    """The shared world: moto, keys, clients, a user; and the flows."""

    def __init__(self, aws: Aws, iterations: int):
        self.aws = aws
        self.n = iterations
        self.clock = Clock()
        self.settings = load_settings()
        self.services = self.own_services()
        rotate(self.services.signing_key_table, aws.kms, self.settings, now=self.clock())
        self.public_keys = {
            r["kid"]: ec_public_key(json.loads(r["public_jwk"]))
            for r in self.services.signing_key_table.all()
        }
        self.svc_secret = self._register(
            client_type="confidential",
            client_id="bench-service",
            grant_types=[GRANT_CLIENT_CREDENTIALS],
        )
        self._register(
            client_type="public",
            client_id="bench-spa",
            redirect_uris=[CALLBACK],
            grant_types=[GRANT_AUTHORIZATION_CODE, GRANT_REFRESH_TOKEN],
            scopes=["read", "write"],
            first_party=True,
        )
        self._register(
            client_type="public",
            client_id="bench-tv",
            grant_types=[DEVICE_GRANT, GRANT_REFRESH_TOKEN],
            scopes=["read", "write"],
        )
        self.user = self.services.accounts.create("bench@example.com", "bench password", "Bench")
        self.results: list[Result] = []

    # --- set-up helpers ----------------------------------------------------------

    def clear_one_time_tables(self) -> None:
        """Empty the tables flows fill (codes, grants, device codes, DPoP jtis,
        revocations), outside any timed span.

        moto copies every table a transaction touches (for its rollback), so
        its TransactWriteItems grows with the table; DynamoDB's does not. Kept
        small, the run stays short; our code's time does not depend on it.
        """
        s = self.settings
        for table in (
            s.auth_codes_table,
            s.grants_table,
            s.device_codes_table,
            s.dpop_replay_table,
            s.revoked_tokens_table,
        ):
            db = self.aws.dynamodb
            schema = db.describe_table(TableName=table)["Table"]["KeySchema"]
            names = [k["AttributeName"] for k in schema]
            keys = [
                {n: item[n] for n in names}
                for page in db.get_paginator("scan").paginate(
                    TableName=table, ProjectionExpression=", ".join(names)
                )
                for item in page["Items"]
            ]
            for start in range(0, len(keys), 25):
                db.batch_write_item(
                    RequestItems={
                        table: [{"DeleteRequest": {"Key": k}} for k in keys[start : start + 25]]
                    }
                )

    def own_services(self, **overrides: Any) -> Services:
        aws = {"dynamodb": self.aws.dynamodb, "kms": self.aws.kms}
        return Services(load_settings(**overrides), self.clock, aws=aws)

    def _register(self, **kwargs: Any) -> str | None:
        kwargs.setdefault("name", kwargs["client_id"])
        kwargs.setdefault("scopes", self.settings.supported_scopes)
        client, secret = new_client(now=self.clock(), **kwargs)
        self.services.client_table.create(client.to_record())
        return secret

    def new_code(self) -> tuple[str, str]:
        """An authorization code as the authorize endpoint stores it
        (oauth21.authorize_endpoint `_issue_code`), and its PKCE verifier."""
        verifier, challenge = pkce_pair()
        code = secrets.token_urlsafe(32)
        now = int(self.clock())
        self.services.codes.create(
            {
                "code_hash": sha256_hex(code),
                "client_id": "bench-spa",
                "redirect_uri": CALLBACK,
                "redirect_uri_explicit": True,
                "code_challenge": challenge,
                "user_id": self.user.user_id,
                "scope": "read write",
                "auth_time": now,
                "dpop_jkt": None,
                "created_at": now,
                "expires_at": now + self.settings.auth_code_lifetime,
            }
        )
        return code, verifier

    def exchange_event(self, code: str, verifier: str) -> dict:
        return post(
            "/oauth/token",
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": CALLBACK,
                "code_verifier": verifier,
                "client_id": "bench-spa",
            },
        )

    def user_tokens(self) -> dict[str, Any]:
        """A user's tokens from a real code exchange (a grant with a refresh token)."""
        token, _ = build_function("token", self.own_services())
        response = token(self.exchange_event(*self.new_code()))
        if not ok(response):
            raise failure("set-up: a code exchange for a user's tokens failed", response)
        return dict(body(response))

    def cc_event(self, proof: str | None = None) -> dict:
        form = {
            "grant_type": "client_credentials",
            "client_id": "bench-service",
            "client_secret": self.svc_secret or "",
            "scope": "read write",
        }
        return post("/oauth/token", form, {"DPoP": proof} if proof else None)

    def public_key_of(self, token: str) -> Any:
        return self.public_keys[floor.jwt_parts(token)[0]["kid"]]

    # --- the runner ------------------------------------------------------------------

    def run(
        self,
        key: str,
        label: str,
        function: str,
        *,
        services: Services | None = None,
        next_event: Callable[[int, Any], dict],
        check: Callable[[Any], bool] = ok,
        make_floor: Callable[[dict, Any], floor.Work],
        floor_steps: str,
        n: int | None = None,
        warmup: int = WARMUP,
        notes: str = "",
        handler: Callable[[Any], Any] | None = None,
        setup_calls: list[str] | None = None,
    ) -> Result:
        n = self.n if n is None else n
        if handler is None:
            handler, setup_calls = build_function(function, services or self.own_services())
        # The instance's first request: what a cold instance's first call costs in AWS calls.
        first = run_timed(handler, next_event, 1, check)
        warmed = run_timed(handler, _offset(next_event, 1), warmup, check, first.last_response)
        # The floor works on the same kind of request and token (the warm-up's last).
        work = make_floor(warmed.last_event, warmed.last_response)
        timed_event = _offset(next_event, 1 + warmup)
        timing = run_timed(
            handler, timed_event, n, check, warmed.last_response, floor=work, record=True
        )
        run_replayed(handler, timing, check)
        result = Result(
            key=key,
            label=label,
            function=function,
            n=n,
            timing=timing,
            floor={
                "median_ms": timing.summary()["floor_median_ms"],
                "p95_ms": timing.summary()["floor_p95_ms"],
            },
            floor_steps=floor_steps,
            setup_calls=list(setup_calls or []),
            first_calls=first.calls,
            first_ms=first.total[0] / 1e6,
            notes=notes,
        )
        self.results.append(result)
        return result

    # --- the flows -------------------------------------------------------------------

    def client_credentials(self) -> Result:
        event = self.cc_event()
        return self.run(
            "client_credentials",
            "client credentials",
            "token",
            next_event=lambda i, prev: event,
            make_floor=lambda ev, resp: floor.issue(ev, "client_secret", body(resp)),
            floor_steps=floor.STEPS["issue"],
            notes="client_secret_post; the client record cached after the first request",
        )

    def client_credentials_dpop(self) -> Result:
        key = ProofKey("ES256")
        count = 1 + WARMUP + self.n
        events = [
            self.cc_event(key.proof("POST", TOKEN_URL, iat=self.clock())) for _ in range(count)
        ]
        return self.run(
            "client_credentials_dpop",
            "client credentials + DPoP",
            "token",
            next_event=lambda i, prev: events[i],
            check=lambda r: ok(r) and body(r)["token_type"] == "DPoP",
            make_floor=lambda ev, resp: floor.issue_with_proof(ev, "client_secret", body(resp)),
            floor_steps=floor.STEPS["issue_with_proof"],
            notes="a fresh ES256 proof per call",
        )

    def code_exchange(self) -> Result:
        """One stored code per call, made (and the last call's code and grant
        deleted) between calls, outside the timed span: see clear_one_time_tables."""
        db, s = self.aws.dynamodb, self.settings
        made: list[str] = []

        def next_event(i: int, prev: Any) -> dict:
            if prev is not None and made:
                gid = floor.jwt_parts(body(prev)["access_token"])[1]["gid"]
                db.delete_item(TableName=s.grants_table, Key={"grant_id": {"S": gid}})
                db.delete_item(TableName=s.auth_codes_table, Key={"code_hash": {"S": made[-1]}})
            code, verifier = self.new_code()
            made.append(sha256_hex(code))
            return self.exchange_event(code, verifier)

        return self.run(
            "code_exchange",
            "code exchange",
            "token",
            next_event=next_event,
            make_floor=lambda ev, resp: floor.issue(ev, "code", body(resp)),
            floor_steps=floor.STEPS["issue"],
            notes="public client + PKCE; one stored code per call",
        )

    def refresh(self) -> Result:
        start = self.user_tokens()["refresh_token"]

        def next_event(i: int, prev: Any) -> dict:
            token = start if prev is None else body(prev)["refresh_token"]
            return post(
                "/oauth/token",
                {"grant_type": "refresh_token", "refresh_token": token, "client_id": "bench-spa"},
            )

        return self.run(
            "refresh",
            "refresh",
            "token",
            next_event=next_event,
            make_floor=lambda ev, resp: floor.issue_refresh(ev, body(resp)),
            floor_steps=floor.STEPS["issue_refresh"],
            notes="each call presents the refresh token the previous one returned",
        )

    def introspection(self) -> Result:
        access = self.user_tokens()["access_token"]
        event = post("/oauth/introspect", {"token": access})
        return self.run(
            "introspection",
            "introspection",
            "introspect",
            next_event=lambda i, prev: event,
            check=lambda r: ok(r) and body(r)["active"] is True,
            make_floor=lambda ev, resp: floor.inspect(ev, self.public_key_of(access), body(resp)),
            floor_steps=floor.STEPS["inspect"],
            notes="a user's access token (jti + grant checked), no client authentication",
        )

    def revocation(self) -> Result:
        grant_access = self.user_tokens()["access_token"]
        gid = floor.jwt_parts(grant_access)[1]["gid"]
        count = 1 + WARMUP + self.n
        tokens = [
            self.services.access_tokens.issue(
                issuer=ISSUER,
                subject=self.user.user_id,
                client_id="bench-spa",
                scope="read write",
                grant_id=gid,
            ).value
            for _ in range(count)
        ]
        events = [post("/oauth/revoke", {"token": t}) for t in tokens]
        return self.run(
            "revocation",
            "revocation",
            "introspect",
            next_event=lambda i, prev: events[i],
            make_floor=lambda ev, resp: floor.inspect(
                ev, self.public_key_of(tokens[0]), body(resp)
            ),
            floor_steps=floor.STEPS["inspect"],
            notes="a distinct access token per call, sent without client authentication",
        )

    def _device_codes(self, count: int) -> list[str]:
        device, _ = build_function("device", self.own_services())
        codes = []
        for _ in range(count):
            form = {"client_id": "bench-tv", "scope": "read"}
            response = device(post("/oauth/device/code", form))
            if not ok(response):
                raise failure("set-up: a device authorization request failed", response)
            codes.append(body(response)["device_code"])
        return codes

    @staticmethod
    def poll_event(device_code: str) -> dict:
        form = {"grant_type": DEVICE_GRANT, "device_code": device_code, "client_id": "bench-tv"}
        return post("/oauth/token", form)

    def device_poll(self) -> Result:
        """Pending, on-time polls: rounds over `per_round` codes, the clock moving
        one interval between rounds (outside the timed span)."""
        per_round = 150
        codes = self._device_codes(per_round)
        events = [self.poll_event(c) for c in codes]
        interval = self.settings.device_poll_interval
        clock = self.clock

        def next_event(i: int, prev: Any) -> dict:
            if i and i % per_round == 0:
                clock.advance(interval)
            return events[i % per_round]

        return self.run(
            "device_poll",
            "device poll (pending)",
            "token",
            next_event=next_event,
            check=lambda r: (
                r.get("statusCode") == 400 and body(r)["error"] == "authorization_pending"
            ),
            make_floor=lambda ev, resp: floor.poll(ev, body(resp)),
            floor_steps=floor.STEPS["poll"],
            notes=f"{per_round} codes polled in rounds, on time (clock +{interval}s per round)",
        )

    def device_poll_approved(self, n: int) -> Result:
        count = 1 + 10 + n
        codes = self._device_codes(count)
        now = int(self.clock())
        for code in codes:
            self.services.device_codes.decide(sha256_hex(code), True, self.user.user_id, now, now)
        events = [self.poll_event(c) for c in codes]
        return self.run(
            "device_poll_approved",
            "device poll (approved)",
            "token",
            next_event=lambda i, prev: events[i],
            make_floor=lambda ev, resp: floor.issue(ev, "device_code", body(resp)),
            floor_steps=floor.STEPS["issue"],
            n=n,
            warmup=10,
            notes="the one poll after approval that issues the tokens",
        )

    def authorizer(self, local_only: bool = False) -> Result:
        access = self.user_tokens()["access_token"]
        event = authorizer_event(access)
        services = self.own_services(
            authorizer_route_scopes=ROUTE_SCOPES, authorizer_local_only=local_only
        )
        return self.run(
            "authorizer_local_only" if local_only else "authorizer_bearer",
            "authorizer, Bearer, local-only" if local_only else "authorizer, Bearer",
            "authorizer",
            services=services,
            next_event=lambda i, prev: event,
            check=lambda r: r.get("isAuthorized") is True,
            make_floor=lambda ev, resp: floor.authorize(ev, self.public_key_of(access)),
            floor_steps=floor.STEPS["authorize"],
            notes="AUTHORIZER_LOCAL_ONLY=true: no revocation lookup"
            if local_only
            else "a user's access token; revocation checked (jti + grant)",
        )

    def authorizer_dpop(self) -> Result:
        key = ProofKey("ES256")
        token, _ = build_function("token", self.own_services())
        response = token(self.cc_event(key.proof("POST", TOKEN_URL, iat=self.clock())))
        if not ok(response):
            raise failure("set-up: client credentials with a DPoP proof failed", response)
        bound = body(response)["access_token"]
        count = 1 + WARMUP + self.n
        events = [
            authorizer_event(
                bound, "DPoP", key.proof("GET", API_URL, access_token=bound, iat=self.clock())
            )
            for _ in range(count)
        ]
        services = self.own_services(authorizer_route_scopes=ROUTE_SCOPES)
        return self.run(
            "authorizer_dpop",
            "authorizer, DPoP",
            "authorizer",
            services=services,
            next_event=lambda i, prev: events[i],
            check=lambda r: r.get("isAuthorized") is True,
            make_floor=lambda ev, resp: floor.authorize_dpop(ev, self.public_key_of(bound)),
            floor_steps=floor.STEPS["authorize_dpop"],
            notes="a DPoP-bound token, a fresh ES256 proof per call",
        )


def _offset(next_event: Callable[[int, Any], dict], by: int) -> Callable[[int, Any], dict]:
    return lambda i, prev: next_event(i + by, prev)
