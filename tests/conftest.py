"""Shared fixtures: where the benchmark files live."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).parents[1]


def shared_benchmarks() -> Path | None:
    """``../shared/benchmarks`` beside the repo (as in CI), else ``/work/shared/benchmarks``."""
    for candidate in (REPO.parent / "shared" / "benchmarks", Path("/work/shared/benchmarks")):
        if candidate.is_dir():
            return candidate
    return None


@pytest.fixture(scope="session")
def benchmarks_dir() -> Path:
    """The full benchmark folder (only the slow tests need it)."""
    found = shared_benchmarks()
    if found is None:
        pytest.skip("shared/benchmarks not found beside the repo")
    return found
