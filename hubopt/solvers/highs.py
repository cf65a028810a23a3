"""HiGHS through highspy: the matrix is passed in bulk (CSR arrays), no per-variable calls."""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from hubopt.errors import Problem, ScenarioError
from hubopt.model.matrix import MatrixModel
from hubopt.scenario.schema import SolverSettings
from hubopt.solvers.base import (
    SolutionFeed,
    SolverOutput,
    SolveStatus,
    in_fresh_thread,
    on_thread,
    solver_threads,
)

log = logging.getLogger(__name__)


def pass_matrix(h: Any, model: MatrixModel) -> None:
    """Load ``model`` into a ``highspy.Highs`` in one call from its CSR arrays.

    Measured on the Korea model: as fast as OR-Tools ModelBuilder's bulk fill and ~5x
    faster than filling a ``HighsLp`` attribute by attribute (docs/solvers.md).
    """
    import highspy

    A = model.A
    h.passModel(
        model.n_vars,
        model.n_rows,
        A.nnz,
        int(highspy.MatrixFormat.kRowwise),
        int(highspy.ObjSense.kMinimize),
        float(model.offset),
        model.c,
        model.lb,
        model.ub,
        model.row_lo,
        model.row_hi,
        A.indptr.astype(np.int32),
        A.indices.astype(np.int32),
        A.data.astype(np.float64),
        model.integer.astype(np.int32),
    )


def highs_version() -> str:
    """``HiGHS x.y.z`` of the installed highspy."""
    import highspy

    return f"HiGHS {highspy.Highs().version()}"


STOP_POLL_S = 0.05  # how often ``run_until`` asks its ``stop()``


def _interrupt(event: Any) -> None:
    event.interrupt(True)


def run_until(h: Any, stop: Callable[[], bool]) -> None:
    """Run ``h`` on a fresh thread (see ``in_fresh_thread``) and interrupt its simplex or
    interior-point run as soon as ``stop()`` is true (asked every ``STOP_POLL_S``).

    HiGHS's ``time_limit`` was seen ignored for 150 s on one warm re-solve, so deadlines
    are enforced here too. The interrupt callback is subscribed only once ``stop()`` is
    true and removed after the run: HiGHS calls it on every simplex iteration, and a
    Python callback must take the GIL each time: measured on the Korea LP (40 000
    iterations), 7.6 s with no callback or with one and nothing else running, 225 s with
    one while another thread of the process ran Python (each call waits for the
    interpreter's switch interval), as the local search's thread does beside the bound loop.
    """
    done = threading.Event()

    def work() -> None:
        try:
            h.run()
        finally:
            done.set()

    wait = on_thread(work, name="hubopt-highs")
    interrupted = False
    while not done.wait(STOP_POLL_S):
        if not interrupted and stop():
            h.cbSimplexInterrupt.subscribe(_interrupt)
            h.cbIpmInterrupt.subscribe(_interrupt)
            interrupted = True
    try:
        wait()
    finally:
        if interrupted:
            h.cbSimplexInterrupt.unsubscribe(_interrupt)
            h.cbIpmInterrupt.unsubscribe(_interrupt)


def run_within(h: Any, seconds: float, stop: Callable[[], bool] = lambda: False) -> None:
    """Run ``h`` for at most ``seconds`` from now, or until ``stop()`` (:func:`run_until`).

    HiGHS checks ``time_limit`` against a run clock that adds up over the runs of one
    ``Highs`` object (a second run with a limit below the first run's time stops at once),
    so the limit set is that clock plus ``seconds``; the deadline is enforced here too."""
    seconds = max(float(seconds), 0.01)
    end = time.perf_counter() + seconds
    h.setOptionValue("time_limit", float(h.getRunTime()) + seconds)
    run_until(h, lambda: time.perf_counter() > end or stop())


def add_rows(h: Any, rows: sp.spmatrix, lo: np.ndarray, hi: np.ndarray) -> None:
    """Append ``lo <= rows @ x <= hi`` to the ``highspy.Highs`` object ``h`` (``addRows``)."""
    rows = sp.csr_matrix(rows)
    h.addRows(
        rows.shape[0],
        np.asarray(lo, dtype=np.float64),
        np.asarray(hi, dtype=np.float64),
        rows.nnz,
        rows.indptr[:-1].astype(np.int32),
        rows.indices.astype(np.int32),
        rows.data.astype(np.float64),
    )


