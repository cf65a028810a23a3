"""The decomposition's loop: the transport LP that prices a plan and separates cuts, the
master, the in-out stabilised root and the master MIP loop (:mod:`hubopt.benders`)."""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from hubopt.benders.facility import (
    AUTO_MIN_PAIRS,
    FacilityProblem,
    benders_scope,
    covering_plan,
    facility_problem,
    knapsack_cut,
)
from hubopt.data.problem import ProblemData
from hubopt.errors import SolverError
from hubopt.model.matrix import MatrixModel
from hubopt.scenario.schema import SolverSettings
from hubopt.solvers.base import SolverOutput, SolveStatus
from hubopt.solvers.highs import HighsBackend, HighsModel, highs_version

log = logging.getLogger(__name__)

ALPHA = 0.9  # core point <- ALPHA core + (1 - ALPHA) y*
LAMBDA = 0.1  # separate at LAMBDA y* + (1 - LAMBDA) core
STALL_ROUNDS = 5  # rounds without bound progress before plain Kelley
ROOT_TOLERANCE = 1e-6  # relative bound progress that counts as progress at the root
MAX_ROOT_ROUNDS = 400
SAVED_PLANS = 5  # the master's last improving plans priced after each master MIP
GAP_TOLERANCE = 1e-7  # relative gap that counts as optimal with solver.mip_gap = 0
IN_OUT_MIX = 0.5  # master loop: also separate at IN_OUT_MIX y + (1 - IN_OUT_MIX) core


@dataclass
class BendersStats:
    """What the decomposition did (for the log and the manifest message)."""

    root_rounds: int = 0
    root_bound: float = -math.inf
    root_seconds: float = 0.0
    master_solves: int = 0
    cuts: int = 0
    purged: int = 0
    subproblems: int = 0
    history: list[tuple[float, float, float]] = field(default_factory=list)  # t, LB, UB

    def as_dict(self) -> dict[str, Any]:
        """Plain values."""
        out = dataclasses.asdict(self)
        out.pop("history")
        return out


class TransportLp:
    """The transport LP of a (possibly fractional) y, warm-started between points."""

    def __init__(self, fp: FacilityProblem) -> None:
        m, n = fp.cost.shape
        self.fp = fp
        cols = np.arange(m * n)
        stream = cols % n
        hub = cols // n
        rows = sp.csr_matrix(
            (
                np.concatenate([np.ones(m * n), fp.weight[stream]]),
                (np.concatenate([stream, n + hub]), np.concatenate([cols, cols])),
            ),
            shape=(n + m, m * n),
        )
        self.unit_cap = np.minimum(fp.demand[None, :], fp.capacity[:, None] / fp.weight[None, :])
        self.lp = HighsModel(
            fp.cost.ravel(),
            np.zeros(m * n),
            self.unit_cap.ravel(),
            rows,
            np.concatenate([fp.demand, np.full(m, -np.inf)]),
            np.concatenate([fp.demand, fp.capacity]),
        )
        self.lp.set_option("simplex_strategy", 1)  # dual simplex: bound changes keep the basis
        self.m, self.n = m, n

    def solve(self, y: np.ndarray) -> tuple[float, np.ndarray]:
        """Transport cost at ``y`` and the duals of the demand rows."""
        y = np.clip(y, 0.0, 1.0)
        m, n = self.m, self.n
        # (highspy 1.16's interval form of changeColsBounds left the bounds unchanged
        # here; the index form is slower but takes effect)
        self.lp.set_col_bounds(
            np.arange(m * n), np.zeros(m * n), (self.unit_cap * y[:, None]).ravel()
        )
        self.lp.set_row_bounds(n + np.arange(m), np.full(m, -np.inf), self.fp.capacity * y)
        answer = self.lp.run()
        if not answer.optimal or answer.row_dual is None:
            raise SolverError(
                f"Benders: the transport LP ended '{answer.status}' at a point the cover row "
                "allows (a bug: it is feasible by construction)."
            )
        return answer.objective, answer.row_dual[:n]


