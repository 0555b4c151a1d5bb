"""Load a function's handler the way Lambda does: its own folder, its own module."""

from __future__ import annotations

import importlib.util
import itertools
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

Handler = Callable[[Any, Any], Any]
_loaded = itertools.count()


def load_handler(code_dir: Path, handler: str = "app.handler") -> Handler:
    """Import the function's module afresh and return its handler."""
    module_name, _, attribute = handler.rpartition(".")
    handler_function: Handler = getattr(load_module(code_dir, module_name), attribute)
    return handler_function


def load_module(code_dir: Path, module_name: str = "app") -> ModuleType:
    """Import `code_dir/<module_name>.py` under a unique name.

    Each call is a fresh import: a new "execution environment", with the
    function's module-level set-up run again (keys loaded, caches empty).
    """
    path = code_dir / f"{module_name}.py"
    unique = f"lambda_{code_dir.name}_{next(_loaded)}"
    spec = importlib.util.spec_from_file_location(unique, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[unique] = module
    spec.loader.exec_module(module)
    return module


@dataclass
class LambdaContext:
    """The parts of Lambda's context object that handlers and Powertools read."""

    function_name: str = "local"
    memory_limit_in_mb: int = 1024
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:local"
    log_group_name: str = "/aws/lambda/local"
    log_stream_name: str = "local"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000
