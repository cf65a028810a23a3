"""Refuse, before building, a model that would not fit in memory."""

from __future__ import annotations

import contextlib
import ctypes
import gc
import logging
import os

import numpy as np
import psutil

from hubopt.data.problem import ProblemData
from hubopt.data.spill import SpilledArcs
from hubopt.errors import ModelTooLargeError, Problem

log = logging.getLogger(__name__)

# Measured: ~350 bytes per nonzero through scipy assembly + HiGHS copy + presolve (docs/solvers.md).
BYTES_PER_NONZERO = 350
NONZEROS_PER_ARC = 5  # demand, balance, linking, throughput, safety stock


def estimate_model_bytes(problem: ProblemData, out_arcs: int | None = None) -> int:
    """Rough peak memory of building and solving the model (with ``out_arcs`` outbound
    arcs instead of the problem's, for a model restricted to some of them)."""
    arcs = (len(problem.out_arcs) if out_arcs is None else out_arcs) + len(problem.in_arcs)
    grid = problem.n_hubs * problem.n_products * problem.periods
    return BYTES_PER_NONZERO * (NONZEROS_PER_ARC * arcs + 6 * grid + 2 * len(problem.streams))


BYTES_PER_HELD_NONZERO = 40
"""Memory per nonzero of a model held in scipy only (CSR matrix, costs, bounds): the
full model a restricted solve keeps to bound the full problem."""


def _arcs_of_each_stream(problem: ProblemData) -> np.ndarray:
    return np.bincount(problem.out_arcs["stream_idx"].to_numpy(), minlength=len(problem.streams))


def estimate_restricted_bytes(
    problem: ProblemData, per_stream: int, counts: np.ndarray | None = None
) -> int:
    """Rough peak memory of solving with each stream's ``per_stream`` cheapest arcs while
    holding the full model for the bound (``counts``: arcs of each stream, if known)."""
    counts = _arcs_of_each_stream(problem) if counts is None else counts
    kept = int(np.minimum(counts, per_stream).sum())
    held = estimate_model_bytes(problem) // BYTES_PER_NONZERO * BYTES_PER_HELD_NONZERO
    return estimate_model_bytes(problem, kept) + held


def arcs_per_stream_that_fit(problem: ProblemData) -> int | None:
    """The most arcs per stream (cheapest first) whose restricted solve fits in the memory
    available, None when the whole model fits, 0 when not even one arc per stream does."""
    have = available_bytes()
    if estimate_model_bytes(problem) <= have:
        return None
    counts = _arcs_of_each_stream(problem)
    for per_stream in range(int(counts.max(initial=0)), 0, -1):
        if estimate_restricted_bytes(problem, per_stream, counts) <= have:
            return per_stream
    return 0


def _memory_limit() -> int | None:
    """``HUBOPT_MEMORY_LIMIT_BYTES``, when set."""
    override = os.environ.get("HUBOPT_MEMORY_LIMIT_BYTES")
    return int(override) if override else None


def available_bytes() -> int:
    """Memory available to this process (``HUBOPT_MEMORY_LIMIT_BYTES`` overrides)."""
    limit = _memory_limit()
    return int(psutil.virtual_memory().available) if limit is None else limit


LP_COPY_BYTES_PER_NONZERO = 250
"""Memory per nonzero of one more HiGHS copy of an LP once it has solved (measured on the
1000x60x10x12 ladder rung's restricted LP, 2.6 M nonzeros: +370 MB, ~145 B; with margin)."""


def headroom_bytes() -> int:
    """Memory this process may still take: below ``HUBOPT_MEMORY_LIMIT_BYTES`` (less what it
    holds now) when set, else the machine's available memory."""
    limit = _memory_limit()
    if limit is None:
        return available_bytes()
    return limit - int(psutil.Process().memory_info().rss)


def lp_copies_that_fit(nonzeros: int, wanted: int) -> int:
    """How many HiGHS copies of an LP of ``nonzeros`` (1 to ``wanted``) a search may hold:
    the extra ones only while they take at most half of :func:`headroom_bytes`."""
    spare = headroom_bytes() // 2 // max(LP_COPY_BYTES_PER_NONZERO * nonzeros, 1)
    return int(min(max(wanted, 1), 1 + max(spare, 0)))


HELD_MODEL_BYTES_PER_COLUMN = 100
"""Memory per column of the vectors one step of the Lagrangian bound makes
(:mod:`hubopt.solvers.lagrangian`: reduced costs, boxes' ends, the inner minimiser, sort
keys; with margin)."""


def whole_model_stays(columns: int, model_bytes: int) -> bool:
    """Whether a restricted solve may keep its whole model (``model_bytes`` held now) for
    the Lagrangian bound beside its search: it and one step's vectors (``columns``) take
    at most a quarter of :func:`headroom_bytes` (the search's LP copies come after)."""
    need = model_bytes + HELD_MODEL_BYTES_PER_COLUMN * columns
    return need <= headroom_bytes() // 4


ARCS_TABLE_BYTES_PER_FILE_BYTE = 3
"""Memory of a spilled arcs table read back, per byte of its file (pickle, with the
reading's copy; generous)."""


