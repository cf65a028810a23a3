"""What every command of the `hubopt` command line shares: the typer application, its
consoles and options, the exit codes, JSON output and error reporting."""

from __future__ import annotations

import json
import math
import sys
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.console import Console

from hubopt.errors import HubOptError, InputError, InputWarning, Problem, StrictWarningsError
from hubopt.present.format import fmt_num

EXIT_OK, EXIT_INPUT, EXIT_INFEASIBLE, EXIT_NO_SOLUTION, EXIT_INTERNAL = 0, 2, 3, 4, 5
STATUS_EXIT = {
    "optimal": EXIT_OK,
    "feasible": EXIT_OK,
    "infeasible": EXIT_INFEASIBLE,
    "time_limit": EXIT_NO_SOLUTION,
    "unbounded": EXIT_INTERNAL,
    "error": EXIT_INTERNAL,
}
DEMO_SCENARIO = Path(__file__).resolve().parents[2] / "scenarios" / "korea" / "korea.yaml"

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


def spinner(text: str, as_json: bool) -> AbstractContextManager[Any]:
    """A spinner with ``text`` on stderr while the block runs (nothing with ``--json``)."""
    return nullcontext() if as_json else err.status(text, spinner="dots")


def json_default(value: Any) -> Any:
    """JSON for what ``json`` cannot write: null for nan and infinity, else the text."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return str(value)


def emit_json(payload: dict[str, Any]) -> None:
    """``payload`` as one JSON line on stdout (``--json``)."""
    sys.stdout.write(json.dumps(payload, default=json_default, ensure_ascii=False) + "\n")


def fail(error: BaseException, as_json: bool) -> int:
    """Report ``error`` (a JSON object or one line on stderr); return its exit code."""
    code = error.exit_code if isinstance(error, HubOptError) else EXIT_INTERNAL
    status = "invalid_input" if code == EXIT_INPUT else "error"
    if as_json:
        problems = [str(p) for p in error.problems] if isinstance(error, InputError) else []
        payload = {"status": status, "exit_code": code, "error": str(error), "problems": problems}
        if isinstance(error, StrictWarningsError):
            payload["warnings"] = [w.as_dict() for w in error.warnings]
        emit_json(payload)
    else:
        err.print(
            f"[bold red]{type(error).__name__}[/]: {error}",
            markup=True,
            highlight=False,
            soft_wrap=True,
        )
    return code


def gap_text(result: Any) -> str:
    """The gap in per cent and in money: how far from proven optimal the plan may be."""
    from hubopt.changes import gap_money  # heavy (the result layer): lazy
    from hubopt.solvers.base import status_text

    money = gap_money(result.objective, result.bound)
    if money is None or not math.isfinite(result.gap):
        return "-"
    if status_text(result.status, result.gap) == "optimal":
        return f"{result.gap:.2%}: proven optimal"
    proven = "proven" if str(result.status) == "optimal" else "not proven optimal"
    return f"{result.gap:.2%}: {proven}, at most {fmt_num(money)} above the optimum"


def print_warnings(warnings: list[InputWarning]) -> None:
    """Each warning on stderr, blocking ones (the solve cannot succeed) marked."""
    for warning in warnings:
        label = "[bold red]warning (infeasible):[/]" if warning.blocking else "[yellow]warning:[/]"
        err.print(f"{label} {warning}", highlight=False, soft_wrap=True)


def read_csv(path: Path) -> Any:
    """A CSV table given on the command line; a missing or unreadable file is bad input."""
    if not path.is_file():
        raise InputError(Problem(str(path), "a CSV file", "no such file"), "Missing input")
    try:
        return pd.read_csv(path, dtype={"hub_id": str, "region_id": str, "product_id": str})
    except (ValueError, OSError) as error:
        raise InputError(
            Problem(str(path), "a readable CSV file", str(error)), "Unreadable input"
        ) from None
