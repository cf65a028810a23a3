"""Bad input is refused cleanly: exit code 2, a message naming the file and the row or
key and what was expected, no traceback, nothing written.

Every folder of ``tests/fixtures/bad/`` is one broken scenario named after its defect;
its ``expect.txt`` lists substrings the message must contain. The real CLI runs on each
(``python -m hubopt.cli solve BAD/scenario.yaml --out TMP --json``); the runs start
together in a thread pool so the suite stays quick, and one parametrised test checks
each. Huge inputs are generated at test time in ``tmp_path``, never committed.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

BAD = Path(__file__).parent / "fixtures" / "bad"
CASES = sorted(p.name for p in BAD.iterdir() if p.is_dir() and not p.name.startswith(("_", ".")))
CORE_TABLES = Path(__file__).parent / "fixtures" / "bad" / "table_header_only" / "data"


def run_cli(scenario: Path, out: Path, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run ``hubopt solve --json``; return exit code, parsed stdout and stderr."""
    proc = subprocess.run(
        [sys.executable, "-m", "hubopt.cli", "solve", str(scenario), "--out", str(out), "--json"],
        capture_output=True,
        text=True,
        # generous: the module runs 40+ of these four at a time on two cores, and on a slow
        # day the whole setup took 209 s (a refusal itself takes a few seconds)
        timeout=600,
        env={**os.environ, **(env or {})},
        cwd=scenario.parent if scenario.parent.exists() else None,
    )
    return {"code": proc.returncode, "stdout": proc.stdout, "stderr": proc.stderr}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """Every bad case through the CLI, in parallel; each result keeps its output folder."""
    root = tmp_path_factory.mktemp("bad-runs")

    def one(case: str) -> tuple[str, dict[str, Any]]:
        out = root / case / "run"
        result = run_cli(BAD / case / "scenario.yaml", out)
        result["out"] = out
        return case, result

    with ThreadPoolExecutor(max_workers=max(2, (os.cpu_count() or 2) * 2)) as pool:
        return dict(pool.map(one, CASES))


def test_there_are_at_least_40_cases() -> None:
    """The catalogue covers at least 40 defects."""
    assert len(CASES) >= 40, CASES


def _assert_refused(result: dict[str, Any], expect: list[str]) -> dict[str, Any]:
    assert result["code"] == 2, (result["code"], result["stdout"], result["stderr"][-2000:])
    assert "Traceback" not in result["stdout"] + result["stderr"]
    payload = json.loads(result["stdout"])  # exactly one JSON object on stdout
    assert payload["status"] == "invalid_input"
    assert payload["exit_code"] == 2
    assert payload["problems"], payload
    for text in expect:
        assert text in payload["error"], f"{text!r} not in:\n{payload['error']}"
    out: Path = result["out"]
    assert not out.exists(), f"{out} was written"
    assert not list(out.parent.glob(f"{out.name}*")), "something was written beside the folder"
    return payload


@pytest.mark.parametrize("case", CASES)
def test_bad_input_is_refused_cleanly(case: str, runs: dict[str, dict[str, Any]]) -> None:
    """Exit 2, the expected message (file, row/key, what was expected), no traceback, no output."""
    expect = [
        line
        for line in (BAD / case / "expect.txt").read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    _assert_refused(runs[case], expect)


def _copy_case(source: Path, target: Path) -> Path:
    import shutil

    shutil.copytree(source, target)
    return target / "scenario.yaml"


def test_huge_table_file_is_refused_before_reading(tmp_path: Path) -> None:
    """A 200 MB demand file is refused by size (HUBOPT_MAX_TABLE_BYTES) without reading it."""
    scenario = _copy_case(BAD / "negative_quantity", tmp_path / "case")
    demand = scenario.parent / "data" / "demand.csv"
    with demand.open("r+b") as fh:  # sparse: 200 MB on paper, no disk or memory spent
        fh.truncate(200 * 1024**2)
    result = run_cli(scenario, tmp_path / "run", env={"HUBOPT_MAX_TABLE_BYTES": str(50 * 1024**2)})
    result["out"] = tmp_path / "run"
    payload = _assert_refused(
        result, ["demand.csv", "a table of at most 50 MB (HUBOPT_MAX_TABLE_BYTES)", "200 MB"]
    )
    assert "Aggregate" in payload["error"]


def test_million_row_table_is_refused_without_blowing_memory(tmp_path: Path) -> None:
    """A million-row demand table over HUBOPT_MAX_TABLE_ROWS is refused; peak memory stays small."""
    scenario = _copy_case(BAD / "negative_quantity", tmp_path / "case")
    demand = scenario.parent / "data" / "demand.csv"
    line = b"11010,JACKET,1,40,4\n"
    with demand.open("wb") as fh:
        fh.write(b"region_id,product_id,period,quantity,std\n")
        for _ in range(100):
            fh.write(line * 10_000)
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    result = run_cli(scenario, tmp_path / "run", env={"HUBOPT_MAX_TABLE_ROWS": "100000"})
    result["out"] = tmp_path / "run"
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    _assert_refused(result, ["demand.csv", "at most 100,000 rows (HUBOPT_MAX_TABLE_ROWS)"])
    if peak_kb > before:  # only meaningful when this child set the high-water mark
        assert peak_kb < 1_500_000, f"peak RSS {peak_kb / 1024:.0f} MB"


def test_bom_csv_loads_fine(tmp_path: Path) -> None:
    """A UTF-8 byte-order mark (Excel's 'CSV UTF-8') is harmless: the scenario solves."""
    scenario = _copy_case(BAD / "negative_quantity", tmp_path / "case")
    data = scenario.parent / "data"
    (data / "demand.csv").write_text(
        "\ufeffregion_id,product_id,period,quantity,std\n11010,JACKET,1,40,4\n"
        "11010,JACKET,2,60,6\n26110,JACKET,1,30,3\n26110,JACKET,2,35,3\n",
        encoding="utf-8",
    )
    for name in ("hubs.csv", "regions.csv"):
        path = data / name
        path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    result = run_cli(scenario, tmp_path / "run")
    assert result["code"] == 0, (result["stdout"], result["stderr"][-2000:])
    payload = json.loads(result["stdout"])
    assert payload["status"] == "optimal"
    assert (tmp_path / "run" / "manifest.json").exists()


def test_generator_matches_committed_fixtures() -> None:
    """Every case of the generator has a committed folder with the same expect.txt."""
    sys.path.insert(0, str(BAD))
    try:
        import _make  # type: ignore[import-not-found]
    finally:
        sys.path.pop(0)
    for case, (_, expect) in _make.CASES.items():
        text = (BAD / case / "expect.txt").read_text(encoding="utf-8").splitlines()
        assert text == expect, case
