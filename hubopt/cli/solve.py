"""`hubopt solve`, `replan`, `validate`, `schema` and `demo`: one scenario or run folder.

Each command imports the solver, run-folder and map modules when it runs (STYLE: heavy
imports are lazy), so `hubopt --help` and a refused scenario answer quickly.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from hubopt.cli.common import (
    DEMO_SCENARIO,
    EXIT_INFEASIBLE,
    EXIT_INPUT,
    EXIT_OK,
    STATUS_EXIT,
    BackendOption,
    ForceOption,
    JsonOption,
    StrictOption,
    TimeLimitOption,
    app,
    emit_json,
    err,
    fail,
    gap_text,
    out,
    print_warnings,
    read_csv,
    spinner,
)
from hubopt.errors import HubOptError
from hubopt.present.format import fmt_num, fmt_signed
from hubopt.scenario.scenario import load_scenario
from hubopt.scenario.schema import ScenarioConfig


def _headline_table(result: Any, run_dir: Path | None) -> Table:
    from hubopt.solvers.base import status_text

    status = status_text(result.status, result.gap)
    table = Table(title=f"{result.scenario.name}: {status}", show_header=False)
    footprint = result.solution is not None and len(result.solution.footprint)
    table.add_row(
        "objective (cost - incremental margin)" if footprint else "objective",
        f"{result.objective:,.0f}",
    )
    table.add_row("gap", gap_text(result))
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


def _write_error(target: Path, error: BaseException) -> None:
    from hubopt.runs import write_error

    write_error(target, error)


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
        with spinner("Loading scenario...", as_json):
            loaded = load_scenario(scenario)
        from hubopt.api import solve  # heavy: only once the scenario has loaded

        limit = time_limit or loaded.config.solver.time_limit_s
        with spinner(f"Building and solving {loaded.name} (limit {limit:g} s)...", as_json):
            result = solve(
                loaded, backend=backend, time_limit_s=time_limit, strict=True if strict else None
            )
        if result.solution is not None and (
            campaign_economics or loaded.config.output.campaign_economics
        ):
            from hubopt.economics import campaign_economics as economics

            with spinner("Re-solving without each campaign...", as_json):
                options: dict[str, Any] = {"backend": backend, "time_limit_s": time_limit}
                table = economics(result, **{k: v for k, v in options.items() if v is not None})
            result = dataclasses.replace(result, campaign_economics=table)
        run_dir = None
        if write:
            from hubopt.runs import write_run

            with spinner("Writing run folder...", as_json):
                run_dir = write_run(result, out_dir, force=force)
    except HubOptError as error:
        if write and target is not None and error.exit_code != EXIT_INPUT:
            _write_error(target, error)
        return fail(error, as_json)
    except Exception as error:  # a bug: report without a wall of traceback, keep details in logs
        logging.getLogger(__name__).debug("internal error", exc_info=True)
        if write and target is not None:
            _write_error(target, error)
        return fail(error, as_json)
    code = STATUS_EXIT[str(result.status)]
    if as_json:
        payload = result.summary() | {
            "run_dir": str(run_dir) if run_dir else None,
            "exit_code": code,
        }
        payload["kpis"] = result.kpis.as_json()["headline"] if result.solution is not None else None
        if result.campaign_economics is not None:
            payload["campaign_economics"] = result.campaign_economics.to_dict(orient="records")
        emit_json(payload)
    else:
        print_warnings(result.warnings)
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
    from hubopt.replan import replan
    from hubopt.runs import load_run, write_run

    try:
        with spinner("Loading run...", as_json):
            run = load_run(run_dir)
            stock_frame = read_csv(stock)
            sales_frame = read_csv(sales) if sales is not None else None
        options: dict[str, Any] = {"backend": backend, "time_limit_s": time_limit}
        with spinner(f"Re-planning from period {from_period}...", as_json):
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
        raise typer.Exit(fail(error, as_json)) from None
    code = STATUS_EXIT[str(result.status)]
    if as_json:
        emit_json(
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


def _replan_table(summary: dict[str, Any]) -> Table:
    table = Table(title=f"Re-plan from period {summary.get('from_period')}", show_header=False)
    table.add_row("cost of periods >= T, original", fmt_num(summary.get("remaining_cost_original")))
    table.add_row("cost of periods >= T, re-plan", fmt_num(summary.get("remaining_cost_replanned")))
    table.add_row("change", fmt_signed(summary.get("remaining_cost_change")))
    table.add_row("hubs opened", ", ".join(summary.get("hubs_opened", [])) or "-")
    table.add_row("hubs closed", ", ".join(summary.get("hubs_closed", [])) or "-")
    table.add_row("units delivered (change)", fmt_signed(summary.get("delivered_units_change", 0)))
    table.add_row("units late (change)", fmt_signed(summary.get("late_units_change", 0)))
    table.add_row("units lost (change)", fmt_signed(summary.get("lost_units_change", 0)))
    table.add_row("stock re-balanced (units)", fmt_num(summary.get("stock_rebalanced_units", 0)))
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
    from hubopt.data.problem import build_problem
    from hubopt.diagnose.structural import collect_warnings, refuse_warnings
    from hubopt.guard import estimate_model_bytes

    try:
        loaded = load_scenario(scenario)
        problem = build_problem(loaded)
        warnings = collect_warnings(loaded, problem)
        refuse_warnings(warnings, strict or loaded.config.policy.strict)
    except HubOptError as error:
        raise typer.Exit(fail(error, as_json)) from None
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
        emit_json(summary)
    else:
        print_warnings(warnings)
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
