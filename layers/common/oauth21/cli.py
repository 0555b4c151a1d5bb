"""`oauthctl`: the admin CLI. Every command prints JSON.

It works on the same tables as the functions: the local stack's by default
(set `AWS_ENDPOINT_URL=http://127.0.0.1:4566` or `--endpoint-url`), or a
deployed stack's with `--stack-name` (names read from the stack's outputs),
or whatever the `*_TABLE` environment variables say.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Sequence
from typing import Any

from oauth21.clients import DEFAULT_GRANT_TYPES, GRANT_DEVICE_CODE, Client, new_client
from oauth21.config import load_settings
from oauth21.keys import rotate
from oauth21.services import Services
from oauth21.store.clients import ClientExists


class CliError(Exception):
    pass


# `make dev`'s API: the issuer of tokens minted here for the local stack.
_LOCAL_ISSUER = "http://127.0.0.1:3000"


def _stack_settings(stack_name: str, region: str | None) -> dict[str, Any]:
    """Settings from a deployed stack's outputs (ClientsTableName -> clients_table, ...)."""
    import boto3

    cloudformation = boto3.client("cloudformation", region_name=region)
    stack = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
    overrides: dict[str, Any] = {}
    for output in stack.get("Outputs", []):
        key, value = output["OutputKey"], output["OutputValue"]
        if key.endswith("TableName"):
            stem = key.removesuffix("TableName")
            overrides[re.sub(r"(?<!^)(?=[A-Z])", "_", stem).lower() + "_table"] = value
        elif key == "SigningKmsKeyId":
            overrides["signing_kms_key_id"] = value
        elif key == "EnvelopeKmsKeyId":
            overrides["envelope_kms_key_id"] = value
        elif key == "SigningMode":
            overrides["signing_mode"] = value
        elif key == "Issuer":
            overrides["issuer"] = value
    return overrides


def _services(args: argparse.Namespace) -> Services:
    if args.endpoint_url:
        os.environ["AWS_ENDPOINT_URL"] = args.endpoint_url
    if args.region:
        os.environ["AWS_DEFAULT_REGION"] = args.region
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    if os.environ.get("AWS_ENDPOINT_URL"):
        # The local stack's moto server accepts any credentials.
        os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
        os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    overrides = _stack_settings(args.stack_name, args.region) if args.stack_name else {}
    local_keys = (("envelope_kms_key_id", "ENCRYPT_DECRYPT"), ("signing_kms_key_id", "SIGN_VERIFY"))
    for setting, usage in local_keys:
        if not overrides.get(setting) and not os.environ.get(setting.upper()):
            overrides[setting] = _local_kms_key(usage)
    return Services(load_settings(**overrides))


def _local_kms_key(usage: str) -> str:
    """The local stack's KMS key of this usage (it has one of each)."""
    if not os.environ.get("AWS_ENDPOINT_URL"):
        return ""
    import boto3

    kms = boto3.client("kms")
    for key in kms.list_keys()["Keys"]:
        meta = kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]
        if meta.get("KeyUsage") == usage and meta.get("KeyState") == "Enabled":
            return str(meta["KeyId"])
    return ""


def _words(value: str | None) -> list[str] | None:
    return None if value is None else value.replace(",", " ").split()


# Short names for --grant-types.
GRANT_ALIASES = {"device_code": GRANT_DEVICE_CODE, "device": GRANT_DEVICE_CODE}


def _grant_types(value: str | None) -> list[str] | None:
    words = _words(value)
    return None if words is None else [GRANT_ALIASES.get(w, w) for w in words]


def client_create(args: argparse.Namespace, services: Services) -> Any:
    try:
        client, secret = new_client(
            name=args.name,
            client_type=args.type,
            grant_types=_grant_types(args.grant_types),
            scopes=_words(args.scopes) or services.settings.supported_scopes,
            redirect_uris=args.redirect_uri or (),
            client_id=args.client_id,
            client_secret=args.client_secret,
            first_party=args.first_party,
            require_dpop=args.require_dpop,
        )
    except ValueError as exc:
        raise CliError(str(exc)) from None
    try:
        services.client_table.create(client.to_record())
    except ClientExists:
        raise CliError(f"client {client.client_id} already exists") from None
    shown: dict[str, Any] = {"client_id": client.client_id}
    if secret:
        shown["client_secret"] = secret
    shown.update({k: v for k, v in client.public_view().items() if k != "client_id"})
    return shown


def client_list(args: argparse.Namespace, services: Services) -> Any:
    return [Client.from_record(r).public_view() for r in services.client_table.all()]


def client_show(args: argparse.Namespace, services: Services) -> Any:
    record = services.client_table.get(args.client_id)
    if record is None:
        raise CliError(f"no client {args.client_id}")
    return Client.from_record(record).public_view()


def client_delete(args: argparse.Namespace, services: Services) -> Any:
    if not services.client_table.delete(args.client_id):
        raise CliError(f"no client {args.client_id}")
    return {"deleted": args.client_id}


def user_create(args: argparse.Namespace, services: Services) -> Any:
    from oauth21.store.users import EmailTaken

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = args.password
    try:
        user = services.accounts.create(args.email, password, args.name or "")
    except ValueError as exc:
        raise CliError(str(exc)) from None
    except EmailTaken:
        raise CliError(f"a user with email {args.email} already exists") from None
    return {"user_id": user.user_id, "email": user.email, "name": user.name}


def user_list(args: argparse.Namespace, services: Services) -> Any:
    return [
        {"user_id": u["user_id"], "email": u["email"], "name": u.get("name", "")}
        for u in services.user_table.all()
    ]


