"""Batch runs: isolation of bad scenarios, resume, Dask, comparison files and the CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from helpers import write_scenario
from typer.testing import CliRunner

from hubopt.batch import collect_jobs, run_batch
from hubopt.changes import HEADLINE_KPIS, HUB_COLUMNS, LEAD_COLUMNS, TAIL_COLUMNS
from hubopt.cli import app
from hubopt.worker import JobSettings, installed_versions, run_job

HUBS = [
    {"hub_id": "H1", "lat": 37.5, "lon": 127.0, "fixed_cost": 100, "throughput_capacity": 100},
    {"hub_id": "H2", "lat": 35.1, "lon": 129.0, "fixed_cost": 150, "throughput_capacity": 100},
]
REGIONS = [
    {"region_id": "R1", "lat": 37.6, "lon": 127.1},
    {"region_id": "R2", "lat": 35.2, "lon": 129.1},
]


def tables(r1: float = 10, r2: float = 20, capacity: float = 100) -> dict[str, Any]:
    """Two hubs, two regions, one product, one period."""
    hubs = [h | {"throughput_capacity": capacity} for h in HUBS]
    demand = [
        {"region_id": "R1", "product_id": "P", "period": 1, "quantity": r1},
        {"region_id": "R2", "product_id": "P", "period": 1, "quantity": r2},
    ]
    return {"hubs": hubs, "regions": REGIONS, "products": [{"product_id": "P"}], "demand": demand}


def scenario(folder: Path, name: str, **kw: Any) -> Path:
    """A valid tiny scenario file ``folder/<name>.yaml`` (tables in ``folder/<name>/``)."""
    path = write_scenario(folder / name, tables(**kw), name=name)
    target = folder / f"{name}.yaml"
    doc = yaml.safe_load(path.read_text())
    doc["data"] = {k: f"{name}/{v}" for k, v in doc["data"].items()}
    target.write_text(yaml.safe_dump(doc, sort_keys=False))
    path.unlink()
    return target


@pytest.fixture
def mixed(tmp_path: Path) -> Path:
    """A folder with two valid, one invalid (unknown key), one infeasible scenario."""
    folder = tmp_path / "scenarios"
    scenario(folder, "a-valid")
    scenario(folder, "b-valid", r1=30)
    bad = scenario(folder, "c-invalid")
    doc = yaml.safe_load(bad.read_text())
    doc["polcy"] = {"max_open_hubs": 1}
    bad.write_text(yaml.safe_dump(doc))
    scenario(folder, "d-infeasible", r1=500, r2=500)
    return folder


def test_mixed_batch_finishes_valid_and_reports_others(mixed: Path, tmp_path: Path) -> None:
    """Valid scenarios solve and write run folders; invalid and infeasible ones are rows."""
    out = tmp_path / "out"
    table = run_batch([mixed], out=out, workers=2).set_index("name")
    assert list(table.index) == ["a-valid", "b-valid", "c-invalid", "d-infeasible"]
    assert table.loc[["a-valid", "b-valid"], "status"].tolist() == ["optimal", "optimal"]
    assert table.loc[["a-valid", "b-valid"], "objective"].tolist() == pytest.approx([100, 100])
    assert table.at["c-invalid", "status"] == "invalid_input"
    assert "Did you mean 'policy'" in table.at["c-invalid", "error"]
    assert table.at["d-infeasible", "status"] == "infeasible"
    assert table.at["d-infeasible", "error"].startswith("infeasible")
    for name in ("a-valid", "b-valid"):
        manifest = json.loads((out / name / "manifest.json").read_text())
        assert manifest["status"] == "optimal" and manifest["scenario"] == name
    assert (out / "c-invalid.error.json").is_file()
    assert (out / "d-infeasible" / "diagnosis.json").is_file()


def test_comparison_files_have_one_row_per_scenario(mixed: Path, tmp_path: Path) -> None:
    """comparison.csv/.parquet: expected columns in order, one row per scenario; compare.html."""
    out = tmp_path / "out"
    run_batch([mixed], out=out, workers=0)
    csv = pd.read_csv(out / "comparison.csv")
    parquet = pd.read_parquet(out / "comparison.parquet")
    expected = [*LEAD_COLUMNS, *HEADLINE_KPIS, *HUB_COLUMNS, *TAIL_COLUMNS]
    assert list(csv.columns) == expected and list(parquet.columns) == expected
    assert csv["name"].tolist() == ["a-valid", "b-valid", "c-invalid", "d-infeasible"]
    solved = csv[csv["status"] == "optimal"]
    assert (solved["total_cost"] - solved["objective"]).abs().max() < 1e-6
    assert solved["fill_rate"].tolist() == [1.0, 1.0]
    assert csv["error"].fillna("").str.len().gt(0).tolist() == [False, False, True, True]
    page = (out / "compare.html").read_text()
    assert page.count("<tr") == 5 and "<script" in page and "http" not in page.split("<body>")[1]


def test_resume_reruns_nothing_then_only_the_changed_scenario(tmp_path: Path) -> None:
    """--resume skips unchanged inputs and re-runs exactly the scenario whose data changed."""
    folder, out = tmp_path / "scenarios", tmp_path / "out"
    scenario(folder, "one")
    scenario(folder, "two")
    first = run_batch([folder], out=out, workers=0).set_index("name")
    assert not first["skipped"].any()
    stamps = {n: (out / n / "manifest.json").stat().st_mtime_ns for n in ("one", "two")}
    again = run_batch([folder], out=out, workers=0, resume=True).set_index("name")
    assert again["skipped"].all()
    assert again["objective"].tolist() == first["objective"].tolist()
    assert {n: (out / n / "manifest.json").stat().st_mtime_ns for n in stamps} == stamps
    demand = folder / "two" / "data" / "demand.csv"
    demand.write_text(demand.read_text().replace("R2,P,1,20", "R2,P,1,25"))
    third = run_batch([folder], out=out, workers=0, resume=True).set_index("name")
    assert third["skipped"].to_dict() == {"one": True, "two": False}
    assert (out / "one" / "manifest.json").stat().st_mtime_ns == stamps["one"]
    assert (out / "two" / "manifest.json").stat().st_mtime_ns != stamps["two"]
    assert third.at["two", "demand_units"] == 35


def test_resume_reruns_a_changed_sweep_point(tmp_path: Path) -> None:
    """Changing one value of a sweep re-runs that point only."""
    base = scenario(tmp_path / "s", "base")
    sweep = tmp_path / "s" / "sweep.yaml"

    def write(values: list[float]) -> None:
        doc = {"sweep": {"base": base.name, "grid": {"policy.circuity": values}}}
        sweep.write_text(yaml.safe_dump(doc))

    write([1.2, 1.3])
    out = tmp_path / "out"
    run_batch([sweep], out=out, workers=0)
    write([1.2, 1.4])
    table = run_batch([sweep], out=out, workers=0, resume=True).set_index("name")
    assert table["skipped"].to_dict() == {"base--circuity=1.2": True, "base--circuity=1.4": False}


def test_dask_local_cluster_matches_local_run(tmp_path: Path) -> None:
    """A LocalCluster with two workers gives the objectives of the local run."""
    folder = tmp_path / "scenarios"
    for name, r1 in (("x", 10), ("y", 40), ("z", 70)):
        scenario(folder, name, r1=r1)
    local = run_batch([folder], out=tmp_path / "local", workers=0)
    dask = run_batch([folder], out=tmp_path / "dask", dask_local=2)
    assert dask["name"].tolist() == local["name"].tolist()
    assert dask["status"].tolist() == ["optimal"] * 3
    pd.testing.assert_series_equal(dask["objective"], local["objective"], rtol=1e-9)
    assert (tmp_path / "dask" / "z" / "manifest.json").is_file()


def test_unreadable_and_duplicate_inputs_become_rows(tmp_path: Path) -> None:
    """A missing file, a broken sweep and a repeated name are rows, not a crash."""
    folder = tmp_path / "s"
    scenario(folder, "dup")
    copy = folder / "dup-again.yaml"
    copy.write_text((folder / "dup.yaml").read_text())
    broken = folder / "sweep.yaml"
    broken.write_text(yaml.safe_dump({"sweep": {"base": "dup.yaml", "grid": {"nope.x": [1]}}}))
    jobs = collect_jobs([folder, tmp_path / "missing.yaml"])
    errors = {job.source.rsplit("/", 1)[-1]: job.error for job in jobs}
    first, second = sorted(["dup.yaml", "dup-again.yaml"])  # folder files run in name order
    assert errors[first] is None
    assert "duplicate scenario name 'dup'" in str(errors[second])
    assert "nope" in str(errors["sweep.yaml"])
    assert "no such file" in str(errors["missing.yaml"])


def test_cli_batch_exit_codes_and_json(mixed: Path, tmp_path: Path) -> None:
    """`hubopt batch`: 6 when some scenarios fail, 0 when all solve; --json lists every row."""
    runner = CliRunner()
    result = runner.invoke(app, ["batch", str(mixed), "--out", str(tmp_path / "o"), "--json"])
    assert result.exit_code == 6, result.output
    payload = json.loads(result.stdout.strip().splitlines()[-1])
    assert payload["status"] == "some_failed"
    statuses = {r["name"]: r["status"] for r in payload["scenarios"]}
    assert statuses == {
        "a-valid": "optimal",
        "b-valid": "optimal",
        "c-invalid": "invalid_input",
        "d-infeasible": "infeasible",
    }
    good = runner.invoke(
        app, ["batch", str(mixed / "a-valid.yaml"), "--out", str(tmp_path / "g"), "-w", "1"]
    )
    assert good.exit_code == 0, good.output
    assert "1 solved, 0 not solved" in good.stdout


def test_solver_threads_differ_from_scenario_to_scenario_in_one_process(tmp_path: Path) -> None:
    """Three scenarios asking 1, 2 and 3 HiGHS threads, solved one after the other in this
    process, all reach the optimum 100 (HiGHS used to keep the first thread count and
    answer "Not Set" to the others)."""
    folder = tmp_path / "s"
    for threads in (1, 2, 3):
        path = scenario(folder, f"t{threads}")
        doc = yaml.safe_load(path.read_text())
        doc["solver"] = doc.get("solver", {}) | {"threads": threads, "backend": "highs"}
        path.write_text(yaml.safe_dump(doc))
    table = run_batch([folder], out=tmp_path / "out", workers=0)
    assert table["status"].tolist() == ["optimal"] * 3
    assert table["objective"].tolist() == pytest.approx([100.0] * 3)
    assert table["threads"].tolist() == [1, 2, 3]


def test_an_option_highs_rejects_is_invalid_input_naming_it(tmp_path: Path) -> None:
    """solver.options with a name HiGHS does not know: invalid_input naming the key."""
    path = scenario(tmp_path / "s", "bad-option")
    doc = yaml.safe_load(path.read_text())
    doc["solver"] = doc.get("solver", {}) | {"backend": "highs", "options": {"thredz": 2}}
    path.write_text(yaml.safe_dump(doc))
    row = run_batch([path], out=tmp_path / "out", workers=1).iloc[0]
    assert row["status"] == "invalid_input"
    assert "key 'solver.options.thredz'" in row["error"] and "rejected by HiGHS" in row["error"]


def test_resume_removes_staging_folders_left_by_a_killed_write(tmp_path: Path) -> None:
    """--resume deletes .NAME.tmp-*, .NAME.old-* and .NAME.error.json.tmp-* of its
    scenarios, and nothing else."""
    path = scenario(tmp_path / "s", "one")
    out = tmp_path / "out"
    run_batch([path], out=out, workers=0)
    stale = [out / ".one.tmp-1a2b3c4d", out / ".one.old-5e6f7a8b"]
    for folder in stale:
        (folder / "solution").mkdir(parents=True)
    (out / ".one.error.json.tmp-0000").write_text("{")
    other = out / ".someone-else.tmp-12345678"
    other.mkdir()
    table = run_batch([path], out=out, workers=0, resume=True)
    assert table["skipped"].tolist() == [True]
    assert not any(p.exists() for p in [*stale, out / ".one.error.json.tmp-0000"])
    assert other.is_dir()


def test_a_scenario_over_its_wall_clock_limit_is_killed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A solve that sleeps 60 s (tests/fixtures/slow_solve) under a 2 s --scenario-timeout
    is killed from outside: status timeout naming the limit; the other scenario solves."""
    monkeypatch.setenv("HUBOPT_TEST_SOLVE_DELAY_S", "60")
    slow = Path(__file__).parent / "fixtures" / "slow_solve"
    monkeypatch.setenv("PYTHONPATH", f"{slow}:{Path(__file__).parents[1]}")
    path = scenario(tmp_path / "s", "sleepy")
    table = run_batch([path], out=tmp_path / "out", workers=1, scenario_timeout_s=2)
    row = table.iloc[0]
    assert row["status"] == "timeout"
    assert "wall-clock limit of 2 s" in row["error"]
    assert (tmp_path / "out" / "sleepy.error.json").is_file()


