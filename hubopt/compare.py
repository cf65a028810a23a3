"""Compare scenarios (DESIGN §1 job 4, §4): write comparison tables, pages and maps.

The tables themselves come from :mod:`hubopt.changes`; the page from
:mod:`hubopt.present.compare_page`; the side-by-side map from
:func:`hubopt.present.maps.compare_map`.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

import folium.plugins
import pandas as pd

from hubopt.changes import (
    comparison_table,
    gap_money,
    hub_changes,
    lane_changes,
    result_row,
    tier_changes,
    within_solver_gap,
)
from hubopt.present.compare_page import Changes, render_compare_page
from hubopt.present.maps import compare_map
from hubopt.result import Result
from hubopt.runs import load_run, write_atomic, write_text_atomic
from hubopt.scenario.sweep import safe_name


def write_comparison(
    table: pd.DataFrame,
    out_dir: Path,
    title: str | None = None,
    changes: Changes | None = None,
) -> list[Path]:
    """Write ``comparison.parquet``, ``compare.html`` and, last, ``comparison.csv`` atomically.

    With ``changes`` (two runs) the page also shows what changed and links the
    side-by-side map.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    csv, parquet, page = (
        out_dir / "comparison.csv",
        out_dir / "comparison.parquet",
        out_dir / "compare.html",
    )
    write_atomic(parquet, lambda p: _parquet_safe(table).to_parquet(p, index=False))
    html = render_compare_page(
        table,
        title=title or f"Batch comparison: {out_dir.name}",
        out_dir=out_dir,
        changes=changes,
    )
    write_text_atomic(page, html)
    # comparison.csv last: once it is there, the batch is over and every file is final
    write_atomic(csv, lambda p: table.to_csv(p, index=False))
    written += [csv, parquet, page]
    return written


def _parquet_safe(table: pd.DataFrame) -> pd.DataFrame:
    """Columns of mixed Python objects (e.g. list-valued parameters) become text."""
    out = table.copy()
    for column in out.columns:
        if out[column].dtype == object:
            kinds = {type(v) for v in out[column] if v is not None and v == v}
            if len(kinds) > 1 or kinds & {list, dict, tuple}:
                out[column] = out[column].map(lambda v: None if v is None else str(v))
    return out


def compare(
    items: Sequence[Result | str | Path], pair: tuple[int, int] = (0, 1)
) -> tuple[pd.DataFrame, folium.plugins.DualMap]:
    """Compare results or run folders: the comparison table and a side-by-side map.

    Parameters
    ----------
    items:
        Two or more :class:`hubopt.result.Result` objects or run folders (mixed is fine).
    pair:
        Positions of the two items drawn side by side (left, right).

    Returns
    -------
    (pandas.DataFrame, folium.plugins.DualMap)
        One row per item (see :func:`hubopt.changes.comparison_table`) and the synchronised map.
    """
    if len(items) < 2:
        raise ValueError(
            f"The 'items' parameter of compare must hold at least 2 results. Got {len(items)}."
        )
    results = [load_run(item) if isinstance(item, str | Path) else item for item in items]
    rows = [result_row(r) for r in results]
    left, right = results[pair[0]], results[pair[1]]
    dual = compare_map(
        left,
        right,
        hubs=hub_changes(left, right),
        tiers=tier_changes(left, right),
        lanes=lane_changes(left, right),
    )
    return comparison_table(rows), dual


def compare_runs(
    run_a: str | Path, run_b: str | Path, out_dir: str | Path | None = None
) -> dict[str, Any]:
    """Write the comparison of two run folders; return what was written and counted.

    ``OUT/compare_map.html`` (side-by-side map), ``OUT/compare.html`` and
    ``OUT/comparison.csv|parquet`` (two rows), and ``OUT/changes/{hubs,tiers,lanes}.csv``.
    The default ``OUT`` is ``compare--A--vs--B`` beside run B.
    """
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
    hubs, tiers, lanes = hub_changes(a, b), tier_changes(a, b), lane_changes(a, b)
    (folder / "changes").mkdir(exist_ok=True)
    for stem, frame in (("hubs", hubs), ("tiers", tiers), ("lanes", lanes)):
        write_atomic(folder / "changes" / f"{stem}.csv", partial(frame.to_csv, index=False))
    dual = compare_map(a, b, hubs=hubs, tiers=tiers, lanes=lanes)
    map_path = write_atomic(folder / "compare_map.html", lambda p: dual.save(str(p)))
    delta, within = within_solver_gap(a.objective, a.bound, b.objective, b.bound)
    changes = Changes(a.scenario.name, b.scenario.name, hubs, tiers, lanes, map_path.name)
    write_comparison(
        table, folder, title=f"{a.scenario.name} vs {b.scenario.name}", changes=changes
    )
    return {
        "a": a.scenario.name,
        "b": b.scenario.name,
        "cost_delta": delta,
        "gap_money_a": gap_money(a.objective, a.bound),
        "gap_money_b": gap_money(b.objective, b.bound),
        "within_solver_gap": within,
        "hubs_opened": int((hubs["change"] == "opened").sum()),
        "hubs_closed": int((hubs["change"] == "closed").sum()),
        "regions_tier_changed": len(tiers),
        "lanes_changed": len(lanes),
        "map": str(map_path),
        "page": str(folder / "compare.html"),
        "out": str(folder),
    }
