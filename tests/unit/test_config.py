"""Settings from the environment."""

from __future__ import annotations

import pytest

from devserver.template import load_template, local_table_name, resources, table_setting
from oauth21.config import TABLE_SETTINGS, SettingsError, load_settings


def test_defaults_suit_the_local_stack():
    settings = load_settings({})
    assert settings.signing_mode == "envelope"
    assert settings.access_token_lifetime == 900
    assert settings.supported_scopes == ("read", "write", "admin")
    assert settings.introspection_requires_auth is False


def test_values_are_parsed_by_type():
    settings = load_settings(
        {
            "ACCESS_TOKEN_LIFETIME": "600",
            "INTROSPECTION_REQUIRES_AUTH": "true",
            "SUPPORTED_SCOPES": "read, profile",
            "AWS_READ_TIMEOUT": "1.5",
        }
    )
    assert settings.access_token_lifetime == 600
    assert settings.introspection_requires_auth is True
    assert settings.supported_scopes == ("read", "profile")
    assert settings.aws_read_timeout == 1.5


@pytest.mark.parametrize(
    "environ",
    [
        {"ACCESS_TOKEN_LIFETIME": "soon"},
        {"INTROSPECTION_REQUIRES_AUTH": "maybe"},
        {"SIGNING_MODE": "hmac"},
    ],
)
def test_bad_values_are_refused_at_start(environ):
    with pytest.raises(SettingsError):
        load_settings(environ)


def test_every_template_table_has_a_setting_whose_default_is_its_local_name():
    tables = resources(load_template(), "AWS::DynamoDB::Table")
    assert {table_setting(t).lower() for t in tables} == set(TABLE_SETTINGS)
    for logical_id in tables:
        assert TABLE_SETTINGS[table_setting(logical_id).lower()] == local_table_name(logical_id)


def test_every_table_setting_is_in_the_functions_environment():
    template = load_template()
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    for logical_id in resources(template, "AWS::DynamoDB::Table"):
        assert variables[table_setting(logical_id)] == {"Ref": logical_id}
