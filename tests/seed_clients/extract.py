"""Copy the seed's client code blocks here, unmodified: `python -m tests.seed_clients.extract`."""

from __future__ import annotations

import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SEED = HERE.parents[2] / "shared" / "seed" / "client-examples.md"

# file written here -> the first line that identifies its block in the seed
BLOCKS = {
    "oauth_client.py": "# oauth_client.py",
    "device_flow.py": "# device_flow.py",
    "dpop_client.ts": "// dpop-client.ts",
    "oauth_client.ts": "// oauth-client.ts",
    "personal_access_token.ts": "// Create personal access token via API",
}


def code_blocks(markdown: str) -> list[str]:
    return re.findall(r"^```[a-z]*\n(.*?)^```", markdown, flags=re.S | re.M)


def block_starting_with(markdown: str, first_line: str) -> str:
    for block in code_blocks(markdown):
        if block.startswith(first_line + "\n"):
            return block
    raise LookupError(f"no code block starts with {first_line!r}")


def main() -> int:
    markdown = SEED.read_text(encoding="utf-8")
    for name, marker in BLOCKS.items():
        (HERE / name).write_text(block_starting_with(markdown, marker), encoding="utf-8")
        print(f"wrote {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
