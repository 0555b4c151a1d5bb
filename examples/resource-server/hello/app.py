"""GET /hello: answers with what the oauth21 authorizer put in the request context."""

import json


def handler(event, context):
    claims = event["requestContext"]["authorizer"]["lambda"]
    body = {"hello": claims["sub"], "client_id": claims["client_id"], "scope": claims["scope"]}
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json", "Cache-Control": "no-store"},
        "body": json.dumps(body),
    }
