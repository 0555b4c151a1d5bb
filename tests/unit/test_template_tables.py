"""Every table is on-demand with point-in-time recovery, and expiring items have a TTL."""

from __future__ import annotations

from devserver.template import load_template, resources

# Tables whose items never expire on their own.
PERMANENT = {"ClientsTable", "UsersTable", "ConsentsTable"}


def test_every_table_is_on_demand_with_point_in_time_recovery():
    for name, table in resources(load_template(), "AWS::DynamoDB::Table").items():
        props = table["Properties"]
        assert props["BillingMode"] == "PAY_PER_REQUEST", name
        assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}, (
            name
        )


def test_expiring_items_have_a_ttl_attribute():
    for name, table in resources(load_template(), "AWS::DynamoDB::Table").items():
        ttl = table["Properties"].get("TimeToLiveSpecification")
        if name in PERMANENT:
            assert ttl is None, name
        else:
            assert ttl == {"AttributeName": "expires_at", "Enabled": True}, name
