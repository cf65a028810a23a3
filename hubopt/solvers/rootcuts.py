"""The root cut loop: strengthen the LP relaxation in highspy before the MIP starts.

HiGHS calls no user-cut or lazy-constraint callback during branch and bound, so strong
rows that are too many to put in the model (the per-(hub, stream) linking rows of a large
network) are added before it: solve the LP relaxation with the compact rows, add the
candidate rows it violates (most violated first, at most ``max_rows_per_round``) with
``addRows``, re-solve warm from the last basis, and repeat until no candidate is violated,
the bound rises by less than ``min_improvement`` of itself in a round, ``max_rounds`` is
reached or the loop's share of the time limit would not hold another re-solve (estimated
as the longest LP solve so far). The rows that were tight in some
solved round are appended to the model for the MIP; the others (and the rows of a round
whose LP ran out of time) are dropped.

Every candidate is a valid inequality (:func:`hubopt.model.strong.strong_rows`), so the
MIP's plans and optimum do not change and the LP bound after the loop is a valid lower
bound on the optimum.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from hubopt.data.problem import ProblemData
from hubopt.model.matrix import MatrixModel
from hubopt.model.strong import StrongRows, region_rows, strong_rows
from hubopt.scenario.schema import RootCutSettings, SolverSettings
from hubopt.solvers.base import SolverOutput, solver_threads
from hubopt.solvers.highs import HighsBackend, add_rows, pass_matrix, run_within
from hubopt.solvers.pricing import KEPT_ROWS

log = logging.getLogger(__name__)

ROW_BLOCK = "strong_linking_cuts"
VIOLATION_TOL = 1e-6  # relative to the row's largest coefficient
TIGHT_TOL = 1e-6


@dataclass(frozen=True)
class RootCutReport:
    """What the root cut loop did (for the manifest, the CLI and the solver log)."""

    candidates: int
    rounds: int  # LP re-solves after adding rows
    rows_added: int
    rows_kept: int  # ever tight, appended to the MIP
    lp_bound_before: float  # LP relaxation with the compact linking rows (nan if unsolved)
    lp_bound_after: float  # LP relaxation with the rows added (nan if unsolved)
    seconds: float
    stop: str  # why the loop ended
    first_lp_seconds: float = math.nan  # the first LP's solve (cut short or not)

    @property
    def improvement(self) -> float:
        """(after - before) / |before|: the relative rise of the LP bound (nan if unknown)."""
        if not (math.isfinite(self.lp_bound_before) and math.isfinite(self.lp_bound_after)):
            return math.nan
        return (self.lp_bound_after - self.lp_bound_before) / max(abs(self.lp_bound_before), 1e-9)

    @property
    def bound(self) -> float:
        """The best LP bound the loop proved (after its rounds, else the plain LP
        relaxation); -inf when not even that LP was solved in time."""
        for value in (self.lp_bound_after, self.lp_bound_before):
            if math.isfinite(value):
                return value
        return -math.inf

    @property
    def lp_solved(self) -> bool:
        """Whether the loop's first LP was solved (not cut short, infeasible or unsolved)."""
        return math.isfinite(self.lp_bound_before) and not self.stop.startswith("LP: ")

    @property
    def lp_status(self) -> str:
        """``Infeasible`` when the LP relaxation is (then so is the model), else ``solved``
        or ``not solved``."""
        if self.stop.startswith("LP: "):
            return self.stop.removeprefix("LP: ")
        return "solved" if math.isfinite(self.bound) else "not solved"

    def as_dict(self) -> dict[str, Any]:
        """For manifests and JSON (unknown numbers are None)."""
        out: dict[str, Any] = dataclasses.asdict(self)
        out["improvement"] = self.improvement
        for key, value in out.items():
            if isinstance(value, float):
                out[key] = value if math.isfinite(value) else None
        out["seconds"] = round(self.seconds, 3)
        return out

    def text(self) -> str:
        """One line for logs."""
        return (
            f"root cut loop: LP bound {self.lp_bound_before:,.6g} -> {self.lp_bound_after:,.6g} "
            f"({self.improvement:+.3%}) in {self.rounds} round(s), {self.rows_added} of "
            f"{self.candidates} candidate rows added, {self.rows_kept} kept for the MIP, "
            f"{self.seconds:.1f} s; stopped: {self.stop}"
        )


def wanted(settings: SolverSettings, backend: str, periods: int = 1) -> bool:
    """Whether the loop runs for ``backend`` (the resolved backend's name).

    ``auto`` runs it with HiGHS on single-period models only: measured on a quiet machine,
    the 10-period Korea demo at 100 s went from a 3.7 % gap without the loop to 9.6 % with
    it (its one round took 27 s and the 5 600 kept rows slowed the MIP's root LP), while
    single-period facility location with aggregated linking (OR-Library capb) went from
    25.7 % to the optimum (docs/solvers.md). ``on`` runs it everywhere."""
    mode = settings.root_cuts.mode
    return mode == "on" or (mode == "auto" and backend == "highs" and periods == 1)