class Master:
    """min f.y + w over the cover row, the side rows and the cuts (HiGHS)."""

    def __init__(self, fp: FacilityProblem, settings: SolverSettings) -> None:
        m = len(fp.fixed)
        self.fp, self.m = fp, m
        volume = fp.volume
        cover = sp.csr_matrix(np.minimum(fp.capacity, volume)[None, :])
        rows = sp.vstack([cover, fp.side_rows]).tocsr()
        rows = sp.hstack([rows, sp.csr_matrix((rows.shape[0], 1))]).tocsr()
        w_lo = float(fp.demand @ fp.cost.min(axis=0))
        self.model = HighsModel(
            np.concatenate([fp.fixed, [1.0]]),
            np.concatenate([fp.y_lo, [w_lo]]),
            np.concatenate([fp.y_hi, [np.inf]]),
            rows,
            np.concatenate([[volume], fp.side_lo]),
            np.concatenate([[np.inf], fp.side_hi]),
            integer=np.concatenate([np.ones(m, dtype=bool), [False]]),
            threads=settings.threads or 2,
            seed=settings.seed,
        )
        self.base_rows = rows.shape[0]
        self.cuts: list[tuple[float, np.ndarray]] = []

    def add_cut(self, const: float, coef: np.ndarray) -> None:
        """w - coef . y >= const."""
        row = sp.csr_matrix(np.concatenate([-coef, [1.0]])[None, :])
        self.model.add_rows(row, np.array([const]), np.array([np.inf]))
        self.cuts.append((const, coef))

    def cut_value(self, y: np.ndarray) -> float:
        """The largest cut right-hand side at ``y`` (the master's transport estimate)."""
        if not self.cuts:
            return -math.inf
        return max(const + coef @ y for const, coef in self.cuts)

    def purge(self, row_value: np.ndarray, tolerance: float) -> int:
        """Delete cuts with slack above ``tolerance`` at the row activities ``row_value``."""
        slack = np.array([row_value[self.base_rows + i] - c for i, (c, _) in enumerate(self.cuts)])
        drop = np.flatnonzero(slack > tolerance)
        if not len(drop) or len(drop) == len(self.cuts):
            return 0
        self.model.delete_rows(self.base_rows + drop)
        keep = np.setdiff1d(np.arange(len(self.cuts)), drop)
        self.cuts = [self.cuts[i] for i in keep]
        return len(drop)


