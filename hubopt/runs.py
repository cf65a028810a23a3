"""Run folders (DESIGN §4), written atomically: build everything in a temporary sibling
folder, then swap it in with renames. A reader finds the old complete folder or the new
complete folder, never a half-written one.

Layout::

    RUN/
      manifest.json            versions, input hashes, seed, times, status, gap, verification
      scenario.resolved.yaml   the scenario after `extends` (what-ifs listed, paths absolute)
      solution/*.parquet|csv   hubs, flows, inflows, stock, unmet, assignments,
                               costs (component totals), period_costs, campaign_footprint
                               (+ routes, route_stops, unrouted with `routing:`)
      replan_changes.csv|parquet  what a re-plan changed (re-plans only)
      kpis.json, kpis/*.csv    headline + KPI tables (kpis/routes.* per hub and period)
      diagnosis.json           reasons, when infeasible
      solver.log               the solver's log
      map.html, report.html    unless turned off in `output:`
"""

from __future__ import annotations

import glob
import json
import math
import os
import platform
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from hubopt.data.problem import build_problem
from hubopt.errors import InputError, InputWarning, OutputExistsError, Problem
from hubopt.present.maps import plan_map
from hubopt.present.report import render_report
from hubopt.result import Result
from hubopt.routing.instance import LOAD_COLUMNS
from hubopt.routing.kpis import compute_route_kpis, route_totals
from hubopt.routing.plan import RoutePlan
from hubopt.routing.run import routes_for_plan
from hubopt.routing.verify import RouteVerification
from hubopt.scenario.scenario import scenario_from_dict
from hubopt.solution import PLAN_TABLES, solution_from_tables
from hubopt.solvers import SolveStatus
from hubopt.version import __version__

MANIFEST = "manifest.json"
FINISHED = frozenset({"optimal", "feasible", "infeasible"})
"""Statuses a rerun of the same inputs would repeat, so ``--resume`` may skip them."""


def write_atomic(path: Path, write: Callable[[Path], object]) -> Path:
    """Call ``write(tmp)`` on a hidden sibling file, then rename it over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{uuid.uuid4().hex[:8]}")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def write_text_atomic(path: Path, text: str) -> Path:
    """Write a UTF-8 text file atomically (see :func:`write_atomic`)."""
    return write_atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def default_run_dir(result: Result) -> Path:
    """``output.dir`` of the scenario, else ``runs/<name>`` in the working directory."""
    configured = result.scenario.config.output.dir
    return Path(configured) if configured else Path("runs") / result.scenario.name


def manifest(result: Result) -> dict[str, Any]:
    """Provenance and outcome of a run."""
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
        "route_verification": None
        if result.route_verification is None
        else result.route_verification.as_dict(),
    }


def _write_table(frame: pd.DataFrame, folder: Path, stem: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    frame.to_csv(folder / f"{stem}.csv", index=False)
    frame.to_parquet(folder / f"{stem}.parquet", index=False)


def write_run_contents(result: Result, folder: Path, extra: dict[str, Any] | None = None) -> None:
    """Write every file of the run folder into ``folder`` (not atomic by itself).

    ``extra`` is merged into the manifest (a batch records its id, the solver threads and
    the attempt there).
    """
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "scenario.resolved.yaml").write_text(
        result.scenario.resolved_yaml(), encoding="utf-8"
    )
    (folder / "solver.log").write_text(result.solver_log or "", encoding="utf-8")
    data = manifest(result) | (extra or {})
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
        if result.campaign_economics is not None:
            _write_table(result.campaign_economics, folder / "kpis", "kpi_campaign_economics")
        if result.replan_changes is not None:
            _write_table(result.replan_changes, folder, "replan_changes")
            data["replan"] = result.replan_summary
        headline = kpis.as_json()
        if result.routes is not None:
            write_route_tables(result.routes, folder)
            headline["routes"] = route_totals(result.routes)
            if result.location_routing is not None:
                _write_table(result.location_routing, folder / "solution", "location_routing")
        (folder / "kpis.json").write_text(
            json.dumps(headline, indent=2, ensure_ascii=False, default=float), encoding="utf-8"
        )
        output = result.scenario.config.output
        files = []
        if output.map:
            plan_map(result).save(str(folder / "map.html"))
            files.append("map.html")
        if output.report:
            (folder / "report.html").write_text(
                render_report(result, map_file="map.html" if output.map else None), encoding="utf-8"
            )
            files.append("report.html")
        data["pages"] = files
    (folder / MANIFEST).write_text(
        json.dumps(data, indent=2, ensure_ascii=False, default=str), encoding="utf-8"
    )


def write_route_tables(routes: RoutePlan, folder: Path) -> None:
    """Route tables into ``solution/`` and the route KPIs into ``kpis/routes.*``."""
    for stem, frame in routes.tables().items():
        _write_table(frame, folder / "solution", stem)
    _write_table(compute_route_kpis(routes), folder / "kpis", "routes")


def write_routes(routes: RoutePlan, folder: Path) -> list[Path]:
    """Add route tables to a folder (e.g. an existing run), each file replaced atomically."""
    folder.mkdir(parents=True, exist_ok=True)
    staging = folder / f".routes.tmp-{uuid.uuid4().hex[:8]}"
    written = []
    try:
        write_route_tables(routes, staging)
        for file in sorted(p for p in staging.rglob("*") if p.is_file()):
            destination = folder / file.relative_to(staging)
            destination.parent.mkdir(parents=True, exist_ok=True)
            os.replace(file, destination)
            written.append(destination)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return written


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


def write_run(
    result: Result,
    directory: str | Path | None = None,
    force: bool = False,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write the run folder atomically and return its path (``extra``: manifest entries)."""
    target = Path(directory) if directory is not None else default_run_dir(result)
    target = target.resolve()
    check_target(target, result.scenario.name, force)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.parent / f".{target.name}.tmp-{uuid.uuid4().hex[:8]}"
    try:
        write_run_contents(result, staging, extra)
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
    record = {"scenario": scenario, "error": type(error).__name__, "message": str(error)}
    return write_text_atomic(path, json.dumps(record, indent=2, ensure_ascii=False))