def user_delete(args: argparse.Namespace, services: Services) -> Any:
    """Delete a user and revoke everything they granted (tokens die with their grants)."""
    import time

    if not services.user_table.delete(args.user_id):
        raise CliError(f"no user {args.user_id}")
    now = int(time.time())
    revoked = 0
    for kind in ("authorization_code", "device", "personal"):
        for grant in services.grants.by_user(args.user_id, kind):
            if "revoked_at" not in grant:
                services.grants.revoke(grant["grant_id"], "user_deleted", now)
                revoked += 1
    services.consents.forget_user(args.user_id)
    return {"deleted": args.user_id, "grants_revoked": revoked}


def personal_access_token(args: argparse.Namespace, services: Services) -> Any:
    from oauth21.errors import OAuthError
    from oauth21.personal_tokens import create_personal_token

    if services.user_table.get(args.user_id) is None:
        raise CliError(f"no user {args.user_id}")
    issuer = args.issuer or services.settings.issuer or _LOCAL_ISSUER
    scopes = _words(args.scopes) or []
    try:
        return create_personal_token(
            services,
            user_id=args.user_id,
            name=args.name,
            scopes=scopes,
            expires_in=args.expires_in,
            issuer=issuer.rstrip("/"),
            allowed=services.settings.supported_scopes,
        )
    except OAuthError as exc:
        raise CliError(exc.description) from None


def keys_rotate(args: argparse.Namespace, services: Services) -> Any:
    return rotate(services.signing_key_table, services.kms, services.settings)


def keys_list(args: argparse.Namespace, services: Services) -> Any:
    fields = ("kid", "status", "alg", "created_at", "activated_at", "retired_at", "expires_at")
    records = sorted(services.signing_key_table.all(), key=lambda r: -int(r.get("created_at", 0)))
    return [{f: r[f] for f in fields if f in r} for r in records]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="oauthctl", description=__doc__)
    parser.add_argument(
        "--endpoint-url", help="AWS endpoint (the local stack: http://127.0.0.1:4566)"
    )
    parser.add_argument("--region", help="AWS region (default: AWS_DEFAULT_REGION or us-east-1)")
    parser.add_argument("--stack-name", help="read table names from this deployed stack's outputs")
    groups = parser.add_subparsers(dest="group", required=True)

    client = groups.add_parser("client", help="registered clients").add_subparsers(
        dest="command", required=True
    )
    create = client.add_parser("create", help="register a client; prints its secret once")
    create.add_argument("--name", required=True)
    create.add_argument("--type", required=True, choices=["confidential", "public"])
    create.add_argument("--redirect-uri", action="append", help="repeat for several")
    create.add_argument(
        "--grant-types",
        help="space- or comma-separated (device_code for RFC 8628's); default: "
        + "; ".join(f"{k}: {' '.join(v)}" for k, v in DEFAULT_GRANT_TYPES.items()),
    )
    create.add_argument(
        "--scopes", help="space- or comma-separated; default: every supported scope"
    )
    create.add_argument("--client-id", help="choose the id (tests, migrations)")
    create.add_argument("--client-secret", help="choose the secret (tests, migrations)")
    create.add_argument("--first-party", action="store_true", help="skip the consent page")
    create.add_argument("--require-dpop", action="store_true", help="refuse tokens without DPoP")
    create.set_defaults(run=client_create)
    client.add_parser("list").set_defaults(run=client_list)
    show = client.add_parser("show")
    show.add_argument("client_id")
    show.set_defaults(run=client_show)
    delete = client.add_parser("delete")
    delete.add_argument("client_id")
    delete.set_defaults(run=client_delete)

    user = groups.add_parser("user", help="users who sign in").add_subparsers(
        dest="command", required=True
    )
    user_new = user.add_parser("create", help="create a user; prints the user id")
    user_new.add_argument("--email", required=True)
    user_new.add_argument("--name")
    secret = user_new.add_mutually_exclusive_group(required=True)
    secret.add_argument(
        "--password-stdin", action="store_true", help="read the password from stdin"
    )
    secret.add_argument("--password", help="the password (visible in process lists: prefer stdin)")
    user_new.set_defaults(run=user_create)
    user.add_parser("list").set_defaults(run=user_list)
    user_del = user.add_parser("delete")
    user_del.add_argument("user_id")
    user_del.set_defaults(run=user_delete)

    pat = groups.add_parser(
        "personal-access-token", help="mint a personal access token for a user (shown once)"
    )
    pat.add_argument("--user-id", required=True)
    pat.add_argument("--name", required=True)
    pat.add_argument("--scopes", required=True, help='comma- or space-separated, e.g. "read,write"')
    pat.add_argument("--expires-in", type=int, help="seconds (default PAT_DEFAULT_LIFETIME)")
    pat.add_argument(
        "--issuer",
        help="the server's public URL (default: ISSUER, the stack's Issuer output, or the "
        f"local stack's {_LOCAL_ISSUER})",
    )
    pat.set_defaults(run=personal_access_token)

    keys = groups.add_parser("keys", help="signing keys").add_subparsers(
        dest="command", required=True
    )
    keys.add_parser("rotate", help="advance the key schedule (as the schedule does)").set_defaults(
        run=keys_rotate
    )
    keys.add_parser("list").set_defaults(run=keys_list)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        result = args.run(args, _services(args))
    except CliError as exc:
        print(json.dumps({"error": str(exc)}), file=sys.stderr)
        return 1
    except (BotoCoreError, ClientError) as exc:
        print(json.dumps({"error": f"AWS: {exc}"}), file=sys.stderr)
        return 2
    print(json.dumps(result, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
