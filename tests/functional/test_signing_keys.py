"""Signing keys: envelope mode, rotation, publication, kms-sign mode."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives import serialization

from oauth21.clients import GRANT_CLIENT_CREDENTIALS
from oauth21.config import load_settings
from oauth21.keys import PublicKeys, Signer, rotate, verify_jws
from oauth21.services import Services
from oauth21.store.signing_keys import RotationConflict
from tests.support import api_event, basic, body, jwt_parts


def statuses(services):
    return sorted((r["status"], r["kid"]) for r in services.signing_key_table.all())


def test_private_keys_are_stored_encrypted_with_the_kid_as_context(services, aws):
    for record in services.signing_key_table.all():
        blob = record["encrypted_private_key"]
        with pytest.raises(ValueError):
            serialization.load_der_private_key(blob, password=None)
        plain = aws.kms.decrypt(CiphertextBlob=blob, EncryptionContext={"kid": record["kid"]})
        assert serialization.load_der_private_key(plain["Plaintext"], password=None)
        with pytest.raises(aws.kms.exceptions.InvalidCiphertextException):
            aws.kms.decrypt(CiphertextBlob=blob, EncryptionContext={"kid": "another"})


def test_rotation_promotes_next_and_retires_current(services, aws, clock):
    before = dict((s, k) for s, k in statuses(services))
    clock.advance(86400)
    result = rotate(services.signing_key_table, aws.kms, services.settings, now=clock())
    after = {r["kid"]: r for r in services.signing_key_table.all()}
    assert result["current"] == before["next"]
    assert after[before["next"]]["status"] == "current"
    retired = after[before["current"]]
    assert retired["status"] == "retired"
    lifetime = services.settings.max_token_lifetime + services.settings.key_publication_margin
    assert retired["expires_at"] == int(clock()) + lifetime
    assert after[result["next"]]["status"] == "next"


def test_retired_keys_stay_published_until_their_tokens_expire(services, aws, clock):
    old_current = dict(statuses(services))["current"]
    rotate(services.signing_key_table, aws.kms, services.settings, now=clock())
    keys = PublicKeys(services.signing_key_table, services.settings, clock).load()
    assert old_current in {k["kid"] for k in keys.jwks()["keys"]}
    clock.advance(services.settings.max_token_lifetime + services.settings.key_publication_margin)
    keys.load()
    assert old_current not in {k["kid"] for k in keys.jwks()["keys"]}
    assert keys.find(old_current) is None


def test_a_warm_signer_follows_a_rotation_without_calling_kms(services, aws, clock, aws_calls):
    signer = Signer(services.signing_key_table, aws.kms, services.settings, clock).load()
    upcoming = dict(statuses(services))["next"]
    rotate(services.signing_key_table, aws.kms, services.settings, now=clock())
    clock.advance(services.settings.key_refresh_seconds)
    aws_calls.clear()
    token = signer.sign_jwt({"sub": "x"}, "at+jwt")
    assert jwt_parts(token)[0]["kid"] == upcoming
    assert aws_calls.by_api() == {"dynamodb:Scan": 1}  # re-read the schedule; no KMS


def test_signatures_verify_and_tampering_is_caught(services, aws, clock):
    signer = Signer(services.signing_key_table, aws.kms, services.settings, clock).load()
    keys = PublicKeys(services.signing_key_table, services.settings, clock).load()
    token = signer.sign_jwt({"sub": "x", "n": 1}, "at+jwt")
    header, claims = verify_jws(token, keys)
    assert claims == {"sub": "x", "n": 1} and header["typ"] == "at+jwt"
    from oauth21.keys import InvalidSignature

    head, payload, sig = token.split(".")
    for bad in (
        f"{head}.{payload}x.{sig}",
        f"{head}.{payload}.{sig[:-2]}AA",
        "a.b",
        f"{head}.{payload}.",
    ):
        with pytest.raises(InvalidSignature):
            verify_jws(bad, keys)


def test_concurrent_rotations_cannot_both_apply(services, aws, clock):
    table = services.signing_key_table
    records = table.all()
    current = next(r["kid"] for r in records if r["status"] == "current")
    upcoming = next(r["kid"] for r in records if r["status"] == "next")
    table.apply(promote=upcoming, retire=[current], now=int(clock()), retired_until=0)
    with pytest.raises(RotationConflict):  # a second rotation working from the same view
        table.apply(promote=upcoming, retire=[current], now=int(clock()), retired_until=0)
    assert sorted(r["status"] for r in table.all()) == ["current", "retired"]


def test_first_rotation_on_an_empty_table_creates_current_and_next(aws, clock):
    services = Services(load_settings(), clock, aws={"dynamodb": aws.dynamodb, "kms": aws.kms})
    rotate(services.signing_key_table, aws.kms, services.settings, now=clock())
    assert [s for s, _ in statuses(services)] == ["current", "next"]


def test_kms_sign_mode_signs_every_token_with_kms(aws, clock, function, aws_calls, monkeypatch):
    key = aws.kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]
    monkeypatch.setenv("SIGNING_MODE", "kms-sign")
    monkeypatch.setenv("SIGNING_KMS_KEY_ID", key["KeyId"])
    settings = load_settings(signing_mode="kms-sign", signing_kms_key_id=key["KeyId"])
    services = Services(settings, clock, aws={"dynamodb": aws.dynamodb, "kms": aws.kms})
    result = rotate(services.signing_key_table, aws.kms, settings, now=clock())
    records = services.signing_key_table.all()
    (record,) = [r for r in records if r["status"] != "retired"]
    assert record["kms_key_id"] == key["KeyId"] and "encrypted_private_key" not in record
    assert rotate(services.signing_key_table, aws.kms, settings, now=clock())["changed"] is False

    from oauth21.clients import new_client

    client, secret = new_client(
        name="s",
        client_type="confidential",
        grant_types=[GRANT_CLIENT_CREDENTIALS],
        scopes=["read"],
    )
    services.client_table.create(client.to_record())
    token = function("token", services)
    aws_calls.clear()
    form = {"grant_type": "client_credentials"}
    response = token(
        api_event("POST", "/oauth/token", form=form, headers=basic(client.client_id, secret))
    )
    assert response["statusCode"] == 200
    assert aws_calls.by_api() == {"dynamodb:GetItem": 1, "kms:Sign": 1}
    access = body(response)["access_token"]
    assert jwt_parts(access)[0]["kid"] == result["current"]
    keys = PublicKeys(services.signing_key_table, settings, clock).load()
    assert verify_jws(access, keys)[1]["client_id"] == client.client_id
    jwks = keys.jwks()["keys"]
    assert json.loads(record["public_jwk"])["x"] == jwks[0]["x"]  # current first
