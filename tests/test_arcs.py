"""Delivery arcs (hubopt.data.problem): streams joined to their region's routes."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from hubopt.data.arcs import _join_in_window

WINDOWS = [6.0, 12.0, 24.0, 48.0, np.inf]


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_streams=st.integers(0, 40), n_routes=st.integers(0, 40))
def test_join_in_window_keeps_exactly_the_routes_within_each_window(
    seed: int, n_streams: int, n_routes: int
) -> None:
    """Random streams (4 regions, windows 6 h .. none, some pickup) and routes (transit 0-60 h,
    some exactly at a window): joined one window at a time, the arcs are exactly those of
    joining everything and dropping the late ones; with late deliveries allowed, all."""
    rng = np.random.default_rng(seed)
    streams = pd.DataFrame(
        {
            "stream_idx": np.arange(n_streams),
            "region_idx": rng.integers(0, 4, n_streams),
            "window_hours": rng.choice(WINDOWS, n_streams),
            "pickup": rng.random(n_streams) < 0.3,
        }
    )
    transit = np.where(
        rng.random(n_routes) < 0.3, rng.choice(WINDOWS[:4], n_routes), rng.uniform(0, 60, n_routes)
    )
    routes = pd.DataFrame(
        {
            "region_idx": rng.integers(0, 4, n_routes),
            "pickup": rng.random(n_routes) < 0.3,
            "hub_idx": rng.integers(0, 5, n_routes),
            "route": np.arange(n_routes),
            "transit_hours": transit,
        }
    )
    everything = streams.merge(routes, on=["region_idx", "pickup"], how="inner")
    on_time = everything[everything["transit_hours"] <= everything["window_hours"] + 1e-9]

    def keys(frame: pd.DataFrame) -> list[tuple[int, int]]:
        return sorted(zip(frame["stream_idx"], frame["route"], strict=True))

    joined = _join_in_window(streams, routes, late_allowed=False)
    assert keys(joined) == keys(on_time)
    assert set(joined.columns) == set(everything.columns)
    assert keys(_join_in_window(streams, routes, late_allowed=True)) == keys(everything)
