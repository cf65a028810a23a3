"""``run_until``: deadlines stop HiGHS without a Python callback on every iteration."""

from __future__ import annotations

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
