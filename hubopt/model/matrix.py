"""A solver-neutral MILP in matrix form, assembled block by block from numpy arrays."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp


@dataclass(frozen=True)
class MatrixModel:
    """min c·x + offset  s.t.  row_lo <= A x <= row_hi,  lb <= x <= ub,  x_j integer if integer[j].

    ``var_blocks`` and ``row_blocks`` map a family name to its slice of columns or rows.
    """

    c: np.ndarray
    lb: np.ndarray
    ub: np.ndarray
    integer: np.ndarray
    A: sp.csr_matrix
    row_lo: np.ndarray
    row_hi: np.ndarray
    var_blocks: dict[str, slice]
    row_blocks: dict[str, slice]
    offset: float = 0.0

    @property
    def n_vars(self) -> int:
        """Number of columns."""
        return len(self.c)

    @property
    def n_rows(self) -> int:
        """Number of rows."""
        return self.A.shape[0]

    def block(self, x: np.ndarray, name: str) -> np.ndarray:
        """The part of a solution vector that belongs to variable family ``name``."""
        return x[self.var_blocks[name]] if name in self.var_blocks else np.zeros(0)

    def dual_bound(self, row_dual: np.ndarray) -> float:
        """A lower bound on the LP relaxation (so on the MILP) from *any* row multipliers.

        Lagrangian duality: for multipliers ``y`` (a row's ``y_i > 0`` priced at its lower
        side, ``< 0`` at its upper side, 0 where that side is infinite),

            L(y) = sum_i y_i b_i(y_i) + sum_j min over [lb_j, ub_j] of (c_j - A_j^T y) x_j
                   + offset <= min c x + offset over the LP,

        -inf when a column with an infinite bound has a reduced cost that would push it
        there. At the LP's optimal duals it is the LP optimum; at the duals of a dual
        simplex cut short by a time limit (dual feasible, rising) a valid bound below it,
        computed here from the model, not taken from the solver's report.
        """
        return self._lagrangian(np.asarray(row_dual, dtype=float), None)[0]

    def _lagrangian(self, y: np.ndarray, boxed: np.ndarray | None) -> tuple[float, np.ndarray]:
        """``sum_i y_i b_i(y_i) + offset`` plus, over the columns ``boxed`` (a mask; None:
        all), each column's minimum over its box of ``(c_j - A_j^T y) x_j`` (-inf when a
        box is open the way its reduced cost pushes); and the reduced costs. Multipliers
        on an infinite side count as 0 (:meth:`dual_bound`)."""
        priced = ((y > 0) & np.isfinite(self.row_lo)) | ((y < 0) & np.isfinite(self.row_hi))
        y = np.where(priced, y, 0.0)
        side = np.where(y > 0, self.row_lo, self.row_hi)
        total = float(y[y != 0] @ side[y != 0]) + float(self.offset)
        reduced = self.c - self.A.T @ y
        move = reduced != 0 if boxed is None else boxed & (reduced != 0)
        at = np.where(reduced > 0, self.lb, self.ub)
        if not np.isfinite(at[move]).all():
            return -np.inf, reduced
        return total + float(reduced[move] @ at[move]), reduced

    def dual_bound_keeping(self, row_dual: np.ndarray, rows: str) -> float:
        """Like :meth:`dual_bound`, with the rows of block ``rows`` kept as constraints
        rather than priced, where each is ``sum x_j = d`` (d >= 0, coefficients 1, columns
        with lower bound 0, in no other such row): their columns then share ``d`` units,
        filled by increasing reduced cost up to each column's upper bound, instead of
        each going to its bound on its own. Valid for any multipliers of the other rows;
        far tighter than :meth:`dual_bound` at the duals of an LP over a few of the
        columns (their demand duals price every left-out column as if it were free).
        The other rows of the block are priced as in :meth:`dual_bound`."""
        y = np.asarray(row_dual, dtype=float).copy()
        block = self.row_blocks.get(rows)
        if block is None:
            return self.dual_bound(y)
        sub = self.A[block]
        lo, hi = self.row_lo[block], self.row_hi[block]
        entry_row = np.repeat(np.arange(sub.shape[0]), np.diff(sub.indptr))
        col = sub.indices
        bad_entry = (sub.data != 1.0) | (self.lb[col] != 0.0)
        ok = (lo == hi) & np.isfinite(lo) & (lo >= 0)
        ok &= np.bincount(entry_row, weights=bad_entry, minlength=len(ok)) == 0
        shared = np.bincount(col[ok[entry_row]], minlength=self.n_vars) > 1
        ok &= np.bincount(entry_row, weights=shared[col], minlength=len(ok)) == 0
        room = np.bincount(entry_row, weights=self.ub[col], minlength=len(ok))
        ok &= room >= lo  # a row its columns cannot fill is priced instead
        kept_rows = np.flatnonzero(ok) + block.start
        y[kept_rows] = 0.0
        inside = np.zeros(self.n_vars, dtype=bool)
        inside[col[ok[entry_row]]] = True
        total, reduced = self._lagrangian(y, ~inside)
        if not np.isfinite(total):
            return total
        # each kept row: d units over its columns, cheapest reduced cost first
        keep = ok[entry_row]
        r, j = entry_row[keep], col[keep]
        order = np.lexsort((reduced[j], r))
        r, j = r[order], j[order]
        ub = np.minimum(self.ub[j], lo[r])  # no column takes more than its row's d
        filled = np.cumsum(ub) - ub  # units before each column, restarted per row below
        starts = np.r_[0, np.flatnonzero(np.diff(r)) + 1]
        filled -= np.repeat(filled[starts], np.diff(np.r_[starts, len(r)]))
        take = np.clip(lo[r] - filled, 0.0, ub)
        return total + float(reduced[j] @ take)

    def kept_columns(self, name: str, kept: np.ndarray) -> np.ndarray:
        """The columns of :meth:`keep_columns` ``(name, kept)``, in this model's numbering."""
        block = self.var_blocks[name]
        inside = block.start + np.asarray(kept, dtype=np.int64)
        return np.concatenate([np.arange(block.start), inside, np.arange(block.stop, self.n_vars)])

    def keep_columns(self, name: str, kept: np.ndarray) -> MatrixModel:
        """This model with only the columns ``kept`` (ascending positions) of block
        ``name``: the same rows and sides, so its row duals are this model's too
        (:meth:`dual_bound`), and every solution of it, padded with zeros, is one of this."""
        block = self.var_blocks[name]
        kept = np.asarray(kept, dtype=np.int64)
        columns = self.kept_columns(name, kept)
        dropped = (block.stop - block.start) - len(kept)
        blocks = {}
        for other, part in self.var_blocks.items():
            if other == name:
                blocks[other] = slice(part.start, part.start + len(kept))
            elif part.start >= block.stop:
                blocks[other] = slice(part.start - dropped, part.stop - dropped)
            else:
                blocks[other] = part
        return dataclasses.replace(
            self,
            c=self.c[columns],
            lb=self.lb[columns],
            ub=self.ub[columns],
            integer=self.integer[columns],
            A=self.A[:, columns].tocsr(),
            var_blocks=blocks,
        )

    def without_rows(self, name: str) -> MatrixModel:
        """This model without row block ``name`` (the same model when it has none); the
        other blocks keep their order. Valid-inequality blocks only: dropping a block of the
        model's own constraints would change its plans."""
        if name not in self.row_blocks:
            return self
        gone = self.row_blocks[name]
        keep = np.ones(self.n_rows, dtype=bool)
        keep[gone] = False
        size = gone.stop - gone.start
        blocks = {
            other: part if part.start < gone.start else slice(part.start - size, part.stop - size)
            for other, part in self.row_blocks.items()
            if other != name
        }
        return dataclasses.replace(
            self,
            A=self.A[keep].tocsr(),
            row_lo=self.row_lo[keep],
            row_hi=self.row_hi[keep],
            row_blocks=blocks,
        )

    @property
    def nbytes(self) -> int:
        """Memory of its arrays (the matrix and the column and row vectors)."""
        A = self.A
        vectors = (self.c, self.lb, self.ub, self.integer, self.row_lo, self.row_hi)
        return A.data.nbytes + A.indices.nbytes + A.indptr.nbytes + sum(v.nbytes for v in vectors)

    def stats(self) -> dict[str, int]:
        """Sizes for logs and manifests."""
        return {
            "columns": self.n_vars,
            "rows": self.n_rows,
            "nonzeros": int(self.A.nnz),
            "integers": int(self.integer.sum()),
        }


