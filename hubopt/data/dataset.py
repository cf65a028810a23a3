"""All tables of a scenario, read, typed, defaulted and cross-checked."""

from __future__ import annotations

import dataclasses
import difflib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hubopt.data.read import coerce_table, read_raw_table
from hubopt.data.tables import REQUIRED_TABLES, TABLES
from hubopt.errors import DataValidationError, Problem
from hubopt.scenario.schema import Campaign, ScenarioConfig

DEFAULT_MODE = {
    "mode_id": "road",
    "name": "Road",
    "leg": "both",
    "cost_per_kg": 0.0,
    "cost_per_kg_km": 0.0,
    "speed_kmh": 60.0,
    "handling_hours": 0.0,
    "co2_g_per_tkm": 0.0,
    "max_distance_km": np.inf,
    "requires_lane": False,
}

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Tables:
    """Typed tables of one scenario (what-ifs applied once loaded)."""

    hubs: pd.DataFrame
    regions: pd.DataFrame
    products: pd.DataFrame
    demand: pd.DataFrame
    sources: pd.DataFrame
    supply: pd.DataFrame
    inventory: pd.DataFrame
    modes: pd.DataFrame
    lanes: pd.DataFrame
    channels: pd.DataFrame
    vehicles: pd.DataFrame
    region_geometry: Any = None  # GeoSeries aligned with ``regions`` rows, or None
    files: dict[str, Path] = dataclasses.field(default_factory=dict)

    def replace(self, **changes: Any) -> Tables:
        """Return a copy with some tables replaced."""
        return dataclasses.replace(self, **changes)

    @property
    def has_sources(self) -> bool:
        """Whether hubs are replenished from sources (two echelons)."""
        return len(self.sources) > 0


def _empty(table: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            c.name: pd.Series(dtype=object if c.kind in {"id", "str"} else float)
            for c in TABLES[table].columns
        }
    )


def read_tables(config: ScenarioConfig, yaml_label: str) -> Tables:
    """Read every table named in ``config.data``; raise one error listing all problems."""
    problems: list[Problem] = []
    frames: dict[str, pd.DataFrame] = {}
    files: dict[str, Path] = {}
    geometry = None
    paths = config.data.model_dump()
    for table in REQUIRED_TABLES:
        if not paths.get(table):
            problems.append(
                Problem(
                    f"{yaml_label}, key 'data.{table}'", f"a path to the {table} table", "nothing"
                )
            )
    for table, path_text in paths.items():
        if not path_text:
            frames[table] = _empty(table)
            continue
        path = Path(path_text)
        files[table] = path
        raw, read_problems = read_raw_table(path, _label(path), table)
        problems += read_problems
        if raw is None:
            frames[table] = _empty(table)
            continue
        typed, coerce_problems = coerce_table(raw, TABLES[table])
        problems += coerce_problems
        frames[table] = typed
        if table == "regions" and raw.geometry is not None:
            geometry = raw.geometry.reset_index(drop=True)
    if problems:
        # Still cross-check what could be read, so one run reports every problem.
        full = {t: frames.get(t, _empty(t)) for t in TABLES}
        _add_default_tables(full)
        partial = Tables(**full, files=files)
        try:
            check_tables(partial, config)
        except DataValidationError as cross:
            problems += cross.problems
        except (KeyError, ValueError, TypeError):
            # Cross-checks on half-read tables may trip on missing columns or NaN ids; the
            # problems already found stand, and are what the planner must fix first.
            log.debug("cross-checks skipped on partly invalid tables", exc_info=True)
        raise DataValidationError(problems, "Invalid data")
    _add_default_tables(frames)
    tables = Tables(**frames, region_geometry=geometry, files=files)
    check_tables(tables, config)
    return tables


def _add_default_tables(frames: dict[str, pd.DataFrame]) -> None:
    """One road mode when no modes table is given; channels from demand when none is given."""
    if frames["modes"].empty:
        frames["modes"] = pd.DataFrame([DEFAULT_MODE])
    if frames["channels"].empty:
        channels = sorted(frames["demand"]["channel"].unique())
        frames["channels"] = pd.DataFrame(
            {
                "channel_id": channels,
                "name": channels,
                "delivery_window_hours": np.nan,
                "return_rate": 0.0,
                "return_cost": 0.0,
            }
        )


