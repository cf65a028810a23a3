"""The small interface every solver backend implements."""

from __future__ import annotations

import contextlib
import math
import os
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol, TypeVar

import numpy as np

from hubopt.model.matrix import MatrixModel
from hubopt.scenario.schema import SolverSettings


class SolveStatus(StrEnum):
    """Outcome of a solve.

    ``optimal`` means proven optimal within the requested relative MIP gap;
    ``feasible`` means a solution was found but the gap was not closed in time.
    """

    OPTIMAL = "optimal"
    FEASIBLE = "feasible"
    INFEASIBLE = "infeasible"
    TIME_LIMIT = "time_limit"
    UNBOUNDED = "unbounded"
    ERROR = "error"

    @property
    def has_solution(self) -> bool:
        """Whether a primal solution comes with this status."""
        return self in {SolveStatus.OPTIMAL, SolveStatus.FEASIBLE}


SOLVED_STATUSES = frozenset({str(SolveStatus.OPTIMAL), str(SolveStatus.FEASIBLE)})
"""Statuses (as text, as in manifests and comparison tables) that come with a plan."""


@dataclass(frozen=True)
class SolverOutput:
    """What a backend returns: status, solution vector, objective, bound, gap, timing, log."""

    status: SolveStatus
    x: np.ndarray | None
    objective: float
    bound: float
    solve_seconds: float
    backend: str
    solver_version: str
    log: str = ""
    message: str = ""

    @property
    def gap(self) -> float:
        """Relative gap |objective - bound| / max(|objective|, 1e-9); nan if unknown."""
        if not self.status.has_solution or not math.isfinite(self.bound):
            return math.nan
        return abs(self.objective - self.bound) / max(abs(self.objective), 1e-9)


class SolverBackend(Protocol):
    """A solver backend: declares availability, solves a MatrixModel."""

    name: str

    def available(self) -> bool:
        """Whether the backend's solver can be imported and run here."""
        ...

    def solve(
        self, model: MatrixModel, settings: SolverSettings, warm_start: np.ndarray | None = None
    ) -> SolverOutput:
        """Solve ``model`` honouring time limit, gap, threads and seed."""
        ...


T = TypeVar("T")


def in_fresh_thread(run: Callable[[], T]) -> T:
    """Call ``run()`` in a new thread that ends with it, and return its value.

    HiGHS (highspy, and the copy inside OR-Tools) keeps one task scheduler per calling
    thread, sized by the ``threads`` option of the first solve on that thread; a later
    solve on the same thread asking for another count fails with status "Not Set" (its
    log: "the scheduler has already been initialized"). A fresh thread gets a fresh
    scheduler sized by this solve's options, shut down when the thread exits, so no
    solve inherits an earlier solve's threads. Unlike ``Highs.resetGlobalScheduler``
    this is safe while other threads of the process are solving.
    """
    outcome: list[T] = []
    failure: list[BaseException] = []

    def target() -> None:
        try:
            outcome.append(run())
        except BaseException as err:  # re-raised in the caller's thread
            failure.append(err)

    thread = threading.Thread(target=target, name="hubopt-solve", daemon=True)
    thread.start()
    thread.join()
    if failure:
        raise failure[0]
    return outcome[0]


@contextlib.contextmanager
def stdout_to_stderr() -> Iterator[None]:
    """Send what native solver code prints on file descriptor 1 to stderr meanwhile.

    Solvers print banners from C++; ``hubopt solve --json`` promises exactly one JSON
    object on stdout, so nothing else may reach it.
    """
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        os.dup2(2, 1)
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)
