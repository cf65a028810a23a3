"""Plot actual vs forecast of one series (matplotlib, drawn on a given axis)."""

from __future__ import annotations

from typing import Any

import pandas as pd

Z_BAND = 1.65  # the band drawn around the forecast: +- z * std (~90 %)


def plot_series(ax: Any, frame: pd.DataFrame, title: str) -> Any:
    """Draw history, backtest forecasts and the forecast with its ±1.65 std band on ``ax``."""
    ax.plot(frame["start"], frame["actual"], color="#333333", lw=1.2, label="actual")
    ax.plot(
        frame["start"],
        frame["backtest"],
        color="#1f77b4",
        lw=1.4,
        ls="--",
        label=f"backtest forecast ({frame['model'].iloc[0]})",
    )
    ax.plot(frame["start"], frame["forecast"], color="#d62728", lw=1.8, label="forecast")
    ax.fill_between(
        frame["start"],
        (frame["forecast"] - Z_BAND * frame["std"]).clip(lower=0),
        frame["forecast"] + Z_BAND * frame["std"],
        color="#d62728",
        alpha=0.15,
        label=f"forecast ± {Z_BAND} std",
    )
    ax.set_title(title)
    ax.set_ylabel("units per period")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize=8)
    return ax
