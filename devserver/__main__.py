"""`python -m devserver`: the local stack (what `make dev` and `make local-aws` run)."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading

from devserver.stack import LocalStack, require_free_port
from devserver.template import ROOT


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devserver", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="the API's address")
    parser.add_argument("--port", type=int, default=3000, help="the API's port")
    parser.add_argument("--aws-host", default="127.0.0.1", help="the AWS endpoint's address")
    parser.add_argument("--aws-port", type=int, default=4566, help="the AWS endpoint's port")
    parser.add_argument(
        "--aws-only", action="store_true", help="only the AWS endpoint (for sam local start-api)"
    )
    args = parser.parse_args(argv)

    stack = LocalStack(
        port=args.port, aws_port=args.aws_port, host=args.host, aws_host=args.aws_host
    )
    if not args.aws_only:
        require_free_port(args.host, args.port)
    stack.start_aws()
    demo = stack.seed()
    assert stack.aws is not None
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    endpoint = stack.aws.endpoint

    if args.aws_only:
        env_file = stack.sam_env_file(
            ROOT / "env.local.json", f"http://host.docker.internal:{args.aws_port}"
        )
        print(f"AWS endpoint (DynamoDB, KMS): {endpoint}")
        print(f"sam local env-vars file:      {env_file.relative_to(ROOT)}")
        print("  sam build && sam local start-api --env-vars env.local.json")
        print("  (start this with --aws-host 0.0.0.0 so Docker containers can reach it)")
    else:
        server = stack.gateway().serve(args.host, args.port)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        print(f"oauth21 local stack: {stack.url}")
        print(f"  metadata:  {stack.url}/.well-known/oauth-authorization-server")
        print(f"AWS endpoint (DynamoDB, KMS): {endpoint}")
    print("Demo data:")
    print(json.dumps(demo, indent=2))
    print("oauthctl against this stack:")
    print(f"  AWS_ENDPOINT_URL={endpoint} .venv/bin/oauthctl client list")
    if not args.aws_only:
        print(
            f"  AWS_ENDPOINT_URL={endpoint} ISSUER={stack.url} .venv/bin/oauthctl"
            " personal-access-token --user-id ... --name ... --scopes read"
        )
    print("Ready. Ctrl-C stops.", flush=True)
    try:
        stopped.wait()
    except KeyboardInterrupt:
        pass
    print("Stopping.", file=sys.stderr)
    stack.aws.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