def widening_fits(
    problem: ProblemData, spilled: SpilledArcs, open_share: float, also: int = 0
) -> bool:
    """Whether reading the spilled arcs back and building the model on the arcs to a plan's
    open hubs (:mod:`hubopt.heuristic.widen`; about ``open_share``, the plan's share of
    open hub-periods, of the arcs, half as many again for margin) and ``also`` more arcs
    fit in the memory left."""
    table = spilled.path.stat().st_size * ARCS_TABLE_BYTES_PER_FILE_BYTE
    arcs = min(int(spilled.rows * 1.5 * open_share) + also, spilled.rows)
    return table + estimate_model_bytes(problem, arcs) <= headroom_bytes()


def _size(n_bytes: float) -> str:
    return f"{n_bytes / 1e9:.1f} GB" if n_bytes >= 1e9 else f"{n_bytes / 1e6:.1f} MB"


def check_model_size(problem: ProblemData, need: int | None = None, what: str = "") -> None:
    """Raise :class:`ModelTooLargeError` when the estimate (``need``, else the whole
    model's) exceeds available memory."""
    need = estimate_model_bytes(problem) if need is None else need
    have = available_bytes()
    log.info("model estimate %.0f MB, available %.0f MB", need / 1e6, have / 1e6)
    if need > have:
        raise ModelTooLargeError(
            Problem(
                f"scenario {problem.name!r}",
                f"a model that fits in the {_size(have)} of memory available",
                f"an estimated {_size(need)} ({len(problem.out_arcs):,} delivery arcs, "
                f"{len(problem.streams):,} demand streams{what})",
                "Prune arcs with policy.nearest_hubs or modes' max_distance_km, tighten delivery "
                "windows, or aggregate regions/periods; with backend auto or heuristic, "
                "solver.arcs_per_stream: auto (or a number) searches each stream's cheapest "
                "arcs and still bounds the whole model.",
            ),
            "Model too large",
        )


def arcs_to_keep(problem: ProblemData, setting: str | int, backend: str) -> int | None:
    """Arcs per stream the solve keeps (None: every arc) for ``solver.arcs_per_stream``
    = ``setting`` and the backend asked for; raise :class:`ModelTooLargeError` when that
    does not fit in memory."""
    restrictable = backend in ("auto", "heuristic")
    if setting == "all" or (setting == "auto" and not restrictable):
        check_model_size(problem)
        return None
    if isinstance(setting, int):
        if not restrictable:
            raise ModelTooLargeError(
                Problem(
                    f"scenario {problem.name!r}, solver.arcs_per_stream",
                    "backend auto or heuristic with a number of arcs per stream",
                    f"backend {backend}",
                    "Only their bound stays valid for the arcs left out: use backend "
                    "heuristic, or arcs_per_stream: all.",
                ),
                "Restriction needs the heuristic backend",
            )
        per_stream = setting
    else:
        fits = arcs_per_stream_that_fit(problem)
        if fits is None:
            return None
        per_stream = max(fits, 1)
    check_model_size(
        problem,
        estimate_restricted_bytes(problem, per_stream),
        f"; searching the {per_stream} cheapest arcs per stream",
    )
    return per_stream


ARENAS = 2
"""glibc malloc arenas a solve lets native code use (``M_ARENA_MAX``; glibc's default is 8
per core). HiGHS runs on a fresh thread for each solve (:func:`hubopt.solvers.base.in_fresh_thread`),
and each thread's frees went to an arena of its own that kept its pages."""

MMAP_THRESHOLD = 128 * 1024
"""Blocks at least this large (bytes) are mapped and unmapped on their own
(``M_MMAP_THRESHOLD``): glibc's starting value, kept there. By default glibc raises it
after each such block is freed (up to 32 MB), after which HiGHS's per-solve work arrays
came from the heap and stayed in it."""

_M_MMAP_THRESHOLD = -3  # glibc's mallopt parameters (malloc.h)
_M_ARENA_MAX = -8


def limit_heap_growth() -> bool:
    """Make glibc hand freed memory back rather than keep it for the next allocation
    (:data:`ARENAS`, :data:`MMAP_THRESHOLD`), for the rest of the process; whether it
    took. Measured on the 5000x300x20x12 ladder rung (900 s, 8 GB plan, the same column
    generation): peak RSS 8 435 MiB with glibc's defaults, 6 934 MiB with these
    (docs/solvers.md). Nothing on other C libraries."""
    try:
        libc = _glibc()
        return bool(libc.mallopt(_M_ARENA_MAX, ARENAS)) and bool(
            libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)
        )
    except (OSError, AttributeError):
        return False


def _glibc() -> ctypes.CDLL:
    """glibc (OSError elsewhere; AttributeError on a C library without its calls)."""
    return ctypes.CDLL("libc.so.6")


def release_freed_memory() -> None:
    """Collect garbage and hand the heap pages it frees back to the OS (glibc keeps freed
    small blocks; measured on the 5000x300x20x12 ladder rung: 5.1 GB resident after the
    model build for 3.8 GB of problem and model). Nothing on other C libraries."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        _glibc().malloc_trim(0)
