"""The campaign-review report (DESIGN §1 job 3, §4): one self-contained HTML page.

Inline CSS, charts as inline SVG built here; no JavaScript, no CDN. The plan map is
embedded as ``<iframe src="map.html">`` when the run folder has one. Every string that
comes from data goes through :func:`esc`.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from hubopt.kpis import PROMISE_HOURS, TIER_ORDER, open_periods_of, promise_table
from hubopt.present.charts import cost_chart_svg, stacked_bar_svg
from hubopt.present.format import (
    DASH,
    TIER_COLORS,
    esc,
    finite,
    fmt_hours,
    fmt_money,
    fmt_num,
    fmt_pct,
    periods_text,
    utilisation_color,
)
from hubopt.result import Result


def _money_cell(value: Any, currency: str) -> str:
    return f"<td class='n' title='{fmt_num(value)}'>{esc(fmt_money(value, currency))}</td>"


def currency_of(result: Result) -> str:
    """The scenario's currency label when the config declares one, else ``""``."""
    config = result.scenario.config
    for holder in (config, getattr(config, "output", None), getattr(config, "policy", None)):
        value = getattr(holder, "currency", None)
        if isinstance(value, str) and value:
            return value
    return ""


# ---- sections --------------------------------------------------------------------------


def _table(head: list[str], rows: list[str], numeric_from: int = 1, cls: str = "") -> str:
    ths = "".join(
        f"<th class='{'n' if i >= numeric_from else ''}'>{h}</th>" for i, h in enumerate(head)
    )
    return (
        f"<table class='{cls}'><thead><tr>{ths}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _cards(headline: dict[str, Any], currency: str) -> str:
    cards = [
        (
            "Total cost",
            esc(fmt_money(headline.get("total_cost"), currency)),
            f"{fmt_num(headline.get('total_cost'))} {esc(currency)}".strip(),
        ),
        (
            "On-time rate",
            fmt_pct(headline.get("on_time_rate")),
            "units delivered within their window / demand",
        ),
        (
            "Fill rate",
            fmt_pct(headline.get("fill_rate")),
            f"{fmt_num(headline.get('delivered_units'))} of {fmt_num(headline.get('demand_units'))} units",
        ),
        (
            "Open hubs",
            f"{fmt_num(headline.get('open_hubs_last_period'))}",
            f"max {fmt_num(headline.get('open_hubs_max'))} in any period",
        ),
        (
            "CO₂",
            f"{fmt_num(headline.get('co2_t'), 1)} t",
            f"{fmt_num(headline.get('co2_kg_per_unit'), 3)} kg per unit",
        ),
        (
            "Cost per unit",
            esc(fmt_money(headline.get("cost_per_unit_delivered"), currency)),
            "total cost / units delivered",
        ),
    ]
    items = "".join(
        f"<div class='card'><div class='k'>{k}</div><div class='v'>{v}</div><div class='d'>{d}</div></div>"
        for k, v, d in cards
    )
    return f"<section class='cards'>{items}</section>"


def _campaign_section(campaigns: pd.DataFrame, currency: str) -> str:
    if not len(campaigns):
        return "<p class='muted'>This scenario has no campaigns.</p>"
    rows = []
    for c in campaigns.itertuples():
        target = float(c.service_level_target)
        met = finite(c.on_time_rate) is not None and float(c.on_time_rate) + 1e-9 >= target
        badge = "<span class='ok'>met</span>" if met else "<span class='bad'>below</span>"
        name = esc(c.name) if str(c.name) != str(c.campaign_id) else ""
        label = f"<b>{esc(c.campaign_id)}</b>" + (
            f"<div class='muted'>{name}</div>" if name else ""
        )
        rows.append(
            f"<tr><td>{label}</td><td class='n'>{fmt_num(c.units)}</td><td class='n'>{fmt_num(c.delivered_units)}</td>"
            f"<td class='n'>{fmt_pct(c.on_time_rate)} {badge}</td><td class='n'>{fmt_pct(target, 0)}</td>"
            f"<td class='n'>{fmt_num(c.delivery_window_hours)} h</td>{_money_cell(c.logistics_cost, currency)}"
            f"<td class='n'>{fmt_num(c.logistics_cost_per_unit)}</td>{_money_cell(c.margin, currency)}{_money_cell(c.spend, currency)}"
            f"<td class='n'><b>{fmt_pct(c.roi)}</b></td></tr>"
        )
    head = [
        "Campaign",
        "Units",
        "Delivered",
        "On time",
        "Target",
        "Window",
        "Logistics cost",
        "per unit",
        "Margin",
        "Spend",
        "ROI",
    ]
    return _table(head, rows)


def _promise_section(regions: pd.DataFrame) -> str:
    table = promise_table(regions)
    basis = str(table["basis"].iloc[0]) if len(table) else "population"
    what = "people (census population)" if basis == "population" else "demand units"
    rows = []
    for r in table.itertuples():
        total = float(r.total)
        bands = [
            float(r.within_12h),
            float(r.within_24h - r.within_12h),
            float(r.within_48h - r.within_24h),
            float(r.within_72h - r.within_48h),
            float(r.later),
            float(r.none),
        ]
        titles = [f"{esc(t)}: {fmt_num(v)}" for t, v in zip(TIER_ORDER, bands, strict=True)]
        bar = stacked_bar_svg(bands, [TIER_COLORS[t] for t in TIER_ORDER], titles)
        cells = "".join(
            f"<td class='n'>{fmt_num(getattr(r, f'within_{h}h'))}<div class='muted'>{fmt_pct(getattr(r, f'within_{h}h') / total if total else math.nan)}</div></td>"
            for h in PROMISE_HOURS
        )
        cls = " class='total'" if r.group == "Total" and r.Index == len(table) - 1 else ""
        rows.append(
            f"<tr{cls}><td>{esc(r.group)}</td><td class='n'>{fmt_num(total)}</td>{cells}<td class='n'>{fmt_num(r.later + r.none)}</td><td>{bar}</td></tr>"
        )
    head = [
        "Province" if "sido" in regions.columns else "Area",
        "Total",
        "≤ 12 h",
        "≤ 24 h",
        "≤ 48 h",
        "≤ 72 h",
        "Later / none",
        "Tier mix",
    ]
    legend = "".join(
        f"<span class='key'><i style='background:{TIER_COLORS[t]}'></i>{t}</span>"
        for t in TIER_ORDER
    )
    return f"<p>Counts are {what} in regions whose fastest delivery from a hub open in the last period is within the promise.</p>{_table(head, rows, cls='promise')}<p class='legend'>{legend}</p>"


def _hub_section(
    hubs: pd.DataFrame, open_periods: dict[str, list[int]], local_names: dict[str, str]
) -> str:
    used = hubs[hubs["periods_open"] > 0].sort_values("throughput_m3", ascending=False)
    rows = []
    for h in used.itertuples():
        local = local_names.get(str(h.hub_id), "")
        about = " · ".join(esc(x) for x in (local, h.hub_id, h.status) if x)
        name = f"<b>{esc(h.name or h.hub_id)}</b><div class='muted'>{about}</div>"
        util = finite(h.throughput_utilisation)
        meter = (
            f"<span class='meter'><i style='width:{min(100.0, 100 * util):.0f}%;background:{utilisation_color(util)}'></i></span>"
            if util is not None
            else ""
        )
        rows.append(
            f"<tr><td class='hub'>{name}</td><td>{periods_text(open_periods.get(str(h.hub_id), []))}</td>"
            f"<td class='n'>{fmt_num(h.throughput_m3)}</td><td class='n'>{fmt_pct(h.throughput_utilisation)} {meter}</td>"
            f"<td class='n'>{fmt_pct(h.peak_throughput_utilisation)}</td><td class='n'>{fmt_num(h.shipped_units)}</td>"
            f"<td class='n'>{fmt_num(h.average_stock_units)}</td><td class='n'>{fmt_num(h.inventory_turnover, 1)}</td><td class='n'>{fmt_num(h.days_of_cover, 1)}</td></tr>"
        )
    head = [
        "Hub",
        "Open periods",
        "Throughput (m³)",
        "Utilisation",
        "Peak",
        "Units shipped",
        "Avg stock (units)",
        "Turnover",
        "Days of cover",
    ]
    unused = hubs[hubs["periods_open"] <= 0]
    note = ""
    if len(unused):
        names = ", ".join(
            esc(n or i) for n, i in zip(unused["name"], unused["hub_id"], strict=True)
        )
        note = f"<p class='muted'>Not opened ({len(unused)}): {names}.</p>"
    return _table(head, rows, numeric_from=2) + note


def _period_section(periods: pd.DataFrame) -> str:
    rows = [
        f"<tr><td>{esc(p.period)}</td><td class='n'>{fmt_num(p.open_hubs)}</td><td class='n'>{fmt_num(p.demand_units)}</td>"
        f"<td class='n'>{fmt_num(p.delivered_units)}</td><td class='n'>{fmt_pct(p.on_time_rate)}</td><td class='n'>{fmt_num(p.stock_units)}</td></tr>"
        for p in periods.itertuples()
    ]
    return _table(
        ["Period", "Open hubs", "Demand (units)", "Delivered", "On time", "End stock (units)"], rows
    )


def _channel_section(channels: pd.DataFrame) -> str:
    rows = [
        f"<tr><td>{esc(c.channel)}</td><td class='n'>{fmt_num(c.demand_units)}</td><td class='n'>{fmt_num(c.delivered_units)}</td>"
        f"<td class='n'>{fmt_pct(c.fill_rate)}</td><td class='n'>{fmt_pct(c.on_time_rate)}</td></tr>"
        for c in channels.itertuples()
    ]
    return _table(["Channel", "Demand (units)", "Delivered", "Fill rate", "On time"], rows)


DEFINITIONS = (
    ("Fill rate", "delivered units / demand units (after campaign uplift)."),
    (
        "On-time rate",
        "units delivered within their delivery window / demand units; unmet demand counts as late.",
    ),
    (
        "Delivery promise",
        "per region, the fastest transit from a hub open in the last period over every allowed mode; tier 12 h, 24 h, 48 h, 72 h, later, or none when no open hub can serve it.",
    ),
    ("Utilisation", "volume shipped out / throughput capacity, over the periods a hub is open."),
    ("Inventory turnover", "units shipped / average end-of-period stock (units)."),
    ("Days of cover", "average stock / units shipped per day."),
    ("CO₂", "tonne-km of inbound and outbound shipments times each mode's emission factor."),
    (
        "Campaign logistics cost",
        "the campaign flows' own outbound transport, handling, returns, late and carbon costs, plus their volume share of each period's fixed, opening, closing, inbound and holding costs; purchase cost and lost-sale penalties are not logistics.",
    ),
    (
        "Promotion ROI",
        "(margin − spend − logistics cost) / (spend + logistics cost), margin = delivered campaign units × unit margin.",
    ),
)

CSS = """
:root{--ink:#1f2933;--muted:#66788a;--line:#e3e8ee;--accent:#2c7fb8;--bg:#f5f7fa}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);font:14px/1.45 -apple-system,'Segoe UI',Roboto,'Noto Sans KR','Apple SD Gothic Neo','Malgun Gothic','Helvetica Neue',Arial,sans-serif}
header{background:#12263a;color:#fff;padding:22px 32px 18px}
header h1{margin:0 0 4px;font-size:22px;font-weight:650}
header .sub{color:#b8c7d6;font-size:13px}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600;margin-left:6px;vertical-align:2px}
.badge.good{background:#1a9850;color:#fff}.badge.warn{background:#fdae61;color:#222}.badge.bad{background:#d73027;color:#fff}
main{max-width:1180px;margin:0 auto;padding:20px 32px 40px}
section{margin:0 0 22px}
h2{font-size:16px;margin:26px 0 10px;padding-bottom:4px;border-bottom:2px solid var(--line)}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(140px,1fr));gap:12px;margin-top:4px}
.card{background:#fff;border:1px solid var(--line);border-radius:8px;padding:12px 14px;box-shadow:0 1px 2px rgba(16,24,40,.04)}
.card .k{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.04em}
.card .v small{font-size:13px;font-weight:500;color:var(--muted);margin-left:3px}
.card .v{font-size:22px;white-space:nowrap;font-weight:650;margin:2px 0;font-variant-numeric:tabular-nums}
.card .d{color:var(--muted);font-size:12px}
.panel{background:#fff;border:1px solid var(--line);border-radius:8px;padding:14px 16px;overflow-x:auto}
table{border-collapse:collapse;width:100%;background:#fff;font-size:13px}
th,td{padding:6px 8px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
td.hub{min-width:170px}
th{font-size:12px;color:var(--muted);font-weight:600;background:#fafbfc;white-space:nowrap}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tr.total td{font-weight:650;border-top:2px solid #c9d3dd}
.muted{color:var(--muted);font-size:12px}
.ko{color:var(--muted)}
.ok{color:#1a7f45;font-size:11px;font-weight:600}.bad{color:#c0392b;font-size:11px;font-weight:600}
.meter{display:inline-block;width:46px;height:6px;background:#edf1f5;border-radius:3px;vertical-align:middle;margin-left:4px;overflow:hidden}
.meter i{display:block;height:100%}
svg.chart text{font-size:12px;fill:var(--ink)} svg.chart text.val{fill:var(--muted)}
svg.stack{vertical-align:middle;border-radius:2px}
.legend .key{display:inline-flex;align-items:center;gap:4px;margin-right:12px;font-size:12px;color:var(--muted)}
.legend .key i{width:12px;height:12px;display:inline-block;border-radius:2px;border:1px solid rgba(0,0,0,.15)}
iframe.map{width:100%;height:620px;border:1px solid var(--line);border-radius:8px;background:#fff}
dl.defs{display:grid;grid-template-columns:210px 1fr;gap:4px 14px;margin:0}
dl.defs dt{font-weight:600}dl.defs dd{margin:0;color:#3c4b5a}
footer{color:var(--muted);font-size:12px;text-align:center;padding:16px}
.two{display:grid;grid-template-columns:1fr 1fr;gap:18px}
@media (max-width:900px){.two{grid-template-columns:1fr}main{padding:16px}}
@media print{iframe.map{display:none}}
"""


def _status_badge(result: Result) -> str:
    status = str(result.status)
    kind = "good" if status == "optimal" else "warn" if result.solution is not None else "bad"
    return f"<span class='badge {kind}'>{esc(status)}</span>"


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
    gap = finite(result.gap)
    facts = [
        f"Status {_status_badge(result)}",
        f"gap {fmt_pct(gap, 2) if gap is not None else DASH}",
        f"solver {esc(result.backend)} {esc(result.solver_version)}",
        f"solved in {fmt_num(result.solve_seconds, 1)} s",
    ]
    if result.verification is not None:
        facts.append(
            "plan verified independently"
            if result.verification.ok
            else "<b>verification failed</b>"
        )
    title = f"Campaign review — {esc(config.name)}"
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>{title}</title><style>{CSS}</style></head><body>",
        f"<header><h1>{title}</h1><div class='sub'>{esc(config.description or '')}</div>",
        f"<div class='sub'>{' · '.join(facts)}</div></header><main>",
    ]
    if result.solution is None:
        reasons = (
            "".join(f"<li>{esc(r)}</li>" for r in result.diagnosis)
            or "<li>No diagnosis available.</li>"
        )
        parts.append(
            f"<section><h2>No plan</h2><div class='panel'><p>{esc(result.message)}</p><ul>{reasons}</ul></div></section>"
        )
    else:
        parts.append(_plan_sections(result, money, map_file))
    parts.append(_definitions(result, money))
    stamp = esc(result.finished_at or "")
    parts.append(
        f"</main><footer>hubopt · scenario {esc(config.name)} · {stamp}</footer></body></html>"
    )
    return "".join(parts)


