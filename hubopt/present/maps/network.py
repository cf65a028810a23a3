"""Network layers: flows (source -> hub, hub -> region), hubs and sources."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import folium
import pandas as pd
from branca.element import MacroElement
from folium.utilities import JsCode
from jinja2 import Template

from hubopt.kpis import open_periods_of
from hubopt.present.format import (
    UTILISATION_STEPS,
    UTILISATION_TOP,
    esc,
    fmt_num,
    fmt_pct,
    periods_text,
    step_color,
)
from hubopt.present.maps.regions import display_name, escaped_title, popup_html
from hubopt.present.maps.style import CANDIDATE, INBOUND_COLOR, OUTBOUND_COLOR, SUBGROUP_LINE_BUDGET
from hubopt.result import Result
from hubopt.solution import Solution


class NameTable(MacroElement):  # type: ignore[misc]
    """Escaped display names of hubs (``h``), regions (``r``) and sources (``s``) in JS.

    Flow lines refer to their ends by position, so each name is stored once per page.
    """

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "var {{ this.get_name() }} = {{ this.names|tojson }};"
        "{% endmacro %}"
    )

    def __init__(self, names: dict[str, list[str]]) -> None:
        super().__init__()
        self._name = "NameTable"
        self.names = names


def build_name_table(result: Result) -> NameTable:
    """The :class:`NameTable` of a plan's hubs, regions and sources."""
    problem = result.problem
    return NameTable(
        {
            key: [escaped_title(row) for _, row in table.iterrows()]
            for key, table in (("h", problem.hubs), ("r", problem.regions), ("s", problem.sources))
        }
    )


_FLOW_JS = """function(feature, layer) {
  const p = feature.properties, n = __TABLE__;
  layer.bindTooltip(`${n.__FROM__[p.a]} → ${n.__TO__[p.b]}: ${p.q} units`, {sticky: true});
}"""


def lines_layer(lines: pd.DataFrame, name: str, show: bool, spec: LineSpec, max_lines: int) -> Any:
    """Straight lines between pair ends, width proportional to ``quantity``."""
    kept = lines.nlargest(max_lines, "quantity") if len(lines) > max_lines else lines
    features = [
        {
            "type": "Feature",
            "id": i,
            "properties": {
                "w": round((1.0 + 9.0 * float(row.quantity) / spec.top) * 2) / 2,
                "q": fmt_num(row.quantity),
                "a": int(row.a),
                "b": int(row.b),
            },
            "geometry": {
                "type": "LineString",
                "coordinates": [
                    [round(row.lon0, 4), round(row.lat0, 4)],
                    [round(row.lon1, 4), round(row.lat1, 4)],
                ],
            },
        }
        for i, row in enumerate(kept.itertuples())
    ]
    script = (
        _FLOW_JS.replace("__TABLE__", spec.table)
        .replace("__FROM__", spec.from_key)
        .replace("__TO__", spec.to_key)
    )
    color, dash = spec.color, spec.dash
    return folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        name=esc(name),
        show=show,
        style_function=lambda f: {
            "color": color,
            "weight": f["properties"]["w"],
            "opacity": 0.5,
            "dashArray": dash,
            "lineCap": "butt" if dash else "round",
        },
        highlight_function=lambda f: {"opacity": 1.0, "color": "#111111"},
        on_each_feature=JsCode(script),
    )


@dataclass(frozen=True)
class LineSpec:
    table: str  # JS name of the NameTable
    from_key: str
    to_key: str
    color: str
    top: float  # the quantity drawn at full width
    dash: str | None = None


def with_ends(
    pairs: pd.DataFrame,
    from_table: pd.DataFrame,
    from_key: str,
    to_table: pd.DataFrame,
    to_key: str,
) -> pd.DataFrame:
    """Add positions (``a``, ``b``) and coordinates of both ends of each (from, to) pair."""
    src = pd.Index(from_table[from_key].astype(str))
    dst = pd.Index(to_table[to_key].astype(str))
    out = pairs.copy()
    out["a"] = src.get_indexer(pairs[from_key].astype(str))
    out["b"] = dst.get_indexer(pairs[to_key].astype(str))
    out = out[(out["a"] >= 0) & (out["b"] >= 0)]
    a, b = out["a"].to_numpy(), out["b"].to_numpy()
    out["lat0"] = from_table["lat"].to_numpy(float)[a]
    out["lon0"] = from_table["lon"].to_numpy(float)[a]
    out["lat1"] = to_table["lat"].to_numpy(float)[b]
    out["lon1"] = to_table["lon"].to_numpy(float)[b]
    return out


