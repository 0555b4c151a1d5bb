"""The local stack: moto's server for DynamoDB and KMS, the template's tables and keys,
demo data, and the gateway wired to every function of template.yaml."""

from __future__ import annotations

import json
import os
import socket
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devserver.authorizers import make_authorizer
from devserver.gateway import BoundRoute, Cors, Gateway
from devserver.lambdas import load_handler
from devserver.template import (
    Resolver,
    create_tables,
    functions,
    http_api_authorizers,
    http_api_cors,
    load_template,
    local_table_name,
    resources,
)

REGION = os.environ.get("AWS_DEFAULT_REGION", "us-east-1")
LOCAL_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


class LocalAws:
    """moto's server (every service it mocks, DynamoDB and KMS used here) on one port."""

    def __init__(self, host: str = "127.0.0.1", port: int = 4566):
        import logging

        from moto.server import ThreadedMotoServer

        from devserver.moto_atomic import make_moto_dynamodb_atomic

        make_moto_dynamodb_atomic()
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self.host, self.port = host, port
        self._server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)

    @property
    def endpoint(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> LocalAws:
        require_free_port(self.host, self.port)
        self._server.start()
        deadline = time.monotonic() + 15
        while True:
            try:
                urllib.request.urlopen(f"{self.endpoint}/moto-api/", timeout=1).close()
                return self
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        self._server.stop()

    def client(self, service: str) -> Any:
        import boto3

        return boto3.client(  # type: ignore[call-overload]
            service, endpoint_url=self.endpoint, region_name=REGION, **_boto_credentials()
        )


class PortInUse(SystemExit):
    pass


def require_free_port(host: str, port: int) -> None:
    with socket.socket() as probe:
        try:
            probe.bind((host, port))
        except OSError:
            raise PortInUse(
                f"port {port} on {host} is in use: stop what holds it, or pick another port"
            ) from None


def _boto_credentials() -> dict[str, str]:
    return {
        "aws_access_key_id": os.environ.get("AWS_ACCESS_KEY_ID", "testing"),
        "aws_secret_access_key": os.environ.get("AWS_SECRET_ACCESS_KEY", "testing"),
    }


def create_kms_keys(kms: Any, template: dict[str, Any]) -> dict[str, str]:
    """One KMS key per AWS::KMS::Key in the template (both signing modes' keys)."""
    refs = {}
    for logical_id, resource in resources(template, "AWS::KMS::Key").items():
        props = resource["Properties"]
        key = kms.create_key(
            Description=f"local {logical_id}",
            KeySpec=props.get("KeySpec", "SYMMETRIC_DEFAULT"),
            KeyUsage=props.get("KeyUsage", "ENCRYPT_DECRYPT"),
        )
        refs[logical_id] = key["KeyMetadata"]["KeyId"]
    return refs


@dataclass
class LocalStack:
    port: int = 3000
    aws_port: int = 4566
    host: str = "127.0.0.1"
    aws_host: str = "127.0.0.1"
    template: dict[str, Any] = field(default_factory=load_template)
    aws: LocalAws | None = None
    environment: dict[str, str] = field(default_factory=dict)
    resolver: Resolver | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start_aws(self) -> None:
        self.aws = LocalAws(self.aws_host, self.aws_port).start()
        create_tables(self.aws.client("dynamodb"), self.template)
        refs: dict[str, Any] = {
            name: local_table_name(name)
            for name in resources(self.template, "AWS::DynamoDB::Table")
        }
        refs.update(create_kms_keys(self.aws.client("kms"), self.template))
        refs.update({"AWS::Region": REGION, "AWS::AccountId": "123456789012"})
        refs["Issuer"] = self.url
        self.resolver = Resolver(self.template, refs)
        self.environment = self._function_environment(self.resolver)
        os.environ.update(self.environment)

    def _function_environment(self, resolver: Resolver) -> dict[str, str]:
        """One environment for every function (they share this process).

        A variable two functions set differently could not be honoured here,
        so that is an error rather than a silent pick.
        """
        merged: dict[str, str] = {}
        for spec in functions(self.template).values():
            for name, value in resolver.environment(spec).items():
                if merged.setdefault(name, value) != value:
                    raise ValueError(
                        f"{name} differs between functions; the local stack shares one"
                    )
        assert self.aws is not None
        merged.update(
            {
                # Resource servers behind the local gateway: their public URL (DPoP htu).
                "AUTHORIZER_PUBLIC_BASE_URL": self.url,
                # Every function shares this process and serves requests in parallel.
                "AWS_MAX_POOL_CONNECTIONS": "64",
                "AWS_ENDPOINT_URL": self.aws.endpoint,
                "AWS_DEFAULT_REGION": REGION,
                **{k: os.environ.get(k, v) for k, v in LOCAL_CREDENTIALS.items()},
            }
        )
        return merged

    def seed(self) -> dict[str, Any]:
        """First signing keys and the demo clients; returns what to print."""
        from devserver.demo import create_demo_data

        return create_demo_data()

    def gateway(self) -> Gateway:
        specs = functions(self.template)
        authorizers = {}
        for name, config in http_api_authorizers(self.template).items():
            function_id = config["FunctionArn"]["Fn::GetAtt"][0]
            spec = specs[function_id]
            handler = load_handler(spec.code_dir, spec.handler)
            authorizers[name] = make_authorizer(handler, config, function_id)
        routes: list[BoundRoute] = []
        for spec in specs.values():
            if not spec.routes:
                continue
            handler = load_handler(spec.code_dir, spec.handler)
            for route in spec.routes:
                authorizer = authorizers[route.authorizer] if route.authorizer else None
                routes.append(
                    BoundRoute(route.method, route.path, spec.logical_id, handler, authorizer)
                )
        assert self.resolver is not None
        cors = http_api_cors(self.template, self.resolver)
        return Gateway(routes, cors=Cors(cors) if cors else None)

    def sam_env_file(self, path: Path, endpoint_for_containers: str) -> Path:
        """An env-vars file for `sam local start-api --env-vars` against this AWS endpoint."""
        overrides = {**self.environment, "AWS_ENDPOINT_URL": endpoint_for_containers}
        path.write_text(json.dumps({"Parameters": overrides}, indent=2) + "\n")
        return path
