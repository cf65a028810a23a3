"""The command-line reference (``docs/cli.md``), generated from the typer application.

Every command of :data:`hubopt.cli.app` with its usage line, help text, arguments and
options (type, default, help), read from the commands' annotated signatures (the same
``typer.Option``/``typer.Argument`` declarations typer parses), between a hand-written
header and footer (``--json``, exit codes, the run folder). Regenerate with::

    python -m hubopt.cli_reference > docs/cli.md
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin, get_type_hints

from typer.models import ArgumentInfo, ParameterInfo

from hubopt.cli import app

HEADER = """\
# Command line

Generated from the typer application in `hubopt/cli/` by
`hubopt.cli_reference.render_markdown()` (a test fails when this page is stale):
`python -m hubopt.cli_reference > docs/cli.md`.

`batch` and `compare` are described in [batch.md](batch.md); `forecast` (order history
-> demand with std, backtest report, campaign uplift) in [forecast.md](forecast.md);
what-ifs and sweeps in
[whatif.md](whatif.md); the scenario file in [scenario-reference.md](scenario-reference.md);
error messages and the bad-input catalogue in [errors.md](errors.md); what to do when a
run fails in [troubleshooting.md](troubleshooting.md).
"""

FOOTER = """\
## `--json`

`--json` prints exactly one JSON object on stdout (solver banners go to stderr). For
`solve` and `demo` it has at least `status`, `objective`, `bound`, `gap`,
`build_seconds`, `solve_seconds`, `run_dir`, `kpis` (headline) and `diagnosis`; on
invalid input `status` is `invalid_input` with every problem in `problems`.

## Exit codes

| code | meaning |
|---|---|
| 0 | solved: `optimal` (proven within `solver.mip_gap`) or `feasible` (time limit hit with a solution; the gap is reported) |
| 2 | invalid input: the message lists every problem with file, row/key, expected and found; nothing is written to the output folder. Also: the output folder holds another scenario's results (use `--force`), or the model would not fit in memory |
| 3 | infeasible: the diagnosis is printed, in `--json` and in `diagnosis.json` |
| 4 | no feasible solution found within the time limit |
| 5 | internal error (a bug: e.g. a plan that fails independent verification) |
| 6 | `hubopt batch`: some scenarios did not solve (each has its row, status and reason in comparison.csv) |
| 7 | `hubopt batch` on Dask: no worker for `--worker-timeout` seconds (default 60) |
| 8 | `hubopt batch` on Dask: the scheduler cannot be reached, or was lost and some scenarios with it (`lost` rows in comparison.csv) |
| 9 | `hubopt batch` on Dask: a worker runs other hubopt / highspy / Python versions than the client; nothing was solved |

Every exit code of `hubopt batch`, and what happens to a batch when a worker or the
scheduler fails, is in [batch.md](batch.md#what-happens-when-the-cluster-fails).

## Run folder

`manifest.json` (versions, input hashes, seed, times, status, gap, verification),
`scenario.resolved.yaml`, `solution/*.csv|parquet` (hubs, flows, inflows, stock, unmet,
assignments, costs, period_costs, campaign_footprint), `kpis.json` + `kpis/*.csv|parquet`, `solver.log`, `map.html`,
`report.html`, and `diagnosis.json` when infeasible. The folder is built next to the
target and renamed into place: a reader sees the old complete folder or the new one.
A failed run writes `<folder>.error.json` beside it and leaves any previous run intact.
"""


def _cell(text: str | None) -> str:
    return " ".join((text or "").split()).replace("|", "\\|")


def _unwrap(annotation: Any) -> tuple[Any, Any]:
    """(Python type, typer OptionInfo/ArgumentInfo or None) of an ``Annotated`` hint."""
    if get_origin(annotation) is Annotated:
        kind, *extras = get_args(annotation)
        info = next((e for e in extras if isinstance(e, ParameterInfo)), None)
        return kind, info
    return annotation, None


def _type_label(kind: Any) -> str:
    if get_origin(kind) in (Union, UnionType):
        kind = next(a for a in get_args(kind) if a is not type(None))
    if get_origin(kind) is list:
        return _type_label(get_args(kind)[0])
    return {Path: "path", bool: "flag", int: "int", float: "float", str: "text"}.get(
        kind, getattr(kind, "__name__", str(kind))
    )


def _option_names(info: Any) -> list[str]:
    """Option names: inside ``Annotated``, typer reads a first positional ``"--x"`` as a name."""
    if info is None:
        return []
    first = [info.default] if isinstance(info.default, str) and info.default.startswith("-") else []
    return [*first, *(info.param_decls or ())]


@dataclass(frozen=True)
class CliParameter:
    """One argument or option of a command, as declared in ``hubopt/cli/``."""

    names: str
    type: str
    default: str
    help: str
    is_argument: bool


def command_parameters(callback: Callable[..., Any]) -> list[CliParameter]:
    """The arguments and options of a typer command, from its annotated signature."""
    hints = get_type_hints(callback, include_extras=True)
    out = []
    for name, parameter in inspect.signature(callback).parameters.items():
        kind, info = _unwrap(hints[name])
        is_argument = isinstance(info, ArgumentInfo)
        if is_argument:
            many = get_origin(kind) is list
            names = f"`{name.upper()}{'...' if many else ''}`"
        else:
            decls = _option_names(info)
            names = ", ".join(f"`{d}`" for d in decls) or f"`--{name.replace('_', '-')}`"
        default = parameter.default
        if default is inspect.Parameter.empty:
            shown = "required"
        elif kind is bool:
            shown = "on" if default else "off"
        elif default is None:
            shown = ""
        else:
            shown = f"`{default}`"
        help_text = _cell(info.help if info is not None else "")
        out.append(CliParameter(names, _type_label(kind), shown, help_text, is_argument))
    return out


def render_command(name: str, callback: Callable[..., Any], help_text: str) -> list[str]:
    """One command: usage line, help, and a table of its arguments and options."""
    params = command_parameters(callback)
    usage = " ".join(
        [p.names.strip("`") for p in params if p.is_argument] + (["[OPTIONS]"] if params else [])
    )
    lines = [f"## `hubopt {name}`", "", "```", f"hubopt {name} {usage}".rstrip(), "```", ""]
    lines += [help_text, ""]
    if params:
        lines += ["| argument / option | type | default | help |", "|---|---|---|---|"]
        lines += [f"| {p.names} | {p.type} | {p.default} | {p.help} |" for p in params]
        lines.append("")
    return lines


def _help_of(command: Any) -> str:
    text = command.help if isinstance(command.help, str) else inspect.getdoc(command.callback)
    return _cell((text or "").split("\n\n")[0])


def render_markdown() -> str:
    """The whole CLI reference page as Markdown."""
    commands = [(c.name or c.callback.__name__, c) for c in app.registered_commands if c.callback]
    lines = [HEADER, _cell(app.info.help if isinstance(app.info.help, str) else ""), ""]
    lines += ["| command | what it does |", "|---|---|"]
    lines += [f"| [`{name}`](#hubopt-{name}) | {_help_of(c)} |" for name, c in commands]
    lines.append("")
    for name, command in commands:
        if command.callback is not None:
            lines += render_command(name, command.callback, _help_of(command))
    lines.append(FOOTER)
    return "\n".join(lines).rstrip("\n") + "\n"


if __name__ == "__main__":  # pragma: no cover - documentation generator
    import sys

    sys.stdout.write(render_markdown())
