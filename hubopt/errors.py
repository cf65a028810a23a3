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

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any


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


@dataclass(frozen=True)
class InputWarning:
    """Something in the input that is valid but probably wrong (a swapped coordinate,
    a service level with no effect, a product nobody supplies...).

    Warnings do not stop a solve; ``--strict`` (or ``policy.strict: true``) turns them
    into :class:`StrictWarningsError` (exit 2).

    Attributes
    ----------
    code:
        A stable name of the check, e.g. ``coordinates_swapped``.
    where:
        The file and row or key, e.g. ``data/hubs.csv, row 4 (hub 'H-AMS')``.
    message:
        What looks wrong, with the numbers.
    fix:
        The likely fix.
    blocking:
        True when the check proves the solve cannot succeed (e.g. demand that must be
        met but no source supplies); the solve will then be infeasible.
    """

    code: str
    where: str
    message: str
    fix: str = ""
    blocking: bool = False

    def __str__(self) -> str:
        text = f"{self.where}: {self.message}"
        return f"{text} {self.fix}" if self.fix else text

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> InputWarning:
        """Inverse of :meth:`as_dict` (a run folder's manifest)."""
        return cls(
            str(data["code"]),
            str(data["where"]),
            str(data["message"]),
            str(data.get("fix", "")),
            bool(data.get("blocking", False)),
        )

    def as_dict(self) -> dict[str, object]:
        """JSON-ready form (``--json``, manifest)."""
        return {
            "code": self.code,
            "where": self.where,
            "message": self.message,
            "fix": self.fix,
            "blocking": self.blocking,
            "text": str(self),
        }


class StrictWarningsError(InputError):
    """``--strict`` or ``policy.strict: true``: the input has warnings, refused as invalid."""

    def __init__(self, warnings: list[InputWarning]) -> None:
        self.warnings = list(warnings)
        problems = [
            Problem(w.where, "no warning (strict mode)", w.message.rstrip("."), w.fix)
            for w in self.warnings
        ]
        super().__init__(problems, "Warnings refused in strict mode")


QWERTY_ROWS = ("1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm")
KEY_POSITION = {
    key: (row, col) for row, keys in enumerate(QWERTY_ROWS) for col, key in enumerate(keys)
}


def keyboard_neighbours(a: str, b: str) -> bool:
    """Whether two characters sit next to each other on a QWERTY keyboard."""
    pa, pb = KEY_POSITION.get(a.lower()), KEY_POSITION.get(b.lower())
    if pa is None or pb is None or pa == pb:
        return False
    return abs(pa[0] - pb[0]) <= 1 and abs(pa[1] - pb[1]) <= 1


def edit_distance(a: str, b: str, neighbour_cost: float = 1.0) -> float:
    """Optimal-string-alignment distance: insertions, deletions, substitutions and
    swaps of two adjacent characters each count 1 (``NL-AMD`` -> ``NL-AMS`` is 1).

    With ``neighbour_cost`` < 1, substituting a key by its keyboard neighbour costs that
    much (a slip of the finger is likelier than any other letter).
    """
    if a == b:
        return 0.0
    previous2: list[float] = []
    previous = [float(j) for j in range(len(b) + 1)]
    for i, ca in enumerate(a, 1):
        current = [float(i)] + [0.0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0.0 if ca == cb else neighbour_cost if keyboard_neighbours(ca, cb) else 1.0
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[-1]


MAX_HINT_CANDIDATES = 5000


def close_matches(value: str, candidates: Iterable[str], n: int = 3) -> list[str]:
    """The candidates closest to ``value`` by edit distance (ties all kept, at most ``n``).

    Ranked by case-insensitive edit distance in which a keyboard neighbour costs half a
    substitution, then exact edit distance, then difflib's similarity, then
    alphabetically (deterministic). A candidate is close when at most about a third of
    the characters differ; failing that, difflib's best match above 0.6 similarity (e.g.
    a truncated key) is offered. ``NL-AMD`` gives ``NL-AMF`` and ``NL-AMS`` (D sits
    between S and F), before ``NL-APD`` (one letter, not a neighbour), never ``NL-MDB``.
    """
    value = str(value)
    pool = sorted({str(c) for c in candidates})
    if not pool or not value:
        return []
    if len(pool) > MAX_HINT_CANDIDATES:  # huge id sets: let difflib pick a shortlist first
        pool = difflib.get_close_matches(value, pool, n=20, cutoff=0.4)
    ranked = sorted(
        (
            edit_distance(value.lower(), candidate.lower(), neighbour_cost=0.5),
            edit_distance(value, candidate),
            -difflib.SequenceMatcher(None, value, candidate).ratio(),
            candidate,
        )
        for candidate in pool
    )
    if ranked:
        best = ranked[0]
        limit = max(1, (max(len(value), len(best[3])) + 1) // 3)
        if best[0] <= limit:
            return [r[3] for r in ranked if r[0] == best[0]][:n]
    # no near spelling: fall back to the longest common stretches (a truncated key)
    return difflib.get_close_matches(value, pool, n=1, cutoff=0.6)


def did_you_mean(value: str, candidates: Iterable[str]) -> str | None:
    """The closest candidate (see :func:`close_matches`), or None if none is close."""
    found = close_matches(value, candidates, n=1)
    return found[0] if found else None


def hint_text(value: str, candidates: Iterable[str], otherwise: str = "") -> str:
    """``"Did you mean 'X'?"`` (or ``'X' or 'Y'`` when equally close), else ``otherwise``."""
    found = close_matches(value, candidates)
    if not found:
        return otherwise
    return f"Did you mean {' or '.join(repr(f) for f in found)}?"
