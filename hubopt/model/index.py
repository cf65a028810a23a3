"""Column layouts shared by the model families and the decoder."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hubopt.data.problem import ProblemData


@dataclass(frozen=True)
class Layout:
    """Positions inside the per-hub-period and per-hub-product-period blocks."""

    n_hubs: int
    n_products: int
    periods: int

    def hub_period(self, hub_idx: np.ndarray, period: np.ndarray) -> np.ndarray:
        """Position of (hub, period) in ``open``/``opened``/``closed`` (period is 1-based)."""
        return np.asarray(hub_idx) * self.periods + (np.asarray(period) - 1)

    def hub_product_period(
        self, hub_idx: np.ndarray, product_idx: np.ndarray, period: np.ndarray
    ) -> np.ndarray:
        """Position of (hub, product, period) in ``stock`` (period is 1-based)."""
        return (np.asarray(hub_idx) * self.n_products + np.asarray(product_idx)) * self.periods + (
            np.asarray(period) - 1
        )

    @property
    def n_hub_periods(self) -> int:
        """H x T."""
        return self.n_hubs * self.periods

    @property
    def n_hub_product_periods(self) -> int:
        """H x P x T."""
        return self.n_hubs * self.n_products * self.periods

    def grid(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(hub, product, period) arrays enumerating the stock block in order."""
        h, p, t = np.meshgrid(
            np.arange(self.n_hubs),
            np.arange(self.n_products),
            np.arange(1, self.periods + 1),
            indexing="ij",
        )
        return h.ravel(), p.ravel(), t.ravel()


def layout_of(problem: ProblemData) -> Layout:
    """The layout of a problem."""
    return Layout(problem.n_hubs, problem.n_products, problem.periods)


def arc_products_periods(problem: ProblemData) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(hub, product, period) of every outbound arc."""
    arcs, streams = problem.out_arcs, problem.streams
    k = arcs["stream_idx"].to_numpy()
    return (
        arcs["hub_idx"].to_numpy(),
        streams["product_idx"].to_numpy()[k],
        streams["period"].to_numpy()[k],
    )


def inflow_keys(problem: ProblemData) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(hub, product, period) of every inflow column (per arc, or per hub-product-period)."""
    if problem.free_replenishment:
        return layout_of(problem).grid()
    arcs = problem.in_arcs
    return (
        arcs["hub_idx"].to_numpy(int),
        arcs["product_idx"].to_numpy(int),
        arcs["period"].to_numpy(int),
    )
