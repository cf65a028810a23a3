"""The `hubopt` command line: parse, call the API, print, exit with a documented code.

Exit codes: 0 solved (optimal or feasible), 2 invalid input, 3 infeasible (with a
diagnosis), 4 no feasible solution within the time limit, 5 internal error; `batch`: 0 all
scenarios solved, 6 some were not, 7 no Dask worker, 8 Dask scheduler unreachable or lost,
9 version skew between client and workers (docs/cli.md).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import sys
import warnings
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from hubopt.api import solve
from hubopt.batch import SOLVED, run_batch
from hubopt.changes import gap_money
from hubopt.compare import compare_runs
from hubopt.data.problem import build_problem
from hubopt.diagnose.structural import collect_warnings, refuse_warnings
from hubopt.economics import campaign_economics as economics
from hubopt.errors import (
    HubOptError,
    InputError,
    InputWarning,
    NoWorkersError,
    Problem,
    SchedulerError,
    StrictWarningsError,
)
from hubopt.forecast import (
    Forecast,
    ForecastWarning,
    forecast_demand,
    write_demand,
    write_forecast_report,
)
from hubopt.guard import estimate_model_bytes
from hubopt.present.format import fmt_num, fmt_pct
from hubopt.replan import replan
from hubopt.routing.kpis import compute_route_kpis, route_totals
from hubopt.runs import load_run, route_run, write_error, write_routes, write_run
from hubopt.scenario.scenario import load_scenario
from hubopt.scenario.schema import ScenarioConfig
from hubopt.solvers.base import status_text

EXIT_OK, EXIT_INPUT, EXIT_INFEASIBLE, EXIT_NO_SOLUTION, EXIT_INTERNAL = 0, 2, 3, 4, 5
STATUS_EXIT = {
    "optimal": EXIT_OK,
    "feasible": EXIT_OK,
    "infeasible": EXIT_INFEASIBLE,
    "time_limit": EXIT_NO_SOLUTION,
    "unbounded": EXIT_INTERNAL,
    "error": EXIT_INTERNAL,
}
DEMO_SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "korea" / "korea.yaml"

TimeLimitOption = Annotated[
    float | None, typer.Option("--time-limit", help="Solver time limit in seconds.")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout.")]
BackendOption = Annotated[
    str | None,
    typer.Option(
        "--backend",
        help="highs, scip, cbc, ortools-highs, auto, or heuristic (local search plan, LP bound).",
    ),
]
ForceOption = Annotated[
    bool,
    typer.Option("--force", help="Replace a run folder that holds another scenario's results."),
]
StrictOption = Annotated[
    bool,
    typer.Option(
        "--strict", help="Refuse the scenario (exit 2) if it has any warning (policy.strict)."
    ),
]

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Regional distribution-hub network optimisation for campaign planning.",
)
err = Console(stderr=True)
out = Console()


def _json_default(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return str(value)


def _emit_json(payload: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(payload, default=_json_default, ensure_ascii=False) + "\n")


def _fail(error: BaseException, as_json: bool) -> int:
    code = error.exit_code if isinstance(error, HubOptError) else EXIT_INTERNAL
    status = "invalid_input" if code == EXIT_INPUT else "error"
    if as_json:
        problems = [str(p) for p in error.problems] if isinstance(error, InputError) else []
        payload = {"status": status, "exit_code": code, "error": str(error), "problems": problems}
        if isinstance(error, StrictWarningsError):
            payload["warnings"] = [w.as_dict() for w in error.warnings]
        _emit_json(payload)
    else:
        err.print(
            f"[bold red]{type(error).__name__}[/]: {error}",
            markup=True,
            highlight=False,
            soft_wrap=True,
        )
    return code


def _gap_text(result: Any) -> str:
    """The gap in per cent and in money: how far from proven optimal the plan may be."""
    money = gap_money(result.objective, result.bound)
    if money is None or not math.isfinite(result.gap):
        return "-"
    if status_text(result.status, result.gap) == "optimal":
        return f"{result.gap:.2%}: proven optimal"
    proven = "proven" if str(result.status) == "optimal" else "not proven optimal"
    return f"{result.gap:.2%}: {proven}, at most {fmt_num(money)} above the optimum"


def _print_warnings(warnings: list[InputWarning]) -> None:
    """Each warning on stderr, blocking ones (the solve cannot succeed) marked."""
    for warning in warnings:
        label = "[bold red]warning (infeasible):[/]" if warning.blocking else "[yellow]warning:[/]"
        err.print(f"{label} {warning}", highlight=False, soft_wrap=True)


def _headline_table(result: Any, run_dir: Path | None) -> Table:
    status = status_text(result.status, result.gap)
    table = Table(title=f"{result.scenario.name}: {status}", show_header=False)
    footprint = result.solution is not None and len(result.solution.footprint)
    table.add_row(
        "objective (cost - incremental margin)" if footprint else "objective",
        f"{result.objective:,.0f}",
    )
    table.add_row("gap", _gap_text(result))
    table.add_row("solver", f"{result.backend} ({result.solver_version})")
    table.add_row("build / solve", f"{result.build_seconds:.1f} s / {result.solve_seconds:.1f} s")
    root = getattr(result, "root_cuts", None)
    if root is not None and root.rounds:
        table.add_row(
            "root cuts",
            f"LP bound {root.improvement:+.2%} ({root.rows_kept:,} rows kept, {root.seconds:.1f} s)",
        )
    if result.solution is not None:
        k = result.kpis.headline
        table.add_row("fill rate", f"{k['fill_rate']:.1%}")
        table.add_row("on-time rate", f"{k['on_time_rate']:.1%}")
        table.add_row("open hubs (max)", str(k["open_hubs_max"]))
        table.add_row("CO2", f"{k['co2_t']:,.1f} t")
        for row in result.kpis.campaigns.itertuples():
            table.add_row(
                f"campaign {row.campaign_id}", f"on time {row.on_time_rate:.1%}, ROI {row.roi:.2f}"
            )
        if footprint:
            fp = result.solution.footprint
            for campaign_id, rows in fp.groupby("campaign_id"):
                table.add_row(
                    f"footprint {campaign_id}",
                    f"runs in {int(rows['included'].sum())} of {len(rows)} candidate regions",
                )
            table.add_row("incremental margin", f"{k['incremental_margin']:,.0f}")
    if run_dir is not None:
        table.add_row("run folder", str(run_dir))
        for page in ("map.html", "report.html"):
            if (run_dir / page).exists():
                table.add_row(page, str(run_dir / page))
    return table


def run_solve(
    scenario: Path,
    out_dir: Path | None,
    backend: str | None,
    time_limit: float | None,
    as_json: bool,
    force: bool,
    write: bool = True,
    strict: bool = False,
    campaign_economics: bool = False,
) -> int:
    """Load, solve, write the run folder and report; return the exit code."""

    target: Path | None = out_dir
    try:
        with err.status("Loading scenario...", spinner="dots") if not as_json else _null():
            loaded = load_scenario(scenario)
        limit = time_limit or loaded.config.solver.time_limit_s
        with (
            err.status(f"Building and solving {loaded.name} (limit {limit:g} s)...", spinner="dots")
            if not as_json
            else _null()
        ):
            result = solve(
                loaded, backend=backend, time_limit_s=time_limit, strict=True if strict else None
            )
        if result.solution is not None and (
            campaign_economics or loaded.config.output.campaign_economics
        ):
            with (
                err.status("Re-solving without each campaign...", spinner="dots")
                if not as_json
                else _null()
            ):
                options: dict[str, Any] = {"backend": backend, "time_limit_s": time_limit}
                table = economics(result, **{k: v for k, v in options.items() if v is not None})
            result = dataclasses.replace(result, campaign_economics=table)
        run_dir = None
        if write:
            with err.status("Writing run folder...", spinner="dots") if not as_json else _null():
                run_dir = write_run(result, out_dir, force=force)
    except HubOptError as error:
        if write and target is not None and error.exit_code != EXIT_INPUT:
            write_error(target, error)
        return _fail(error, as_json)
    except Exception as error:  # a bug: report without a wall of traceback, keep details in logs
        logging.getLogger(__name__).debug("internal error", exc_info=True)
        if write and target is not None:
            write_error(target, error)
        return _fail(error, as_json)
    code = STATUS_EXIT[str(result.status)]
    if as_json:
        payload = result.summary() | {
            "run_dir": str(run_dir) if run_dir else None,
            "exit_code": code,
        }
        payload["kpis"] = result.kpis.as_json()["headline"] if result.solution is not None else None
        if result.campaign_economics is not None:
            payload["campaign_economics"] = result.campaign_economics.to_dict(orient="records")
        _emit_json(payload)
    else:
        _print_warnings(result.warnings)
        out.print(_headline_table(result, run_dir))
        if result.campaign_economics is not None:
            out.print(_economics_table(result.campaign_economics))
        for reason in result.diagnosis:
            err.print(f"[yellow]diagnosis:[/] {reason}", highlight=False)
    return code


def _economics_table(table: Any) -> Table:
    view = Table(title="Marginal campaign economics (re-solved without each campaign)")
    for column in (
        "campaign",
        "marginal logistics cost",
        "incremental margin",
        "spend",
        "ROI",
        "significant",
        "allocated (volume share)",
    ):
        view.add_column(column)
    for row in table.itertuples():
        view.add_row(
            str(row.campaign_id),
            f"{row.marginal_logistics_cost:,.0f}",
            f"{row.incremental_margin:,.0f}",
            f"{row.spend:,.0f}",
            f"{row.roi:.2f}" if math.isfinite(row.roi) else "-",
            "yes" if row.significant else f"no (gaps {row.uncertainty:,.0f})",
            f"{row.allocated_logistics_cost:,.0f}",
        )
    return view


class _null:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *args: object) -> None:
        return None


@app.command("solve")
def solve_command(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML file.")],
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out", help="Run folder (default: output.dir of the scenario, else runs/NAME)."
        ),
    ] = None,
    backend: BackendOption = None,
    time_limit: TimeLimitOption = None,
    as_json: JsonOption = False,
    force: ForceOption = False,
    strict: StrictOption = False,
    campaign_economics: Annotated[
        bool,
        typer.Option(
            "--campaign-economics",
            help="Also solve without each campaign (in parallel) and report marginal cost and ROI.",
        ),
    ] = False,
) -> None:
    """Solve one scenario and write its run folder; input warnings are printed first."""
    raise typer.Exit(
        run_solve(
            scenario,
            out_dir,
            backend,
            time_limit,
            as_json,
            force,
            strict=strict,
            campaign_economics=campaign_economics,
        )
    )


@app.command("replan")
def replan_command(
    run_dir: Annotated[Path, typer.Argument(help="A finished run folder.")],
    stock: Annotated[
        Path,
        typer.Option("--stock", help="CSV hub_id, product_id, quantity: stock at the start of T."),
    ],
    from_period: Annotated[
        int, typer.Option("--from-period", help="First period to re-optimise (T).")
    ],
    sales: Annotated[
        Path | None,
        typer.Option("--sales", help="CSV region_id, product_id, period, quantity (periods < T)."),
    ] = None,
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", help="Run folder of the re-plan (default: RUN_DIR-replan-wT)."),
    ] = None,
    backend: BackendOption = None,
    time_limit: TimeLimitOption = None,
    as_json: JsonOption = False,
    force: ForceOption = False,
) -> None:
    """Re-plan a finished run from period T with the actual stock (and sales)."""
    try:
        with err.status("Loading run...", spinner="dots") if not as_json else _null():
            run = load_run(run_dir)
            stock_frame = _read_csv(stock)
            sales_frame = _read_csv(sales) if sales is not None else None
        options: dict[str, Any] = {"backend": backend, "time_limit_s": time_limit}
        with (
            err.status(f"Re-planning from period {from_period}...", spinner="dots")
            if not as_json
            else _null()
        ):
            outcome = replan(
                run,
                stock_frame,
                from_period,
                sales_frame,
                stock_label=str(stock),
                sales_label=str(sales),
                **{k: v for k, v in options.items() if v is not None},
            )
        result = outcome.result
        target = out_dir or run_dir.with_name(f"{run_dir.name}-replan-w{from_period}")
        written = write_run(result, target, force=force) if result.solution is not None else None
    except HubOptError as error:
        raise typer.Exit(_fail(error, as_json)) from None
    code = STATUS_EXIT[str(result.status)]
    if as_json:
        _emit_json(
            result.summary()
            | {
                "replan": outcome.summary,
                "run_dir": str(written) if written else None,
                "exit_code": code,
            }
        )
    else:
        out.print(_headline_table(result, written))
        if result.solution is not None:
            out.print(_replan_table(outcome.summary))
        else:
            err.print(
                f"No re-plan: the tail (periods {from_period}..) ended {result.status} "
                f"({result.message}); raise --time-limit or check the stock and sales."
            )
    raise typer.Exit(code)


def _read_csv(path: Path) -> Any:
    if not path.is_file():
        raise InputError(Problem(str(path), "a CSV file", "no such file"), "Missing input")
    try:
        return pd.read_csv(path, dtype={"hub_id": str, "region_id": str, "product_id": str})
    except (ValueError, OSError) as error:
        raise InputError(
            Problem(str(path), "a readable CSV file", str(error)), "Unreadable input"
        ) from None


def _replan_table(summary: dict[str, Any]) -> Table:
    table = Table(title=f"Re-plan from period {summary.get('from_period')}", show_header=False)
    table.add_row(
        "cost of periods >= T, original", f"{summary.get('remaining_cost_original', math.nan):,.0f}"
    )
    table.add_row(
        "cost of periods >= T, re-plan", f"{summary.get('remaining_cost_replanned', math.nan):,.0f}"
    )
    table.add_row("change", f"{summary.get('remaining_cost_change', math.nan):+,.0f}")
    table.add_row("hubs opened", ", ".join(summary.get("hubs_opened", [])) or "-")
    table.add_row("hubs closed", ", ".join(summary.get("hubs_closed", [])) or "-")
    table.add_row("units delivered (change)", f"{summary.get('delivered_units_change', 0):+,.0f}")
    table.add_row("units late (change)", f"{summary.get('late_units_change', 0):+,.0f}")
    table.add_row("units lost (change)", f"{summary.get('lost_units_change', 0):+,.0f}")
    table.add_row("stock re-balanced (units)", f"{summary.get('stock_rebalanced_units', 0):,.0f}")
    for campaign, levels in summary.get("service_levels_relaxed", {}).items():
        table.add_row(
            f"service level {campaign} (dropped)",
            f"{levels['level']:.0%} asked, no plan held it ({levels['held_solve_status']}); "
            f"remaining units {levels['on_time_rate_remaining']:.1%} on time, "
            f"whole campaign {levels['on_time_rate']:.1%}",
        )
    return table


@app.command("validate")
def validate_command(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML file.")],
    as_json: JsonOption = False,
    strict: StrictOption = False,
) -> None:
    """Check a scenario and its tables without solving; report every problem and warning.

    Exit 0 valid (warnings printed), 2 invalid (or any warning with --strict), 3 when a
    check proves the solve infeasible (demand that must be met and cannot be).
    """
    try:
        loaded = load_scenario(scenario)
        problem = build_problem(loaded)
        warnings = collect_warnings(loaded, problem)
        refuse_warnings(warnings, strict or loaded.config.policy.strict)
    except HubOptError as error:
        raise typer.Exit(_fail(error, as_json)) from None
    infeasible = any(w.blocking for w in warnings)
    code = EXIT_INFEASIBLE if infeasible else EXIT_OK
    summary = {
        "status": "infeasible" if infeasible else "valid",
        "exit_code": code,
        "scenario": loaded.name,
        "periods": problem.periods,
        "hubs": problem.n_hubs,
        "regions": len(problem.regions),
        "products": problem.n_products,
        "demand_streams": len(problem.streams),
        "delivery_arcs": len(problem.out_arcs),
        "supply_arcs": len(problem.in_arcs),
        "campaigns": [c.id for c in loaded.config.campaigns],
        "estimated_model_mb": round(estimate_model_bytes(problem) / 1e6, 1),
        "warnings": [w.as_dict() for w in warnings],
    }
    if as_json:
        _emit_json(summary)
    else:
        _print_warnings(warnings)
        title = "infeasible (see the warnings)" if infeasible else "valid"
        if warnings and not infeasible:
            title += f", {len(warnings)} warning(s)"
        table = Table(title=f"{loaded.name}: {title}", show_header=False)
        for key, value in summary.items():
            if key not in {"status", "scenario", "exit_code", "warnings"}:
                table.add_row(key.replace("_", " "), str(value))
        out.print(table)
    raise typer.Exit(code)


@app.command("schema")
def schema_command() -> None:
    """Print the JSON Schema of the scenario YAML (for editor validation)."""

    sys.stdout.write(json.dumps(ScenarioConfig.model_json_schema(), indent=2) + "\n")


@app.command("demo")
def demo_command(
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Run folder (default: out/korea-winter-2026).")
    ] = None,
    time_limit: TimeLimitOption = None,
    as_json: JsonOption = False,
) -> None:
    """Solve the built-in South Korea winter-campaign scenario and write map and report."""
    if not DEMO_SCENARIO.exists():
        err.print(f"The demo scenario is missing: {DEMO_SCENARIO}")
        raise typer.Exit(EXIT_INPUT)
    raise typer.Exit(run_solve(DEMO_SCENARIO, out_dir, None, time_limit, as_json, force=False))


EXIT_BATCH_FAILED = 6


@app.command("batch")
def batch_command(
    paths: Annotated[
        list[Path], typer.Argument(help="Scenario files, folders of them, or sweep files.")
    ],
    out_dir: Annotated[
        Path, typer.Option("--out", help="Batch folder: one run folder per scenario.")
    ] = Path("out/batch"),
    workers: Annotated[
        int | None,
        typer.Option("--workers", "-w", help="Local worker processes (default: CPU count)."),
    ] = None,
    dask_scheduler: Annotated[
        str | None,
        typer.Option("--dask-scheduler", help="Run on a Dask cluster, e.g. tcp://host:8786."),
    ] = None,
    dask_local: Annotated[
        int | None,
        typer.Option("--dask-local", help="Start a local Dask cluster with N worker processes."),
    ] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Skip scenarios already solved with the same inputs.")
    ] = False,
    time_limit: Annotated[
        float | None, typer.Option("--time-limit", help="Solver time limit per scenario (s).")
    ] = None,
    threads_per_solve: Annotated[
        int | None,
        typer.Option(
            "--threads-per-solve",
            min=1,
            help="Solver threads per scenario (default: cores / scenarios solved at once).",
        ),
    ] = None,
    scenario_timeout: Annotated[
        float | None,
        typer.Option(
            "--scenario-timeout",
            min=0,
            help="Wall-clock limit per scenario in s; its process is killed after it "
            "(default: 2 x time limit + 300; 0: none).",
        ),
    ] = None,
    worker_timeout: Annotated[
        float,
        typer.Option(
            "--worker-timeout", min=0, help="Dask: exit 7 after this many s without a worker."
        ),
    ] = 60.0,
    ship_data: Annotated[
        bool,
        typer.Option(
            "--ship-data", help="Dask: send the tables with each scenario (no shared filesystem)."
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Run many scenarios (or a sweep) in parallel and compare them (comparison.csv, compare.html)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    if dask_scheduler and dask_local:
        err.print("Give either --dask-scheduler or --dask-local, not both.")
        raise typer.Exit(EXIT_INPUT)
    progress = Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        disable=as_json,
    )
    task = progress.add_task("Collecting scenarios", total=None)

    def started(jobs: list[Any]) -> None:
        where = dask_scheduler or (f"local Dask, {dask_local} workers" if dask_local else "local")
        progress.update(task, total=len(jobs), description=f"Solving ({where})")

    def finished(row: dict[str, Any]) -> None:
        mark = "[green]✓[/]" if row["status"] in SOLVED else "[red]✗[/]"
        note = " (resumed)" if row.get("skipped") else ""
        reason = str(row.get("error") or "").splitlines()[0] if row.get("error") else ""
        if reason:  # a failed run says why, also when it was resumed from an earlier batch
            note += f" — {reason if len(reason) <= 200 else reason[:197] + '...'}"
        if not as_json:
            progress.console.print(
                f"{mark} {row['name']}: {row['status']}{note}", highlight=False, soft_wrap=True
            )
        progress.advance(task)

    try:
        with progress:
            table = run_batch(
                paths,
                out=out_dir,
                workers=workers,
                dask_scheduler=dask_scheduler,
                dask_local=dask_local,
                resume=resume,
                time_limit_s=time_limit,
                on_start=started,
                on_row=finished,
                threads_per_solve=threads_per_solve,
                scenario_timeout_s=scenario_timeout,
                worker_timeout_s=worker_timeout,
                ship_data=ship_data,
            )
    except (HubOptError, ValueError) as error:
        raise typer.Exit(_fail(error, as_json)) from None
    failed = int((~table["status"].isin(SOLVED)).sum())
    code = EXIT_BATCH_FAILED if failed else EXIT_OK
    incident = table.attrs.get("incident")
    lost = int((table["status"] == "lost").sum())
    if incident and incident["kind"] == "no_workers":
        code = NoWorkersError.exit_code
    elif incident and lost:
        code = SchedulerError.exit_code
    folder = out_dir.absolute()
    if incident:
        err.print(f"[red]{incident['message']}[/]; {lost} scenario(s) lost.", highlight=False)
    if as_json:
        records = json.loads(table.to_json(orient="records"))
        _emit_json(
            {
                "status": incident["kind"]
                if incident and code != EXIT_OK
                else ("some_failed" if failed else "solved"),
                "exit_code": code,
                "out": str(folder),
                "comparison": str(folder / "comparison.csv"),
                "compare_html": str(folder / "compare.html"),
                "scenarios": records,
            }
        )
    else:
        out.print(_batch_table(table, failed))
        out.print(
            f"comparison: {folder / 'comparison.csv'}\ncompare page: {folder / 'compare.html'}"
        )
    raise typer.Exit(code)


def _batch_table(table: Any, failed: int) -> Table:

    summary = Table(title=f"batch: {len(table) - failed} solved, {failed} not solved")
    for column in ("scenario", "status", "objective", "on time", "CO2 t", "wall s", "error"):
        summary.add_column(column, overflow="fold")
    for row in table.itertuples():
        error = str(row.error or "").splitlines()[0] if row.error else ""
        summary.add_row(
            str(row.name),
            str(row.status) + (" (resumed)" if row.skipped is True else ""),
            fmt_num(row.objective),
            fmt_pct(row.on_time_rate),
            fmt_num(row.co2_t, 1),
            fmt_num(row.wall_seconds, 1),
            error if len(error) < 100 else error[:97] + "...",
        )
    return summary


@app.command("compare")
def compare_command(
    run_a: Annotated[Path, typer.Argument(help="Run folder A (left, the base).")],
    run_b: Annotated[Path, typer.Argument(help="Run folder B (right).")],
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Output folder (default: compare--A--vs--B).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Side-by-side synchronised map of two run folders, with what changed."""

    try:
        with err.status("Loading runs and drawing...", spinner="dots") if not as_json else _null():
            report = compare_runs(run_a, run_b, out_dir)
    except (HubOptError, ValueError) as error:
        raise typer.Exit(_fail(error, as_json)) from None
    if as_json:
        _emit_json({"status": "ok", "exit_code": EXIT_OK, **report})
    else:
        table = Table(title=f"{report['a']} → {report['b']}", show_header=False)
        delta = report["cost_delta"]
        if delta is not None:
            combined = report["gap_money_a"] + report["gap_money_b"]
            verdict = (
                "within the solver gap: may be solver noise, not a real difference"
                if report["within_solver_gap"]
                else "larger than the solver gap"
            )
            table.add_row(
                "cost B − A", f"{delta:+,.0f} (combined gap {fmt_num(combined)}: {verdict})"
            )
        for key in ("hubs_opened", "hubs_closed", "regions_tier_changed", "lanes_changed"):
            table.add_row(key.replace("_", " "), str(report[key]))
        for key in ("map", "page", "out"):
            table.add_row(key, str(report[key]))
        out.print(table)