class HighsBackend:
    """HiGHS MIP solver (highspy).

    With a :class:`~hubopt.solvers.base.SolutionFeed`, HiGHS reports each improving
    incumbent to it and takes the plans offered to it through its user-solution
    callback (``kCallbackMipUserSolution``) while it runs.
    """

    name = "highs"
    exact = True

    def __init__(self, feed: SolutionFeed | None = None) -> None:
        self.feed = feed

    def with_feed(self, feed: SolutionFeed | None) -> HighsBackend:
        """This backend exchanging plans with ``feed`` during the search."""
        return HighsBackend(feed)

    def available(self) -> bool:
        """Whether highspy imports."""
        try:
            import highspy  # noqa: F401
        except ImportError:
            return False
        return True

    def solve(
        self, model: MatrixModel, settings: SolverSettings, warm_start: np.ndarray | None = None
    ) -> SolverOutput:
        """Solve with HiGHS; parallel branch-and-bound on when more than one thread is allowed.

        If a warm start was given and HiGHS's objective disagrees with c.x, solve again
        without it: HiGHS 1.16 can mis-report the objective after a partial MIP start
        (tests/test_properties.py keeps the reproducing case).
        """
        output = self._solve_once(model, settings, warm_start)
        if warm_start is None or output.x is None:
            return output
        recomputed = float(model.c @ output.x + model.offset)
        if abs(recomputed - output.objective) <= 1e-6 * max(1.0, abs(recomputed)) + 1e-6:
            return output
        log.warning(
            "HiGHS objective %.6g != c.x %.6g after a warm start; solving again without it",
            output.objective,
            recomputed,
        )
        return self._solve_once(model, settings, None)

    def _solve_once(
        self, model: MatrixModel, settings: SolverSettings, warm_start: np.ndarray | None
    ) -> SolverOutput:
        """One HiGHS run."""
        session = HighsSession(model, settings, warm_start, self.feed)
        try:
            return session.run()
        finally:
            session.close()

    def open_session(
        self, model: MatrixModel, settings: SolverSettings, warm_start: np.ndarray | None = None
    ) -> HighsSession:
        """A loaded HiGHS model that rows can be added to and re-solved (cut loops)."""
        return HighsSession(model, settings, warm_start, self.feed)


