"""openapi.yaml describes exactly the routes of template.yaml, and is valid OpenAPI 3.1."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from devserver.template import ROOT, functions, load_template

OPENAPI = ROOT / "openapi.yaml"
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    with open(OPENAPI, encoding="utf-8") as handle:
        loaded: dict[str, Any] = yaml.safe_load(handle)
    return loaded


def template_routes() -> dict[str, str | None]:
    """`METHOD /path` of every HttpApi event, with the authorizer that guards it."""
    return {
        f"{route.method} {route.path}": route.authorizer
        for spec in functions(load_template()).values()
        for route in spec.routes
    }


def documented_operations(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        f"{method.upper()} {path}": operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in HTTP_METHODS
    }


def test_every_template_route_is_documented(document):
    missing = sorted(set(template_routes()) - set(documented_operations(document)))
    assert not missing, f"routes of template.yaml missing from openapi.yaml: {missing}"


def test_every_documented_operation_is_a_template_route(document):
    extra = sorted(set(documented_operations(document)) - set(template_routes()))
    assert not extra, f"operations of openapi.yaml that template.yaml has no route for: {extra}"


def test_routes_behind_the_authorizer_document_it(document):
    """Authorizer routes need a token and answer API Gateway's 401 and 403; no other route does."""
    operations = documented_operations(document)
    for key, authorizer in template_routes().items():
        operation = operations.get(key)
        if operation is None:
            continue  # reported by the tests above
        schemes = {name for requirement in operation.get("security", []) for name in requirement}
        if authorizer:
            assert "bearerAuth" in schemes, key
            assert {} not in operation.get("security", []), f"{key}: the token is not optional"
            assert {"401", "403"} <= set(operation["responses"]), key
        else:
            assert "bearerAuth" not in schemes, key


def test_every_operation_documents_server_failures(document):
    """500 everywhere; 503 wherever the function calls AWS (all but the metadata document)."""
    for key, operation in documented_operations(document).items():
        no_aws = key == "GET /.well-known/oauth-authorization-server"
        expected = {"500"} if no_aws else {"500", "503"}
        assert expected <= set(operation["responses"]), key


def test_openapi_yaml_is_valid_openapi_3_1(document):
    assert str(document.get("openapi", "")).startswith("3.1."), "openapi.yaml must be OpenAPI 3.1"
    try:
        from openapi_spec_validator import OpenAPIV31SpecValidator
    except ImportError:  # not installed: at least the structure and every $ref
        _check_structure(document)
        return
    errors = [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in OpenAPIV31SpecValidator(document).iter_errors()
    ]
    assert not errors, "\n".join(errors)


def _check_structure(document: dict[str, Any]) -> None:
    assert document["info"]["title"] and document["info"]["version"]
    for key, operation in documented_operations(document).items():
        assert operation.get("responses"), f"{key} has no responses"
        for status in operation["responses"]:
            assert status == "default" or (len(status) == 3 and status[0] in "12345"), key
    for reference in _references(document):
        assert reference.startswith("#/"), reference
        node: Any = document
        for part in reference[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            assert isinstance(node, dict) and part in node, f"unresolved $ref {reference}"
            node = node[part]


def _references(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [ref for value in node.values() for ref in _references(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in _references(value)]
    return []