def strengthen(
    problem: ProblemData, model: MatrixModel, settings: SolverSettings, backend: str
) -> tuple[MatrixModel, SolverSettings, RootCutReport | None]:
    """Run the root cut loop when ``solver.root_cuts`` asks for it for ``backend`` and the
    model has integer columns; return the model for the MIP, the settings with the
    loop's seconds taken off the time limit, and the loop's report (None if it did not run).
    """
    if not model.integer.any() or not wanted(settings, backend, problem.periods):
        return model, settings, None
    if not HighsBackend().available():
        log.warning("solver.root_cuts.mode is on but highspy is not installed: no root cuts")
        return model, settings, None
    model, loop = root_cut_loop(model, strong_rows(problem, model), settings)
    left = max(settings.time_limit_s - loop.seconds, 1.0)
    return model, settings.model_copy(update={"time_limit_s": left}), loop


FIRST_LP_SHARE = 0.85
"""Share of the bound loop's time its first stage (every region row at once, interior
point) may take before the loop falls back to adding region rows in rounds. Korea demo on
a slow machine: 42-64 s beside the search (at 0.6 of 80 s it missed in 2 of 3 runs, at 0.7
of 90 s in 2 of 10 and then in a run that needed 63.7 s). A stage cut short bounds by its
iterate, which in every Korea miss measured beat the rounds after it (18.634-18.640 bn
against 18.37-18.51 bn), so the fallback's time matters less than the stage's
(docs/solvers.md)."""

FIRST_STAGE_MAX_COLUMNS = 500_000
"""Largest model (columns) whose bound loop starts with every region row at once by
interior point: the Korea demo (125 k columns) solves it in 31 s; on the 1000x60x10x12
ladder rung (1.19 M) it did not finish in 144 s and left the fallback 96 s."""


def bound_loop(
    problem: ProblemData, model: MatrixModel, settings: SolverSettings, seconds: float
) -> RootCutReport:
    """The root cut loop as a bound only (the heuristic backend's, beside its search), on
    one thread for up to ``seconds``; the report's LP bound is a valid lower bound.

    First stage: the LP relaxation with *every* per-(hub, region, period) linking row
    (:func:`hubopt.model.strong.region_rows`), solved by HiGHS's interior point method
    (crossover gives the basis for the rounds after it) within ``FIRST_LP_SHARE`` of the
    time. Then the per-(hub, stream) rows it violates are added in rounds, re-solved warm
    by dual simplex, while time is left. Measured on the Korea demo (quiet machine, one
    core): every region row at once by interior point 30.7 s to 18.640 bn KRW, the bound the
    region rows reach in rounds after 90 s (5 rounds, 18.620 bn, in 80 s beside the
    search); then one per-stream round, 40 s more, 18.688 bn; the per-stream rows'
    fixed point is 18.730 bn (every one at once by interior point: 90 s).

    If the first stage does not finish in its share (a loaded machine), or the model has
    more than ``FIRST_STAGE_MAX_COLUMNS`` columns, the loop adds the region rows in rounds
    to the plain LP relaxation instead (the dual simplex gives a bound after its first LP,
    ~8 s on Korea). That first LP runs without presolve, so even if it does not finish, its
    duals so far give a valid bound (``anytime``): a plan always comes with a gap. The
    interior point runs without presolve too, so a first stage cut short still bounds by
    its last iterate's duals (close to the LP optimum in its last iterations: Korea 18.6395
    bn at 45 s, optimum 18.6396 bn at 57 s; far below it earlier: 16.8 bn at 30 s); the
    loop keeps the better of that bound and the rounds'.
    """
    start = time.perf_counter()
    config = settings.root_cuts.model_copy(update={"time_share": 1.0})

    def alone(limit: float) -> SolverSettings:
        return settings.model_copy(
            update={"time_limit_s": max(limit, 0.01), "threads": 1, "root_cuts": config}
        )

    regions = region_rows(problem, model)
    why = f"a model above {FIRST_STAGE_MAX_COLUMNS:,} columns"
    cut_short: RootCutReport | None = None
    if model.n_vars <= FIRST_STAGE_MAX_COLUMNS:
        with_regions = append_rows(model, regions, np.arange(regions.n_rows))
        _, loop = root_cut_loop(
            with_regions,
            strong_rows(problem, model),
            alone(seconds),
            to_the_end=True,
            first=("ipm", FIRST_LP_SHARE * seconds),
        )
        if loop.lp_status == "Infeasible":
            return loop
        if loop.lp_solved:
            return dataclasses.replace(
                loop,
                stop=f"{loop.stop} (first LP: every region row, {loop.first_lp_seconds:.1f} s)",
            )
        why = "every region row at once ran out of time"
        cut_short = loop
    left = seconds - (time.perf_counter() - start)
    _, loop = root_cut_loop(model, regions, alone(left), to_the_end=True, anytime=True)
    seconds_spent = time.perf_counter() - start
    if cut_short is not None and cut_short.bound > loop.bound:
        return dataclasses.replace(
            cut_short,
            seconds=seconds_spent,
            stop=f"{cut_short.stop} (first LP: every region row, cut short at "
            f"{cut_short.first_lp_seconds:.1f} s; the region rows in rounds after it reached "
            f"{loop.bound:.8g})",
        )
    return dataclasses.replace(
        loop, seconds=seconds_spent, stop=f"{loop.stop} (region rows in rounds: {why})"
    )