def test_a_worker_with_other_versions_refuses_to_solve(tmp_path: Path) -> None:
    """A job from a client with another hubopt version is not solved: the row says which
    versions differ (a Dask worker joining late is caught by this check)."""
    path = scenario(tmp_path / "s", "skewed")
    job = collect_jobs([path])[0]
    versions = installed_versions() | {"hubopt": "0.0.1", "highspy": "0.9"}
    settings = JobSettings(out_dir=str(tmp_path / "out"), batch_id="b", versions=versions)
    row = run_job(job, settings)
    assert row["status"] == "error"
    assert "version skew" in row["error"] and "hubopt" in row["error"]
    assert "client: 0.0.1" in row["error"] and "client: 0.9" in row["error"]
    assert not (tmp_path / "out").exists()


def test_resume_keeps_the_reason_of_a_failed_run(tmp_path: Path) -> None:
    """A resumed (skipped) infeasible run keeps its reason in the table, comparison.csv and
    the CLI summary: demand 1 000 above the 200 m³ of both hubs."""
    folder, out = tmp_path / "scenarios", tmp_path / "out"
    scenario(folder, "ok")
    scenario(folder, "too-much", r1=500, r2=500)
    first = run_batch([folder], out=out, workers=0).set_index("name")
    reason = first.at["too-much", "error"]
    assert reason.startswith("infeasible: period 1: demand that must be met is 1 000 m³"), reason
    result = CliRunner().invoke(
        app, ["batch", str(folder), "--out", str(out), "--workers", "0", "--resume", "--json"]
    )
    assert result.exit_code == 6, result.output
    rows = {r["name"]: r for r in json.loads(result.stdout)["scenarios"]}
    assert rows["too-much"]["skipped"] is True
    assert rows["too-much"]["error"] == reason
    csv = pd.read_csv(out / "comparison.csv").set_index("name")
    assert csv.at["too-much", "error"] == reason
    shown = CliRunner().invoke(
        app, ["batch", str(folder), "--out", str(out), "--workers", "0", "--resume"]
    )
    assert "too-much: infeasible (resumed) — infeasible: period 1: demand" in shown.output
