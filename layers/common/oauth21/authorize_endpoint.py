"""The authorization endpoint: /oauth/authorize (with its login and consent forms), /oauth/logout.

The flow is stateless between pages: the login and consent forms carry the
original authorization request in hidden fields, and every step validates it
again from scratch, so a tampered field can only produce a request the
client could have sent itself. Forms are CSRF-protected (oauth21.cookies).

A code is 256 random bits, stored as its SHA-256, bound to the client,
redirect URI, PKCE challenge, user, scope and authentication time, and lives
`AUTH_CODE_LIFETIME` seconds (60 by default).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from oauth21.authorization import (
    AuthorizationRedirect,
    AuthorizationRequest,
    ErrorPage,
    origin_of,
    parse_authorization_request,
)
from oauth21.cookies import Cookies
from oauth21.errors import (
    AccessDenied,
    ConsentRequired,
    InvalidRequest,
    LoginRequired,
    TemporarilyUnavailable,
)
from oauth21.hashing import sha256_hex
from oauth21.http import Request, Response, public_base_url, require_method
from oauth21.login import BrowserLogin, SignedIn
from oauth21.pages import Pages, redirect
from oauth21.scopes import describe
from oauth21.store.errors import is_transient
from oauth21.users import Session

if TYPE_CHECKING:
    from oauth21.services import Services


class AuthorizeEndpoint:
    def __init__(self, services: Services):
        self._services = services
        self._settings = services.settings
        self._pages = Pages()
        self._browser = BrowserLogin(services, self._pages)

    # --- routes -------------------------------------------------------------

    def authorize(self, request: Request) -> Response:
        require_method(request, "GET", "POST")
        base_url = public_base_url(request, self._settings.issuer)
        cookies = Cookies(base_url)
        authz: AuthorizationRequest | None = None
        try:
            if request.method == "GET":
                pairs, form, step = request.query_pairs(), {}, None
            else:
                form = request.form(self._settings.max_body_bytes)
                # Without `step`: an authorization request sent as a form (RFC 6749 3.1).
                pairs, step = list(form.items()), form.get("step")
            if step is not None:
                refused = self._browser.check_csrf(request, form, base_url, cookies)
                if refused is not None:
                    return refused
            authz = self._parse(pairs, base_url)
            if step is None:
                return self._start(request, authz, base_url, cookies)
            if step == "login":
                return self._login(request, form, authz, base_url, cookies)
            if step == "consent":
                return self._consent(request, form, authz, base_url, cookies)
            raise ErrorPage("The form was not recognised.")
        except ErrorPage as exc:
            return self._pages.message(
                "This request can't be completed", exc.description, status=400, error=True
            )
        except AuthorizationRedirect as exc:
            return redirect(exc.location, status=303 if request.method == "POST" else 302)
        except InvalidRequest as exc:  # a malformed query string or form body
            return self._pages.message(
                "This request can't be completed", exc.description, status=400, error=True
            )
        except Exception as exc:
            if not is_transient(exc):
                raise
            return self._unavailable(request, authz)

    def _unavailable(self, request: Request, authz: AuthorizationRequest | None) -> Response:
        """A dependency failed: tell the client (RFC 6749 4.1.2.1) once it is known,
        else the user."""
        if authz is not None:
            location = authz.respond(TemporarilyUnavailable().body())
            return redirect(location, status=303 if request.method == "POST" else 302)
        return self._pages.unavailable()

    def logout(self, request: Request) -> Response:
        require_method(request, "GET")
        cookies = Cookies(public_base_url(request, self._settings.issuer))
        self._services.sessions.end(request.cookies.get(cookies.session))
        return self._pages.message(
            "You have signed out",
            "You are no longer signed in on this device.",
            cookies=[cookies.clear(cookies.session)],
        )

    # --- steps --------------------------------------------------------------

    def _parse(self, pairs: list[tuple[str, str]], base_url: str) -> AuthorizationRequest:
        return parse_authorization_request(
            pairs,
            self._services.clients.find,
            self._settings.supported_scopes,
            base_url,
        )

    def _start(
        self,
        request: Request,
        authz: AuthorizationRequest,
        base_url: str,
        cookies: Cookies,
    ) -> Response:
        session = self._browser.session(request, cookies)
        if session is not None and "login" in authz.prompts:
            session = None  # prompt=login: authenticate again
        return self._next_step(request, authz, session, base_url, cookies, status=302)

    def _next_step(
        self,
        request: Request,
        authz: AuthorizationRequest,
        session: Session | None,
        base_url: str,
        cookies: Cookies,
        *,
        status: int,
        set_cookies: Iterable[str] = (),
    ) -> Response:
        if session is None:
            if "none" in authz.prompts:
                raise authz.error(LoginRequired())
            return self._login_page(request, authz, base_url, cookies)
        if self._needs_consent(authz, session):
            if "none" in authz.prompts:
                raise authz.error(ConsentRequired())
            return self._consent_page(request, authz, session, base_url, cookies, set_cookies)
        location = authz.respond({"code": self._issue_code(authz, session)})
        return redirect(location, status=status, cookies=set_cookies)

    def _login(
        self,
        request: Request,
        form: dict[str, str],
        authz: AuthorizationRequest,
        base_url: str,
        cookies: Cookies,
    ) -> Response:
        outcome = self._browser.sign_in(request, form, cookies)
        if not isinstance(outcome, SignedIn):
            return self._login_page(
                request, authz, base_url, cookies, error=outcome, email=form.get("email", "")
            )
        return self._next_step(
            request,
            authz,
            outcome.session,
            base_url,
            cookies,
            status=303,
            set_cookies=[outcome.set_cookie],
        )

    def _consent(
        self,
        request: Request,
        form: dict[str, str],
        authz: AuthorizationRequest,
        base_url: str,
        cookies: Cookies,
    ) -> Response:
        session = self._browser.session(request, cookies)
        if session is None:
            return self._login_page(request, authz, base_url, cookies)
        decision = form.get("decision")
        if decision == "deny":
            raise authz.error(AccessDenied("The user denied the request"))
        if decision != "allow":
            raise ErrorPage("The consent form was incomplete.")
        now = int(self._services.clock())
        self._services.consents.allow(
            session.user_id, authz.client.client_id, authz.scope.split(), now
        )
        location = authz.respond({"code": self._issue_code(authz, session)})
        return redirect(location, status=303)

    # --- pieces -------------------------------------------------------------

    def _needs_consent(self, authz: AuthorizationRequest, session: Session) -> bool:
        """Consent is asked once per user, client and scope: remembered scopes
        are the union of all allowed so far. First-party clients skip it, and
        so does a request for no scope at all (there is nothing to allow)."""
        if "consent" in authz.prompts:
            return True
        if authz.client.first_party or not authz.scope:
            return False
        remembered = self._services.consents.scopes(session.user_id, authz.client.client_id)
        return not set(authz.scope.split()) <= remembered

    def _issue_code(self, authz: AuthorizationRequest, session: Session) -> str:
        code = secrets.token_urlsafe(32)
        now = int(self._services.clock())
        self._services.codes.create(
            {
                "code_hash": sha256_hex(code),
                "client_id": authz.client.client_id,
                "redirect_uri": authz.redirect_uri,
                "redirect_uri_explicit": authz.redirect_uri_explicit,
                "code_challenge": authz.code_challenge,
                "user_id": session.user_id,
                "scope": authz.scope,
                "auth_time": session.auth_time,
                "dpop_jkt": authz.dpop_jkt,
                "created_at": now,
                "expires_at": now + self._settings.auth_code_lifetime,
            }
        )
        return code

    @staticmethod
    def _form(authz: AuthorizationRequest, base_url: str) -> dict[str, Any]:
        """What the login and consent forms post, and for whom."""
        return {
            "action": f"{base_url}/oauth/authorize",
            "carried": authz.carried.items(),
            "client_name": authz.client.name or authz.client.client_id,
        }

    def _login_page(
        self,
        request: Request,
        authz: AuthorizationRequest,
        base_url: str,
        cookies: Cookies,
        *,
        error: str = "",
        email: str = "",
    ) -> Response:
        return self._browser.login_page(
            request, cookies, error=error, email=email, **self._form(authz, base_url)
        )

    def _consent_page(
        self,
        request: Request,
        authz: AuthorizationRequest,
        session: Session,
        base_url: str,
        cookies: Cookies,
        set_cookies: Iterable[str],
    ) -> Response:
        context, new_cookies = self._browser.form_context(
            request, cookies, **self._form(authz, base_url)
        )
        return self._pages.render(
            "consent.html",
            cookies=[*set_cookies, *new_cookies],
            # The consent form redirects on to the client: allow that target.
            form_targets=[origin_of(authz.redirect_uri)],
            scopes=describe(authz.scope),
            user_email=self._browser.user_email(session),
            logout_url=f"{base_url}/oauth/logout",
            user_code="",
            step="consent",
            **context,
        )
