"""The `hubopt` command line: parse, call the API, print, exit with a documented code.

Exit codes: 0 solved (optimal or feasible), 2 invalid input, 3 infeasible (with a
diagnosis), 4 no feasible solution within the time limit, 5 internal error; `batch`: 0 all
scenarios solved, 6 some were not, 7 no Dask worker, 8 Dask scheduler unreachable or lost,
9 version skew between client and workers (docs/cli.md).

One module per group of commands; importing them registers the commands on
:data:`app` in the order `hubopt --help` lists them.
"""

from __future__ import annotations

import logging

from hubopt.cli.common import app

# the order of these imports is the order of the commands in `hubopt --help`
# isort: off
from hubopt.cli import solve  # noqa: F401
from hubopt.cli import batch  # noqa: F401
from hubopt.cli import forecast  # noqa: F401
from hubopt.cli import routes  # noqa: F401

# isort: on

__all__ = ["app", "main"]


def main() -> None:
    """Entry point of the `hubopt` console script."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    app()
