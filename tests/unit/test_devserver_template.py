"""devserver.template: template.yaml read as CloudFormation means it, for the local stack."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml

from devserver.template import (
    ROOT,
    TEMPLATE,
    Resolver,
    Route,
    create_table_requests,
    create_tables,
    functions,
    load_template,
    local_table_name,
    resources,
    table_setting,
)
from oauth21.config import TABLE_SETTINGS

# The tables and functions this file checks in detail; the template may declare more
# (every one of which is checked generically, read straight from its Resources).
TABLES = ["ClientsTable", "SigningKeysTable", "GrantsTable", "RevokedTokensTable"]
FUNCTIONS = {
    "TokenFunction": "token",
    "IntrospectFunction": "introspect",
    "MetadataFunction": "metadata",
    "RotateKeysFunction": "rotate_keys",
}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template()


def declared(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    """Resources of a type, in template order, read without devserver's help."""
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def load_text(tmp_path: Path, text: str) -> dict[str, Any]:
    path = tmp_path / "template.yaml"
    path.write_text(textwrap.dedent(text))
    return load_template(path)


# --- the YAML loader ----------------------------------------------------------


def test_short_tags_become_their_long_form(tmp_path):
    loaded = load_text(
        tmp_path,
        """
        ref: !Ref Issuer
        att: !GetAtt ClientsTable.Arn
        att_nested: !GetAtt Db.Endpoint.Address
        att_list: !GetAtt [ClientsTable, Arn]
        sub: !Sub "https://${HttpApi}.execute-api.${AWS::Region}.amazonaws.com"
        sub_list: !Sub ["${A}-x", {A: !Ref B}]
        if: !If [IsEnvelope, !Ref SigningEnvelopeKey, !Ref SigningKmsKey]
        equals: !Equals [!Ref SigningMode, envelope]
        not: !Not [!Equals [!Ref Issuer, ""]]
        condition: !Condition IsProd
        join: !Join [",", [a, b]]
        select: !Select [0, !GetAZs ""]
        plain: !!str 7
        """,
    )
    assert loaded == {
        "ref": {"Ref": "Issuer"},
        "att": {"Fn::GetAtt": ["ClientsTable", "Arn"]},
        "att_nested": {"Fn::GetAtt": ["Db", "Endpoint.Address"]},
        "att_list": {"Fn::GetAtt": ["ClientsTable", "Arn"]},
        "sub": {"Fn::Sub": "https://${HttpApi}.execute-api.${AWS::Region}.amazonaws.com"},
        "sub_list": {"Fn::Sub": ["${A}-x", {"A": {"Ref": "B"}}]},
        "if": {
            "Fn::If": [
                "IsEnvelope",
                {"Ref": "SigningEnvelopeKey"},
                {"Ref": "SigningKmsKey"},
            ]
        },
        "equals": {"Fn::Equals": [{"Ref": "SigningMode"}, "envelope"]},
        "not": {"Fn::Not": [{"Fn::Equals": [{"Ref": "Issuer"}, ""]}]},
        "condition": {"Condition": "IsProd"},
        "join": {"Fn::Join": [",", ["a", "b"]]},
        "select": {"Fn::Select": [0, {"Fn::GetAZs": ""}]},
        "plain": "7",
    }


def test_the_loader_does_not_teach_safe_load_the_tags():
    with pytest.raises(yaml.constructor.ConstructorError):
        yaml.safe_load("a: !Ref B")


def test_the_real_template_keeps_its_intrinsics(template):
    env = template["Globals"]["Function"]["Environment"]["Variables"]
    assert env["CLIENTS_TABLE"] == {"Ref": "ClientsTable"}
    assert env["SIGNING_KMS_KEY_ID"] == {"Fn::If": ["IsKmsSign", {"Ref": "SigningKmsKey"}, ""]}
    assert template["Conditions"]["HasIssuer"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "Issuer"}, ""]}]
    }
    props = template["Resources"]["InitialSigningKeys"]["Properties"]
    assert props["ServiceToken"] == {"Fn::GetAtt": ["RotateKeysFunction", "Arn"]}
    assert template["Outputs"]["ApiUrl"]["Value"] == {
        "Fn::Sub": "https://${HttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}"
    }


def test_the_default_template_is_the_repositorys():
    assert TEMPLATE == ROOT / "template.yaml"
    assert (ROOT / "Makefile").is_file() and (ROOT / "functions").is_dir()


