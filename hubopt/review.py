"""The campaign-review report (DESIGN §1 job 3, §4): one self-contained HTML page.

Inline CSS, charts as inline SVG built here; no JavaScript, no CDN. The plan map is
embedded as ``<iframe src="map.html">`` when the run folder has one. Every string that
comes from data goes through :func:`esc`.
"""

from __future__ import annotations

import html
import math
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from hubopt.api import Result

TIER_ORDER = ("12h", "24h", "48h", "72h", "later", "none")
TIER_COLORS = {
    "12h": "#253494",
    "24h": "#2c7fb8",
    "48h": "#41b6c4",
    "72h": "#a1dab4",
    "later": "#ffffb2",
    "none": "#d9d9d9",
}
PROMISE_HOURS = (12, 24, 48, 72)
COST_LABELS = {
    "fixed": "Hub fixed",
    "opening": "Hub opening",
    "closing": "Hub closing",
    "supply": "Supply (purchase)",
    "inbound_transport": "Inbound transport",
    "outbound_transport": "Outbound transport",
    "handling": "Handling",
    "returns": "Returns",
    "holding": "Holding stock",
    "lost_sales": "Lost sales",
    "late": "Late delivery",
    "carbon": "Carbon price",
}
DASH = "–"


# ---- escaping and number formats (shared with hubopt.maps) -----------------------------


def esc(value: object) -> str:
    """HTML-escape a data string; the result is also inert inside a JS template literal."""
    text = html.escape("" if value is None else str(value), quote=True)
    return text.replace("`", "&#96;").replace("$", "&#36;").replace("\\", "&#92;")


def _finite(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def fmt_num(value: Any, digits: int = 0) -> str:
    """``1234567.8`` -> ``1,234,568``; NaN/inf/None -> a dash."""
    number = _finite(value)
    return DASH if number is None else f"{number:,.{digits}f}"


def fmt_pct(value: Any, digits: int = 1) -> str:
    """A share as a percentage: ``0.9867`` -> ``98.7 %``."""
    number = _finite(value)
    return DASH if number is None else f"{100 * number:.{digits}f} %"


def fmt_hours(value: Any) -> str:
    """Hours with one decimal: ``11.72`` -> ``11.7 h``."""
    number = _finite(value)
    return DASH if number is None else f"{number:,.1f} h"


def fmt_money(value: Any, currency: str = "") -> str:
    """Compact money: ``5.03 bn KRW``, ``275.5 m``, ``12,345``."""
    number = _finite(value)
    if number is None:
        return DASH
    size = abs(number)
    if size >= 1e9:
        text = f"{number / 1e9:,.2f} bn"
    elif size >= 1e6:
        text = f"{number / 1e6:,.1f} m"
    else:
        text = f"{number:,.0f}"
    return f"{text} {esc(currency)}".strip()


def _money_cell(value: Any, currency: str) -> str:
    return f"<td class='n' title='{fmt_num(value)}'>{fmt_money(value, currency)}</td>"


def currency_of(result: Result) -> str:
    """The scenario's currency label when the config declares one, else ``""``."""
    config = result.scenario.config
    for holder in (config, getattr(config, "output", None), getattr(config, "policy", None)):
        value = getattr(holder, "currency", None)
        if isinstance(value, str) and value:
            return value
    return ""


# ---- charts (inline SVG) ---------------------------------------------------------------


def cost_chart_svg(costs: pd.DataFrame, currency: str = "", width: int = 640) -> str:
    """Horizontal bars of the cost components (non-zero ones), largest first, with values."""
    rows = costs[costs["cost"].abs() > 1e-9].sort_values("cost", ascending=False)
    if not len(rows):
        return "<p class='muted'>No costs.</p>"
    label_w, value_w, bar_h, gap = 150, 150, 20, 8
    plot_w = width - label_w - value_w
    top = float(rows["cost"].abs().max())
    height = len(rows) * (bar_h + gap)
    parts = [
        f"<svg class='chart' role='img' aria-label='Cost by component' viewBox='0 0 {width} {height}' "
        f"width='{width}' height='{height}' style='max-width:100%;height:auto'>"
    ]
    for i, row in enumerate(rows.itertuples()):
        y = i * (bar_h + gap)
        w = max(1.0, plot_w * abs(float(row.cost)) / top)
        label = COST_LABELS.get(str(row.component), str(row.component))
        share = f" · {fmt_pct(row.share)}" if "share" in rows.columns else ""
        parts.append(
            f"<text x='{label_w - 8}' y='{y + bar_h * 0.72:.1f}' text-anchor='end' class='lbl'>{esc(label)}</text>"
            f"<rect x='{label_w}' y='{y}' width='{w:.1f}' height='{bar_h}' rx='3' fill='#2c7fb8'><title>{esc(label)}: {fmt_num(row.cost)}</title></rect>"
            f"<text x='{label_w + w + 6:.1f}' y='{y + bar_h * 0.72:.1f}' class='val'>{fmt_money(row.cost, currency)}{share}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def stacked_bar_svg(
    values: list[float], colors: list[str], titles: list[str], width: int = 220, height: int = 14
) -> str:
    """One horizontal 100 % stacked bar."""
    total = float(sum(values))
    if total <= 0:
        return ""
    x = 0.0
    parts = [
        f"<svg class='stack' viewBox='0 0 {width} {height}' width='{width}' height='{height}'>"
    ]
    for value, color, title in zip(values, colors, titles, strict=True):
        w = width * value / total
        if w > 0:
            parts.append(
                f"<rect x='{x:.2f}' y='0' width='{w:.2f}' height='{height}' fill='{color}'><title>{title}</title></rect>"
            )
        x += w
    parts.append("</svg>")
    return "".join(parts)


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
            fmt_money(headline.get("total_cost"), currency),
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
            fmt_money(headline.get("cost_per_unit_delivered"), currency),
            "total cost / units delivered",
        ),
    ]
    items = "".join(
        f"<div class='card'><div class='k'>{k}</div><div class='v'>{v}</div><div class='d'>{d}</div></div>"
        for k, v, d in cards
    )
    return f"<section class='cards'>{items}</section>"