@app.command("forecast")
def forecast_command(
    history: Annotated[
        Path,
        typer.Argument(
            help="Order history: region_id, product_id, date, quantity [, campaign_id, channel]."
        ),
    ],
    horizon: Annotated[int, typer.Option("--horizon", help="Periods to forecast.")],
    out_file: Annotated[Path, typer.Option("--out", help="Demand CSV to write.")],
    freq: Annotated[
        str, typer.Option("--freq", help="Periods: W-MON (weeks from Monday), W-SUN, ..., or MS.")
    ] = "W-MON",
    start: Annotated[
        str | None,
        typer.Option("--start", help="First day of period 1 (default: right after the history)."),
    ] = None,
    regions: Annotated[
        Path | None,
        typer.Option("--regions", help="Regions table: checks region ids, groups by --group."),
    ] = None,
    group: Annotated[
        str, typer.Option("--group", help="Regions column grouping regions (provinces).")
    ] = "province",
    report_dir: Annotated[
        Path | None,
        typer.Option(
            "--report", help="Folder for the backtest report, uplift, campaigns.yaml, plot."
        ),
    ] = None,
    folds: Annotated[int, typer.Option("--folds", help="Rolling-origin backtest folds.")] = 3,
    as_json: JsonOption = False,
) -> None:
    """Forecast demand (quantity + std) from order history; backtest, uplift, report."""
    from rich.progress import BarColumn, Progress, TimeElapsedColumn

    bar = Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        TimeElapsedColumn(),
        console=err,
        disable=as_json,
        transient=True,
    )
    task = bar.add_task("Reading history", total=None)

    def advance(stage: str, units: int, total: int) -> None:
        bar.update(task, description=stage, total=total, advance=units)

    try:
        with bar, warnings.catch_warnings():
            warnings.simplefilter("ignore", ForecastWarning)  # printed from the result below
            result = forecast_demand(
                history,
                horizon,
                freq=freq,
                start=start,
                regions=regions,
                group_column=group,
                folds=folds,
                progress=advance,
            )
        write_demand(result, out_file)
        if report_dir is not None:
            write_forecast_report(result, report_dir)
    except HubOptError as error:
        raise typer.Exit(_fail(error, as_json)) from None
    if as_json:
        _emit_json(_forecast_payload(result, out_file, report_dir))
        raise typer.Exit(EXIT_OK)
    for message in result.warnings:
        err.print(f"[yellow]warning:[/] {message}", highlight=False, soft_wrap=True)
    total = result.accuracy_total.assign(product_id="all series")
    out.print(
        _accuracy_table(pd.concat([result.accuracy_by_product, total]), "product_id", "product")
    )
    out.print(_accuracy_table(result.accuracy_by_group, "group", group))
    out.print(
        f"demand: {out_file} ({len(result.demand):,} rows, periods 1-{horizon} from "
        f"{result.periods['start'].iloc[0]})"
        + (f"\nreport: {report_dir}" if report_dir is not None else "")
    )


