"""`hubopt routes`: delivery routes for the plan of any run folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from hubopt.cli.common import EXIT_OK, JsonOption, app, emit_json, err, fail, out, spinner
from hubopt.errors import HubOptError, InputError, Problem
from hubopt.present.format import fmt_num, fmt_pct


def route_periods(periods: list[str] | None, more: list[str] | None) -> list[int] | None:
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
    from hubopt.routing.kpis import compute_route_kpis, route_totals
    from hubopt.runs import route_run, write_routes

    try:
        chosen = route_periods(periods, more_periods)
        with spinner("Routing vans...", as_json):
            plan, verification = route_run(run_dir, chosen, vehicles, time_limit)
        files = write_routes(plan, out_dir or run_dir)
    except HubOptError as error:
        raise typer.Exit(fail(error, as_json)) from None
    totals = route_totals(plan)
    if as_json:
        emit_json(
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