class Benders:
    """One run of the decomposition on a :class:`FacilityProblem`."""

    def __init__(self, fp: FacilityProblem, settings: SolverSettings, deadline: float) -> None:
        self.fp = fp
        self.settings = settings
        self.deadline = deadline
        self.sub = TransportLp(fp)
        self.master = Master(fp, settings)
        self.stats = BendersStats()
        self.lower = -math.inf
        self.upper = math.inf
        self.best: np.ndarray | None = None
        self.priced: dict[bytes, tuple[float, float, np.ndarray]] = {}
        self.core = fp.y_hi.astype(float).copy()  # the in-out core point (root, then master)
        self.start = time.perf_counter()

    def left(self) -> float:
        """Seconds to the deadline."""
        return self.deadline - time.perf_counter()

    def separate(self, y: np.ndarray) -> tuple[float, float, np.ndarray]:
        """Transport cost at ``y``, and the knapsack cut from its duals (added)."""
        value, u = self.sub.solve(y)
        self.stats.subproblems += 1
        const, coef = knapsack_cut(self.fp, u)
        at_point = const + coef @ y
        if at_point > value + 1e-6 * max(abs(value), 1.0):
            # weak duality says cut(y) <= transport cost(y): the LP answer is wrong
            raise SolverError(
                f"Benders: a cut ({at_point:.10g}) exceeds the transport cost "
                f"({value:.10g}) at its own point (the LP subproblem misreported)."
            )
        self.master.add_cut(const, coef)
        self.stats.cuts += 1
        return value, const, coef

    def price(self, y: np.ndarray) -> tuple[float, bool]:
        """Cost of the 0/1 plan ``y`` (fixed + transport), keeping the best plan; and
        whether a cut was added (no: the master already knows the plan's cost).

        A priced plan's cut is added again when a purge removed it.
        """
        y = np.round(y)
        key = y.astype(np.int8).tobytes()
        if key in self.priced:
            total, const, coef = self.priced[key]
            if any(kept is coef for _, kept in self.master.cuts):
                return total, False
            self.master.add_cut(const, coef)
            self.stats.cuts += 1
            return total, True
        value, const, coef = self.separate(y)
        total = float(self.fp.fixed @ y + value)
        self.priced[key] = (total, const, coef)
        # the cut is valid whatever y is; only plans the master allows become the best
        if total < self.upper and self.fp.allows(y):
            self.upper, self.best = total, y.copy()
        return total, True

    def separate_plan(self, y: np.ndarray) -> tuple[float, bool]:
        """:meth:`price` a master plan and, when it is new, add the in-out cut at
        ``IN_OUT_MIX`` y + (1 - ``IN_OUT_MIX``) core, then move the core toward y."""
        total, added = self.price(y)
        if added:
            y = np.round(y)
            self.separate(IN_OUT_MIX * y + (1 - IN_OUT_MIX) * self.core)
            self.core = ALPHA * self.core + (1 - ALPHA) * y
        return total, added

    def record(self) -> None:
        """Bound history for the log."""
        self.stats.history.append(
            (time.perf_counter() - self.start, self.lower + self.fp.offset, self.upper)
        )

    def root(self) -> None:
        """The stabilised cut loop on the master LP (see the module docstring)."""
        master = self.master.model
        master.set_integer(False)
        core = self.core
        kelley = False
        stall = 0
        best_lp = -math.inf
        answer = None
        for _ in range(MAX_ROOT_ROUNDS):
            if self.left() <= 0:
                break
            answer = master.run()
            if not answer.optimal or answer.x is None:
                raise SolverError(f"Benders: the master LP ended '{answer.status}'.")
            self.stats.root_rounds += 1
            y, w = answer.x[:-1], answer.x[-1]
            bound = answer.objective
            progress = bound > best_lp + ROOT_TOLERANCE * max(abs(bound), 1.0)
            best_lp = max(best_lp, bound)
            self.lower = max(self.lower, bound)
            stall = 0 if progress else stall + 1
            if not kelley and stall >= STALL_ROUNDS:
                kelley, stall = True, 0
            if kelley:
                point = y
            else:
                core = ALPHA * core + (1 - ALPHA) * y
                point = LAMBDA * y + (1 - LAMBDA) * core
            _, const, coef = self.separate(point)
            violated = const + coef @ y > w + 1e-7 * max(abs(w), 1.0)
            if kelley and (not violated or stall >= STALL_ROUNDS):
                break
            if self.stats.root_rounds % 5 == 1:
                self.price(covering_plan(self.fp, y))
            self.record()
        if answer is not None and answer.row_value is not None:
            final = master.run()
            if final.optimal and final.row_value is not None:
                self.lower = max(self.lower, final.objective)
                tolerance = 1e-6 * max(abs(final.objective), 1.0)
                self.stats.purged += self.master.purge(final.row_value, tolerance)
                if final.x is not None:
                    self.price(covering_plan(self.fp, final.x[:-1]))
                    core = np.clip(final.x[:-1], 0.0, 1.0)
        self.core = core
        self.stats.root_bound = self.lower + self.fp.offset
        self.stats.root_seconds = time.perf_counter() - self.start

    def branch(self) -> bool:
        """Re-solve the master MIP until its bound meets the best plan; True if proven."""
        master = self.master.model
        master.set_integer(True)
        master.set_option("mip_improving_solution_save", True)
        target = max(float(self.settings.mip_gap), GAP_TOLERANCE)
        exact = False  # solve the master to the target gap (after a repeated plan)
        while self.left() > 0:
            gap = self.gap()
            if gap <= target:
                return True
            master_gap = target if exact else max(target, min(0.01, gap / 4))
            master.set_option("mip_rel_gap", master_gap)
            master.set_option("time_limit", max(self.left(), 0.0))
            if self.best is not None:
                w = max(
                    self.upper - float(self.fp.fixed @ self.best), self.master.cut_value(self.best)
                )
                master.set_start(np.concatenate([self.best, [w]]))
            answer = master.run()
            self.stats.master_solves += 1
            if math.isfinite(answer.bound):
                self.lower = max(self.lower, answer.bound)
            if answer.x is None:
                return False
            y = np.round(answer.x[:-1])
            _, added = self.separate_plan(y)
            for other in master.saved_solutions()[-SAVED_PLANS:]:
                self.separate_plan(other[:-1])  # more cuts per master solve, maybe a better plan
            self.record()
            log.info(
                "Benders master %d (gap %.2g): bound %.10g, best %.10g",
                self.stats.master_solves,
                master_gap,
                self.lower + self.fp.offset,
                self.upper + self.fp.offset,
            )
            if not added:
                if exact and answer.optimal:
                    # the master's optimum at the target gap is a priced plan: no cut is
                    # left to add, the bound is final
                    return self.gap() <= target
                exact = True
        return self.gap() <= target

    def gap(self) -> float:
        """Relative gap between the best plan and the bound (inf without a plan)."""
        if not math.isfinite(self.upper):
            return math.inf
        upper = self.upper + self.fp.offset
        lower = self.lower + self.fp.offset
        return max(upper - lower, 0.0) / max(abs(upper), 1e-9)


