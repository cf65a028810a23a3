"""`hubopt forecast`: demand (quantity and spread) from order history, with its backtest."""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.table import Table

from hubopt.cli.common import EXIT_OK, JsonOption, app, emit_json, err, fail, out
from hubopt.errors import HubOptError
from hubopt.forecast import (
    Forecast,
    ForecastWarning,
    forecast_demand,
    write_demand,
    write_forecast_report,
)


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
        raise typer.Exit(fail(error, as_json)) from None
    if as_json:
        emit_json(_forecast_payload(result, out_file, report_dir))
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
