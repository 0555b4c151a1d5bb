"""Personal access tokens: long-lived access tokens a user makes for scripts and CLIs.

A personal access token is an ordinary access token (an RFC 9068 JWT) under a
grant of kind "personal" that holds its name, scopes and expiry; the authorizer
and introspection treat it like any access token, and revoking (deleting) it
revokes its grant. Its `client_id` is `personal-access-token`: it belongs to
its user, not to an OAuth client. The token is shown once; only the grant is
stored.

API (behind the Lambda authorizer, with the user's access token):
- `POST /oauth/personal-access-tokens` `{"name", "scopes", "expires_in"}`: 201
  with `access_token`, `token_type`, `expires_in`, `id`, `name`, `scopes`.
  Scopes may not exceed those of the token used to ask; `expires_in` is at most
  `PAT_MAX_LIFETIME` (default `PAT_DEFAULT_LIFETIME`).
- `GET /oauth/personal-access-tokens`: the user's live tokens, without values.
- `DELETE /oauth/personal-access-tokens/{id}`: revokes one (204).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from oauth21.errors import NO_STORE, InvalidRequest, InvalidScope, NotFound, OAuthError
from oauth21.http import Request, Response, json_response, public_base_url
from oauth21.tokens import new_grant_key

if TYPE_CHECKING:
    from oauth21.services import Services

PAT_CLIENT_ID = "personal-access-token"
KIND = "personal"
MAX_NAME = 100


class NoUser(OAuthError):
    error = "invalid_token"
    status = 403
    default_description = "This token was not issued to a user (client credentials have none)"


def create_personal_token(
    services: Services,
    *,
    user_id: str,
    name: str,
    scopes: Iterable[str],
    expires_in: int | None,
    issuer: str,
    allowed: Iterable[str],
) -> dict[str, Any]:
    """Mint and record one; the body of the 201 response (the only time the token is shown)."""
    settings = services.settings
    wanted = list(dict.fromkeys(scopes))
    if not wanted:
        raise InvalidScope("Ask for at least one scope")
    outside = [s for s in wanted if s not in set(allowed) or s not in settings.supported_scopes]
    if outside:
        raise InvalidScope(f"Not allowed: {' '.join(outside)[:100]}")
    lifetime = settings.pat_default_lifetime if expires_in is None else expires_in
    if not 60 <= lifetime <= settings.pat_max_lifetime:
        raise InvalidRequest(f"expires_in must be between 60 and {settings.pat_max_lifetime}")
    now = int(services.clock())
    _, grant_id = new_grant_key()  # the key is never needed: a PAT has no refresh token
    scope = " ".join(wanted)
    access = services.access_tokens.issue(
        issuer=issuer,
        subject=user_id,
        client_id=PAT_CLIENT_ID,
        scope=scope,
        lifetime=lifetime,
        grant_id=grant_id,
    )
    services.grants.create(
        {
            "grant_id": grant_id,
            "kind": KIND,
            "client_id": PAT_CLIENT_ID,
            "user_id": user_id,
            "name": name,
            "scope": scope,
            "scopes": wanted,
            "created_at": now,
            "expires_at": now + lifetime,
        }
    )
    return {
        "access_token": access.value,
        "token_type": "Bearer",
        "expires_in": lifetime,
        "id": grant_id,
        "name": name,
        "scopes": wanted,
    }


def caller(request: Request) -> Mapping[str, Any]:
    """The authorizer's context; 403 for a token with no user."""
    if not request.authorizer.get("user_id"):
        raise NoUser()
    return request.authorizer


def _json_body(request: Request, max_bytes: int) -> dict[str, Any]:
    if (request.header("content-type") or "").split(";")[0].strip().lower() != "application/json":
        raise InvalidRequest("The request body must be application/json")
    if len(request.body) > max_bytes:
        raise InvalidRequest(f"The request body is larger than {max_bytes} bytes")
    try:
        data = json.loads(request.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise InvalidRequest("The request body is not valid JSON") from None
    if not isinstance(data, dict):
        raise InvalidRequest("The request body must be a JSON object")
    return data


class PersonalTokensEndpoint:
    def __init__(self, services: Services):
        self._services = services

    def handle(self, request: Request) -> Response:
        context = caller(request)
        user_id = context["user_id"]
        if request.method == "POST":
            return self._create(request, context)
        if request.method == "GET":
            grants = self._services.grants.by_user(user_id, KIND)
            now = self._services.clock()
            return json_response(
                [
                    {
                        "id": g["grant_id"],
                        "name": g.get("name", ""),
                        "scopes": g.get("scopes", []),
                        "created_at": g["created_at"],
                        "expires_at": g["expires_at"],
                    }
                    for g in grants
                    if "revoked_at" not in g and g["expires_at"] > now
                ]
            )
        if request.method == "DELETE":
            return self._delete(user_id, request.path_parameters.get("id", ""))
        raise InvalidRequest("Use GET, POST or DELETE")

    def _create(self, request: Request, context: Mapping[str, Any]) -> Response:
        data = _json_body(request, self._services.settings.max_body_bytes)
        name, scopes, expires_in = data.get("name"), data.get("scopes"), data.get("expires_in")
        if not isinstance(name, str) or not 1 <= len(name.strip()) <= MAX_NAME:
            raise InvalidRequest(f"name must be a string of 1 to {MAX_NAME} characters")
        if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
            raise InvalidRequest("scopes must be a list of strings")
        if expires_in is not None and (
            isinstance(expires_in, bool) or not isinstance(expires_in, int)
        ):
            raise InvalidRequest("expires_in must be a whole number of seconds")
        body = create_personal_token(
            self._services,
            user_id=context["user_id"],
            name=name.strip(),
            scopes=scopes,
            expires_in=expires_in,
            issuer=public_base_url(request, self._services.settings.issuer),
            allowed=str(context.get("scope", "")).split(),
        )
        return json_response(body, status=201)

    def _delete(self, user_id: str, grant_id: str) -> Response:
        grant = self._services.grants.get(grant_id) if 0 < len(grant_id) <= 64 else None
        if grant is None or grant.get("kind") != KIND or grant.get("user_id") != user_id:
            raise NotFound("No such personal access token")
        self._services.grants.revoke(grant_id, "deleted_by_user", int(self._services.clock()))
        return {"statusCode": 204, "headers": dict(NO_STORE)}
