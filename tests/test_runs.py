"""Run folders (hubopt.runs): atomic writes, error records, reading a run back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import solve_tiny

from hubopt.errors import InputError
from hubopt.runs import load_run, write_atomic, write_error, write_run, write_text_atomic


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """One run folder of the tiny scenario (the tuple keeps the shape of test_compare's)."""
    folder = tmp_path_factory.mktemp("runs")
    run = write_run(solve_tiny(folder / "scenario"), folder / "run")
    return run, run


def test_load_run_rebuilds_the_result(runs: tuple[Path, Path]) -> None:
    """A run folder reads back into a Result with the same plan, objective and KPIs."""
    run_a, _ = runs
    result = load_run(run_a)
    manifest = json.loads((run_a / "manifest.json").read_text())
    assert str(result.status) == manifest["status"] == "optimal"
    assert result.objective == pytest.approx(manifest["objective"])
    assert result.solution is not None
    assert result.solution.objective == pytest.approx(result.objective)
    stored = json.loads((run_a / "kpis.json").read_text())["headline"]
    for key, value in stored.items():
        if value is not None:
            assert result.kpis.headline[key] == pytest.approx(value), key


def test_load_run_refuses_other_folders(tmp_path: Path) -> None:
    """A folder without a manifest is an input error."""
    with pytest.raises(InputError, match="run folder"):
        load_run(tmp_path)


def test_write_atomic_replaces_whole_or_not_at_all(tmp_path: Path) -> None:
    """A writer that fails leaves the old file untouched and no temporary file behind."""
    target = write_text_atomic(tmp_path / "a.txt", "old")

    def broken(path: Path) -> None:
        path.write_text("half", encoding="utf-8")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_atomic(target, broken)
    assert target.read_text(encoding="utf-8") == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]
    write_text_atomic(target, "new")
    assert target.read_text(encoding="utf-8") == "new"


def test_write_error_records_beside_the_run_folder(tmp_path: Path) -> None:
    """A failed run leaves NAME.error.json next to (never inside) the run folder."""
    path = write_error(tmp_path / "run", ValueError("bad thing"), "scn")
    assert path == (tmp_path / "run.error.json").resolve()
    record = json.loads(path.read_text(encoding="utf-8"))
    assert record == {"scenario": "scn", "error": "ValueError", "message": "bad thing"}
    assert not (tmp_path / "run").exists()