# --- names ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("logical_id", "name", "setting"),
    [
        ("ClientsTable", "oauth21-clients", "CLIENTS_TABLE"),
        ("SigningKeysTable", "oauth21-signing-keys", "SIGNING_KEYS_TABLE"),
        ("GrantsTable", "oauth21-grants", "GRANTS_TABLE"),
        ("RevokedTokensTable", "oauth21-revoked-tokens", "REVOKED_TOKENS_TABLE"),
        ("AuthorizationCodesTable", "oauth21-authorization-codes", "AUTHORIZATION_CODES_TABLE"),
    ],
)
def test_table_names_and_settings(logical_id, name, setting):
    assert local_table_name(logical_id) == name
    assert table_setting(logical_id) == setting


def test_local_names_agree_with_the_settings_defaults(template):
    for logical_id in resources(template, "AWS::DynamoDB::Table"):
        setting = table_setting(logical_id).lower()
        assert TABLE_SETTINGS[setting] == local_table_name(logical_id)


# --- tables --------------------------------------------------------------------


def test_resources_filters_by_type(template):
    tables = resources(template, "AWS::DynamoDB::Table")
    assert list(tables) == list(declared(template, "AWS::DynamoDB::Table"))
    assert set(TABLES) <= set(tables)
    assert tables["ClientsTable"] is template["Resources"]["ClientsTable"]
    assert sorted(resources(template, "AWS::KMS::Key")) == ["EnvelopeKey", "SigningKmsKey"]
    assert resources(template, "AWS::Nothing::Here") == {}


def test_create_table_requests_cover_every_table(template):
    requests = {r["TableName"]: r for r in create_table_requests(template)}
    tables = declared(template, "AWS::DynamoDB::Table")
    assert len(requests) == len(tables)
    for logical_id, resource in tables.items():
        props = resource["Properties"]
        request = requests[local_table_name(logical_id)]
        assert request["AttributeDefinitions"] == props["AttributeDefinitions"]
        assert request["KeySchema"] == props["KeySchema"]
        assert request["BillingMode"] == "PAY_PER_REQUEST"
        ttl = props.get("TimeToLiveSpecification")
        assert request["_ttl_attribute"] == (ttl["AttributeName"] if ttl else None)
        assert request.get("GlobalSecondaryIndexes") == props.get("GlobalSecondaryIndexes")
    # The tables the current code depends on: their hash keys and TTL attributes.
    for name, key, ttl_attribute in [
        ("oauth21-clients", "client_id", None),
        ("oauth21-signing-keys", "kid", "expires_at"),
        ("oauth21-grants", "grant_id", "expires_at"),
        ("oauth21-revoked-tokens", "jti", "expires_at"),
    ]:
        request = requests[name]
        assert request["TableName"] == name
        assert [k for k in request["KeySchema"] if k["KeyType"] == "HASH"] == [
            {"AttributeName": key, "KeyType": "HASH"}
        ]
        assert {"AttributeName": key, "AttributeType": "S"} in request["AttributeDefinitions"]
        assert request["_ttl_attribute"] == ttl_attribute


def test_create_table_requests_carry_secondary_indexes():
    index = {
        "IndexName": "by_owner",
        "KeySchema": [{"AttributeName": "owner", "KeyType": "HASH"}],
        "Projection": {"ProjectionType": "ALL"},
    }
    template = {
        "Resources": {
            "ThingsTable": {
                "Type": "AWS::DynamoDB::Table",
                "Properties": {
                    "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
                    "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
                    "GlobalSecondaryIndexes": [index],
                },
            },
            "Other": {"Type": "AWS::SQS::Queue", "Properties": {}},
        }
    }
    (request,) = create_table_requests(template)
    assert request["TableName"] == "oauth21-things"
    assert request["GlobalSecondaryIndexes"] == [index]
    assert request["_ttl_attribute"] is None


class FakeDynamoDB:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def create_table(self, **kwargs: Any) -> None:
        self.calls.append(("create_table", kwargs))

    def update_time_to_live(self, **kwargs: Any) -> None:
        self.calls.append(("update_time_to_live", kwargs))


def test_create_tables_turns_ttl_on(template):
    db = FakeDynamoDB()
    names = create_tables(db, template)
    tables = declared(template, "AWS::DynamoDB::Table")
    assert names == [local_table_name(t) for t in tables]
    created = [kwargs for call, kwargs in db.calls if call == "create_table"]
    assert [c["TableName"] for c in created] == names
    assert all("_ttl_attribute" not in c for c in created)
    ttl = [kwargs for call, kwargs in db.calls if call == "update_time_to_live"]
    assert ttl == [
        {
            "TableName": local_table_name(logical_id),
            "TimeToLiveSpecification": {
                "AttributeName": r["Properties"]["TimeToLiveSpecification"]["AttributeName"],
                "Enabled": True,
            },
        }
        for logical_id, r in tables.items()
        if r["Properties"].get("TimeToLiveSpecification")
    ]
    ttl_names = [call["TableName"] for call in ttl]
    for name in ("oauth21-signing-keys", "oauth21-grants", "oauth21-revoked-tokens"):
        assert name in ttl_names
    assert "oauth21-clients" not in ttl_names
    # A second run starts from the template again (the requests were not consumed).
    again = FakeDynamoDB()
    assert create_tables(again, template) == names
    assert again.calls == db.calls