def solve_benders(
    problem: ProblemData,
    model: MatrixModel,
    settings: SolverSettings,
    warm_start: np.ndarray | None = None,
) -> tuple[SolverOutput, BendersStats]:
    """Solve an in-scope ``model`` by Benders decomposition; x is a full-model solution.

    Raises
    ------
    hubopt.errors.SolverError
        If the model is not single-period facility location (the reasons are listed),
        or if the full model disagrees with the decomposition's cost of its plan.
    """
    reasons = benders_scope(problem, model)
    if reasons:
        raise SolverError(
            "solver.method: benders applies to single-period facility location "
            "(one period, no sources, every hub serving every stream); this scenario has "
            + "; ".join(reasons)
            + ". Use solver.method: compact (or auto)."
        )
    start = time.perf_counter()
    limit = float(settings.time_limit_s)
    fp = facility_problem(problem, model)
    run = Benders(fp, settings, start + 0.95 * limit)
    if warm_start is not None:
        y0 = model.block(warm_start, "open")
        if not np.isnan(y0).any():
            y0 = np.clip(np.round(y0), fp.y_lo, fp.y_hi)
            if np.minimum(fp.capacity, fp.volume) @ y0 >= fp.volume * (1 - 1e-12):
                run.price(y0)
    run.root()
    log.info(
        "Benders root: %d rounds, bound %.10g, best %.10g, %.1f s",
        run.stats.root_rounds,
        run.stats.root_bound,
        run.upper + fp.offset,
        run.stats.root_seconds,
    )
    proven = run.branch()
    stats = run.stats
    if run.best is None:
        output = SolverOutput(
            status=SolveStatus.TIME_LIMIT,
            x=None,
            objective=math.nan,
            bound=run.lower + fp.offset,
            solve_seconds=time.perf_counter() - start,
            backend="highs",
            solver_version=highs_version(),
            log=_summary(stats),
            message="Benders: no plan within the time limit",
        )
        return output, stats
    full = complete_plan(model, run.best, max(limit - (time.perf_counter() - start), 30.0))
    expected = run.upper + fp.offset
    if abs(full.objective - expected) > 1e-6 * max(abs(expected), 1.0):
        raise SolverError(
            f"Benders: the full model costs the plan {full.objective:.10g}, the decomposition "
            f"{expected:.10g}; the scenario is outside what the decomposition models (a bug "
            "in hubopt.benders.benders_scope). Use solver.method: compact."
        )
    bound = min(run.lower + fp.offset, full.objective)
    status = SolveStatus.OPTIMAL if proven else SolveStatus.FEASIBLE
    output = SolverOutput(
        status=status,
        x=full.x,
        objective=full.objective,
        bound=bound,
        solve_seconds=time.perf_counter() - start,
        backend="highs",
        solver_version=f"{full.solver_version}, Benders decomposition",
        log=_summary(stats) + "\n\nFull model with the hubs fixed:\n" + full.log,
        message=(
            f"Benders ({'optimal' if proven else 'time limit'}): {stats.root_rounds} root "
            f"rounds, {stats.master_solves} master MIPs, {stats.cuts} cuts"
        ),
    )
    return output, stats


def complete_plan(model: MatrixModel, y: np.ndarray, time_limit_s: float) -> SolverOutput:
    """The full model's optimal solution with the hubs' ``open`` fixed to ``y`` (an LP)."""
    cols = model.var_blocks["open"]
    lb, ub = model.lb.copy(), model.ub.copy()
    lb[cols] = ub[cols] = y
    fixed = dataclasses.replace(model, lb=lb, ub=ub, integer=np.zeros(model.n_vars, dtype=bool))
    settings = SolverSettings(time_limit_s=time_limit_s, mip_gap=0.0, threads=1)
    output = HighsBackend().solve(fixed, settings)
    if output.status != SolveStatus.OPTIMAL or output.x is None:
        raise SolverError(
            f"Benders: the full model with the plan's hubs fixed ended '{output.message}'."
        )
    return output


def method_for(
    problem: ProblemData, model: MatrixModel, settings: SolverSettings
) -> tuple[str, list[str]]:
    """``benders`` or ``compact`` for ``solver.method``, and why Benders does not apply.

    ``auto`` decomposes when the model is in scope, the backend is HiGHS (or auto) and it
    has at least ``AUTO_MIN_PAIRS`` hub-stream pairs, where the compact model switches to
    its weak linking rows (docs/solvers.md has the measurements). An explicit ``benders`` on a model
    out of scope is an error.
    """
    method = str(settings.method)
    if method == "compact":
        return "compact", []
    reasons = benders_scope(problem, model)
    backend = str(settings.backend)
    if backend not in ("auto", "highs"):
        reasons.append(f"backend {backend} (the decomposition runs on HiGHS)")
    if method == "benders":
        if reasons:
            raise SolverError(
                "solver.method: benders applies to single-period facility location on HiGHS; "
                "this scenario has " + "; ".join(reasons) + ". Use solver.method: compact or auto."
            )
        return "benders", []
    pairs = len(problem.out_arcs)
    if reasons or pairs < AUTO_MIN_PAIRS:
        return "compact", reasons
    return "benders", []


def _summary(stats: BendersStats) -> str:
    """The decomposition's log: counts and the bound history."""
    lines = [f"Benders decomposition: {stats.as_dict()}", "seconds  lower_bound  best_plan"]
    lines += [f"{t:8.2f}  {lo:.10g}  {up:.10g}" for t, lo, up in stats.history]
    return "\n".join(lines)
