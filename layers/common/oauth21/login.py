"""Signing in from a browser: the pieces the authorization and device pages share.

The login form, the session cookie, CSRF checks, and the failure pages. Each
page flow (oauth21.authorize_endpoint, oauth21.device) decides what comes
after a successful login; this module only gets the user there.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from oauth21.cookies import Cookies, CsrfFailure
from oauth21.http import Request, Response
from oauth21.observability import event
from oauth21.pages import Pages
from oauth21.users import LoginThrottled, Session

if TYPE_CHECKING:
    from oauth21.services import Services

WRONG_CREDENTIALS = "Wrong email or password."
THROTTLED = "Too many attempts. Wait a few minutes, then try again."


@dataclass(frozen=True)
class SignedIn:
    session: Session
    set_cookie: str


class BrowserLogin:
    def __init__(self, services: Services, pages: Pages):
        self._services = services
        self.pages = pages

    def session(self, request: Request, cookies: Cookies) -> Session | None:
        """The signed-in user's session; none for a user deleted since signing in."""
        session = self._services.sessions.find(request.cookies.get(cookies.session))
        if session is None or self._services.user_table.get(session.user_id) is None:
            return None
        return session

    def check_csrf(
        self, request: Request, form: Mapping[str, str], base_url: str, cookies: Cookies
    ) -> Response | None:
        """None when the form is genuine; otherwise the page to show instead."""
        try:
            cookies.check_csrf(request, form.get("csrf_token"), base_url)
            return None
        except CsrfFailure:
            event("form refused", reason="csrf", source_ip=request.source_ip)
            return self.pages.message(
                "Please try again",
                "This form expired or was sent from another site. Go back and try again.",
                status=403,
                error=True,
            )

    def form_context(
        self,
        request: Request,
        cookies: Cookies,
        *,
        action: str,
        carried: Iterable[tuple[str, str]],
        client_name: str,
    ) -> tuple[dict[str, Any], list[str]]:
        token, new_cookies = cookies.csrf_token(request)
        context = {
            "action": action,
            "csrf_token": token,
            "carried": sorted(carried),
            "client_name": client_name,
        }
        return context, new_cookies

    def login_page(
        self,
        request: Request,
        cookies: Cookies,
        *,
        action: str,
        carried: Iterable[tuple[str, str]],
        client_name: str,
        error: str = "",
        email: str = "",
    ) -> Response:
        context, new_cookies = self.form_context(
            request, cookies, action=action, carried=carried, client_name=client_name
        )
        return self.pages.render(
            "login.html",
            status=400 if error else 200,
            cookies=new_cookies,
            error=error,
            email=email,
            **context,
        )

    def sign_in(
        self, request: Request, form: Mapping[str, str], cookies: Cookies
    ) -> SignedIn | str:
        """A new session for valid credentials, or the message to show."""
        email = form.get("email", "")[:320]
        password = form.get("password", "")
        if not email or not password:
            return WRONG_CREDENTIALS
        try:
            user = self._services.accounts.login(email, password, request.source_ip)
        except LoginThrottled:
            event("login refused", reason="throttled", source_ip=request.source_ip)
            return THROTTLED
        if user is None:
            event("login refused", reason="wrong_credentials", source_ip=request.source_ip)
            return WRONG_CREDENTIALS
        cookie, session = self._services.sessions.start(user.user_id)
        lifetime = self._services.sessions.lifetime
        return SignedIn(session, cookies.make(cookies.session, cookie, lifetime))

    def user_email(self, session: Session) -> str:
        user = self._services.user_table.get(session.user_id)
        return str(user["email"]) if user else ""