# --- functions -----------------------------------------------------------------


def test_every_function_with_its_routes(template):
    specs = functions(template)
    assert list(specs) == list(declared(template, "AWS::Serverless::Function"))
    assert set(FUNCTIONS) <= set(specs)
    assert specs["TokenFunction"].routes == [Route("POST", "/oauth/token")]
    assert specs["IntrospectFunction"].routes == [
        Route("POST", "/oauth/introspect"),
        Route("POST", "/oauth/revoke"),
    ]
    assert specs["MetadataFunction"].routes == [
        Route("GET", "/.well-known/oauth-authorization-server"),
        Route("GET", "/.well-known/jwks.json"),
    ]
    assert specs["RotateKeysFunction"].routes == []  # its schedule is no HTTP route
    for logical_id, folder in FUNCTIONS.items():
        spec = specs[logical_id]
        assert spec.logical_id == logical_id
        assert spec.code_dir == ROOT / "functions" / folder
        assert spec.handler == "app.handler"
    for spec in specs.values():
        assert (spec.code_dir / (spec.handler.rpartition(".")[0] + ".py")).is_file()


def test_every_http_event_is_a_route(template):
    specs = functions(template)
    for logical_id, resource in declared(template, "AWS::Serverless::Function").items():
        events = (resource["Properties"].get("Events") or {}).values()
        http = [e["Properties"] for e in events if e["Type"] == "HttpApi"]
        assert [(r.method, r.path) for r in specs[logical_id].routes] == [
            (e["Method"].upper(), e["Path"]) for e in http
        ]


def test_functions_get_the_global_environment(template):
    globals_env = template["Globals"]["Function"]["Environment"]["Variables"]
    for name in ("ISSUER", "SIGNING_KMS_KEY_ID", "CLIENTS_TABLE", "POWERTOOLS_LOG_LEVEL"):
        assert name in globals_env
    for logical_id, resource in declared(template, "AWS::Serverless::Function").items():
        own = (resource["Properties"].get("Environment") or {}).get("Variables") or {}
        assert functions(template)[logical_id].environment == {**globals_env, **own}


def test_own_environment_and_handler_override_the_globals():
    template = {
        "Globals": {
            "Function": {
                "Handler": "app.handler",
                "Environment": {"Variables": {"A": "global", "B": "global"}},
            }
        },
        "Resources": {
            "OwnFunction": {
                "Type": "AWS::Serverless::Function",
                "Properties": {
                    "CodeUri": "functions/own/",
                    "Handler": "main.run",
                    "Environment": {"Variables": {"B": "own", "C": {"Ref": "X"}}},
                    "Events": {
                        "Api": {
                            "Type": "HttpApi",
                            "Properties": {
                                "Method": "get",
                                "Path": "/own/{id}",
                                "Auth": {"Authorizer": "TokenAuthorizer"},
                            },
                        },
                        "Nightly": {"Type": "Schedule", "Properties": {}},
                    },
                },
            },
            "PlainFunction": {
                "Type": "AWS::Serverless::Function",
                "Properties": {"CodeUri": "functions/plain/"},
            },
        },
    }
    specs = functions(template)
    own, plain = specs["OwnFunction"], specs["PlainFunction"]
    assert own.environment == {"A": "global", "B": "own", "C": {"Ref": "X"}}
    assert own.handler == "main.run"
    assert own.routes == [Route("GET", "/own/{id}", "TokenAuthorizer")]
    assert plain.environment == {"A": "global", "B": "global"}
    assert plain.handler == "app.handler"
    assert plain.routes == []
    # The globals themselves are not changed by a function's own variables.
    assert template["Globals"]["Function"]["Environment"]["Variables"] == {
        "A": "global",
        "B": "global",
    }


def test_functions_without_globals():
    template = {
        "Resources": {
            "F": {"Type": "AWS::Serverless::Function", "Properties": {"CodeUri": "functions/f"}}
        }
    }
    spec = functions(template)["F"]
    assert (spec.handler, spec.environment, spec.routes) == ("app.handler", {}, [])


# --- Resolver ------------------------------------------------------------------