class HighsSession:
    """One ``highspy.Highs`` holding ``model``: run, add rows (``addRows``), run again."""

    name = "highs"

    def __init__(
        self,
        model: MatrixModel,
        settings: SolverSettings,
        warm_start: np.ndarray | None,
        feed: SolutionFeed | None = None,
    ) -> None:
        import highspy

        self.model = model
        self.feed = feed
        self.h = highspy.Highs()
        fd, self.log_path = tempfile.mkstemp(prefix="hubopt-highs-", suffix=".log")
        os.close(fd)
        h = self.h
        h.setOptionValue("output_flag", True)
        h.setOptionValue("log_to_console", False)
        h.setOptionValue("log_file", self.log_path)
        h.setOptionValue("time_limit", float(settings.time_limit_s))
        h.setOptionValue("mip_rel_gap", float(settings.mip_gap))
        h.setOptionValue("random_seed", int(settings.seed))
        threads = solver_threads(settings)
        h.setOptionValue("threads", int(threads))
        if threads > 1:
            h.setOptionValue("parallel", "on")
        for key, value in settings.options.items():
            if h.setOptionValue(key, value) != highspy.HighsStatus.kOk:
                raise ScenarioError(
                    Problem(
                        f"key 'solver.options.{key}'",
                        "an option name and value that HiGHS accepts (see the HiGHS options list)",
                        f"{key}={value!r}, rejected by HiGHS {h.version()}",
                    ),
                    "Invalid solver option",
                )
        pass_matrix(h, model)
        if warm_start is not None and model.integer.any():
            known = np.flatnonzero(~np.isnan(warm_start)).astype(np.int32)
            h.setSolution(len(known), known, warm_start[known].astype(np.float64))
        if feed is not None and model.integer.any():
            self._connect(feed)

    def _connect(self, feed: SolutionFeed) -> None:
        """Report HiGHS's incumbents to ``feed``; inject the plans offered to it.

        HiGHS checks an injected plan itself (and drops it if infeasible or no better),
        so a wrong offer cannot corrupt the search; HiGHS keeps the column count, so
        rows added later by a cut loop leave the plan's length valid.
        """
        n = self.model.n_vars

        def improving(event: Any) -> None:
            x = np.array(event.data_out.mip_solution, dtype=float)
            if len(x) == n:
                feed.report(x, float(event.data_out.objective_function_value))

        def user_solution(event: Any) -> None:
            x = feed.take()
            if x is not None and len(x) == n:
                event.data_in.setSolution(np.asarray(x, dtype=np.float64))

        self.h.cbMipImprovingSolution.subscribe(improving)
        self.h.cbMipUserSolution.subscribe(user_solution)

    def set_time_limit(self, seconds: float) -> None:
        """Time limit of the next :meth:`run` (HiGHS's run clock adds up over the runs of
        one ``Highs`` object, so the option is that clock plus ``seconds``)."""
        self.h.setOptionValue("time_limit", self.h.getRunTime() + float(max(seconds, 0.0)))

    def add_rows(self, rows: sp.csr_matrix, lo: np.ndarray, hi: np.ndarray) -> None:
        """Append rows ``lo <= rows @ x <= hi`` (columns as in the loaded model)."""
        add_rows(self.h, rows, lo, hi)

    def run(self) -> SolverOutput:
        """Solve the loaded model (with every row added so far)."""
        import highspy

        h, model = self.h, self.model
        start = time.perf_counter()
        in_fresh_thread(h.run)
        seconds = time.perf_counter() - start
        status = h.getModelStatus()
        info = h.getInfo()
        has_solution = info.primal_solution_status == 2
        x = np.asarray(h.getSolution().col_value, dtype=float) if has_solution else None
        objective = float(info.objective_function_value) if has_solution else math.nan
        is_mip = bool(model.integer.any())
        bound = float(info.mip_dual_bound) if is_mip else objective
        ms = highspy.HighsModelStatus
        if status == ms.kOptimal:
            result = SolveStatus.OPTIMAL
            if not is_mip:
                bound = objective
        elif status == ms.kInfeasible:
            result = SolveStatus.INFEASIBLE
        elif status in (ms.kUnbounded, ms.kUnboundedOrInfeasible):
            result = SolveStatus.UNBOUNDED
        elif status in (ms.kTimeLimit, ms.kIterationLimit, ms.kSolutionLimit, ms.kInterrupt):
            result = SolveStatus.FEASIBLE if has_solution else SolveStatus.TIME_LIMIT
        else:
            result = SolveStatus.FEASIBLE if has_solution else SolveStatus.ERROR
        log = Path(self.log_path).read_text(errors="replace")
        message = h.modelStatusToString(status)
        if result == SolveStatus.ERROR:
            # "Not Set" alone says nothing; HiGHS's reason is in its log's ERROR lines
            errors = [line.strip() for line in log.splitlines() if line.startswith("ERROR")]
            message = "; ".join([f"HiGHS: {message}", *errors[:3]])
        return SolverOutput(
            status=result,
            x=x,
            objective=objective,
            bound=bound,
            solve_seconds=seconds,
            backend=self.name,
            solver_version=f"HiGHS {h.version()}",
            log=log,
            message=message,
        )

    def close(self) -> None:
        """Remove the log file."""
        Path(self.log_path).unlink(missing_ok=True)


def lp_iis_rows(model: MatrixModel, time_limit_s: float = 20.0) -> np.ndarray | None:
    """Row indices of HiGHS's irreducible infeasible subset of the LP relaxation.

    Returns an empty array when the LP relaxation is feasible, and None when highspy or
    its IIS is unavailable.
    """
    try:
        import highspy
    except ImportError:
        return None
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", float(time_limit_s))
    if h.setOptionValue("iis_strategy", 2) != highspy.HighsStatus.kOk:  # IIS from the LP
        return None
    relaxed = dataclasses.replace(
        model, c=np.zeros(model.n_vars), integer=np.zeros(model.n_vars, dtype=bool)
    )
    pass_matrix(h, relaxed)
    in_fresh_thread(h.run)
    if h.getModelStatus() != highspy.HighsModelStatus.kInfeasible:
        return np.zeros(0, dtype=np.int64)
    status, iis = h.getIis()
    if status != highspy.HighsStatus.kOk or not iis.valid_:
        return None
    return np.asarray(iis.row_index_, dtype=np.int64)


@dataclasses.dataclass(frozen=True)
class HighsAnswer:
    """One solve of a :class:`HighsModel`: model status (HiGHS's words), primal values,
    row duals (empty for a MIP), objective and the MIP dual bound (the objective for an LP)."""

    status: str
    optimal: bool
    x: np.ndarray | None
    row_dual: np.ndarray | None
    row_value: np.ndarray | None
    objective: float
    bound: float
    seconds: float


