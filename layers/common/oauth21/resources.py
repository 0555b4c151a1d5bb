"""GET /api/user: a sample resource behind the Lambda authorizer.

It trusts the authorizer's context (API Gateway only calls it after the
authorizer allowed the request) and answers with the token's user.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from oauth21.errors import NotFound
from oauth21.http import Request, Response, json_response, require_method
from oauth21.personal_tokens import caller
from oauth21.users import User

if TYPE_CHECKING:
    from oauth21.services import Services


def user_profile(services: Services, request: Request) -> Response:
    require_method(request, "GET")
    user_id = caller(request)["user_id"]
    record = services.user_table.get(user_id)
    if record is None:
        raise NotFound("The token's user no longer exists")
    return json_response(User.from_record(record).public_view())
