"""Read template.yaml: tables, functions, routes and environments, as the stack declares them.

The local stack and the tests build everything from here, so they cannot
drift from what `sam deploy` creates.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"

_SHORT_TAGS = {
    "Ref": "Ref",
    "Condition": "Condition",
    "GetAtt": "Fn::GetAtt",
}


class _CfnLoader(yaml.SafeLoader):
    """A YAML loader that keeps CloudFormation's short tags as their long form."""


def _construct_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    name = _SHORT_TAGS.get(suffix, f"Fn::{suffix}")
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_CfnLoader.add_multi_constructor("!", _construct_tag)


def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    with open(path, encoding="utf-8") as handle:
        return yaml.load(handle, Loader=_CfnLoader)


def local_table_name(logical_id: str) -> str:
    """ClientsTable -> oauth21-clients: the local stack's (and `oauthctl`'s default) names."""
    stem = logical_id.removesuffix("Table")
    return "oauth21-" + re.sub(r"(?<!^)(?=[A-Z])", "-", stem).lower()


def table_setting(logical_id: str) -> str:
    """ClientsTable -> CLIENTS_TABLE: the environment variable that names it."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", logical_id).upper()


def resources(template: Mapping[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {
        name: resource
        for name, resource in template["Resources"].items()
        if resource.get("Type") == kind
    }


def create_table_requests(template: Mapping[str, Any]) -> list[dict[str, Any]]:
    """CreateTable arguments for every table, under its local name."""
    requests = []
    for logical_id, resource in resources(template, "AWS::DynamoDB::Table").items():
        props = resource["Properties"]
        request: dict[str, Any] = {
            "TableName": local_table_name(logical_id),
            "AttributeDefinitions": props["AttributeDefinitions"],
            "KeySchema": props["KeySchema"],
            "BillingMode": "PAY_PER_REQUEST",
        }
        if props.get("GlobalSecondaryIndexes"):
            request["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
        ttl = props.get("TimeToLiveSpecification")
        request["_ttl_attribute"] = ttl["AttributeName"] if ttl else None
        requests.append(request)
    return requests


def create_tables(dynamodb: Any, template: Mapping[str, Any] | None = None) -> list[str]:
    """Create the template's tables (with TTL) on `dynamodb`; return their names."""
    names = []
    for request in create_table_requests(template or load_template()):
        ttl_attribute = request.pop("_ttl_attribute")
        dynamodb.create_table(**request)
        if ttl_attribute:
            dynamodb.update_time_to_live(
                TableName=request["TableName"],
                TimeToLiveSpecification={"AttributeName": ttl_attribute, "Enabled": True},
            )
        names.append(request["TableName"])
    return names


@dataclass
class Route:
    method: str
    path: str
    authorizer: str | None = None


@dataclass
class FunctionSpec:
    logical_id: str
    code_dir: Path
    handler: str
    environment: dict[str, Any]
    routes: list[Route] = field(default_factory=list)


def _merge_env(*blocks: Mapping[str, Any] | None) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for block in blocks:
        merged.update(((block or {}).get("Environment") or {}).get("Variables") or {})
    return merged


def functions(template: Mapping[str, Any]) -> dict[str, FunctionSpec]:
    """Every function with its code folder, handler, environment and HTTP routes."""
    defaults = template.get("Globals", {}).get("Function", {})
    specs = {}
    for logical_id, resource in resources(template, "AWS::Serverless::Function").items():
        props = resource["Properties"]
        routes = []
        for event in (props.get("Events") or {}).values():
            if event.get("Type") != "HttpApi":
                continue
            event_props = event["Properties"]
            auth = (event_props.get("Auth") or {}).get("Authorizer")
            routes.append(Route(event_props["Method"].upper(), event_props["Path"], auth))
        specs[logical_id] = FunctionSpec(
            logical_id=logical_id,
            code_dir=ROOT / props["CodeUri"],
            handler=props.get("Handler", defaults.get("Handler", "app.handler")),
            environment=_merge_env(defaults, props),
            routes=routes,
        )
    return specs


def http_api_authorizers(template: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The HTTP API's Lambda authorizers, by name."""
    apis = resources(template, "AWS::Serverless::HttpApi")
    found: dict[str, dict[str, Any]] = {}
    for api in apis.values():
        auth = (api.get("Properties") or {}).get("Auth") or {}
        found.update(auth.get("Authorizers") or {})
    return found


class Resolver:
    """Evaluates the intrinsic functions environment values use, for the local stack."""

    def __init__(self, template: Mapping[str, Any], refs: Mapping[str, Any]):
        self._template = template
        self._refs = dict(refs)
        for name, param in (template.get("Parameters") or {}).items():
            self._refs.setdefault(name, param.get("Default", ""))

    def condition(self, name: str) -> bool:
        return bool(self.value(self._template["Conditions"][name]))

    def value(self, node: Any) -> Any:
        if not isinstance(node, dict) or len(node) != 1:
            return node
        ((fn, arg),) = node.items()
        if fn == "Ref":
            if arg not in self._refs:
                raise KeyError(f"the local stack has no value for !Ref {arg}")
            return self._refs[arg]
        if fn == "Fn::If":
            cond, yes, no = arg
            return self.value(yes if self.condition(cond) else no)
        if fn == "Fn::Equals":
            return str(self.value(arg[0])) == str(self.value(arg[1]))
        if fn == "Fn::Not":
            return not self.value(arg[0])
        if fn == "Condition":
            return self.condition(arg)
        raise ValueError(f"the local stack cannot evaluate {fn}")

    def environment(self, spec: FunctionSpec) -> dict[str, str]:
        return {k: str(self.value(v)) for k, v in spec.environment.items()}


def http_api_cors(template: Mapping[str, Any], resolver: Resolver) -> dict[str, Any] | None:
    """The HTTP API's CorsConfiguration, evaluated (None when there is none)."""
    for api in resources(template, "AWS::Serverless::HttpApi").values():
        cors = (api.get("Properties") or {}).get("CorsConfiguration")
        if cors:
            evaluated = {k: resolver.value(v) for k, v in cors.items()}
            origins = evaluated.get("AllowOrigins", [])
            if isinstance(origins, str):
                evaluated["AllowOrigins"] = [o.strip() for o in origins.split(",")]
            return evaluated
    return None
