"""Refuse, before building, a model that would not fit in memory."""

from __future__ import annotations

import logging
import os

from hubopt.data.problem import ProblemData
from hubopt.errors import ModelTooLargeError, Problem

log = logging.getLogger(__name__)

# Measured: ~350 bytes per nonzero through scipy assembly + HiGHS copy + presolve (docs/solvers.md).
BYTES_PER_NONZERO = 350
NONZEROS_PER_ARC = 5  # demand, balance, linking, throughput, safety stock


def estimate_model_bytes(problem: ProblemData) -> int:
    """Rough peak memory of building and solving the model."""
    arcs = len(problem.out_arcs) + len(problem.in_arcs)
    grid = problem.n_hubs * problem.n_products * problem.periods
    return BYTES_PER_NONZERO * (NONZEROS_PER_ARC * arcs + 6 * grid + 2 * len(problem.streams))


def available_bytes() -> int:
    """Memory available to this process (``HUBOPT_MEMORY_LIMIT_BYTES`` overrides)."""
    override = os.environ.get("HUBOPT_MEMORY_LIMIT_BYTES")
    if override:
        return int(override)
    import psutil

    return int(psutil.virtual_memory().available)


def _size(n_bytes: float) -> str:
    return f"{n_bytes / 1e9:.1f} GB" if n_bytes >= 1e9 else f"{n_bytes / 1e6:.1f} MB"


def check_model_size(problem: ProblemData) -> None:
    """Raise :class:`ModelTooLargeError` when the estimate exceeds available memory."""
    need, have = estimate_model_bytes(problem), available_bytes()
    log.info("model estimate %.0f MB, available %.0f MB", need / 1e6, have / 1e6)
    if need > have:
        raise ModelTooLargeError(
            Problem(
                f"scenario {problem.name!r}",
                f"a model that fits in the {_size(have)} of memory available",
                f"an estimated {_size(need)} ({len(problem.out_arcs):,} delivery arcs, {len(problem.streams):,} demand streams)",
                "Prune arcs with policy.nearest_hubs or modes' max_distance_km, tighten delivery windows, "
                "or aggregate regions/periods.",
            ),
            "Model too large",
        )