def aggregate(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    return frame.groupby(keys, as_index=False, sort=False)["quantity"].sum()


def flow_layers(result: Result, solution: Solution, names: str, max_lines: int) -> list[Any]:
    """Inbound lines, outbound lines for everything, then per product and per period."""
    problem = result.problem
    flows, inflows = solution.flows, solution.inflows
    layers: list[Any] = []
    inbound = inflows[inflows["source_id"] != ""]
    if len(inbound):
        pairs = aggregate(inbound, ["source_id", "hub_id"])
        lines = with_ends(pairs, problem.sources, "source_id", problem.hubs, "hub_id")
        spec = LineSpec(names, "s", "h", INBOUND_COLOR, float(lines["quantity"].max()), "8 5")
        layers.append(lines_layer(lines, "Flows: source → hub", True, spec, max_lines))
    if not len(flows):
        return layers
    ends = (problem.hubs, "hub_id", problem.regions, "region_id")
    out = with_ends(aggregate(flows, ["hub_id", "region_id"]), *ends)
    spec = LineSpec(names, "h", "r", OUTBOUND_COLOR, float(out["quantity"].max()))
    layers.append(lines_layer(out, "Flows: hub → region, all", True, spec, max_lines))
    products = problem.products
    product_names = dict(
        zip(products["product_id"].astype(str), products["name"].astype(str), strict=True)
    )
    groups = [
        (f"Flows: {product_names.get(str(product)) or product}", part)
        for product, part in flows.groupby("product_id", sort=True)
    ]
    groups += [
        (f"Flows: period {period}", part) for period, part in flows.groupby("period", sort=True)
    ]
    # The hidden product/period groups share a budget so long horizons keep the page light.
    per_group = max(25, min(max_lines, SUBGROUP_LINE_BUDGET * max_lines // max(1, len(groups))))
    for name, part in groups:
        lines = with_ends(aggregate(part, ["hub_id", "region_id"]), *ends)
        own = LineSpec(names, "h", "r", OUTBOUND_COLOR, float(lines["quantity"].max()))
        layers.append(lines_layer(lines, name, False, own, per_group))
    return layers


# ---- hubs and sources ------------------------------------------------------------------


def hub_marker_layers(result: Result, hub_kpis: pd.DataFrame) -> list[Any]:
    """Open hubs (size ~ throughput, colour = utilisation) and never-opened candidates."""

    assert result.solution is not None
    problem = result.problem
    stats = hub_kpis.set_index("hub_id")
    per_period = result.solution.hubs
    open_periods = open_periods_of(per_period)
    served = result.solution.flows.groupby("hub_id")["region_id"].nunique()
    opened = folium.FeatureGroup(name="Hubs: open")
    closed = folium.FeatureGroup(name="Hubs: candidate, not opened")
    top = float(stats["throughput_m3"].max()) if len(stats) else 0.0
    for _, hub in problem.hubs.iterrows():
        hub_id = str(hub["hub_id"])
        row = stats.loc[hub_id] if hub_id in stats.index else None
        periods = open_periods.get(hub_id, [])
        local, english = display_name(hub)
        rows = [
            ("Hub id", esc(hub_id)),
            ("Status", esc(hub["status"])),
            ("Open periods", periods_text(periods)),
        ]
        tip = escaped_title(hub)
        if periods and row is not None:
            utilisation = float(row["throughput_utilisation"])
            rows += [
                ("Throughput", f"{fmt_num(row['throughput_m3'])} m³"),
                ("Utilisation", fmt_pct(utilisation)),
                ("Peak utilisation", fmt_pct(row["peak_throughput_utilisation"])),
                ("Units shipped", fmt_num(row["shipped_units"])),
                ("Regions served", fmt_num(served.get(hub_id, 0))),
                ("Average stock", f"{fmt_num(row['average_stock_units'])} units"),
                ("Turnover", fmt_num(row["inventory_turnover"], 1)),
                ("Days of cover", fmt_num(row["days_of_cover"], 1)),
            ]
            radius = 6 + 14 * math.sqrt(float(row["throughput_m3"]) / top) if top > 0 else 8
            color = (
                step_color(utilisation, UTILISATION_STEPS, UTILISATION_TOP)
                if math.isfinite(utilisation)
                else "#2b8cbe"
            )
            tip += f" — open, {fmt_pct(utilisation)} utilised"
            target, stroke, weight = opened, "#212121", 1.5
        else:
            rows += [
                ("Throughput capacity", f"{fmt_num(hub['throughput_capacity'])} m³"),
                ("Fixed cost / period", fmt_num(hub["fixed_cost"])),
            ]
            radius, color, stroke, weight = 4.5, CANDIDATE, "#ffffff", 1.0
            tip += " — candidate, not opened"
            target = closed
        folium.CircleMarker(
            [float(hub["lat"]), float(hub["lon"])],
            radius=radius,
            color=stroke,
            weight=weight,
            fill=True,
            fill_color=color,
            fill_opacity=0.95,
            popup=folium.Popup(popup_html(local, english, rows), max_width=320),
            tooltip=folium.Tooltip(tip, sticky=True),
        ).add_to(target)
    return [closed, opened]


def source_layer(result: Result) -> Any:

    group = folium.FeatureGroup(name="Sources")
    inflows = result.solution.inflows if result.solution is not None else pd.DataFrame()
    sent = (
        inflows.groupby("source_id")["quantity"].sum() if len(inflows) else pd.Series(dtype=float)
    )
    for _, source in result.problem.sources.iterrows():
        local, english = display_name(source)
        rows = [
            ("Source id", esc(source["source_id"])),
            ("Units sent", fmt_num(sent.get(source["source_id"], 0.0))),
        ]
        folium.CircleMarker(
            [float(source["lat"]), float(source["lon"])],
            radius=7,
            color="#ffffff",
            weight=2,
            fill=True,
            fill_color=INBOUND_COLOR,
            fill_opacity=1.0,
            popup=folium.Popup(popup_html(local, english, rows), max_width=300),
            tooltip=folium.Tooltip(f"{escaped_title(source)} — source"),
        ).add_to(group)
    return group
