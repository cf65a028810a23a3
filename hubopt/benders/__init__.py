"""Benders decomposition for single-period facility location (``solver.method: benders``).

Fischetti, Ljubić & Sinnl, "Benders decomposition without separability: a computational
study for capacitated facility location problems", EJOR 253(3), 2016. A scenario with
one period, no sources and a hub -> stream arc for every pair is a capacitated
facility-location problem (CFLP):

    min  sum_i f_i y_i + sum_ik c_ik x_ik
    s.t. sum_i x_ik = d_k                      (demand, one row per stream k)
         sum_k a_k x_ik <= s_i y_i             (throughput, m3; a_k = m3 per unit)
         0 <= x_ik <= d_k y_i,  y binary.

**Master**: the binaries y, one cost variable w >= the transport cost, the cover row
sum_i min(s_i, V) y_i >= V (V = all demand in m3) and the model's rows on y alone
(hub counts, budget). The cover row makes the transport LP feasible for every master
solution, fractional ones included, so no feasibility cuts are needed.

**Cuts**: the transport LP at a point y' (HiGHS dual simplex, warm-started: only bounds
change between points) gives duals u of the demand rows. Relaxing the demand rows with
any u leaves one continuous knapsack per hub, solved by sorting:

    w >= sum_k u_k d_k + sum_i KP_i(u) y_i,
    KP_i(u) = min { sum_k (c_ik - u_k) x_k : sum_k a_k x_k <= s_i, 0 <= x_k <= d_k }.

Every u gives a valid cut (Lagrangian duality), with the optimal u it is tight at y'.

**Root**: Kelley's loop on the master LP, stabilised in-out (Ben-Ameur & Neto): cut at
lambda y* + (1 - lambda) core, the core point moving toward y* (core <- alpha core +
(1 - alpha) y*); after ``STALL_ROUNDS`` rounds without bound progress plain Kelley at y*
until the LP bound stops moving; then slack cuts are purged.

**Master MIP loop**: HiGHS has no lazy-constraint callback, so the master MIP (y
binary) is re-solved with every cut so far and the best plan as its start; each
integer master solution is priced by the transport LP (an upper bound) and cut off if
its cost was underestimated. Each new plan y also gets a cut separated in-out, at
``IN_OUT_MIX`` y + (1 - ``IN_OUT_MIX``) core (core: the root's final LP point, moved
toward each new plan as at the root): at a 0/1 point the transport LP's duals are
degenerate (a closed hub's customers may take any price) and its cut is flat away from
y; at the mixed point every hub is partly open and the cut is deep around y. Measured on
capb 6000 (this machine, one run each): 117 s without, 54 s with a mix of 0.5, 56 s with
0.2 (docs/solvers.md). The master's MIP dual bound is a valid lower bound (the
master is a relaxation); the loop stops when the bound meets the best plan within
``solver.mip_gap`` or the master repeats a priced plan at the requested gap.

The best plan's hubs are then fixed in hubopt's full model, whose LP gives the
solution vector that :func:`hubopt.api.solve` decodes and verifies; its objective must
equal the decomposition's cost of that plan, else the run fails loudly.
"""

from hubopt.benders.facility import AUTO_MIN_PAIRS, benders_scope, facility_problem, knapsack_cut
from hubopt.benders.loop import (
    IN_OUT_MIX,
    Benders,
    BendersStats,
    TransportLp,
    complete_plan,
    method_for,
    solve_benders,
)

__all__ = [
    "AUTO_MIN_PAIRS",
    "IN_OUT_MIX",
    "Benders",
    "BendersStats",
    "TransportLp",
    "benders_scope",
    "complete_plan",
    "facility_problem",
    "knapsack_cut",
    "method_for",
    "solve_benders",
]
