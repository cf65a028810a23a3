"""A problem's outbound arcs set aside on disk while a restricted solve prices columns.

The column generation of a restricted solve (:func:`hubopt.restricted.restrict`) needs the
whole model, not the arcs table, which on a very large network is over a gigabyte (the
5000x300x20x12 ladder rung: 11.8 M arcs, 1.3 GB in memory). The table waits in a
temporary file and comes back with only the arcs the column generation kept.
"""

from __future__ import annotations

import dataclasses
import os
import pickle
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from hubopt.data.problem import ProblemData, restrict_arcs


@dataclass(frozen=True)
class SpilledArcs:
    """The outbound arcs table of a problem, pickled to ``path`` (:func:`spill_arcs`)."""

    path: Path
    rows: int  # arcs in the table

    def discard(self) -> None:
        """Remove the file (the solve ended before the arcs came back)."""
        self.path.unlink(missing_ok=True)


def spill_arcs(problem: ProblemData) -> tuple[ProblemData, SpilledArcs]:
    """``problem`` with an empty outbound arcs table (same columns), and the table written
    to a temporary file. The table's memory is freed once the caller drops ``problem``."""
    fd, name = tempfile.mkstemp(prefix="hubopt-arcs-", suffix=".pickle")
    path = Path(name)
    try:
        with os.fdopen(fd, "wb") as out:
            pickle.dump(problem.out_arcs, out, protocol=pickle.HIGHEST_PROTOCOL)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    empty = problem.out_arcs.head(0).copy()  # a copy: no view keeps the table alive
    return dataclasses.replace(problem, out_arcs=empty), SpilledArcs(path, len(problem.out_arcs))


def read_arcs(spilled: SpilledArcs) -> pd.DataFrame:
    """The spilled arcs table (the file stays)."""
    with spilled.path.open("rb") as source:
        return pickle.load(source)  # our own file, written by spill_arcs


def restore_arcs(
    problem: ProblemData, spilled: SpilledArcs, keep: np.ndarray, discard: bool = True
) -> ProblemData:
    """``problem`` with the spilled arcs at positions ``keep`` (ascending;
    :func:`hubopt.data.problem.restrict_arcs`); the file is removed unless ``discard`` is
    false (the arcs are read again: :func:`hubopt.heuristic.widen.widen_plan`)."""
    try:
        arcs = read_arcs(spilled)
    finally:
        if discard:
            spilled.discard()
    return restrict_arcs(dataclasses.replace(problem, out_arcs=arcs), keep)