def _accuracy_table(table: Any, key: str, label: str) -> Table:
    shown = Table(title=f"Backtest WAPE and bias by {label} (chosen models vs seasonal naive)")
    for column in (label, "series", "WAPE", "WAPE naive", "bias", "bias naive"):
        shown.add_column(column, justify="left" if column == label else "right")
    for row in table.itertuples():
        shown.add_row(
            str(getattr(row, key)),
            str(row.n_series),
            *(
                f"{v:.1%}" if math.isfinite(v) else "-"
                for v in (row.wape, row.wape_naive, row.bias, row.bias_naive)
            ),
        )
    return shown


def _forecast_payload(result: Forecast, out_file: Path, report_dir: Path | None) -> dict[str, Any]:
    return {
        "status": "ok",
        "exit_code": EXIT_OK,
        "demand": str(out_file),
        "rows": len(result.demand),
        "periods": json.loads(result.periods.to_json(orient="records", date_format="iso")),
        "report": str(report_dir) if report_dir is not None else None,
        "wape": result.wape,
        "wape_naive": result.wape_naive,
        "models": result.models["model"].value_counts().to_dict(),
        "accuracy_by_product": json.loads(result.accuracy_by_product.to_json(orient="records")),
        "uplift": json.loads(result.uplift.to_json(orient="records", date_format="iso")),
        "warnings": list(result.warnings),
    }