# ---- reading run folders back ----------------------------------------------------------


def finished_manifest(run_dir: Path, input_hash: str) -> dict[str, Any] | None:
    """The manifest of a finished run of exactly these inputs, else None."""
    try:
        manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if manifest.get("input_hash") != input_hash or manifest.get("status") not in FINISHED:
        return None
    return dict(manifest)


def read_headline(run_dir: Path) -> dict[str, Any]:
    """The headline KPIs recorded in a run folder (empty when it has none)."""
    try:
        kpis = json.loads((run_dir / "kpis.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return dict(kpis.get("headline") or {})


def load_run(run_dir: str | Path) -> Result:
    """Rebuild a :class:`hubopt.result.Result` from a run folder (for comparison and maps).

    The scenario is reloaded from ``scenario.resolved.yaml`` (its data files must still
    exist), the plan from ``solution/*.parquet``, status and timings from the manifest.
    The plan was verified when it was solved; it is not re-verified here.

    Raises
    ------
    hubopt.errors.InputError
        If the folder is not a run folder or its data files are gone.
    """
    folder = Path(run_dir)
    manifest_path, resolved = folder / "manifest.json", folder / "scenario.resolved.yaml"
    if not manifest_path.is_file() or not resolved.is_file():
        raise InputError(
            Problem(
                str(folder), "a hubopt run folder", "no manifest.json or scenario.resolved.yaml"
            ),
            "Not a run folder",
        )
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    doc = yaml.safe_load(resolved.read_text(encoding="utf-8"))
    # Campaign what-ifs are already folded into `campaigns` in the resolved YAML.
    doc["whatif"] = [
        w for w in doc.get("whatif", []) if not {"set_campaign", "add_campaign"} & set(w)
    ]
    scenario = scenario_from_dict(doc, folder)
    problem = build_problem(scenario)
    solution = None
    if (folder / "solution" / "flows.parquet").is_file():
        tables = {
            stem: pd.read_parquet(folder / "solution" / f"{stem}.parquet")
            for stem in PLAN_TABLES
            if (folder / "solution" / f"{stem}.parquet").is_file()  # older runs: no pickups
        }
        footprint_path = folder / "solution" / "campaign_footprint.parquet"
        if footprint_path.is_file():
            tables["campaign_footprint"] = pd.read_parquet(footprint_path)
        solution = solution_from_tables(problem, tables)
    routes = None
    if (folder / "solution" / "route_stops.parquet").is_file():
        read = {
            stem: pd.read_parquet(folder / "solution" / f"{stem}.parquet")
            for stem in ("routes", "route_stops", "unrouted")
        }
        loads = pd.DataFrame(columns=list(LOAD_COLUMNS))
        routes = RoutePlan(loads, read["routes"], read["route_stops"], read["unrouted"])
    return Result(
        scenario=scenario,
        problem=problem,
        status=SolveStatus(manifest["status"]),
        objective=_float(manifest.get("objective")),
        bound=_float(manifest.get("bound")),
        gap=_float(manifest.get("gap")),
        solution=solution,
        verification=None,
        backend=str(manifest.get("backend", "")),
        solver_version=str(manifest.get("solver_version", "")),
        build_seconds=float(manifest.get("build_seconds") or 0.0),
        solve_seconds=float(manifest.get("solve_seconds") or 0.0),
        model_stats=dict(manifest.get("model") or {}),
        started_at=str(manifest.get("started_at", "")),
        finished_at=str(manifest.get("finished_at", "")),
        diagnosis=list(manifest.get("diagnosis") or []),
        warnings=[InputWarning.from_dict(w) for w in manifest.get("warnings") or []],
        routes=routes,
    )


def route_run(
    run_dir: str | Path,
    periods: list[int] | None = None,
    vehicles: str | Path | None = None,
    time_limit_s: float | None = None,
) -> tuple[RoutePlan, RouteVerification]:
    """Route the plan of a run folder (``hubopt routes``) and verify the routes.

    The run's scenario is reloaded with its ``routing:`` block (or the defaults), the
    given ``periods`` and time limit, and ``vehicles`` as its vehicles table when given
    (needed when the run's scenario has none); the table is validated like any other.

    Raises
    ------
    hubopt.errors.InputError
        Not a run folder, no plan in it, no vehicles table, or an invalid one.
    """
    folder = Path(run_dir)
    result = load_run(folder)
    if result.solution is None:
        raise InputError(
            Problem(str(folder), "a run folder with a plan", f"status {result.status}, no plan")
        )
    resolved = folder / "scenario.resolved.yaml"
    doc = yaml.safe_load(resolved.read_text(encoding="utf-8"))
    doc["whatif"] = [
        w for w in doc.get("whatif", []) if not {"set_campaign", "add_campaign"} & set(w)
    ]
    if vehicles is not None:
        doc.setdefault("data", {})["vehicles"] = str(Path(vehicles).resolve())
    if not doc.get("data", {}).get("vehicles"):
        raise InputError(
            Problem(
                f"{resolved}, key 'data.vehicles'",
                "a vehicles table to route with",
                "none",
                "Pass one with --vehicles FILE (columns: docs/tables.md, vehicles).",
            )
        )
    routing = {**(doc.get("routing") or {}), "mode": "post"}
    if periods is not None:
        routing["periods"] = list(periods)
    if time_limit_s is not None:
        routing["time_limit_s"] = time_limit_s
    doc["routing"] = routing
    scenario = scenario_from_dict(doc, folder)
    return routes_for_plan(scenario, result.problem, result.solution.flows)


def _float(value: Any) -> float:
    return math.nan if value is None else float(value)


def write_files(target: Path, files: dict[str, bytes]) -> None:
    """Write a run folder received as bytes (relative path -> content) atomically."""
    staging = target.parent / f".{target.name}.tmp-{uuid.uuid4().hex[:8]}"
    try:
        for relative, content in files.items():
            path = staging / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
        swap_in(staging, target)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def read_manifest(run_dir: Path) -> dict[str, Any] | None:
    """The manifest of a complete run folder, or None (no folder, or not complete).

    The manifest is the last file written into the staging folder, and the folder is
    swapped in whole, so a readable manifest means a complete run folder.
    """
    try:
        data = json.loads((run_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def remove_staging(out_dir: Path, names: list[str]) -> list[Path]:
    """Remove what an interrupted write of these run folders left in ``out_dir``.

    ``.NAME.tmp-*`` (a staging folder never swapped in), ``.NAME.old-*`` (a replaced
    folder not yet deleted) and ``.NAME.error.json.tmp-*``; returns what was removed.
    """
    removed = []
    for name in names:
        safe = glob.escape(name)
        for pattern in (f".{safe}.tmp-*", f".{safe}.old-*", f".{safe}.error.json.tmp-*"):
            for path in out_dir.glob(pattern):
                if path.is_dir():
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    path.unlink(missing_ok=True)
                removed.append(path)
    return removed