def _plan_sections(result: Result, currency: str, map_file: str | None) -> str:
    assert result.solution is not None
    kpis = result.kpis
    hubs_table = result.problem.hubs
    local_names = {}
    if "name_ko" in hubs_table.columns:
        local_names = {
            str(h): str(n)
            for h, n in zip(hubs_table["hub_id"], hubs_table["name_ko"], strict=True)
            if isinstance(n, str) and n
        }
    h = kpis.headline
    service = f"Mean delivery {fmt_hours(h.get('mean_delivery_hours'))}, P95 {fmt_hours(h.get('p95_delivery_hours'))}; {fmt_num(h.get('unmet_units'))} units unmet."
    out = [
        _cards(h, currency),
        f"<p class='muted'>{service}</p>",
        "<section><h2>Campaigns</h2><div class='panel'>",
        _campaign_section(kpis.campaigns, currency),
        "</div></section>",
        "<section><h2>Delivery promise by province</h2><div class='panel'>"
        if "sido" in kpis.regions.columns
        else "<section><h2>Delivery promise</h2><div class='panel'>",
        _promise_section(kpis.regions),
        "</div></section>",
    ]
    if map_file:
        out.append(
            f"<section><h2>Map</h2><iframe class='map' src='{esc(map_file)}' title='Plan map' loading='lazy'></iframe>"
            f"<p class='muted'>Open <a href='{esc(map_file)}'>the map on its own page</a>; switch layers at its top right.</p></section>"
        )
    out += [
        "<section><h2>Cost breakdown</h2><div class='panel'>",
        cost_chart_svg(kpis.costs, currency, width=760),
        f"<p class='muted'>Total {fmt_num(h.get('total_cost'))}{' ' + esc(currency) if currency else ''}.</p></div></section>",
        "<section><h2>Hubs</h2><div class='panel'>",
        _hub_section(kpis.hubs, open_periods_of(result.solution.hubs), local_names),
        "</div></section>",
        "<section class='two'><div><h2>Periods</h2><div class='panel'>",
        _period_section(kpis.periods),
        "</div></div><div><h2>Channels</h2><div class='panel'>",
        _channel_section(kpis.channels),
        "</div></div></section>",
    ]
    return "".join(out)


def _definitions(result: Result, currency: str) -> str:
    items = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in DEFINITIONS)
    money = f"Money is in {esc(currency)}." if currency else "Money is in the scenario's currency."
    return (
        "<section><h2>Definitions</h2><div class='panel'><dl class='defs'>"
        f"{items}</dl><p class='muted'>{money} The full definitions are in the docstring of "
        "<code>hubopt.kpis</code> (and docs/kpis.md).</p></div></section>"
    )
