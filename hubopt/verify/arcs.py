"""Arcs and windows: every shipment uses an arc the scenario allows (mode leg, lane rules,
mode range) and arrives within its window unless late delivery is priced."""

from __future__ import annotations

import numpy as np

from hubopt.verify.legs import ARC_RULES
from hubopt.verify.plan import Plan

SHOWN = 5


def check_arcs(plan: Plan) -> list[str]:
    """Outbound and inbound rows on forbidden arcs; outbound rows late when late is not allowed."""
    found: list[str] = []
    for frame, leg, frm, to in (
        (plan.flows, "outbound", "hub_id", "region_id"),
        (plan.inflows, "inbound", "source_id", "hub_id"),
    ):
        for column, what in ARC_RULES:
            for i in np.flatnonzero(frame[column].to_numpy(bool))[:SHOWN]:
                row = frame.iloc[i]
                found.append(f"{leg} flow {row[frm]} -> {row[to]} by {row['mode_id']} uses {what}")
    if plan.policy.late_penalty_per_unit is None:
        flows = plan.flows
        late = flows["late"].to_numpy(bool) & (flows["quantity"].to_numpy() > 1e-9)
        for i in np.flatnonzero(late)[:10]:
            row = flows.iloc[i]
            found.append(
                f"flow {row['hub_id']} -> {row['region_id']} ({row['product_id']}, period "
                f"{row['period']}) takes {row['transit_hours']:.2f} h beyond its "
                f"{row['window_hours']:g} h window and late delivery is not allowed"
            )
    return found
