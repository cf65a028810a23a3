"""Compare scenarios (DESIGN §1 job 4, §4): a table of outcomes and what changed in the plan.

- :func:`comparison_table`: one row per scenario: name, status, objective, gap, solve
  time, the varied sweep parameters, every headline KPI (see :mod:`hubopt.kpis`), error;
- :func:`hub_changes`, :func:`tier_changes`, :func:`lane_changes`: what changed between
  two plans (drawn by :func:`hubopt.maps.compare_map`);
- :func:`compare`: the notebook entry point, from results or run folders.

The HTML page is built by :mod:`hubopt.compare_page`.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    import folium

    from hubopt.api import Result

LEAD_COLUMNS = ("name", "status", "objective", "gap", "solve_seconds", "build_seconds")
HEADLINE_KPIS = (
    "total_cost",
    "cost_per_unit_delivered",
    "demand_units",
    "delivered_units",
    "fill_rate",
    "on_time_rate",
    "mean_delivery_hours",
    "p95_delivery_hours",
    "open_hubs_max",
    "open_hubs_last_period",
    "throughput_utilisation",
    "average_stock_units",
    "inventory_turnover",
    "days_of_cover",
    "tonne_km",
    "co2_t",
    "co2_kg_per_unit",
    "unmet_units",
    "regions_24h_share",
)
TAIL_COLUMNS = (
    "wall_seconds",
    "bound",
    "backend",
    "skipped",
    "run_dir",
    "source",
    "input_hash",
    "error",
)
SUMMARY_KEYS = ("status", "objective", "bound", "gap", "backend", "build_seconds", "solve_seconds")


def comparison_row(
    base: dict[str, Any], summary: dict[str, Any], headline: dict[str, Any]
) -> dict[str, Any]:
    """One comparison row from a job's identity, a result summary (or manifest) and KPIs."""
    row = dict(base)
    row |= {key: summary.get(key) for key in SUMMARY_KEYS}
    row |= {key: headline.get(key) for key in HEADLINE_KPIS}
    row |= {k: v for k, v in headline.items() if k not in HEADLINE_KPIS}
    row.setdefault("error", "")
    return row


def param_names(rows: Sequence[dict[str, Any]]) -> list[str]:
    """The sweep parameter labels found in the rows, in first-seen order."""
    names: list[str] = []
    for row in rows:
        names += [k for k in row.get("params") or {} if k not in names]
    return names