def _card_money(value: Any, currency: str) -> str:
    text = fmt_money(value, "")
    return f"{text}<small>{esc(currency)}</small>" if currency and text != DASH else text


def _campaign_section(campaigns: pd.DataFrame, currency: str) -> str:
    if not len(campaigns):
        return "<p class='muted'>This scenario has no campaigns.</p>"
    rows = []
    for c in campaigns.itertuples():
        target = float(c.service_level_target)
        met = _finite(c.on_time_rate) is not None and float(c.on_time_rate) + 1e-9 >= target
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


def promise_table(regions: pd.DataFrame) -> pd.DataFrame:
    """People (or demand units) per province that can be promised 12/24/48/72 h delivery.

    Columns: ``group, basis, total`` and cumulative ``within_12h .. within_72h`` plus the
    ``later`` and ``none`` counts; one row per ``sido`` (when present) and a total row.
    """
    basis = (
        "population"
        if "population" in regions.columns and regions["population"].notna().any()
        else "demand_units"
    )
    weight = pd.to_numeric(regions[basis], errors="coerce").fillna(0.0)
    group = (
        regions["sido"].astype(str)
        if "sido" in regions.columns
        else pd.Series("All regions", index=regions.index)
    )
    frame = pd.DataFrame(
        {"group": group, "tier": regions["tier"].astype(str), "w": weight.astype(float)}
    )
    wide = frame.groupby(["group", "tier"], sort=False)["w"].sum().unstack("tier", fill_value=0.0)
    wide = wide.reindex(columns=list(TIER_ORDER), fill_value=0.0)
    out = pd.DataFrame(index=wide.index)
    out["total"] = wide.sum(axis=1)
    for i, hours in enumerate(PROMISE_HOURS):
        out[f"within_{hours}h"] = wide[list(TIER_ORDER[: i + 1])].sum(axis=1)
    out["later"], out["none"] = wide["later"], wide["none"]
    out = out.sort_values("total", ascending=False)
    if len(out) > 1:
        out.loc["Total"] = out.sum()
    out = out.reset_index().rename(columns={"index": "group"})
    out.insert(1, "basis", basis)
    return out


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


def periods_text(periods: list[int]) -> str:
    """``[1, 2, 3, 5]`` -> ``1–3, 5``."""
    if not periods:
        return "none"
    runs: list[list[int]] = [[periods[0], periods[0]]]
    for p in periods[1:]:
        if p == runs[-1][1] + 1:
            runs[-1][1] = p
        else:
            runs.append([p, p])
    return ", ".join(f"{a}" if a == b else f"{a}–{b}" for a, b in runs)


def open_periods_of(hub_periods: pd.DataFrame) -> dict[str, list[int]]:
    """Hub id -> sorted periods in which it is open (from ``Solution.hubs``)."""
    rows = hub_periods[hub_periods["open"] > 0]
    return {str(h): sorted(int(p) for p in g) for h, g in rows.groupby("hub_id")["period"]}


def _hub_section(
    hubs: pd.DataFrame, open_periods: dict[str, list[int]], local_names: dict[str, str]
) -> str:
    used = hubs[hubs["periods_open"] > 0].sort_values("throughput_m3", ascending=False)
    rows = []
    for h in used.itertuples():
        local = local_names.get(str(h.hub_id), "")
        about = " · ".join(esc(x) for x in (local, h.hub_id, h.status) if x)
        name = f"<b>{esc(h.name or h.hub_id)}</b><div class='muted'>{about}</div>"
        util = _finite(h.throughput_utilisation)
        meter = (
            f"<span class='meter'><i style='width:{min(100.0, 100 * util):.0f}%;background:{_util_color(util)}'></i></span>"
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


def _util_color(value: float) -> str:
    return (
        "#2b8cbe"
        if value < 0.5
        else "#fdae61"
        if value < 0.8
        else "#f46d43"
        if value < 0.95
        else "#a50026"
    )


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
    gap = _finite(result.gap)
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
