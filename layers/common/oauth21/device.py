"""The device authorization grant (RFC 8628): the device authorization endpoint
and the verification page. Polling is `oauth21.grants.device_code`.

A device code is 256 random bits, stored hashed. A user code is 8 letters
from BCDFGHJKLMNPQRSTVWXZ (no vowels, no look-alikes: 20^8 = 2.6e10 codes),
shown as XXXX-XXXX, unique while alive, and typed case-insensitively with
the dash and spaces optional. Both expire after `DEVICE_CODE_LIFETIME` (600 s;
a DynamoDB TTL, and an expiry check on every read).

The verification page follows RFC 8628 section 5.4 (remote phishing): even
with `verification_uri_complete` the user confirms, after seeing which client
asks for which scopes and the code its device shows. Wrong user codes are
counted per source address (`USER_CODE_ATTEMPT_LIMIT` per
`LOGIN_WINDOW_SECONDS`), and a code that was approved, denied or expired
cannot be used again.
"""

from __future__ import annotations

import re
import secrets
from typing import TYPE_CHECKING, Any

from oauth21.clients import GRANT_DEVICE_CODE
from oauth21.cookies import Cookies
from oauth21.errors import InvalidRequest, UnauthorizedClient
from oauth21.hashing import sha256_hex
from oauth21.http import Request, Response, json_response, public_base_url, require_method
from oauth21.login import BrowserLogin, SignedIn
from oauth21.observability import event
from oauth21.pages import Pages
from oauth21.scopes import describe, grant_scope
from oauth21.store.device_codes import PENDING, NotPending, UserCodeTaken
from oauth21.store.errors import is_transient
from oauth21.users import Session

if TYPE_CHECKING:
    from oauth21.services import Services

USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"
_TYPED = re.compile(r"[\s-]+")
BAD_CODE = "That code is not valid, or it has expired. Check your device and try again."
TOO_MANY = "Too many wrong codes. Wait a few minutes, then try again."


def new_user_code() -> str:
    return "".join(secrets.choice(USER_CODE_ALPHABET) for _ in range(8))


def shown(user_code: str) -> str:
    return f"{user_code[:4]}-{user_code[4:]}"


def normalize_user_code(typed: str) -> str | None:
    """What the user typed, as stored: upper case, no dash or spaces; None if malformed."""
    letters = _TYPED.sub("", typed)  # any spaces, a phone's no-break ones too
    if not letters.isascii():  # Unicode upper-casing would turn "ß" into "SS"
        return None
    code = letters.upper()
    if len(code) != 8 or any(c not in USER_CODE_ALPHABET for c in code):
        return None
    return code


class DeviceAuthorizationEndpoint:
    """POST /oauth/device/code (RFC 8628 3.1, 3.2)."""

    def __init__(self, services: Services):
        self._services = services

    def handle(self, request: Request) -> Response:
        require_method(request, "POST")
        services, settings = self._services, self._services.settings
        form = request.form(settings.max_body_bytes)
        client = services.clients.authenticate(request.client_credentials(form))
        if not client.allows_grant(GRANT_DEVICE_CODE):
            raise UnauthorizedClient("This client may not use the device authorization grant")
        scope = grant_scope(form.get("scope"), client.scopes, settings.supported_scopes)
        now = int(services.clock())
        device_code = secrets.token_urlsafe(32)
        device = {
            "code_hash": sha256_hex(device_code),
            "kind": "device",
            "client_id": client.client_id,
            "scope": scope,
            "status": PENDING,
            "poll_interval": settings.device_poll_interval,
            "next_poll_at": now,
            "created_at": now,
            "expires_at": now + settings.device_code_lifetime,
        }
        for _ in range(3):
            user_code = new_user_code()
            try:
                services.device_codes.create(device, user_code)
                break
            except UserCodeTaken:
                continue
        else:  # three collisions in 2.6e10 codes: the table is being flooded
            raise InvalidRequest("Could not allocate a user code; retry")
        base_url = public_base_url(request, settings.issuer)
        verification_uri = f"{base_url}/oauth/device"
        return json_response(
            {
                "device_code": device_code,
                "user_code": shown(user_code),
                "verification_uri": verification_uri,
                "verification_uri_complete": f"{verification_uri}?user_code={shown(user_code)}",
                "expires_in": settings.device_code_lifetime,
                "interval": settings.device_poll_interval,
            }
        )