def _duals_bound(h: Any, model: MatrixModel) -> float:
    """The bound :meth:`MatrixModel.dual_bound_keeping` (demand rows kept, as the column
    generation's :mod:`hubopt.solvers.pricing` bounds) of the row duals ``h`` holds for
    ``model`` (the LP loaded in ``h``, solved or not); nan when ``h`` has none of that
    length. Keeping the demand rows is never below pricing them and matters for duals far
    from optimal: Korea's LP with every region row, interior point cut short after 60
    iterations, 18.478 bn priced and 18.567 bn kept (optimum 18.640 bn); after 80, 18.6362
    and 18.6369 bn."""
    duals = np.asarray(h.getSolution().row_dual, dtype=float)
    if len(duals) != model.n_rows:
        return math.nan
    return model.dual_bound_keeping(duals, KEPT_ROWS)


def with_loop(output: SolverOutput, loop: RootCutReport | None) -> SolverOutput:
    """``output`` with the loop's seconds in its solve time, the loop's line at the top of
    its log, and the LP bound after the loop as its bound when that is higher (it is a valid lower bound on the optimum; the
    MIP may stop before its own root bound passes it)."""
    if loop is None:
        return output
    bound = output.bound
    after = loop.lp_bound_after
    if output.status.has_solution and math.isfinite(after) and not after <= bound:
        bound = min(after, output.objective)
    return dataclasses.replace(
        output,
        bound=bound,
        solve_seconds=output.solve_seconds + loop.seconds,
        log=f"{loop.text()}\n{output.log}",
    )


def append_rows(model: MatrixModel, rows: StrongRows, keep: np.ndarray) -> MatrixModel:
    """``model`` with the candidate rows ``keep`` appended as the block :data:`ROW_BLOCK`."""
    import scipy.sparse as sp

    if not len(keep):
        return model
    start = model.n_rows
    return dataclasses.replace(
        model,
        A=sp.vstack([model.A, rows.A[keep]], format="csr"),
        row_lo=np.concatenate([model.row_lo, rows.lo[keep]]),
        row_hi=np.concatenate([model.row_hi, rows.hi[keep]]),
        row_blocks={**model.row_blocks, ROW_BLOCK: slice(start, start + len(keep))},
    )


