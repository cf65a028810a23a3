"""``run_until``: deadlines stop HiGHS without a Python callback on every iteration."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

highspy = pytest.importorskip("highspy")

from hubopt.solvers.highs import run_until  # noqa: E402


def transport_lp(n: int = 300) -> object:
    """A random n x n transportation LP (~1 000 simplex iterations, under a second)."""
    rng = np.random.default_rng(0)
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)
    inf = highspy.kHighsInf
    h.addVars(n * n, np.zeros(n * n), np.full(n * n, inf))
    h.changeColsCost(n * n, np.arange(n * n, dtype=np.int32), rng.uniform(1, 100, n * n))
    supply = rng.uniform(1, 10, n)
    demand = np.full(n, 0.99 * supply.sum() / n)
    ships = sp.kron(sp.eye(n), np.ones((1, n))).tocsr()
    receives = sp.kron(np.ones((1, n)), sp.eye(n)).tocsr()
    for rows, lo, hi in ((ships, np.full(n, -inf), supply), (receives, demand, np.full(n, inf))):
        h.addRows(n, lo, hi, rows.nnz, rows.indptr[:-1].astype(np.int32), rows.indices, rows.data)
    return h


def test_run_until_interrupts_when_stop_turns_true_and_leaves_no_callback() -> None:
    h = transport_lp()
    run_until(h, lambda: True)
    assert h.getModelStatus() == highspy.HighsModelStatus.kInterrupt
    assert not h.cbSimplexInterrupt.callbacks and not h.cbIpmInterrupt.callbacks

    # the next run is not interrupted: the callback went with the run that needed it
    subscribed_while_running: list[int] = []

    def never() -> bool:
        subscribed_while_running.append(len(h.cbSimplexInterrupt.callbacks))
        return False

    h.clearSolver()
    run_until(h, never)
    assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    # no per-iteration Python callback while stop() is false (it would wait for the GIL
    # whenever another thread runs Python)
    assert set(subscribed_while_running) <= {0}


@pytest.mark.parametrize(("build_s", "limit", "expected"), [(1.0, 10.0, 9.0), (3.0, 2.0, 0.2)])
def test_the_time_limit_counts_the_build(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    build_s: float,
    limit: float,
    expected: float,
) -> None:
    """``solver.time_limit_s`` is the solve call's wall clock: the solver gets what the
    build left (here the build made ``build_s`` slower), at least a tenth of the limit."""
    from helpers import FIXTURES

    from hubopt import api
    from hubopt.orlib import read_orlib_cap, write_facility_scenario

    path = write_facility_scenario(read_orlib_cap(FIXTURES / "orlib" / "cap41.txt"), tmp_path)
    build = api.build_problem

    def slow_build(scenario: object) -> object:
        time.sleep(build_s)
        return build(scenario)  # type: ignore[arg-type]

    given: list[float] = []
    method_for = api.method_for

    def recording(problem: object, model: object, settings: object) -> object:
        given.append(settings.time_limit_s)  # type: ignore[attr-defined]
        return method_for(problem, model, settings)  # type: ignore[arg-type]

    monkeypatch.setattr(api, "build_problem", slow_build)
    monkeypatch.setattr(api, "method_for", recording)
    result = api.solve(path, time_limit_s=limit)
    assert result.build_seconds >= build_s
    assert given and given[0] <= expected + 1e-9
    assert given[0] >= (0.2 if expected == 0.2 else expected - 1.0)
    assert result.verification is not None and result.verification.ok
