"""Demo data for the local stack: signing keys, clients (and later a user)."""

from __future__ import annotations

from typing import Any

from oauth21.clients import (
    CONFIDENTIAL,
    GRANT_AUTHORIZATION_CODE,
    GRANT_CLIENT_CREDENTIALS,
    GRANT_DEVICE_CODE,
    GRANT_REFRESH_TOKEN,
    PUBLIC,
    new_client,
)
from oauth21.keys import has_signing_key, rotate
from oauth21.services import Services

# The seed's integration tests use these credentials against localhost:3000.
SEED_TEST_CLIENT = ("test-client-id", "test-client-secret")
LOCAL_CALLBACK = "http://127.0.0.1:8080/callback"
DEMO_USER = ("demo@example.com", "demo-password")


def create_demo_data(services: Services | None = None) -> dict[str, Any]:
    services = services or Services()
    if not has_signing_key(services.signing_key_table, services.settings):
        rotate(services.signing_key_table, services.kms, services.settings)
    scopes = services.settings.supported_scopes
    service_client, service_secret = new_client(
        name="Demo service",
        client_type=CONFIDENTIAL,
        client_id="demo-service",
        grant_types=[GRANT_CLIENT_CREDENTIALS],
        scopes=scopes,
    )
    public_client, _ = new_client(
        name="Demo single-page app",
        client_type=PUBLIC,
        client_id="demo-spa",
        grant_types=[GRANT_AUTHORIZATION_CODE, GRANT_REFRESH_TOKEN],
        scopes=scopes,
        redirect_uris=[LOCAL_CALLBACK],
    )
    device_client, _ = new_client(
        name="Demo TV",
        client_type=PUBLIC,
        client_id="demo-tv",
        grant_types=[GRANT_DEVICE_CODE, GRANT_REFRESH_TOKEN],
        scopes=scopes,
    )
    seed_client, _ = new_client(
        name="Seed integration tests",
        client_type=CONFIDENTIAL,
        client_id=SEED_TEST_CLIENT[0],
        client_secret=SEED_TEST_CLIENT[1],
        grant_types=[GRANT_CLIENT_CREDENTIALS, GRANT_AUTHORIZATION_CODE, GRANT_REFRESH_TOKEN],
        scopes=scopes,
        redirect_uris=["http://localhost/callback"],
    )
    for client in (service_client, public_client, device_client, seed_client):
        services.client_table.create(client.to_record())
    user = services.accounts.create(DEMO_USER[0], DEMO_USER[1], "Demo User")
    return {
        "user": {"user_id": user.user_id, "email": user.email, "password": DEMO_USER[1]},
        "confidential_client": {
            "client_id": service_client.client_id,
            "client_secret": service_secret,
        },
        "public_client": {"client_id": public_client.client_id, "redirect_uri": LOCAL_CALLBACK},
        "device_client": {"client_id": device_client.client_id},
        "seed_test_client": {
            "client_id": SEED_TEST_CLIENT[0],
            "client_secret": SEED_TEST_CLIENT[1],
        },
    }
