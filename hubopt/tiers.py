"""Delivery-promise tiers: the labels (``6h`` ... ``72h``, ``later``, ``none``), their
order and each transit time's tier (docs/kpis.md)."""

from __future__ import annotations

import math

import numpy as np

DEFAULT_TIERS_HOURS = (6.0, 12.0, 24.0, 48.0, 72.0)


def tier_label(hours: float) -> str:
    """Label of a tier: ``12h``, ``1.5h``."""
    return f"{hours:g}h"


def tier_labels(tiers_hours: tuple[float, ...] | list[float] = DEFAULT_TIERS_HOURS) -> list[str]:
    """Every tier label, fastest first, then ``later`` and ``none``."""
    return [tier_label(h) for h in tiers_hours] + ["later", "none"]


TIER_ORDER = tuple(tier_labels())
"""Tier labels of the default tiers, fastest first."""


def tier_rank(label: str) -> float:
    """Sort key of a tier label: its hours, ``later`` = inf; ``none`` = NaN (no promise,
    worse than any: compare with :func:`tier_worse`)."""
    if label == "later":
        return math.inf
    if label == "none":
        return math.nan
    return float(label.rstrip("h"))


def tier_worse(a: str, b: str) -> bool:
    """Whether tier ``a`` promises slower delivery than tier ``b`` (``none`` is worst)."""
    ra, rb = tier_rank(a), tier_rank(b)
    if math.isnan(ra):
        return not math.isnan(rb)
    return not math.isnan(rb) and ra > rb


def tier_of(
    hours: np.ndarray, tiers_hours: tuple[float, ...] | list[float] = DEFAULT_TIERS_HOURS
) -> np.ndarray:
    """Delivery-promise tier label of each transit time (``none`` when unreachable)."""
    hours = np.asarray(hours, dtype=float)
    out = np.full(hours.shape, "later", dtype=object)
    for limit in sorted(tiers_hours, reverse=True):
        out[hours <= limit + 1e-9] = tier_label(limit)
    out[~np.isfinite(hours)] = "none"
    return out