class VerificationPage:
    """GET/POST /oauth/device: enter the code, sign in, confirm (RFC 8628 3.3)."""

    def __init__(self, services: Services):
        self._services = services
        self._pages = Pages()
        self._browser = BrowserLogin(services, self._pages)

    def handle(self, request: Request) -> Response:
        try:
            return self._handle(request)
        except Exception as exc:
            if not is_transient(exc):
                raise
            return self._pages.unavailable()

    def _handle(self, request: Request) -> Response:
        require_method(request, "GET", "POST")
        base_url = public_base_url(request, self._services.settings.issuer)
        cookies = Cookies(base_url)
        try:
            if request.method == "GET":
                typed = request.query().get("user_code", "")
                return self._entry_page(request, cookies, base_url, typed=typed[:32])
            form = request.form(self._services.settings.max_body_bytes)
        except InvalidRequest:
            return self._entry_page(request, cookies, base_url, error=BAD_CODE)
        refused = self._browser.check_csrf(request, form, base_url, cookies)
        if refused is not None:
            return refused
        typed = form.get("user_code", "")[:32]
        code = normalize_user_code(typed)
        device = self._find(request, code)
        if isinstance(device, str):
            return self._entry_page(request, cookies, base_url, typed=typed, error=device)
        assert code is not None
        step = form.get("step")
        if step == "login":
            outcome = self._browser.sign_in(request, form, cookies)
            if not isinstance(outcome, SignedIn):
                return self._login_page(
                    request, cookies, base_url, code, device, outcome, form.get("email", "")
                )
            return self._confirm_page(
                request, cookies, base_url, code, device, outcome.session, [outcome.set_cookie]
            )
        session = self._browser.session(request, cookies)
        if session is None:
            return self._login_page(request, cookies, base_url, code, device)
        if step == "confirm":
            return self._decide(device, session, form.get("decision"))
        return self._confirm_page(request, cookies, base_url, code, device, session, [])

    def _find(self, request: Request, code: str | None) -> dict[str, Any] | str:
        """The pending, unexpired device authorization, or the message to show.

        Each lookup reserves a place under the address's limit first; a code
        that turns out right gives it back, so only wrong codes count.
        """
        services, settings = self._services, self._services.settings
        now = int(services.clock())
        window = settings.login_window_seconds
        start = now - now % window
        key = f"user-code:{request.source_ip}"
        if not services.throttle.reserve(
            key, settings.user_code_attempt_limit, start, start + 2 * window
        ):
            event("user code refused", reason="throttled", source_ip=request.source_ip)
            return TOO_MANY
        device = services.device_codes.by_user_code(code) if code else None
        if device is None or device["status"] != PENDING or device["expires_at"] <= now:
            event("user code refused", reason="invalid", source_ip=request.source_ip)
            return BAD_CODE
        services.throttle.release(key, start)
        return device

    def _decide(self, device: dict[str, Any], session: Session, decision: str | None) -> Response:
        if decision not in ("allow", "deny"):
            return self._pages.message(
                "This request can't be completed",
                "The form was incomplete.",
                status=400,
                error=True,
            )
        try:
            self._services.device_codes.decide(
                device["code_hash"],
                decision == "allow",
                session.user_id,
                session.auth_time,
                int(self._services.clock()),
            )
        except NotPending:
            return self._pages.message(
                "This code was already used", BAD_CODE, status=400, error=True
            )
        if decision == "allow":
            return self._pages.message(
                "Your device is connected", "You can close this page and return to your device."
            )
        return self._pages.message(
            "Access denied", "Your device was not given access. You can close this page."
        )

    def _form(self, base_url: str, code: str, device: dict[str, Any]) -> dict[str, Any]:
        """What the login and confirmation forms post, and for whom."""
        client = self._services.clients.find(device["client_id"])
        return {
            "action": f"{base_url}/oauth/device",
            "carried": [("user_code", code)],
            "client_name": (client.name or client.client_id) if client else device["client_id"],
        }

    def _entry_page(
        self, request: Request, cookies: Cookies, base_url: str, *, typed: str = "", error: str = ""
    ) -> Response:
        token, new_cookies = cookies.csrf_token(request)
        return self._pages.render(
            "device.html",
            status=400 if error else 200,
            cookies=new_cookies,
            action=f"{base_url}/oauth/device",
            csrf_token=token,
            carried=[],
            typed=typed,
            error=error,
        )

    def _login_page(
        self,
        request: Request,
        cookies: Cookies,
        base_url: str,
        code: str,
        device: dict[str, Any],
        error: str = "",
        email: str = "",
    ) -> Response:
        return self._browser.login_page(
            request, cookies, error=error, email=email, **self._form(base_url, code, device)
        )

    def _confirm_page(
        self,
        request: Request,
        cookies: Cookies,
        base_url: str,
        code: str,
        device: dict[str, Any],
        session: Session,
        set_cookies: list[str],
    ) -> Response:
        context, new_cookies = self._browser.form_context(
            request, cookies, **self._form(base_url, code, device)
        )
        return self._pages.render(
            "consent.html",
            cookies=[*set_cookies, *new_cookies],
            scopes=describe(device["scope"]),
            user_email=self._browser.user_email(session),
            logout_url=f"{base_url}/oauth/logout",
            user_code=shown(code),
            step="confirm",
            **context,
        )
