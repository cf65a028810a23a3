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


PROVEN_OPTIMAL_GAP = 1e-6
"""Relative gap up to which a plan is called proven optimal (HiGHS's own tolerances are
of this order); a plan proven only within a looser ``solver.mip_gap`` is not."""


def status_text(status: str, gap: float) -> str:
    """The status as a planner reads it: ``optimal`` only for a plan proven optimal; a plan
    that met a looser ``solver.mip_gap`` reads ``proven within 0.84 %`` (the solver's
    status ``optimal`` means "within the requested gap")."""
    status = str(status)
    if status == SolveStatus.OPTIMAL and math.isfinite(gap) and gap > PROVEN_OPTIMAL_GAP:
        return f"proven within {gap:.2%}"
    return status


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


def on_thread(work: Callable[[], T], name: str = "hubopt-solve") -> Callable[[], T]:
    """Start ``work()`` on a new thread; return the function that waits for its value
    (an exception in ``work`` is re-raised there)."""
    outcome: list[T] = []
    failure: list[BaseException] = []

    def target() -> None:
        try:
            outcome.append(work())
        except BaseException as err:  # re-raised in the waiting thread
            failure.append(err)

    thread = threading.Thread(target=target, name=name, daemon=True)
    thread.start()

    def wait() -> T:
        thread.join()
        if failure:
            raise failure[0]
        return outcome[0]

    return wait


def solver_threads(settings: SolverSettings) -> int:
    """Threads a solve may use: ``solver.threads``, else every core of the machine."""
    return settings.threads or os.cpu_count() or 1


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
    return on_thread(run)()


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


class SolutionFeed:
    """Plans passed between a running MIP solver and a search running beside it.

    The solver :meth:`report` s each improving incumbent; the search reads the newest
    with :meth:`wait_incumbent`, and :meth:`offer` s better complete plans, which the
    solver's user-solution callback :meth:`take` s. Thread-safe; the solver never
    depends on it (an unused feed changes nothing).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._incumbent: tuple[np.ndarray, float] | None = None
        self._incumbent_version = 0
        self._pending: np.ndarray | None = None
        self._best = math.inf
        self.offered = 0
        self.injected = 0
        self.closed = False

    def report(self, x: np.ndarray, objective: float) -> None:
        """The solver found an incumbent ``x`` of cost ``objective``."""
        with self._changed:
            if objective < self._best:
                self._best = objective
            self._incumbent = (x, objective)
            self._incumbent_version += 1
            self._changed.notify_all()

    def wait_incumbent(self, seen: int, timeout: float) -> tuple[int, np.ndarray, float] | None:
        """The newest incumbent if newer than version ``seen`` (waits up to ``timeout`` s)."""
        with self._changed:
            self._changed.wait_for(
                lambda: self.closed or self._incumbent_version > seen, timeout=timeout
            )
            if self._incumbent is None or self._incumbent_version <= seen:
                return None
            x, objective = self._incumbent
            return self._incumbent_version, x, objective

    def offer(self, x: np.ndarray, objective: float) -> bool:
        """Hand the solver a complete plan; kept only if cheaper than all seen so far."""
        with self._lock:
            if self.closed or objective >= self._best:
                return False
            self._best = objective
            self._pending = x
            self.offered += 1
            return True

    def known(self, objective: float) -> None:
        """A plan of cost ``objective`` is already the solver's (its start)."""
        with self._lock:
            self._best = min(self._best, objective)

    def take(self) -> np.ndarray | None:
        """The pending offered plan, once (for the solver's user-solution callback)."""
        with self._lock:
            x, self._pending = self._pending, None
            if x is not None:
                self.injected += 1
            return x

    def unused(self) -> tuple[np.ndarray, float] | None:
        """The offered plan the solver never took, with its cost (None if there is none).

        HiGHS asks for user solutions only at set points (after setup, in the root node,
        before dives); a plan offered after its last request would otherwise be lost."""
        with self._lock:
            if self._pending is None:
                return None
            return self._pending, self._best

    @property
    def best(self) -> float:
        """Cheapest plan cost reported or offered so far."""
        with self._lock:
            return self._best

    def close(self) -> None:
        """The solver has finished: stop waiting searches."""
        with self._changed:
            self.closed = True
            self._changed.notify_all()
