"""The table contract of DESIGN §2, as data: column, kind, default, minimum, unit, meaning.

``docs/tables.md`` is generated from this module (``python -m hubopt.data.tables``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

Kind = Literal["id", "str", "float", "int", "bool"]
INF = math.inf
REQUIRED = object()  # sentinel: no default, the column and every value must be present


@dataclass(frozen=True)
class Column:
    """One column of a table."""

    name: str
    kind: Kind
    default: object = REQUIRED
    minimum: float | None = None
    maximum: float | None = None
    unit: str = ""
    description: str = ""
    choices: tuple[str, ...] = ()

    @property
    def required(self) -> bool:
        """Whether the column must be present."""
        return self.default is REQUIRED


@dataclass(frozen=True)
class TableSchema:
    """A table: its columns, its key, and whether extra columns are attributes."""

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()
    extra_columns_allowed: bool = False
    description: str = ""

    def column(self, name: str) -> Column:
        """Return the column called ``name``."""
        return next(c for c in self.columns if c.name == name)

    @property
    def names(self) -> list[str]:
        """Column names in contract order."""
        return [c.name for c in self.columns]


def _lat() -> Column:
    return Column("lat", "float", minimum=-90, maximum=90, unit="deg", description="Latitude.")


def _lon() -> Column:
    return Column("lon", "float", minimum=-180, maximum=180, unit="deg", description="Longitude.")


def _name() -> Column:
    return Column("name", "str", default="", description="Display name.")


def _name_local() -> Column:
    return Column(
        "name_local",
        "str",
        default="",
        description="Name in the local language or script, shown beside `name` on maps and pages.",
    )


HUB_STATUSES = ("candidate", "existing", "forced_open", "forced_closed")
LEGS = ("inbound", "outbound", "both")

TABLES: dict[str, TableSchema] = {
    "hubs": TableSchema(
        "hubs",
        (
            Column("hub_id", "id", description="Hub id."),
            _name(),
            _name_local(),
            _lat(),
            _lon(),
            Column(
                "fixed_cost",
                "float",
                minimum=0,
                unit="money/period",
                description="Cost per open period.",
            ),
            Column("opening_cost", "float", 0.0, 0, unit="money", description="Cost of opening."),
            Column("closing_cost", "float", 0.0, 0, unit="money", description="Cost of closing."),
            Column(
                "throughput_capacity",
                "float",
                INF,
                0,
                unit="m3/period",
                description="Volume out per period.",
            ),
            Column(
                "storage_capacity",
                "float",
                INF,
                0,
                unit="m3",
                description="Volume held at period end.",
            ),
            Column(
                "handling_cost",
                "float",
                0.0,
                0,
                unit="money/unit",
                description="Cost per unit shipped out.",
            ),
            Column(
                "status", "str", "candidate", choices=HUB_STATUSES, description="Network status."
            ),
            Column(
                "open_from_period",
                "int",
                1,
                1,
                unit="period",
                description="First period it may be open.",
            ),
        ),
        key=("hub_id",),
        description="Candidate and existing hubs.",
    ),
    "regions": TableSchema(
        "regions",
        (
            Column("region_id", "id", description="Region id."),
            _name(),
            _name_local(),
            _lat(),
            _lon(),
            Column(
                "province",
                "str",
                default="",
                description="First-level division (province, state); the delivery-promise "
                "table groups regions by it and popups show it.",
            ),
            Column(
                "population",
                "float",
                None,
                0,
                unit="people",
                description="People living in the region; when given, the delivery-promise "
                "table counts people instead of demand units.",
            ),
        ),
        key=("region_id",),
        extra_columns_allowed=True,
        description="Demand regions; extra columns are attributes usable in filters.",
    ),
    "products": TableSchema(
        "products",
        (
            Column("product_id", "id", description="Product id."),
            _name(),
            Column("unit_volume", "float", 1.0, 0, unit="m3/unit", description="Volume per unit."),
            Column(
                "unit_weight_kg", "float", 1.0, 0, unit="kg/unit", description="Weight per unit."
            ),
            Column(
                "holding_cost",
                "float",
                0.0,
                0,
                unit="money/unit/period",
                description="On end-of-period stock.",
            ),
            Column(
                "lost_sale_penalty",
                "float",
                None,
                0,
                unit="money/unit",
                description="Per unit unmet; blank = must be met.",
            ),
            Column(
                "unit_margin", "float", 0.0, unit="money/unit", description="Margin per unit sold."
            ),
        ),
        key=("product_id",),
    ),
    "demand": TableSchema(
        "demand",
        (
            Column("region_id", "id", description="Region."),
            Column("product_id", "id", description="Product."),
            Column("period", "int", minimum=1, unit="period", description="Period 1..T."),
            Column("quantity", "float", minimum=0, unit="units", description="Base demand."),
            Column("std", "float", 0.0, 0, unit="units", description="Forecast error std."),
            Column("channel", "id", "parcel", description="Sales channel."),
        ),
        key=("region_id", "product_id", "period", "channel"),
    ),
    "sources": TableSchema(
        "sources",
        (
            Column("source_id", "id", description="Source id."),
            _name(),
            _name_local(),
            _lat(),
            _lon(),
        ),
        key=("source_id",),
    ),
    "supply": TableSchema(
        "supply",
        (
            Column("source_id", "id", description="Source."),
            Column("product_id", "id", description="Product."),
            Column("period", "int", None, 1, unit="period", description="Blank = every period."),
            Column(
                "capacity", "float", INF, 0, unit="units/period", description="Supply per period."
            ),
            Column("unit_cost", "float", 0.0, 0, unit="money/unit", description="Purchase cost."),
        ),
        key=("source_id", "product_id", "period"),
    ),
    "inventory": TableSchema(
        "inventory",
        (
            Column("hub_id", "id", description="Hub."),
            Column("product_id", "id", description="Product."),
            Column("quantity", "float", minimum=0, unit="units", description="Stock at the start."),
        ),
        key=("hub_id", "product_id"),
    ),
    "modes": TableSchema(
        "modes",
        (
            Column("mode_id", "id", description="Mode id."),
            _name(),
            Column("leg", "str", choices=LEGS, description="inbound, outbound or both."),
            Column("cost_per_kg", "float", 0.0, 0, unit="money/kg", description="Per kg carried."),
            Column("cost_per_kg_km", "float", 0.0, 0, unit="money/kg/km", description="Per kg-km."),
            Column("speed_kmh", "float", minimum=1e-9, unit="km/h", description="Average speed."),
            Column("handling_hours", "float", 0.0, 0, unit="h", description="Fixed time per trip."),
            Column("co2_g_per_tkm", "float", 0.0, 0, unit="g/t-km", description="Emission factor."),
            Column("max_distance_km", "float", INF, 0, unit="km", description="Longest arc."),
            Column("requires_lane", "bool", False, description="Only on arcs listed in lanes."),
        ),
        key=("mode_id",),
    ),
    "lanes": TableSchema(
        "lanes",
        (
            Column("from_id", "id", description="Source or hub."),
            Column("to_id", "id", description="Hub or region."),
            Column("mode_id", "id", "", description="Blank = every mode."),
            Column("distance_km", "float", None, 0, unit="km", description="Overrides distance."),
            Column(
                "transit_hours", "float", None, 0, unit="h", description="Overrides transit time."
            ),
            Column(
                "cost_per_unit", "float", None, 0, unit="money/unit", description="Overrides cost."
            ),
            Column("allowed", "bool", True, description="false = arc forbidden."),
        ),
        key=("from_id", "to_id", "mode_id"),
    ),
    "channels": TableSchema(
        "channels",
        (
            Column("channel_id", "id", description="Channel id."),
            _name(),
            Column("delivery_window_hours", "float", None, 1e-9, unit="h", description="Window."),
            Column(
                "return_rate", "float", 0.0, 0, 1, description="Share of delivered units returned."
            ),
            Column(
                "return_cost", "float", 0.0, 0, unit="money/unit", description="Per returned unit."
            ),
        ),
        key=("channel_id",),
    ),
    "vehicles": TableSchema(
        "vehicles",
        (
            Column("vehicle_type", "id", description="Vehicle type id."),
            Column("hub_id", "id", "", description="Hub it is based at; blank = every hub."),
            _name(),
            Column("capacity", "float", minimum=1e-9, unit="m3", description="Load per route."),
            Column(
                "count", "int", 1, 0, unit="vehicles", description="Vehicles per hub and period."
            ),
            Column(
                "fixed_cost", "float", 0.0, 0, unit="money/route", description="Per route driven."
            ),
            Column("cost_per_km", "float", 0.0, 0, unit="money/km", description="Per km driven."),
            Column("speed_kmh", "float", 40.0, 1e-9, unit="km/h", description="Average speed."),
            Column(
                "max_route_hours",
                "float",
                10.0,
                1e-9,
                unit="h",
                description="Longest route, hub to hub.",
            ),
            Column(
                "service_hours_per_stop",
                "float",
                0.0,
                0,
                unit="h",
                description="Time spent at each stop.",
            ),
        ),
        key=("vehicle_type", "hub_id"),
        description=(
            "Delivery vans for routing (`routing:` in the YAML): `count` vans of the type at "
            "its hub in every routed period; a blank hub_id gives them to every hub that has no "
            "row of that type."
        ),
    ),
}

REQUIRED_TABLES = ("hubs", "regions", "products", "demand")


def render_markdown() -> str:
    """Render the contract as a Markdown document (``docs/tables.md``)."""
    out = ["# Table contract", "", "Generated from `hubopt/data/tables.py`.", ""]
    for schema in TABLES.values():
        req = "required" if schema.name in REQUIRED_TABLES else "optional"
        out += [f"## `{schema.name}` ({req})", "", schema.description, ""]
        out += ["| column | type | default | unit | meaning |", "|---|---|---|---|---|"]
        for c in schema.columns:
            default = (
                "required" if c.required else ("blank" if c.default is None else str(c.default))
            )
            extra = f" One of {', '.join(c.choices)}." if c.choices else ""
            out.append(f"| `{c.name}` | {c.kind} | {default} | {c.unit} | {c.description}{extra} |")
        if schema.extra_columns_allowed:
            out.append("| *any other* | str | | | attribute, usable in filters |")
        out.append("")
    return "\n".join(out)


if __name__ == "__main__":  # pragma: no cover - documentation generator
    import sys

    sys.stdout.write(render_markdown())