# ---- hubopt routes ------------------------------------------------------------------------


def _route_periods(periods: list[str] | None, more: list[str] | None) -> list[int] | None:
    """``--periods 5 6``, ``--periods 5,6`` or ``--periods 5 --periods 6`` -> [5, 6]."""
    if not periods:
        if more:
            raise InputError(Problem("command line", "one run folder", f"also {more}"))
        return None
    words = [w for text in [*periods, *(more or [])] for w in text.replace(",", " ").split()]
    try:
        return sorted({int(w) for w in words})
    except ValueError:
        raise InputError(
            Problem("option --periods", "whole period numbers", " ".join(words))
        ) from None


@app.command("routes")
def routes_command(
    run_dir: Annotated[Path, typer.Argument(help="A run folder written by solve or batch.")],
    more_periods: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="[PERIOD]...", help="More periods after --periods, as in --periods 5 6."
        ),
    ] = None,
    periods: Annotated[
        list[str] | None,
        typer.Option(
            "--periods",
            help="Periods to route, e.g. --periods 5 6 (default: the run's routing.periods, "
            "else the campaign periods).",
        ),
    ] = None,
    vehicles: Annotated[
        Path | None,
        typer.Option("--vehicles", help="Vehicles table, when the run's scenario has none."),
    ] = None,
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", help="Write the route tables here (default: the run folder)."),
    ] = None,
    time_limit: Annotated[
        float | None, typer.Option("--time-limit", help="Routing seconds per hub and period.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Delivery routes (OR-Tools vehicle routing) for the plan of any run folder."""
    try:
        chosen = _route_periods(periods, more_periods)
        with err.status("Routing vans...", spinner="dots") if not as_json else _null():
            plan, verification = route_run(run_dir, chosen, vehicles, time_limit)
        files = write_routes(plan, out_dir or run_dir)
    except HubOptError as error:
        raise typer.Exit(_fail(error, as_json)) from None
    totals = route_totals(plan)
    if as_json:
        _emit_json(
            {
                "status": "ok",
                "exit_code": EXIT_OK,
                "routes": totals,
                "verified": verification.ok,
                "files": [str(f) for f in files],
            }
        )
        return
    table = Table(title=f"routes of {run_dir}")
    for column in ("hub", "period", "vans", "stops", "on time", "km", "cost", "unrouted"):
        table.add_column(column, justify="left" if column == "hub" else "right")
    for row in compute_route_kpis(plan).itertuples():
        table.add_row(
            str(row.hub_id),
            str(row.period),
            str(row.vans_used),
            str(row.stops),
            f"{row.on_time_stops} ({fmt_pct(row.on_time_rate, 0)})",
            fmt_num(row.km, 1),
            fmt_num(row.cost),
            str(row.unrouted_visits),
        )
    out.print(table)
    out.print(f"verified: {verification.ok}; tables in {(out_dir or run_dir) / 'solution'}")
    if totals["unrouted_visits"]:
        err.print(f"[yellow]{totals['unrouted_visits']} visit(s) unrouted: too few vans[/]")


def main() -> None:
    """Entry point of the `hubopt` console script."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    app()


if __name__ == "__main__":
    main()
