"""The campaign-review report (DESIGN §1 job 3, §4): one self-contained HTML page.

:func:`render_report` turns a :class:`~hubopt.result.Result` into the context of
``templates/report.html.j2`` (inline CSS, inline SVG charts, no JavaScript, no CDN) —
every number formatted by :mod:`hubopt.present.format`, every string escaped by Jinja2.
A static SVG map of the plan (:func:`hubopt.present.maps.static.plan_svg`) keeps the page
readable offline and in print; the interactive map is linked, and embedded as
``<iframe src="map.html">`` when the run folder has one. Input warnings come first.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import pandas as pd

from hubopt.kpis import has_provinces, open_periods_of, promise_table
from hubopt.present.campaigns import campaign_sections
from hubopt.present.capacity import capacity_sections
from hubopt.present.charts import cost_bars, stacked_bar
from hubopt.present.format import (
    DASH,
    finite,
    fmt_hours,
    fmt_money,
    fmt_num,
    fmt_pct,
    periods_text,
    tier_palette,
    utilisation_color,
)
from hubopt.present.maps.static import plan_svg, static_legend
from hubopt.present.templating import render
from hubopt.result import Result
from hubopt.routing.kpis import compute_route_kpis
from hubopt.solvers.base import status_text
from hubopt.tiers import tier_label, tier_labels

DEFINITIONS = (
    ("Fill rate", "delivered units / demand units (after campaign uplift)."),
    (
        "On-time rate",
        "units delivered within their delivery window / demand units; unmet demand counts as late.",
    ),
    (
        "Delivery promise",
        "per channel, the share of demand units the plan delivers within 12, 24, 48 and 72 h "
        "by the mode it chose: the promise this plan keeps.",
    ),
    (
        "Fastest possible delivery",
        "per region, the fastest transit from a hub open in the last period over every allowed "
        "mode; tier 12 h, 24 h, 48 h, 72 h, later, or none when no open hub can serve it. What "
        "a plan could promise, not what this plan does.",
    ),
    ("Utilisation", "volume shipped out / throughput capacity, over the periods a hub is open."),
    ("Inventory turnover", "units shipped / average end-of-period stock (units)."),
    ("Days of cover", "average stock / units shipped per day."),
    ("CO₂", "tonne-km of inbound and outbound shipments times each mode's emission factor."),
    (
        "Campaign logistics cost",
        "the campaign flows' own outbound transport, handling, returns, late and carbon costs, "
        "plus their volume share of each period's fixed, opening, closing, inbound and holding "
        "costs; purchase cost and lost-sale penalties are not logistics.",
    ),
    (
        "Promotion ROI",
        "(margin − spend − logistics cost) / (spend + logistics cost), margin = delivered "
        "campaign units × unit margin.",
    ),
    (
        "Gap",
        "how far the plan's cost may be above the best possible plan: (cost − proven lower "
        "bound) / cost. A plan is called optimal only when the gap is closed to the solver's "
        "tolerance.",
    ),
)


def currency_of(result: Result) -> str:
    """The scenario's currency label when the config declares one, else ``""``."""
    config = result.scenario.config
    for holder in (config, getattr(config, "output", None), getattr(config, "policy", None)):
        value = getattr(holder, "currency", None)
        if isinstance(value, str) and value:
            return value
    return ""


def gap_in_money(result: Result, currency: str = "") -> str:
    """``objective − bound`` as money (empty when either is unknown)."""
    objective, bound = finite(result.objective), finite(result.bound)
    if objective is None or bound is None:
        return ""
    return f"at most {fmt_money(max(0.0, objective - bound), currency)} above optimal"


def render_report(
    result: Result, map_file: str | None = "map.html", currency: str | None = None
) -> str:
    """The campaign-review page of one run, as a self-contained HTML string.

    Parameters
    ----------
    result:
        A solve result; without a solution the page states the status and diagnosis.
    map_file:
        Relative path of the plan map to embed in an iframe, or None for no map.
    currency:
        Money label (e.g. ``"KRW"``); default: the scenario's, else none.
    """
    config = result.scenario.config
    money = currency if currency is not None else currency_of(result)
    status = str(result.status)
    gap = finite(result.gap)
    return render(
        "report.html.j2",
        title=f"Campaign review — {config.name}",
        description=config.description or "",
        status=status_text(status, result.gap),
        status_kind="good"
        if status == "optimal"
        else "warn"
        if result.solution is not None
        else "bad",
        gap=fmt_pct(gap, 2) if gap is not None else DASH,
        gap_money=gap_in_money(result, money) if result.solution is not None else "",
        backend=f"{result.backend} {result.solver_version}".strip(),
        solve_seconds=fmt_num(result.solve_seconds, 1),
        verified=None if result.verification is None else result.verification.ok,
        message=result.message,
        diagnosis=list(result.diagnosis),
        warnings=[{"where": w.where, "message": w.message, "fix": w.fix} for w in result.warnings],
        plan=_plan(result, money) if result.solution is not None else None,
        map_file=map_file if result.solution is not None else None,
        definitions=DEFINITIONS,
        currency=money,
        scenario=config.name,
        finished_at=result.finished_at or "",
    )