def _label(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def horizon(tables: Tables, config: ScenarioConfig) -> int:
    """Number of periods T: the policy's, else the largest period in demand."""
    if config.policy.periods is not None:
        return config.policy.periods
    return int(tables.demand["period"].max()) if len(tables.demand) else 1


def check_tables(tables: Tables, config: ScenarioConfig) -> None:
    """Cross-check the tables and the config; raise one error listing every problem."""
    problems: list[Problem] = []
    label = {t: _label(p) for t, p in tables.files.items()}
    label.setdefault("modes", "modes (default)")
    label.setdefault("channels", "channels (default)")
    for name, schema in TABLES.items():
        frame = getattr(tables, name)
        if schema.key and len(frame):
            dup = frame.duplicated(list(schema.key), keep="first").to_numpy()
            if dup.any():
                rows = np.flatnonzero(dup)[:5] + 1
                first = frame.loc[np.flatnonzero(dup)[0], list(schema.key)].tolist()
                problems.append(
                    Problem(
                        f"{label.get(name, name)}, rows {', '.join(map(str, rows))}",
                        f"unique {'/'.join(schema.key)}",
                        f"duplicate key {first}",
                        "Remove or merge the repeated rows.",
                    )
                )
    ids = {
        "hub": set(tables.hubs["hub_id"]),
        "region": set(tables.regions["region_id"]),
        "product": set(tables.products["product_id"]),
        "source": set(tables.sources["source_id"]),
        "mode": set(tables.modes["mode_id"]),
        "channel": set(tables.channels["channel_id"]),
    }
    refs = [
        ("demand", "region_id", "region"),
        ("demand", "product_id", "product"),
        ("demand", "channel", "channel"),
        ("supply", "source_id", "source"),
        ("supply", "product_id", "product"),
        ("inventory", "hub_id", "hub"),
        ("inventory", "product_id", "product"),
    ]
    for table, column, kind in refs:
        problems += check_references(
            getattr(tables, table), column, ids[kind], label.get(table, table), f"{kind}s"
        )
    lanes = tables.lanes
    problems += check_references(
        lanes, "from_id", ids["hub"] | ids["source"], label.get("lanes", "lanes"), "hubs or sources"
    )
    problems += check_references(
        lanes, "to_id", ids["hub"] | ids["region"], label.get("lanes", "lanes"), "hubs or regions"
    )
    problems += check_references(
        lanes[lanes["mode_id"] != ""], "mode_id", ids["mode"], label.get("lanes", "lanes"), "modes"
    )
    if len(tables.supply) and not tables.has_sources:
        problems.append(
            Problem(
                label.get("supply", "supply"),
                "a sources table to go with supply rows",
                "no sources table",
            )
        )
    problems += _check_periods(tables, config, label)
    problems += _check_hubs(tables, label)
    problems += _check_modes(tables, label)
    problems += _check_campaigns(tables, config)
    problems += _check_vehicles(tables, config, label)
    if problems:
        raise DataValidationError(problems, "Invalid data")


def check_references(
    frame: pd.DataFrame, column: str, known: set[str], label: str, what: str
) -> list[Problem]:
    """Problems for values of ``frame[column]`` that are not in ``known``."""
    if not len(frame):
        return []
    bad = ~frame[column].isin(known).to_numpy()
    if not bad.any():
        return []
    rows = np.flatnonzero(bad)
    value = str(frame[column].iloc[rows[0]])
    hint = difflib.get_close_matches(value, sorted(known), n=1)
    fix = f"Did you mean {hint[0]!r}?" if hint else f"Add it to the {what} table or fix the id."
    more = f" (and {len(rows) - 1} more row(s))" if len(rows) > 1 else ""
    return [
        Problem(
            f"{label}, row {rows[0] + 1}, column {column!r}",
            f"one of the known {what}",
            f"unknown id {value!r}{more}",
            fix,
        )
    ]


def _check_periods(tables: Tables, config: ScenarioConfig, label: dict[str, str]) -> list[Problem]:
    problems = []
    horizon_t = horizon(tables, config)
    for table in ("demand", "supply"):
        frame = getattr(tables, table)
        if not len(frame):
            continue
        bad = (frame["period"] > horizon_t).to_numpy()
        if bad.any():
            row = np.flatnonzero(bad)[0]
            problems.append(
                Problem(
                    f"{label.get(table, table)}, row {row + 1}, column 'period'",
                    f"a period in 1..{horizon_t} (policy.periods)",
                    f"{frame['period'].iloc[row]:g}",
                )
            )
    for campaign in config.campaigns:
        if campaign.periods != "all":
            bad_p = [p for p in campaign.periods if p > horizon_t]
            if bad_p:
                problems.append(
                    Problem(
                        f"campaign {campaign.id!r}, key 'periods'",
                        f"periods in 1..{horizon_t}",
                        str(bad_p),
                    )
                )
    return problems


def _check_hubs(tables: Tables, label: dict[str, str]) -> list[Problem]:
    problems = []
    hubs = tables.hubs
    lab = label.get("hubs", "hubs")
    bad = ((hubs["status"] == "existing") & (hubs["open_from_period"] > 1)).to_numpy()
    for row in np.flatnonzero(bad)[:5]:
        problems.append(
            Problem(
                f"{lab}, row {row + 1}, column 'open_from_period'",
                "1 for an existing hub",
                f"{hubs['open_from_period'].iloc[row]:g}",
            )
        )
    inv = tables.inventory
    if len(inv):
        start = hubs.set_index("hub_id")
        cannot = inv["hub_id"].map(
            lambda h: (
                h in start.index
                and (
                    start.at[h, "status"] == "forced_closed" or start.at[h, "open_from_period"] > 1
                )
            )
        )
        for row in np.flatnonzero(cannot.to_numpy(dtype=bool))[:5]:
            problems.append(
                Problem(
                    f"{label.get('inventory', 'inventory')}, row {row + 1}",
                    "starting stock only at hubs that may be open in period 1",
                    f"stock at {inv['hub_id'].iloc[row]!r}, which is forced closed or opens later",
                )
            )
    return problems


def _check_modes(tables: Tables, label: dict[str, str]) -> list[Problem]:
    problems = []
    legs = set(tables.modes["leg"])
    lab = label.get("modes", "modes")
    if not legs & {"outbound", "both"}:
        problems.append(
            Problem(lab, "at least one mode with leg outbound or both", f"legs {sorted(legs)}")
        )
    if tables.has_sources and not legs & {"inbound", "both"}:
        problems.append(
            Problem(
                lab,
                "at least one mode with leg inbound or both (there are sources)",
                f"legs {sorted(legs)}",
            )
        )
    out_modes = tables.modes[tables.modes["leg"].isin(["outbound", "both"])]
    fastest_handling = float(out_modes["handling_hours"].min()) if len(out_modes) else 0.0
    for channel in tables.channels.itertuples():
        window = channel.delivery_window_hours
        if np.isfinite(window) and window < fastest_handling:
            problems.append(
                Problem(
                    f"{label.get('channels', 'channels')}, channel {channel.channel_id!r}, column 'delivery_window_hours'",
                    f"a window a mode can meet (the fastest outbound handling alone takes {fastest_handling:g} h)",
                    f"{window:g} h",
                )
            )
    return problems


def _check_vehicles(tables: Tables, config: ScenarioConfig, label: dict[str, str]) -> list[Problem]:
    """Vehicles: known hubs, a fleet at every usable hub, every product unit fits a van."""
    vehicles = tables.vehicles
    lab = label.get("vehicles", "vehicles")
    problems = []
    routing = config.routing
    if routing is not None and not len(vehicles):
        return [
            Problem(
                "key 'data.vehicles'",
                "a vehicles table (the `routing:` block routes vans)",
                "no vehicles table",
                "Add data.vehicles, or remove the routing block.",
            )
        ]
    if routing is not None and isinstance(routing.periods, list):
        horizon_t = horizon(tables, config)
        late = [p for p in routing.periods if p > horizon_t]
        if late:
            problems.append(
                Problem("key 'routing.periods'", f"periods in 1..{horizon_t}", str(late))
            )
    if routing is not None:
        for key, known in (
            ("campaigns", {c.id for c in config.campaigns}),
            ("modes", set(tables.modes["mode_id"])),
        ):
            values = getattr(routing, key)
            if isinstance(values, list):
                problems += _unknown_list(values, known, f"key 'routing.{key}'", f"{key[:-1]} ids")
    if not len(vehicles):
        return problems
    known = set(tables.hubs["hub_id"])
    unknown = ((vehicles["hub_id"] != "") & ~vehicles["hub_id"].isin(known)).to_numpy()
    for row in np.flatnonzero(unknown)[:5]:
        value = str(vehicles["hub_id"].iloc[row])
        hint = difflib.get_close_matches(value, sorted(known), n=1)
        problems.append(
            Problem(
                f"{lab}, row {row + 1}, column 'hub_id'",
                "one of the known hubs, or blank for every hub",
                f"unknown id {value!r}",
                f"Did you mean {hint[0]!r}?" if hint else "Add it to the hubs table or fix the id.",
            )
        )
    usable = tables.hubs[tables.hubs["status"] != "forced_closed"]
    units = tables.products["unit_volume"].to_numpy(float)
    biggest_unit = float(units.max()) if len(units) else 0.0
    for row, hub in zip(usable.index, usable["hub_id"], strict=True):
        own = vehicles[vehicles["hub_id"] == hub]
        every = vehicles[
            (vehicles["hub_id"] == "") & ~vehicles["vehicle_type"].isin(own["vehicle_type"])
        ]
        fleet = pd.concat([own, every])
        fleet = fleet[fleet["count"] > 0]
        where = f"{label.get('hubs', 'hubs')}, row {row + 1} (hub {hub!r})"
        if not len(fleet):
            if routing is not None:
                problems.append(
                    Problem(
                        where,
                        f"at least one van in {lab} (a row with hub_id {hub!r} or blank)",
                        "no vehicle",
                        "Add a vehicles row for this hub or one with a blank hub_id.",
                    )
                )
            continue
        capacity = float(fleet["capacity"].max())
        if biggest_unit > capacity + 1e-12:
            product_row = int(np.argmax(units))
            problems.append(
                Problem(
                    f"{label.get('products', 'products')}, row {product_row + 1}, column "
                    f"'unit_volume' with {lab} at hub {hub!r}",
                    f"a unit that a van can carry (largest capacity there {capacity:g} m3)",
                    f"{biggest_unit:g} m3 per unit of "
                    f"{tables.products['product_id'].iloc[product_row]!r}",
                    "Give that hub a larger vehicle type.",
                )
            )
    return problems


def campaign_filter_problems(campaign: Campaign | Any, tables: Tables, where: str) -> list[Problem]:
    """Problems with a campaign's (or a what-if's) region/product/channel filters."""
    problems = []
    regions = getattr(campaign, "regions", "all")
    if isinstance(regions, dict):
        for attribute, values in regions.items():
            if attribute not in tables.regions.columns:
                hint = difflib.get_close_matches(attribute, list(tables.regions.columns), n=1)
                problems.append(
                    Problem(
                        f"{where}, key 'regions.{attribute}'",
                        "a column of the regions table",
                        "no such column",
                        f"Did you mean {hint[0]!r}?" if hint else "",
                    )
                )
                continue
            known = set(tables.regions[attribute].astype(str))
            for value in values:
                if str(value) not in known:
                    hint = difflib.get_close_matches(str(value), sorted(known), n=1)
                    problems.append(
                        Problem(
                            f"{where}, key 'regions.{attribute}'",
                            f"a value of regions.{attribute}",
                            repr(value),
                            f"Did you mean {hint[0]!r}?" if hint else "",
                        )
                    )
    elif isinstance(regions, list):
        problems += _unknown_list(
            regions, set(tables.regions["region_id"]), f"{where}, key 'regions'", "region ids"
        )
    for key, column, table in (
        ("products", "product_id", "products"),
        ("channels", "channel_id", "channels"),
    ):
        values = getattr(campaign, key, "all")
        if isinstance(values, list):
            problems += _unknown_list(
                values,
                set(getattr(tables, table)[column]),
                f"{where}, key '{key}'",
                f"{key[:-1]} ids",
            )
    return problems


def _unknown_list(values: list[Any], known: set[str], where: str, what: str) -> list[Problem]:
    problems = []
    for value in values:
        if str(value) not in known:
            hint = difflib.get_close_matches(str(value), sorted(known), n=1)
            problems.append(
                Problem(
                    where,
                    f"known {what}",
                    repr(value),
                    f"Did you mean {hint[0]!r}?" if hint else "",
                )
            )
    return problems


def stream_mask(filter_: Any, demand: pd.DataFrame, regions: pd.DataFrame) -> np.ndarray:
    """Boolean mask of the demand rows a campaign or what-if filter selects."""
    mask = np.ones(len(demand), dtype=bool)
    region_filter = getattr(filter_, "regions", "all")
    if isinstance(region_filter, dict):
        keep = np.ones(len(regions), dtype=bool)
        for attribute, values in region_filter.items():
            keep &= regions[attribute].astype(str).isin([str(v) for v in values]).to_numpy()
        mask &= demand["region_id"].isin(set(regions["region_id"][keep])).to_numpy()
    elif isinstance(region_filter, list):
        mask &= demand["region_id"].isin([str(r) for r in region_filter]).to_numpy()
    for key, column in (("products", "product_id"), ("periods", "period"), ("channels", "channel")):
        values = getattr(filter_, key, "all")
        if isinstance(values, list):
            mask &= demand[column].isin(values).to_numpy()
    return mask


def _check_campaigns(tables: Tables, config: ScenarioConfig) -> list[Problem]:
    problems = []
    owner = np.full(len(tables.demand), -1)
    for index, campaign in enumerate(config.campaigns):
        where = f"campaign {campaign.id!r}"
        found = campaign_filter_problems(campaign, tables, where)
        problems += found
        if found:
            continue
        mask = stream_mask(campaign, tables.demand, tables.regions)
        clash = mask & (owner >= 0)
        if clash.any():
            other = config.campaigns[int(owner[np.flatnonzero(clash)[0]])].id
            problems.append(
                Problem(
                    where,
                    "demand streams that belong to no other campaign",
                    f"{int(clash.sum())} stream(s) also in campaign {other!r}",
                    "Make the campaigns' region/product/period scopes disjoint.",
                )
            )
        owner[mask & (owner < 0)] = index
    return problems
