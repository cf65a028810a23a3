"""What-if operations (DESIGN §2 `whatif:`), applied in order after loading.

Each operation is a pure function ``(config, tables, op, where) -> (config, tables)``;
references are checked first and reported like any other input problem.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from pydantic import ValidationError

from hubopt.data.dataset import Tables, campaign_filter_problems, stream_mask
from hubopt.errors import Problem, ScenarioError, hint_text
from hubopt.scenario.load import pydantic_reason
from hubopt.scenario.schema import (
    Campaign,
    ScaleCapacity,
    ScaleCost,
    ScaleDemand,
    ScenarioConfig,
    ShiftChannel,
    WhatIf,
)

Result = tuple[ScenarioConfig, Tables]


def apply_whatifs(config: ScenarioConfig, tables: Tables) -> Result:
    """Apply ``config.whatif`` in order; raise one error listing every bad reference."""
    problems: list[Problem] = []
    for index, item in enumerate(config.whatif):
        where = f"whatif[{index}].{item.operation}"
        found = _references(item, config, tables, where)
        if found:
            problems += found
            continue
        config, tables = OPERATIONS[item.operation](
            config, tables, getattr(item, item.operation), where
        )
    if problems:
        raise ScenarioError(problems, "Invalid what-if")
    return config, tables


def _references(item: WhatIf, config: ScenarioConfig, tables: Tables, where: str) -> list[Problem]:
    op = getattr(item, item.operation)
    hubs = set(tables.hubs["hub_id"])
    if item.operation in {"open_hubs", "close_hubs"}:
        return _unknown(op, hubs, where, "hub ids")
    if item.operation == "scale_capacity" and op.hubs != "all":
        return _unknown(op.hubs, hubs, f"{where}.hubs", "hub ids")
    if item.operation == "scale_demand":
        return campaign_filter_problems(op, tables, where)
    if item.operation == "shift_channel":
        return campaign_filter_problems(op, tables, where) + _unknown(
            [op.from_channel, op.to_channel],
            set(tables.channels["channel_id"]),
            f"{where}.from_channel/to_channel",
            "channel ids",
        )
    if item.operation == "scale_cost" and isinstance(op.transport, dict):
        return _unknown(
            list(op.transport), set(tables.modes["mode_id"]), f"{where}.transport", "mode ids"
        )
    if item.operation == "set_campaign":
        ids = [c.id for c in config.campaigns]
        target = op.get("id")
        if target not in ids:
            return _unknown([target], set(ids), f"{where}.id", "campaign ids")
        fields = set(Campaign.model_fields)
        return [
            Problem(f"{where}.{k}", "a campaign field", f"unknown field {k!r}", _hint(k, fields))
            for k in op
            if k not in fields
        ]
    if item.operation == "add_campaign":
        problems = campaign_filter_problems(op, tables, where)
        if op.id in {c.id for c in config.campaigns}:
            problems.append(
                Problem(
                    f"{where}.id",
                    "a new campaign id",
                    f"{op.id!r}, which exists",
                    "Use set_campaign to change it.",
                )
            )
        return problems
    return []


def _hint(value: str, known: set[str]) -> str:
    return hint_text(str(value), known)


def _unknown(values: list[Any], known: set[str], where: str, what: str) -> list[Problem]:
    return [
        Problem(where, f"known {what}", repr(v), _hint(v, known)) for v in values if v not in known
    ]


def scale_demand(config: ScenarioConfig, tables: Tables, op: ScaleDemand, where: str) -> Result:
    """Multiply quantity and std of the demand rows in scope by ``op.factor``."""
    demand = tables.demand.copy()
    mask = stream_mask(op, demand, tables.regions)
    demand.loc[mask, "quantity"] = demand.loc[mask, "quantity"] * op.factor
    demand.loc[mask, "std"] = demand.loc[mask, "std"] * op.factor
    return config, tables.replace(demand=demand)


def shift_channel(config: ScenarioConfig, tables: Tables, op: ShiftChannel, where: str) -> Result:
    """Move ``op.share`` of each demand row in scope from ``from_channel`` to ``to_channel``.

    The moved part keeps the row's forecast error in proportion (std x share, the rest
    std x (1 - share)); where the target channel already has a row for the same region,
    product and period, quantities add and stds combine as independent errors.
    """
    demand = tables.demand.copy()
    mask = (
        stream_mask(op, demand, tables.regions) & (demand["channel"] == op.from_channel).to_numpy()
    )
    moved = demand[mask].assign(channel=op.to_channel)
    moved["quantity"] = moved["quantity"] * op.share
    moved["std"] = moved["std"] * op.share
    demand.loc[mask, "quantity"] = demand.loc[mask, "quantity"] * (1 - op.share)
    demand.loc[mask, "std"] = demand.loc[mask, "std"] * (1 - op.share)
    key = ["region_id", "product_id", "period", "channel"]
    merged = pd.concat([demand, moved], ignore_index=True).assign(var=lambda f: f["std"] ** 2)
    combined = merged.groupby(key, sort=False, as_index=False).agg(
        quantity=("quantity", "sum"), var=("var", "sum")
    )
    combined["std"] = np.sqrt(combined["var"])
    return config, tables.replace(demand=combined[list(demand.columns)])


def _set_status(status: str) -> Callable[[ScenarioConfig, Tables, list[str], str], Result]:
    def apply(config: ScenarioConfig, tables: Tables, hub_ids: list[str], where: str) -> Result:
        hubs = tables.hubs.copy()
        hubs.loc[hubs["hub_id"].isin(hub_ids), "status"] = status
        return config, tables.replace(hubs=hubs)

    apply.__doc__ = f"Set the status of the listed hubs to ``{status}``."
    return apply


def scale_capacity(config: ScenarioConfig, tables: Tables, op: ScaleCapacity, where: str) -> Result:
    """Multiply throughput and/or storage capacity of the listed hubs."""
    hubs = tables.hubs.copy()
    mask = (
        np.ones(len(hubs), dtype=bool)
        if op.hubs == "all"
        else hubs["hub_id"].isin(op.hubs).to_numpy()
    )
    if op.throughput is not None:
        hubs.loc[mask, "throughput_capacity"] *= op.throughput
    if op.storage is not None:
        hubs.loc[mask, "storage_capacity"] *= op.storage
    overrides = tables.hub_capacity.copy()
    if op.throughput is not None and len(overrides):
        scaled = overrides["hub_id"].isin(hubs.loc[mask, "hub_id"]).to_numpy()
        overrides.loc[scaled, "throughput_capacity"] *= op.throughput
    return config, tables.replace(hubs=hubs, hub_capacity=overrides)


def scale_cost(config: ScenarioConfig, tables: Tables, op: ScaleCost, where: str) -> Result:
    """Multiply cost components: transport (all or per mode), fixed, handling, holding, supply."""
    changes: dict[str, pd.DataFrame] = {}
    if op.transport is not None:
        modes, lanes = tables.modes.copy(), tables.lanes.copy()
        factors = (
            op.transport
            if isinstance(op.transport, dict)
            else dict.fromkeys(modes["mode_id"], op.transport)
        )
        mode_factor = modes["mode_id"].map(factors).fillna(1.0)
        modes["cost_per_kg"] *= mode_factor
        modes["cost_per_kg_km"] *= mode_factor
        if isinstance(op.transport, dict):
            lane_factor = lanes["mode_id"].map(factors).fillna(1.0)
        else:
            lane_factor = pd.Series(op.transport, index=lanes.index)
        lanes["cost_per_unit"] = lanes["cost_per_unit"] * lane_factor
        changes |= {"modes": modes, "lanes": lanes}
    hubs = tables.hubs.copy()
    if op.fixed is not None:
        for column in ("fixed_cost", "opening_cost", "closing_cost"):
            hubs[column] *= op.fixed
    if op.handling is not None:
        hubs["handling_cost"] *= op.handling
    changes["hubs"] = hubs
    if op.holding is not None:
        products = tables.products.copy()
        products["holding_cost"] *= op.holding
        changes["products"] = products
    if op.supply is not None:
        supply = tables.supply.copy()
        supply["unit_cost"] *= op.supply
        changes["supply"] = supply
    return config, tables.replace(**changes)


def set_campaign(config: ScenarioConfig, tables: Tables, op: dict[str, Any], where: str) -> Result:
    """Change fields of an existing campaign (validated like the campaign itself)."""
    campaigns = []
    for campaign in config.campaigns:
        if campaign.id == op["id"]:
            data = campaign.model_dump() | op
            try:
                campaign = Campaign.model_validate(data)
            except ValidationError as err:
                # the limit pydantic checked ("less than or equal to 1"), not its web link
                raise ScenarioError(
                    [
                        Problem(f"{where}.{'.'.join(map(str, e['loc']))}", *pydantic_reason(e))
                        for e in err.errors()
                    ]
                ) from None
        campaigns.append(campaign)
    return config.model_copy(update={"campaigns": campaigns}), tables


def add_campaign(config: ScenarioConfig, tables: Tables, op: Campaign, where: str) -> Result:
    """Add a campaign."""
    return config.model_copy(update={"campaigns": [*config.campaigns, op]}), tables


OPERATIONS: dict[str, Callable[..., Result]] = {
    "scale_demand": scale_demand,
    "open_hubs": _set_status("forced_open"),
    "close_hubs": _set_status("forced_closed"),
    "scale_capacity": scale_capacity,
    "scale_cost": scale_cost,
    "shift_channel": shift_channel,
    "set_campaign": set_campaign,
    "add_campaign": add_campaign,
}