def _plan(result: Result, currency: str) -> dict[str, Any]:
    kpis = result.kpis
    h = kpis.headline
    return {
        "cards": _cards(h, currency),
        "service": f"Mean delivery {fmt_hours(h.get('mean_delivery_hours'))}, "
        f"P95 {fmt_hours(h.get('p95_delivery_hours'))}; "
        f"{fmt_num(h.get('unmet_units'))} units unmet.",
        "campaigns": [_campaign(c, currency) for c in kpis.campaigns.itertuples()],
        "delivery": _delivery(kpis.delivery, result.scenario.config.output.promise_tiers_hours),
        "static_map": plan_svg(result),
        "static_legend": static_legend(result.scenario.config.output.promise_tiers_hours),
        "promise": _promise(kpis.regions, result.scenario.config.output.promise_tiers_hours),
        "campaign_sections": campaign_sections(result, currency),
        "cost_chart": cost_bars(kpis.costs, currency, width=760),
        "total_cost": f"{fmt_num(h.get('total_cost'))} {currency}".strip(),
        "hubs": _hubs(result),
        "capacity": capacity_sections(result, currency),
        "unused_hubs": [
            str(n or i)
            for n, i, p in zip(
                kpis.hubs["name"], kpis.hubs["hub_id"], kpis.hubs["periods_open"], strict=True
            )
            if p <= 0
        ],
        "periods": [
            {
                "period": p.period,
                "open_hubs": fmt_num(p.open_hubs),
                "demand": fmt_num(p.demand_units),
                "delivered": fmt_num(p.delivered_units),
                "on_time": fmt_pct(p.on_time_rate),
                "stock": fmt_num(p.stock_units),
            }
            for p in kpis.periods.itertuples()
        ],
        "channels": [
            {
                "channel": c.channel,
                "demand": fmt_num(c.demand_units),
                "delivered": fmt_num(c.delivered_units),
                "fill_rate": fmt_pct(c.fill_rate),
                "on_time": fmt_pct(c.on_time_rate),
            }
            for c in kpis.channels.itertuples()
        ],
        "routes": _routes(result, currency),
    }


def _routes(result: Result, currency: str) -> list[dict[str, str]] | None:
    """Vans, stops, on-time stops, km, van-hours, load and cost per hub and period."""
    if result.routes is None:
        return None
    return [
        {
            "hub": str(r.hub_id),
            "period": str(r.period),
            "vans": fmt_num(r.vans_used),
            "stops": fmt_num(r.stops),
            "on_time": f"{fmt_num(r.on_time_stops)} ({fmt_pct(r.on_time_rate)})",
            "km": fmt_num(r.km, 1),
            "hours": fmt_num(r.hours, 1),
            "load": fmt_num(r.load_m3, 1),
            "cost": f"{fmt_num(r.cost)} {currency}".strip(),
            "unrouted": fmt_num(r.unrouted_visits),
        }
        for r in compute_route_kpis(result.routes).itertuples()
    ]


def _cards(h: dict[str, Any], currency: str) -> list[dict[str, str]]:
    def card(key: str, value: str, detail: str) -> dict[str, str]:
        return {"key": key, "value": value, "detail": detail}

    return [
        card(
            "Cost − incremental margin" if h.get("incremental_margin") else "Total cost",
            fmt_money(h.get("total_cost"), currency),
            f"{fmt_num(h.get('total_cost'))} {currency}".strip()
            + (
                f"; incremental margin {fmt_num(h.get('incremental_margin'))}"
                if h.get("incremental_margin")
                else ""
            ),
        ),
        card(
            "On-time rate",
            fmt_pct(h.get("on_time_rate")),
            "units delivered within their window / demand",
        ),
        card(
            "Fill rate",
            fmt_pct(h.get("fill_rate")),
            f"{fmt_num(h.get('delivered_units'))} of {fmt_num(h.get('demand_units'))} units",
        ),
        card(
            "Open hubs",
            fmt_num(h.get("open_hubs_last_period")),
            f"max {fmt_num(h.get('open_hubs_max'))} in any period",
        ),
        card(
            "CO₂",
            f"{fmt_num(h.get('co2_t'), 1)} t",
            f"{fmt_num(h.get('co2_kg_per_unit'), 3)} kg per unit",
        ),
        card(
            "Cost per unit",
            fmt_money(h.get("cost_per_unit_delivered"), currency, per_unit=True),
            "total cost / units delivered",
        ),
    ]


