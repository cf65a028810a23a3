"""`hubopt batch` and `hubopt compare`: many scenarios, and two run folders side by side."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from hubopt.cli.common import (
    EXIT_INPUT,
    EXIT_OK,
    JsonOption,
    app,
    emit_json,
    err,
    fail,
    out,
    spinner,
)
from hubopt.errors import HubOptError, NoWorkersError, SchedulerError
from hubopt.present.format import fmt_num, fmt_pct, fmt_signed

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

    from hubopt.batch import SOLVED, run_batch

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
        raise typer.Exit(fail(error, as_json)) from None
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
        emit_json(
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
    from hubopt.compare import compare_runs

    try:
        with spinner("Loading runs and drawing...", as_json):
            report = compare_runs(run_a, run_b, out_dir)
    except (HubOptError, ValueError) as error:
        raise typer.Exit(fail(error, as_json)) from None
    if as_json:
        emit_json({"status": "ok", "exit_code": EXIT_OK, **report})
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
                "cost B − A", f"{fmt_signed(delta)} (combined gap {fmt_num(combined)}: {verdict})"
            )
        for key in ("hubs_opened", "hubs_closed", "regions_tier_changed", "lanes_changed"):
            table.add_row(key.replace("_", " "), str(report[key]))
        for key in ("map", "page", "out"):
            table.add_row(key, str(report[key]))
        out.print(table)