class HighsModel:
    """A HiGHS model that changes between solves: bounds, integrality, rows added and
    deleted, a MIP start. Decompositions (:mod:`hubopt.benders`) use it for their master
    problem and their warm-started LP subproblem; nothing here knows their structure.

    The model is silent (no log) unless ``log_to`` names a file.
    """

    def __init__(
        self,
        c: np.ndarray,
        lb: np.ndarray,
        ub: np.ndarray,
        A: sp.csr_matrix,
        row_lo: np.ndarray,
        row_hi: np.ndarray,
        integer: np.ndarray | None = None,
        threads: int = 1,
        seed: int = 0,
    ) -> None:
        import highspy

        self.h = h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("random_seed", int(seed))
        h.setOptionValue("threads", int(max(threads, 1)))
        if threads > 1:
            h.setOptionValue("parallel", "on")
        n = len(c)
        integer = np.zeros(n, dtype=bool) if integer is None else np.asarray(integer, bool)
        model = MatrixModel(
            c=np.asarray(c, float),
            lb=np.asarray(lb, float),
            ub=np.asarray(ub, float),
            integer=integer,
            A=sp.csr_matrix(A),
            row_lo=np.asarray(row_lo, float),
            row_hi=np.asarray(row_hi, float),
            var_blocks={},
            row_blocks={},
        )
        pass_matrix(h, model)
        self.n_cols = n
        self.integer_cols = np.flatnonzero(integer).astype(np.int32)
        self.is_mip = bool(len(self.integer_cols))

    @property
    def n_rows(self) -> int:
        """Rows in the model now."""
        return int(self.h.getNumRow())

    def set_option(self, name: str, value: float | int | bool | str) -> None:
        """Set one HiGHS option (time_limit, mip_rel_gap, ...)."""
        self.h.setOptionValue(name, value)

    def set_col_bounds(self, cols: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> None:
        """Change the bounds of columns ``cols``."""
        cols = np.asarray(cols, dtype=np.int32)
        self.h.changeColsBounds(
            len(cols), cols, np.asarray(lo, dtype=np.float64), np.asarray(hi, dtype=np.float64)
        )

    def set_row_bounds(self, rows: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> None:
        """Change the bounds of rows ``rows``."""
        rows = np.asarray(rows, dtype=np.int32)
        # in highspy 1.16 but missing from its type stubs
        self.h.changeRowsBounds(  # type: ignore[attr-defined]
            len(rows), rows, np.asarray(lo, dtype=np.float64), np.asarray(hi, dtype=np.float64)
        )

    def set_integer(self, integer: bool) -> None:
        """Make the model's integer columns integer (a MIP) or continuous (its LP)."""
        import highspy

        cols = self.integer_cols
        if not len(cols):
            return
        kind = highspy.HighsVarType.kInteger if integer else highspy.HighsVarType.kContinuous
        self.h.changeColsIntegrality(len(cols), cols, np.full(len(cols), kind))
        self.is_mip = integer

    def add_rows(self, rows: sp.csr_matrix, lo: np.ndarray, hi: np.ndarray) -> None:
        """Append rows ``lo <= rows @ x <= hi``."""
        add_rows(self.h, rows, lo, hi)

    def delete_rows(self, rows: np.ndarray) -> None:
        """Delete rows ``rows`` (later rows move up)."""
        rows = np.asarray(rows, dtype=np.int32)
        if len(rows):
            self.h.deleteRows(len(rows), rows)

    def set_start(self, x: np.ndarray) -> None:
        """A complete MIP start."""
        x = np.asarray(x, dtype=np.float64)
        self.h.setSolution(len(x), np.arange(len(x), dtype=np.int32), x)

    def saved_solutions(self) -> list[np.ndarray]:
        """The improving MIP solutions of the last run (option
        ``mip_improving_solution_save``), oldest first."""
        return [np.asarray(s.col_value, dtype=float) for s in self.h.getSavedMipSolutions()]

    def run(self) -> HighsAnswer:
        """Solve as the model stands; a fresh thread per solve (see ``in_fresh_thread``)."""
        import highspy

        h = self.h
        start = time.perf_counter()
        in_fresh_thread(h.run)
        seconds = time.perf_counter() - start
        status = h.getModelStatus()
        info = h.getInfo()
        has_solution = info.primal_solution_status == 2
        solution = h.getSolution()
        is_mip = self.is_mip
        x = np.asarray(solution.col_value, dtype=float) if has_solution else None
        objective = float(info.objective_function_value) if has_solution else math.nan
        optimal = status == highspy.HighsModelStatus.kOptimal
        duals = not is_mip and optimal and info.dual_solution_status == 2
        return HighsAnswer(
            status=h.modelStatusToString(status),
            optimal=optimal,
            x=x,
            row_dual=np.asarray(solution.row_dual, dtype=float) if duals else None,
            row_value=np.asarray(solution.row_value, dtype=float) if has_solution else None,
            objective=objective,
            bound=float(info.mip_dual_bound) if is_mip else (objective if optimal else -math.inf),
            seconds=seconds,
        )
