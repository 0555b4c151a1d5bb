"""Helpers for `bench.load`: statistics and tables (the local stack is devserver.process).

Nothing here knows about the load profile; `bench/load.py` does.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from devserver.process import StackProcess, local_stack

# The local stack as a child process: shared with the e2e tests and `make fuzz`.
__all__ = ["StackProcess", "local_stack", "percentile", "render_table"]


def percentile(ordered: Sequence[float], fraction: float) -> float:
    """The `fraction` quantile of an ascending sequence, interpolated linearly."""
    if not ordered:
        return math.nan
    position = (len(ordered) - 1) * fraction
    below = math.floor(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)


def render_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain-text table: the first column left-aligned, the others right-aligned."""
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        parts = [
            str(cell).ljust(width) if i == 0 else str(cell).rjust(width)
            for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(parts)

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([line(header), rule, *(line(row) for row in rows)])
