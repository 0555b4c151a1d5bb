"""examples/resource-server attaches the exported authorizer the way this stack does."""

from __future__ import annotations

from devserver.lambdas import load_module
from devserver.template import ROOT, http_api_authorizers, load_template

EXAMPLE = ROOT / "examples" / "resource-server"


def test_the_example_uses_the_exported_authorizer_like_the_stack():
    example = http_api_authorizers(load_template(EXAMPLE / "template.yaml"))["OAuth21"]
    ours = http_api_authorizers(load_template())["OAuth21Authorizer"]
    assert example["FunctionArn"] == {
        "Fn::ImportValue": {"Fn::Sub": "${AuthStackName}-AuthorizerArn"}
    }
    for setting in ("AuthorizerPayloadFormatVersion", "EnableSimpleResponses"):
        assert example[setting] == ours[setting]
    assert example["Identity"]["Headers"] == ours["Identity"]["Headers"]
    outputs = load_template()["Outputs"]
    assert outputs["AuthorizerArn"]["Export"]["Name"] == {
        "Fn::Sub": "${AWS::StackName}-AuthorizerArn"
    }


def test_the_example_handler_reads_the_authorizer_context():
    handler = load_module(EXAMPLE / "hello").handler
    event = {
        "requestContext": {
            "authorizer": {"lambda": {"sub": "u1", "client_id": "c1", "scope": "read", "jti": "j"}}
        }
    }
    response = handler(event, None)
    assert response["statusCode"] == 200
    assert '"hello": "u1"' in response["body"]
