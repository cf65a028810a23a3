"""Quick structural checks: demand no allowed lane reaches in time, capacity shortfalls."""

from __future__ import annotations

import logging

import numpy as np

from hubopt.data.problem import ProblemData
from hubopt.diagnose.text import count_text, fastest_lane_text, region_label

log = logging.getLogger(__name__)


def unreachable_streams(problem: ProblemData) -> list[str]:
    streams = problem.streams
    served = np.zeros(len(streams), dtype=bool)
    served[problem.out_arcs["stream_idx"].to_numpy()] = True
    must = ~np.isfinite(streams["lost_sale_penalty"].to_numpy(float))
    stuck = np.flatnonzero(~served & must)
    out = []
    for k in stuck[:10]:
        row = streams.iloc[k]
        window = row["window_hours"]
        within = f"within {window:g} h" if np.isfinite(window) else "at all"
        campaign = f"campaign `{row['campaign_id']}`: " if row["campaign_id"] else ""
        lane = fastest_lane_text(problem, int(row["region_idx"]), int(row["period"]))
        out.append(
            f"{campaign}{count_text(row['quantity'])} units of {row['product_id']} in region "
            f"{region_label(problem, int(row['region_idx']))} (period {row['period']}, channel "
            f"{row['channel']}) cannot arrive {within} from any allowed hub; {lane}; the product "
            "has no lost_sale_penalty and policy.late_penalty_per_unit is not set."
        )
    if len(stuck) > 10:
        out.append(f"... and {len(stuck) - 10} more demand streams with no allowed delivery arc.")
    return out


def capacity_shortfall(problem: ProblemData) -> list[str]:
    vol = problem.products["unit_volume"].to_numpy(float)
    streams = problem.streams
    must = ~np.isfinite(streams["lost_sale_penalty"].to_numpy(float))
    need = np.bincount(
        streams["period"].to_numpy()[must] - 1,
        weights=(streams["quantity"].to_numpy(float) * vol[streams["product_idx"].to_numpy()])[
            must
        ],
        minlength=problem.periods,
    )
    hubs = problem.hubs
    usable = hubs["status"].to_numpy() != "forced_closed"
    out = []
    for t in range(1, problem.periods + 1):
        allowed = usable & (hubs["open_from_period"].to_numpy() <= t)
        with_peak = problem.throughput_ht[:, t - 1] + problem.peak_ht[:, t - 1]
        caps = np.sort(with_peak[allowed])[::-1]
        peak = problem.peak_ht[:, t - 1][allowed].sum()
        limit = problem.policy.max_open_hubs
        total = caps[:limit].sum() if limit is not None else caps.sum()
        if need[t - 1] > total + 1e-9:
            which = (
                f"the {limit} largest hubs allowed to open"
                if limit is not None
                else "all hubs allowed to open"
            )
            out.append(
                f"period {t}: demand that must be met is {count_text(need[t - 1])} m³, above the "
                f"throughput capacity of {which} ({count_text(total)} m³"
                + (", peak capacity included" if peak > 0 else "")
                + ")."
            )
    return out
