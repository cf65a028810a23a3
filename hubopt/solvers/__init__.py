"""Solver backends behind one small interface; heavy imports happen inside each backend."""

from __future__ import annotations

from hubopt.errors import SolverError
from hubopt.solvers.base import (
    SOLVED_STATUSES,
    SolutionFeed,
    SolverBackend,
    SolverOutput,
    SolveStatus,
)
from hubopt.solvers.fixing import HeuristicBackend
from hubopt.solvers.highs import HighsBackend
from hubopt.solvers.ortools_mb import OrToolsBackend
from hubopt.solvers.pulp_cbc import PulpCbcBackend

BACKENDS: dict[str, SolverBackend] = {
    "highs": HighsBackend(),
    "scip": OrToolsBackend("scip", "scip"),
    "cbc": PulpCbcBackend(),
    "ortools-highs": OrToolsBackend("ortools-highs", "highs"),
    # not a MIP search: hubopt's local search plan with the LP relaxation as its bound
    "heuristic": HeuristicBackend(),
}
# `auto` prefers HiGHS: best gaps on these models (docs/solvers.md), bulk matrix load.
AUTO_ORDER = ("highs", "scip", "cbc", "ortools-highs")


def available_backends(exact_only: bool = False) -> list[str]:
    """Names of the backends that work on this machine; with ``exact_only``, only the MIP
    solvers that prove optimality (not ``heuristic``)."""
    return [
        name
        for name, backend in BACKENDS.items()
        if backend.available() and (getattr(backend, "exact", True) or not exact_only)
    ]


def get_backend(name: str) -> SolverBackend:
    """The backend called ``name`` (``auto`` = the best installed one)."""
    if name == "auto":
        for candidate in AUTO_ORDER:
            if BACKENDS[candidate].available():
                return BACKENDS[candidate]
        raise SolverError("No solver backend is installed: install highspy, ortools or pulp.")
    if name not in BACKENDS:
        raise SolverError(f"Unknown solver backend {name!r}; known: {', '.join(BACKENDS)}.")
    backend = BACKENDS[name]
    if not backend.available():
        raise SolverError(f"Solver backend {name!r} is not available on this machine.")
    return backend


__all__ = [
    "BACKENDS",
    "SOLVED_STATUSES",
    "HeuristicBackend",
    "SolutionFeed",
    "SolveStatus",
    "SolverBackend",
    "SolverOutput",
    "available_backends",
    "get_backend",
]
