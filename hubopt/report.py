"""Run folders (DESIGN §4), written atomically: build everything in a temporary sibling
folder, then swap it in with renames. A reader finds the old complete folder or the new
complete folder, never a half-written one.

Layout::

    RUN/
      manifest.json            versions, input hashes, seed, times, status, gap, verification
      scenario.resolved.yaml   the scenario after `extends` (what-ifs listed, paths absolute)
      solution/*.parquet|csv   hubs, flows, inflows, stock, unmet, assignments, costs
      kpis.json, kpis/*.csv    headline + KPI tables
      diagnosis.json           reasons, when infeasible
      solver.log               the solver's log
      map.html, report.html    unless turned off in `output:`
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from hubopt.errors import OutputExistsError

if TYPE_CHECKING:
    from hubopt.api import Result

MANIFEST = "manifest.json"


def default_run_dir(result: Result) -> Path:
    """``output.dir`` of the scenario, else ``runs/<name>`` in the working directory."""
    configured = result.scenario.config.output.dir
    return Path(configured) if configured else Path("runs") / result.scenario.name


def manifest(result: Result) -> dict[str, Any]:
    """Provenance and outcome of a run."""
    from hubopt import __version__

    scenario = result.scenario
    return {
        "hubopt_version": __version__,
        "python": platform.python_version(),
        "scenario": scenario.name,
        "scenario_file": str(scenario.path) if scenario.path else None,
        "input_hash": scenario.input_hash(),
        "input_files": scenario.file_hashes(),
        "whatif": [item.model_dump(exclude_none=True) for item in scenario.config.whatif],
        **result.summary(),
        "seed": scenario.config.solver.seed,
        "time_limit_s": scenario.config.solver.time_limit_s,
        "mip_gap_target": scenario.config.solver.mip_gap,
        "started_at": result.started_at,
        "finished_at": result.finished_at,
        "verification": None if result.verification is None else result.verification.as_dict(),
    }


def _write_table(frame: pd.DataFrame, folder: Path, stem: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    frame.to_csv(folder / f"{stem}.csv", index=False)
    frame.to_parquet(folder / f"{stem}.parquet", index=False)


def write_run_contents(result: Result, folder: Path) -> None:
    """Write every file of the run folder into ``folder`` (not atomic by itself)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "scenario.resolved.yaml").write_text(
        result.scenario.resolved_yaml(), encoding="utf-8"
    )
    (folder / "solver.log").write_text(result.solver_log or "", encoding="utf-8")
    data = manifest(result)
    if result.diagnosis:
        (folder / "diagnosis.json").write_text(
            json.dumps(
                {"status": str(result.status), "reasons": result.diagnosis},
                indent=2,
                ensure_ascii=False,
            ),
            encoding="utf-8",
        )
    if result.solution is not None:
        for stem, frame in result.solution.tables().items():
            _write_table(frame, folder / "solution", stem)
        kpis = result.kpis
        for stem, frame in kpis.tables().items():
            _write_table(frame, folder / "kpis", stem)
        (folder / "kpis.json").write_text(
            json.dumps(kpis.as_json(), indent=2, ensure_ascii=False), encoding="utf-8"
        )
        output = result.scenario.config.output
        files = []
        if output.map:
            result.map().save(str(folder / "map.html"))
            files.append("map.html")
        if output.report:
            from hubopt.review import render_report

            (folder / "report.html").write_text(
                render_report(result, map_file="map.html" if output.map else None), encoding="utf-8"
            )
            files.append("report.html")
        data["pages"] = files
    (folder / MANIFEST).write_text(
        json.dumps(data, indent=2, ensure_ascii=False, default=str), encoding="utf-8"
    )


def check_target(target: Path, scenario_name: str, force: bool) -> None:
    """Refuse to replace a folder that holds another scenario's run (or anything else)."""
    if not target.exists():
        return
    if not target.is_dir():
        raise OutputExistsError(f"{target} exists and is not a folder.")
    if force:
        return
    manifest_path = target / MANIFEST
    if manifest_path.exists():
        try:
            owner = json.loads(manifest_path.read_text(encoding="utf-8")).get("scenario")
        except (OSError, ValueError):
            owner = None
        if owner == scenario_name:
            return
        raise OutputExistsError(
            f"{target} holds the results of scenario {owner!r}, not {scenario_name!r}; use --force to replace them or choose another --out."
        )
    if any(target.iterdir()):
        raise OutputExistsError(
            f"{target} is not empty and is not a hubopt run folder; use --force to replace it or choose another --out."
        )


def write_run(result: Result, directory: str | Path | None = None, force: bool = False) -> Path:
    """Write the run folder atomically and return its path."""
    target = Path(directory) if directory is not None else default_run_dir(result)
    target = target.resolve()
    check_target(target, result.scenario.name, force)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.parent / f".{target.name}.tmp-{uuid.uuid4().hex[:8]}"
    try:
        write_run_contents(result, staging)
        swap_in(staging, target)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return target


def swap_in(staging: Path, target: Path) -> None:
    """Replace ``target`` by ``staging`` with two renames (old copy removed afterwards)."""
    old = None
    if target.exists():
        old = target.parent / f".{target.name}.old-{uuid.uuid4().hex[:8]}"
        os.replace(target, old)
    os.replace(staging, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def write_error(target: Path, error: BaseException, scenario: str | None = None) -> Path:
    """Record a failed run next to (never inside) any previous complete run folder."""
    target = target.resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    path = target.parent / f"{target.name}.error.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(
        json.dumps(
            {"scenario": scenario, "error": type(error).__name__, "message": str(error)},
            indent=2,
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    os.replace(tmp, path)
    return path