def root_cut_loop(
    model: MatrixModel,
    rows: StrongRows,
    settings: SolverSettings,
    to_the_end: bool = False,
    first: tuple[str, float] | None = None,
    anytime: bool = False,
) -> tuple[MatrixModel, RootCutReport]:
    """Run the loop of this module; return the model with the kept rows and the report.

    ``to_the_end`` starts a round whenever time is left, even one the longest LP so far
    says will not finish (a bound-only loop on its own thread loses nothing by trying;
    a round cut short is dropped and the bound stays the last solved one). ``first``
    = (HiGHS ``solver`` option, seconds) solves the first LP that way within that time;
    the rounds re-solve by dual simplex. ``anytime`` solves the first LP by dual simplex
    without presolve, so that if time runs out during it, its row duals so far still give
    a valid bound (:meth:`MatrixModel.dual_bound`) instead of none."""
    import highspy

    config: RootCutSettings = settings.root_cuts
    start = time.perf_counter()
    budget = config.time_share * settings.time_limit_s
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", int(solver_threads(settings)))
    h.setOptionValue("random_seed", int(settings.seed))
    relaxed = dataclasses.replace(model, integer=np.zeros(model.n_vars, dtype=bool))
    pass_matrix(h, relaxed)
    optimal = highspy.HighsModelStatus.kOptimal

    longest = [0.0]  # the longest LP solve so far (s): the estimate of the next one
    first_lp = [math.nan]  # the first LP's solve (s)

    def solve(limit: float = math.inf) -> float:
        """Solve the LP within the time left (at most ``limit``); its objective, or nan if
        not optimal."""
        began = time.perf_counter()
        left = max(min(budget - (began - start), limit), 0.01)
        run_within(h, left)
        longest[0] = max(longest[0], time.perf_counter() - began)
        if math.isnan(first_lp[0]):
            first_lp[0] = longest[0]
        if h.getModelStatus() != optimal:
            return math.nan
        return float(h.getInfo().objective_function_value)

    def report(rounds: int, added: np.ndarray, kept: np.ndarray, after: float, stop: str) -> Any:
        return RootCutReport(
            candidates=rows.n_rows,
            rounds=rounds,
            rows_added=int(added.sum()),
            rows_kept=len(kept),
            lp_bound_before=before,
            lp_bound_after=after,
            seconds=time.perf_counter() - start,
            stop=stop,
            first_lp_seconds=first_lp[0],
        )

    added = np.zeros(rows.n_rows, dtype=bool)
    tight = np.zeros(rows.n_rows, dtype=bool)
    scale = np.maximum(abs(rows.A).max(axis=1).toarray().ravel(), 1.0) if rows.n_rows else None
    if anytime:
        # presolved, an interrupted run has no duals of this model (measured on Korea: the
        # dual simplex without presolve took 6.5 s, with it 10.4 s)
        h.setOptionValue("presolve", "off")
        h.setOptionValue("solver", "simplex")
        h.setOptionValue("simplex_strategy", 1)
    if first is not None:
        # presolved, an interior point cut short leaves no duals of this model (measured
        # on Korea: their bound -3.5e11); unpresolved, its iterate's duals bound the LP
        # (18.6395 bn at 45 s of a 57 s solve whose optimum is 18.6396 bn, docs/solvers.md)
        h.setOptionValue("presolve", "off")
        h.setOptionValue("solver", first[0])
        before = solve(first[1])
        h.setOptionValue("solver", "simplex")
    else:
        before = solve()
    if math.isnan(before):
        status = h.modelStatusToString(h.getModelStatus())
        none = np.zeros(0, dtype=np.int64)
        if (anytime or first is not None) and status != "Infeasible":
            before = _duals_bound(h, model)
        if not math.isnan(before):
            text = f"LP: {status}; bound from its duals so far"
            return model, report(0, added, none, before, text)
        return model, report(0, added, none, math.nan, f"LP: {status}")
    bound, rounds, last = before, 0, np.zeros(0, dtype=np.int64)
    order: list[np.ndarray] = []  # the rows added to ``h``, round by round
    stop = "no violated row"
    while rows.n_rows:
        x = np.asarray(h.getSolution().col_value, dtype=float)
        activity = rows.A @ x
        assert scale is not None
        tight |= added & ((rows.hi - activity) <= TIGHT_TOL * scale)
        violation = (activity - rows.hi) / scale
        violated = np.flatnonzero(~added & (violation > VIOLATION_TOL))
        if not len(violated):
            stop = "no violated row"
            break
        if rounds >= config.max_rounds:
            stop = "round limit"
            break
        if time.perf_counter() - start + (0.0 if to_the_end else longest[0]) > budget:
            # a re-solve cut short by the time share would be wasted: do not start it
            stop = "time share too short for another round"
            break
        last = violated[np.argsort(-violation[violated], kind="stable")][
            : config.max_rows_per_round
        ]
        added[last] = True
        order.append(last)
        add_rows(h, rows.A[last], rows.lo[last], rows.hi[last])
        rounds += 1
        value = solve()
        if math.isnan(value):
            # out of time mid-solve: the last rows are not kept (keeping them made the Korea
            # MIP's root LP slower without a better bound, docs/solvers.md), but the warm
            # dual simplex's duals so far bound the LP with them (valid for any duals)
            stop = "time share spent during an LP"
            so_far = _duals_bound(h, append_rows(model, rows, np.concatenate(order)))
            if so_far > bound:
                bound = so_far
                stop += f" (its duals so far: LP bound {so_far:.8g})"
            break
        log.info("root cut round %d: %d rows added, LP bound %.8g", rounds, len(last), value)
        rise = (value - bound) / max(abs(bound), 1e-9)
        bound = max(bound, value)
        if rise < config.min_improvement:
            x = np.asarray(h.getSolution().col_value, dtype=float)
            tight |= added & ((rows.hi - rows.A @ x) <= TIGHT_TOL * scale)
            stop = "bound stalled"
            break
    kept = np.flatnonzero(tight)
    loop = report(rounds, added, kept, bound, stop)
    log.info(loop.text())
    return append_rows(model, rows, kept), loop