def test_refs_come_from_parameter_defaults_and_supplied_values(template):
    resolver = Resolver(template, {"ClientsTable": "oauth21-clients", "Issuer": "http://x"})
    assert resolver.value({"Ref": "SigningMode"}) == "envelope"
    assert resolver.value({"Ref": "AccessTokenLifetime"}) == 900
    assert resolver.value({"Ref": "Issuer"}) == "http://x"  # supplied beats the default
    assert resolver.value({"Ref": "ClientsTable"}) == "oauth21-clients"
    assert resolver.value("literal") == "literal"
    assert resolver.value({"A": 1, "B": 2}) == {"A": 1, "B": 2}


def test_an_unknown_ref_raises(template):
    resolver = Resolver(template, {})
    with pytest.raises(KeyError, match="no value for !Ref ClientsTable"):
        resolver.value({"Ref": "ClientsTable"})


def test_an_unsupported_function_raises(template):
    with pytest.raises(ValueError, match="cannot evaluate Fn::Sub"):
        Resolver(template, {}).value({"Fn::Sub": "${AWS::Region}"})


def test_conditions(template):
    default = Resolver(template, {})
    assert default.condition("IsEnvelope") is True
    assert default.condition("IsKmsSign") is False
    assert default.condition("IsProd") is False
    assert default.condition("HasIssuer") is False
    assert default.value({"Condition": "IsEnvelope"}) is True
    prod = Resolver(template, {"Environment": "prod", "SigningMode": "kms-sign", "Issuer": "x"})
    assert prod.condition("IsEnvelope") is False
    assert prod.condition("IsKmsSign") is True
    assert prod.condition("IsProd") is True
    assert prod.condition("HasIssuer") is True
    with pytest.raises(KeyError):
        default.condition("NoSuchCondition")


def test_equals_compares_as_strings(template):
    resolver = Resolver(template, {"N": 900})
    assert resolver.value({"Fn::Equals": [{"Ref": "N"}, "900"]}) is True
    assert resolver.value({"Fn::Equals": [{"Ref": "N"}, "901"]}) is False
    assert resolver.value({"Fn::Not": [{"Fn::Equals": [{"Ref": "N"}, 900]}]}) is False


def test_if_picks_a_branch_by_its_condition(template):
    node = {"Fn::If": ["IsEnvelope", {"Ref": "SigningEnvelopeKey"}, {"Ref": "SigningKmsKey"}]}
    refs = {"SigningEnvelopeKey": "envelope-key", "SigningKmsKey": "sign-key"}
    assert Resolver(template, refs).value(node) == "envelope-key"
    assert Resolver(template, {**refs, "SigningMode": "kms-sign"}).value(node) == "sign-key"
    # Only the chosen branch is evaluated: the other's Ref may be missing.
    assert Resolver(template, {"SigningEnvelopeKey": "only-this"}).value(node) == "only-this"


def test_the_environment_of_a_function(template):
    refs = {
        **{t: local_table_name(t) for t in TABLES},
        "EnvelopeKey": "key-1",
        "SigningKmsKey": "key-2",
        "Issuer": "http://127.0.0.1:3000",
    }
    env = Resolver(template, {**refs, **unknown_refs(template)}).environment(
        functions(template)["TokenFunction"]
    )
    assert all(isinstance(value, str) for value in env.values())
    assert (
        env.items()
        >= {
            "ISSUER": "http://127.0.0.1:3000",
            "SIGNING_MODE": "envelope",
            "ENVELOPE_KMS_KEY_ID": "key-1",
            "SIGNING_KMS_KEY_ID": "",
            "ACCESS_TOKEN_LIFETIME": "900",
            "SUPPORTED_SCOPES": "read write admin",
            "INTROSPECTION_REQUIRES_AUTH": "false",
            "CLIENTS_TABLE": "oauth21-clients",
            "SIGNING_KEYS_TABLE": "oauth21-signing-keys",
            "GRANTS_TABLE": "oauth21-grants",
            "REVOKED_TOKENS_TABLE": "oauth21-revoked-tokens",
            "POWERTOOLS_LOG_LEVEL": "INFO",
        }.items()
    )


def unknown_refs(template: dict[str, Any]) -> dict[str, str]:
    """Values for any further table a newer template adds (named as the local stack names it)."""
    return {t: local_table_name(t) for t in declared(template, "AWS::DynamoDB::Table")}


def test_the_environment_needs_every_ref(template):
    resolver = Resolver(template, {"EnvelopeKey": "key-1"})
    with pytest.raises(KeyError, match="ClientsTable"):
        resolver.environment(functions(template)["TokenFunction"])