@dataclass
class ModelAssembler:
    """Collects variable blocks, then row blocks as COO triplets, then builds a MatrixModel."""

    _c: list[np.ndarray] = field(default_factory=list)
    _lb: list[np.ndarray] = field(default_factory=list)
    _ub: list[np.ndarray] = field(default_factory=list)
    _int: list[np.ndarray] = field(default_factory=list)
    var_blocks: dict[str, slice] = field(default_factory=dict)
    _rows: list[np.ndarray] = field(default_factory=list)
    _cols: list[np.ndarray] = field(default_factory=list)
    _vals: list[np.ndarray] = field(default_factory=list)
    _lo: list[np.ndarray] = field(default_factory=list)
    _hi: list[np.ndarray] = field(default_factory=list)
    row_blocks: dict[str, slice] = field(default_factory=dict)
    n_vars: int = 0
    n_rows: int = 0

    def add_variables(
        self,
        name: str,
        cost: np.ndarray,
        lb: np.ndarray | float = 0.0,
        ub: np.ndarray | float = np.inf,
        integer: bool = False,
    ) -> int:
        """Add a block of ``len(cost)`` columns; return the offset of its first column."""
        n = len(cost)
        self._c.append(np.asarray(cost, dtype=float))
        self._lb.append(np.broadcast_to(np.asarray(lb, dtype=float), (n,)).copy())
        self._ub.append(np.broadcast_to(np.asarray(ub, dtype=float), (n,)).copy())
        self._int.append(np.full(n, integer))
        offset = self.n_vars
        self.var_blocks[name] = slice(offset, offset + n)
        self.n_vars += n
        return offset

    def costs(self, name: str) -> np.ndarray:
        """Objective coefficients of block ``name``."""
        return self._c[list(self.var_blocks).index(name)]

    def tighten_upper(self, name: str, ub: np.ndarray) -> None:
        """Lower the upper bounds of block ``name`` to ``ub`` where that is smaller."""
        index = list(self.var_blocks).index(name)
        self._ub[index] = np.minimum(self._ub[index], np.asarray(ub, dtype=float))

    def raise_lower(self, name: str, local: np.ndarray, lo: float) -> None:
        """Raise the lower bounds of rows ``local`` of row block ``name`` to ``lo``."""
        index = list(self.row_blocks).index(name)
        self._lo[index][local] = np.maximum(self._lo[index][local], lo)

    def column(self, name: str, local: np.ndarray | int) -> np.ndarray:
        """Global column index of position(s) ``local`` in block ``name``."""
        return self.var_blocks[name].start + np.asarray(local)

    def add_rows(
        self,
        name: str,
        n_rows: int,
        row: np.ndarray,
        col: np.ndarray,
        val: np.ndarray,
        lo: np.ndarray | float,
        hi: np.ndarray | float,
    ) -> None:
        """Add ``n_rows`` rows given as COO triplets with row indices local to this family."""
        if n_rows == 0:
            return
        self._rows.append(np.asarray(row, dtype=np.int64) + self.n_rows)
        self._cols.append(np.asarray(col, dtype=np.int64))
        self._vals.append(np.asarray(val, dtype=float))
        self._lo.append(np.broadcast_to(np.asarray(lo, dtype=float), (n_rows,)).copy())
        self._hi.append(np.broadcast_to(np.asarray(hi, dtype=float), (n_rows,)).copy())
        self.row_blocks[name] = slice(self.n_rows, self.n_rows + n_rows)
        self.n_rows += n_rows

    def build(self, offset: float = 0.0) -> MatrixModel:
        """Assemble the CSR matrix (duplicates summed, explicit zeros dropped)."""

        def cat(parts: list[np.ndarray], dtype: type = float) -> np.ndarray:
            return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype=dtype)

        A = sp.coo_matrix(
            (cat(self._vals), (cat(self._rows, np.int64), cat(self._cols, np.int64))),
            shape=(self.n_rows, self.n_vars),
        ).tocsr()
        A.sum_duplicates()
        A.eliminate_zeros()
        return MatrixModel(
            c=cat(self._c),
            lb=cat(self._lb),
            ub=cat(self._ub),
            integer=cat(self._int, bool),
            A=A,
            row_lo=cat(self._lo),
            row_hi=cat(self._hi),
            var_blocks=dict(self.var_blocks),
            row_blocks=dict(self.row_blocks),
            offset=offset,
        )
