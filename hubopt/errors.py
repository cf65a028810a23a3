"""Every exception and warning hubopt raises, in one place.

Exit codes of the CLI map onto these (see ``docs/cli.md``):

====  ==========================================================
code  meaning
====  ==========================================================
0     solved (optimal, or feasible within the time limit)
2     invalid input (:class:`DataValidationError`, :class:`ScenarioError`)
3     infeasible (with a diagnosis)
4     no feasible solution found within the time limit
5     internal error (a bug, e.g. a failed verification)
6     ``hubopt batch``: some scenarios were not solved (see the summary and comparison.csv)
7     ``hubopt batch`` on Dask: no worker for ``--worker-timeout`` seconds
8     ``hubopt batch`` on Dask: the scheduler cannot be reached, or was lost and scenarios
      with it
9     ``hubopt batch`` on Dask: a worker runs other hubopt/highspy/Python versions
====  ==========================================================
"""

from __future__ import annotations

from dataclasses import dataclass


class HubOptError(Exception):
    """Base class of every error hubopt raises on purpose."""

    exit_code = 5


@dataclass(frozen=True)
class Problem:
    """One problem found in the input.

    Attributes
    ----------
    where:
        The file and the row, column or key, e.g. ``data/hubs.csv, row 4, column lat``.
    expected:
        What was expected there.
    found:
        What was found.
    fix:
        How to fix it (may be empty).
    """

    where: str
    expected: str
    found: str
    fix: str = ""

    def __str__(self) -> str:
        text = f"{self.where}: expected {self.expected}; found {self.found}."
        return f"{text} {self.fix}" if self.fix else text


class InputError(HubOptError):
    """The input is invalid; the message lists every problem found."""

    exit_code = 2

    def __init__(
        self, problems: list[Problem] | Problem | str, title: str = "Invalid input"
    ) -> None:
        if isinstance(problems, str):
            problems = [Problem(where="input", expected="valid input", found=problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = list(problems)
        self.title = title
        lines = [f"{title}: {len(self.problems)} problem(s)"]
        lines += [f"  - {p}" for p in self.problems]
        super().__init__("\n".join(lines))


class ScenarioError(InputError):
    """The scenario YAML is invalid (unknown key, wrong type, `extends` cycle, ...)."""


class DataValidationError(InputError):
    """One or more data tables are invalid."""


class ModelTooLargeError(InputError):
    """The model would not fit in the memory available; refused before building."""


class VerificationError(HubOptError):
    """The independent verifier found a violated constraint: a bug, never a result."""

    exit_code = 5

    def __init__(self, violations: list[str]) -> None:
        self.violations = violations
        shown = "\n".join(f"  - {v}" for v in violations[:50])
        more = f"\n  ... and {len(violations) - 50} more" if len(violations) > 50 else ""
        super().__init__(
            f"The solution failed independent verification ({len(violations)} violation(s)):\n"
            f"{shown}{more}"
        )


class SolverError(HubOptError):
    """A solver backend failed (not installed, crashed, or returned garbage)."""

    exit_code = 5


class NoWorkersError(HubOptError):
    """A Dask batch had no worker for ``--worker-timeout`` seconds."""

    exit_code = 7


class SchedulerError(HubOptError):
    """The Dask scheduler cannot be reached, or was lost during the batch."""

    exit_code = 8


class VersionSkewError(HubOptError):
    """A Dask worker runs other versions of hubopt, highspy or Python than the client."""

    exit_code = 9


class OutputExistsError(HubOptError):
    """The output folder holds another scenario's results; use --force to replace them."""

    exit_code = 2


class HubOptWarning(UserWarning):
    """Base class of hubopt's warnings."""


class ForecastWarning(HubOptWarning):
    """`hubopt forecast` used a fallback: short or intermittent series (named), no backtest."""