def comparison_table(rows: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """Rows -> a DataFrame with a stable column order; ``attrs["params"]`` lists parameters.

    Columns: :data:`LEAD_COLUMNS`, the parameters, :data:`HEADLINE_KPIS` (and any other
    headline KPI), then :data:`TAIL_COLUMNS`.
    """
    params = param_names(rows)
    flat = []
    for row in rows:
        values = {k: v for k, v in row.items() if k != "params"}
        values |= {p: (row.get("params") or {}).get(p) for p in params}
        flat.append(values)
    frame = pd.DataFrame(flat)
    known = [*LEAD_COLUMNS, *params, *HEADLINE_KPIS]
    extra = [c for c in frame.columns if c not in known and c not in TAIL_COLUMNS]
    columns = [*known, *extra, *TAIL_COLUMNS]
    frame = frame.reindex(columns=columns)
    frame["error"] = frame["error"].fillna("").astype(str)
    frame.attrs["params"] = params
    return frame


def write_comparison(table: pd.DataFrame, out_dir: Path, title: str | None = None) -> list[Path]:
    """Write ``comparison.csv``, ``comparison.parquet`` and ``compare.html`` atomically."""
    from hubopt.compare_page import render_compare_page

    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    csv, parquet, page = (
        out_dir / "comparison.csv",
        out_dir / "comparison.parquet",
        out_dir / "compare.html",
    )
    _atomic(csv, lambda p: table.to_csv(p, index=False))
    _atomic(parquet, lambda p: _parquet_safe(table).to_parquet(p, index=False))
    html = render_compare_page(
        table, title=title or f"Batch comparison: {out_dir.name}", out_dir=out_dir
    )
    _atomic(page, lambda p: p.write_text(html, encoding="utf-8"))
    written += [csv, parquet, page]
    return written


def _atomic(path: Path, write: Any) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    write(tmp)
    os.replace(tmp, path)


def _parquet_safe(table: pd.DataFrame) -> pd.DataFrame:
    """Columns of mixed Python objects (e.g. list-valued parameters) become text."""
    out = table.copy()
    for column in out.columns:
        if out[column].dtype == object:
            kinds = {type(v) for v in out[column] if v is not None and v == v}
            if len(kinds) > 1 or kinds & {list, dict, tuple}:
                out[column] = out[column].map(lambda v: None if v is None else str(v))
    return out


# ---- what changed between two plans ----------------------------------------------------


def _open_hubs(result: Result) -> set[str]:
    if result.solution is None:
        return set()
    hubs = result.solution.hubs
    return set(hubs.loc[hubs["open"] > 0.5, "hub_id"].astype(str))


def hub_changes(a: Result, b: Result) -> pd.DataFrame:
    """Hubs open (in any period) in exactly one plan: ``change`` is opened or closed (A -> B)."""
    open_a, open_b = _open_hubs(a), _open_hubs(b)
    hubs = b.problem.hubs
    rows = []
    for _, hub in hubs.iterrows():
        hub_id = str(hub["hub_id"])
        if (hub_id in open_a) != (hub_id in open_b):
            rows.append(
                {
                    "hub_id": hub_id,
                    "name": hub.get("name"),
                    "lat": float(hub["lat"]),
                    "lon": float(hub["lon"]),
                    "change": "opened" if hub_id in open_b else "closed",
                }
            )
    return pd.DataFrame(rows, columns=["hub_id", "name", "lat", "lon", "change"])


def tier_changes(a: Result, b: Result) -> pd.DataFrame:
    """Regions whose delivery-promise tier differs: ``tier_a``, ``tier_b`` and the hours."""
    from hubopt.review import TIER_ORDER

    columns = ["region_id", "fastest_hours", "tier"]
    ra = a.kpis.regions[columns] if a.solution is not None else pd.DataFrame(columns=columns)
    rb = b.kpis.regions[["region_id", "name", "fastest_hours", "tier"]]
    merged = rb.merge(ra, on="region_id", how="left", suffixes=("_b", "_a"))
    merged["tier_a"] = merged["tier_a"].fillna("none")
    changed = merged[merged["tier_a"] != merged["tier_b"]].copy()
    rank = {t: i for i, t in enumerate(TIER_ORDER)}
    changed["better"] = [
        rank.get(str(tb), 99) < rank.get(str(ta), 99)
        for ta, tb in zip(changed["tier_a"], changed["tier_b"], strict=True)
    ]
    coords = b.problem.regions.set_index("region_id")[["lat", "lon"]]
    changed[["lat", "lon"]] = coords.reindex(changed["region_id"]).to_numpy(float)
    order = [
        "region_id",
        "name",
        "tier_a",
        "tier_b",
        "fastest_hours_a",
        "fastest_hours_b",
        "better",
        "lat",
        "lon",
    ]
    return changed[order].reset_index(drop=True)


def lane_changes(a: Result, b: Result, top: int = 20) -> pd.DataFrame:
    """The ``top`` hub -> region lanes whose shipped units changed most (``delta`` = B - A)."""
    keys = ["hub_id", "region_id"]

    def volumes(result: Result) -> pd.DataFrame:
        if result.solution is None or not len(result.solution.flows):
            return pd.DataFrame(columns=[*keys, "quantity"])
        return result.solution.flows.groupby(keys, as_index=False)["quantity"].sum()

    merged = volumes(a).merge(volumes(b), on=keys, how="outer", suffixes=("_a", "_b"))
    merged[["quantity_a", "quantity_b"]] = (
        merged[["quantity_a", "quantity_b"]].astype(float).fillna(0.0)
    )
    merged["delta"] = merged["quantity_b"] - merged["quantity_a"]
    merged = merged[merged["delta"].abs() > 1e-6]
    merged = merged.reindex(merged["delta"].abs().sort_values(ascending=False).index).head(top)
    hubs = b.problem.hubs.set_index("hub_id")[["lat", "lon"]]
    regions = b.problem.regions.set_index("region_id")[["lat", "lon"]]
    merged[["hub_lat", "hub_lon"]] = hubs.reindex(merged["hub_id"]).to_numpy(float)
    merged[["region_lat", "region_lon"]] = regions.reindex(merged["region_id"]).to_numpy(float)
    return merged.reset_index(drop=True)


# ---- notebook entry point --------------------------------------------------------------


def compare(
    items: Sequence[Result | str | Path], pair: tuple[int, int] = (0, 1)
) -> tuple[pd.DataFrame, folium.plugins.DualMap]:
    """Compare results or run folders: the comparison table and a side-by-side map.

    Parameters
    ----------
    items:
        Two or more :class:`hubopt.api.Result` objects or run folders (mixed is fine).
    pair:
        Positions of the two items drawn side by side (left, right).

    Returns
    -------
    (pandas.DataFrame, folium.plugins.DualMap)
        One row per item (see :func:`comparison_table`) and the synchronised map.
    """
    from hubopt.batch import load_run
    from hubopt.maps import compare_map

    if len(items) < 2:
        raise ValueError(
            f"The 'items' parameter of compare must hold at least 2 results. Got {len(items)}."
        )
    results = [load_run(item) if isinstance(item, str | Path) else item for item in items]
    rows = [result_row(r) for r in results]
    left, right = results[pair[0]], results[pair[1]]
    return comparison_table(rows), compare_map(left, right)


def result_row(result: Result) -> dict[str, Any]:
    """The comparison row of one in-memory result."""
    headline = result.kpis.headline if result.solution is not None else {}
    row = comparison_row({"name": result.scenario.name}, result.summary(), headline)
    if result.scenario.path is not None:
        row["source"] = str(result.scenario.path)
    return row


def finite(value: Any) -> float | None:
    """``value`` as a finite float, else None."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def compare_runs(
    run_a: str | Path, run_b: str | Path, out_dir: str | Path | None = None
) -> dict[str, Any]:
    """Write the comparison of two run folders; return what was written and counted.

    ``OUT/compare_map.html`` (side-by-side map), ``OUT/compare.html`` and
    ``OUT/comparison.csv|parquet`` (two rows), and ``OUT/changes/{hubs,tiers,lanes}.csv``.
    The default ``OUT`` is ``compare--A--vs--B`` beside run B.
    """
    from hubopt.batch import load_run
    from hubopt.maps import compare_map
    from hubopt.scenario.sweep import safe_name

    a, b = load_run(run_a), load_run(run_b)
    folder = Path(
        out_dir
        if out_dir is not None
        else Path(run_b).resolve().parent
        / safe_name(f"compare--{a.scenario.name}--vs--{b.scenario.name}")
    ).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for run, result in ((run_a, a), (run_b, b)):
        row = result_row(result)
        rows.append(row | {"run_dir": str(Path(run).resolve())})
    table = comparison_table(rows)
    write_comparison(table, folder, title=f"{a.scenario.name} vs {b.scenario.name}")
    hubs, tiers, lanes = hub_changes(a, b), tier_changes(a, b), lane_changes(a, b)
    (folder / "changes").mkdir(exist_ok=True)
    for stem, frame in (("hubs", hubs), ("tiers", tiers), ("lanes", lanes)):
        _atomic(folder / "changes" / f"{stem}.csv", lambda p, f=frame: f.to_csv(p, index=False))
    dual = compare_map(a, b)
    map_path = folder / "compare_map.html"
    tmp = folder / ".compare_map.html.tmp"
    dual.save(str(tmp))
    os.replace(tmp, map_path)
    return {
        "a": a.scenario.name,
        "b": b.scenario.name,
        "hubs_opened": int((hubs["change"] == "opened").sum()),
        "hubs_closed": int((hubs["change"] == "closed").sum()),
        "regions_tier_changed": len(tiers),
        "lanes_changed": len(lanes),
        "map": str(map_path),
        "page": str(folder / "compare.html"),
        "out": str(folder),
    }