def _campaign(c: Any, currency: str) -> dict[str, Any]:
    target = float(c.service_level_target)
    rate = finite(c.on_time_rate)
    return {
        "id": c.campaign_id,
        "name": c.name if str(c.name) != str(c.campaign_id) else "",
        "units": fmt_num(c.units),
        "delivered": fmt_num(c.delivered_units),
        "on_time": fmt_pct(c.on_time_rate),
        "met": rate is not None and rate + 1e-9 >= target,
        "target": fmt_pct(target, 0),
        "window": f"{fmt_num(c.delivery_window_hours)} h",
        "logistics_cost": fmt_money(c.logistics_cost, currency),
        "logistics_cost_exact": fmt_num(c.logistics_cost),
        "cost_per_unit": fmt_money(c.logistics_cost_per_unit, per_unit=True),
        "margin": fmt_money(c.margin, currency),
        "margin_exact": fmt_num(c.margin),
        "spend": fmt_money(c.spend, currency),
        "spend_exact": fmt_num(c.spend),
        "roi": fmt_pct(c.roi),
    }


def _promise(regions: pd.DataFrame, tiers_hours: tuple[float, ...] | list[float]) -> dict[str, Any]:
    table = promise_table(regions, tiers_hours)
    order = tier_labels(tiers_hours)
    colors = tier_palette(order)
    basis = str(table["basis"].iloc[0]) if len(table) else "population"
    provinces = has_provinces(regions)
    rows = []
    for r in table.itertuples():
        total = float(r.total)
        within = [float(getattr(r, f"within_{tier_label(h)}")) for h in tiers_hours]
        bands = [within[0], *(b - a for a, b in itertools.pairwise(within))]
        bands += [float(r.later), float(r.none)]
        rows.append(
            {
                "group": r.group,
                "total": fmt_num(total),
                "within": [(fmt_num(w), fmt_pct(w / total if total else math.nan)) for w in within],
                "rest": fmt_num(r.later + r.none),
                "bar": stacked_bar(
                    bands,
                    [colors[t] for t in order],
                    [f"{t}: {fmt_num(v)}" for t, v in zip(order, bands, strict=True)],
                ),
                "total_row": r.group == "Total" and r.Index == len(table) - 1,
            }
        )
    return {
        "heading": "Fastest possible delivery"
        + (" by province" if provinces else "")
        + " (not the plan)",
        "group_label": "Province" if provinces else "Area",
        "what": "people (census population)" if basis == "population" else "demand units",
        "hours": [f"{h:g}" for h in tiers_hours],
        "rows": rows,
        "legend": [(t, colors[t]) for t in order],
    }


def _delivery(
    delivery: pd.DataFrame, tiers_hours: tuple[float, ...] | list[float]
) -> list[dict[str, Any]]:
    """Per channel, the share (and units) the plan delivers within each promise."""
    rows = []
    for r in delivery.itertuples():
        total = float(r.demand_units)
        rows.append(
            {
                "channel": str(r.channel),
                "demand": fmt_num(total),
                "within": [
                    (
                        fmt_pct(
                            getattr(r, f"within_{tier_label(h)}") / total if total else math.nan
                        ),
                        fmt_num(getattr(r, f"within_{tier_label(h)}")),
                    )
                    for h in sorted(tiers_hours)
                ],
                "later": fmt_num(r.later),
                "undelivered": fmt_num(r.undelivered),
                "total_row": r.channel == "All channels",
            }
        )
    return rows


def _hubs(result: Result) -> list[dict[str, Any]]:
    assert result.solution is not None
    hubs = result.kpis.hubs
    local = dict(zip(result.problem.hubs["hub_id"], result.problem.hubs["name_local"], strict=True))
    open_periods = open_periods_of(result.solution.hubs)
    rows = []
    used = hubs[hubs["periods_open"] > 0].sort_values("throughput_m3", ascending=False)
    for h in used.itertuples():
        util = finite(h.throughput_utilisation)
        rows.append(
            {
                "name": h.name or h.hub_id,
                "about": " · ".join(
                    str(x) for x in (local.get(h.hub_id, ""), h.hub_id, h.status) if x
                ),
                "periods": periods_text(open_periods.get(str(h.hub_id), [])),
                "throughput": fmt_num(h.throughput_m3),
                "utilisation": fmt_pct(h.throughput_utilisation),
                "meter": None
                if util is None
                else {"width": f"{min(100.0, 100 * util):.0f}", "color": utilisation_color(util)},
                "peak": fmt_pct(h.peak_throughput_utilisation),
                "shipped": fmt_num(h.shipped_units),
                "stock": fmt_num(h.average_stock_units),
                "turnover": fmt_num(h.inventory_turnover, 1),
                "cover": fmt_num(h.days_of_cover, 1),
            }
        )
    return rows
