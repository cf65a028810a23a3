"""Primal heuristics: a greedy start, and a local search on the hub-period decisions.

:func:`greedy_open` proposes which hubs to open from a cheapest-arc assignment.
:func:`local_search` improves a plan by moves on ``open[h,t]``, each scored by the LP
with the hub decisions fixed (:class:`hubopt.solvers.fixing.FixedLp`, one warm-started
HiGHS model), in a variable-neighbourhood descent
(:func:`~hubopt.heuristic.search.improve`): shift a hub's first
(or, with closing allowed, last) open period by one, two, ... periods; open a closed hub
(the one nearest the most expensive streams first); close a hub (least-used first); swap
an open hub for a closed one. The first improving move of the first neighbourhood that
has one is taken and the descent restarts from the shifts, which on multi-period models
are the cheapest LPs and the most productive moves. Moves that break a bound (forced
statuses, ``open_from_period``), the no-closing rule or ``min/max_open_hubs`` are skipped
without an LP; anything else the LP rejects (a budget, a capacity, a window). It stops
at a local optimum, after ``max_moves`` LPs or at its deadline, and never returns a plan
costlier than its start. With ``escape`` (the heuristic backend) a local optimum reached
with time left is not the end: a sub-MIP around it (:mod:`hubopt.heuristic.rins`) may
find a cheaper plan, from which the descent goes on.

:func:`improve_beside` goes on searching while HiGHS runs, from where the search before
HiGHS stopped and then from each new HiGHS incumbent, and offers better plans back
through a :class:`~hubopt.solvers.base.SolutionFeed` (HiGHS's user-solution callback);
:func:`with_unused_plan` keeps an offered plan HiGHS never asked for when it is cheaper
than HiGHS's own.
"""

from __future__ import annotations

from hubopt.heuristic.moves import ArcCosts, HubSpace, retimings, shifts, swaps
from hubopt.heuristic.search import (
    Searcher,
    improve_beside,
    local_search,
    with_unused_plan,
)
from hubopt.heuristic.start import greedy_open, warm_start_vector

__all__ = [
    "ArcCosts",
    "HubSpace",
    "Searcher",
    "greedy_open",
    "improve_beside",
    "local_search",
    "retimings",
    "shifts",
    "swaps",
    "warm_start_vector",
    "with_unused_plan",
]
