"""The benchmark harness's pieces that can be wrong (benchmarks/): the textbook baselines,
the ladder generator, the results file. Nothing here measures speed."""

from __future__ import annotations

import csv
import dataclasses
import json
import math
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import FIXTURES

from benchmarks.harness import (
    COLUMNS,
    MEMORY_LIMITS,
    Case,
    Pace,
    Settings,
    apply_options,
    cases_for,
    make_row,
    read_cap_variant_optima,
    run_child,
    write_results,
)
from benchmarks.ladder import LadderSize, ladder_tables, write_ladder_scenario
from benchmarks.run import main as run_main
from benchmarks.run import parse_options, read_rows, table
from benchmarks.textbook import cflp_matrix, highs_cflp, highs_plain, pulp_cflp, pulp_matrix
from hubopt.api import solve
from hubopt.data.problem import build_problem
from hubopt.model.build import build_model
from hubopt.orlib import FacilityInstance, read_optima, read_orlib_cap
from hubopt.scenario.scenario import load_scenario

CAP_OPTIMA = read_optima(FIXTURES / "orlib" / "capopt.txt")
REL = 1e-6  # capopt prints 3 decimals
DOCS = Path(__file__).parents[1] / "docs" / "solvers.md"

# Two facilities (capacity 10, fixed cost 100 each), two customers of 6 units; facility 1
# serves either customer for 1, facility 2 for 50. Both must open (12 > 10). Split: F1
# takes customer 1 and 4/6 of customer 2, F2 the other 2/6: 200 + 1 + 4/6 + 50 * 2/6.
# Single source: one customer on each: 200 + 1 + 50.
TWO_BY_TWO = FacilityInstance(
    "two", np.array([10.0, 10.0]), np.array([100.0, 100.0]), np.array([6.0, 6.0]),
    np.array([[1.0, 1.0], [50.0, 50.0]]),
)  # fmt: skip
SPLIT_OPT = 200 + 1 + 4 / 6 + 50 * 2 / 6
SINGLE_OPT = 251.0


@pytest.mark.parametrize("name", ["cap41", "cap131"])
def test_pulp_textbook_reaches_published_optimum(name: str) -> None:
    """The PuLP + CBC textbook CFLP reaches OR-Library's optimum on cap41 and cap131."""
    out = pulp_cflp(read_orlib_cap(FIXTURES / "orlib" / f"{name}.txt"), time_limit=60)
    assert out.status == "optimal"
    assert math.isclose(out.objective, CAP_OPTIMA[name], rel_tol=REL)


@pytest.mark.parametrize("name", ["cap41", "cap131"])
def test_bare_highs_textbook_reaches_published_optimum(name: str) -> None:
    """The bare-HiGHS textbook matrix reaches OR-Library's optimum on cap41 and cap131."""
    out = highs_cflp(read_orlib_cap(FIXTURES / "orlib" / f"{name}.txt"), time_limit=60)
    assert out.status == "optimal"
    assert math.isclose(out.objective, CAP_OPTIMA[name], rel_tol=REL)
    assert out.gap == 0.0 and out.bound == pytest.approx(out.objective)


@pytest.mark.parametrize("strong", [True, False])
@pytest.mark.parametrize("single", [False, True])
def test_textbook_models_split_or_single_source(single: bool, strong: bool) -> None:
    """2x2 by hand: split 218.33 (multi-source) vs 251 (single source), in both baselines,
    with or without the per-arc linking rows."""
    expected = SINGLE_OPT if single else SPLIT_OPT
    for out in (
        highs_cflp(TWO_BY_TWO, 30, single_source=single, strong=strong),
        pulp_cflp(TWO_BY_TWO, 30, single_source=single, strong=strong),
    ):
        assert out.status == "optimal"
        assert out.objective == pytest.approx(expected, rel=1e-9)


def test_cflp_matrix_has_strong_linking_rows() -> None:
    """One assignment row per customer, one capacity row per facility, one x_ij <= y_i per arc."""
    mat = cflp_matrix(TWO_BY_TWO)
    assert mat.A.shape == (2 + 2 + 4, 2 + 4)
    link = mat.A[4:].toarray()  # rows n+m.. : x_ij - y_i <= 0
    assert (link[:, :2].sum(axis=1) == -1).all() and (link[:, 2:].sum(axis=1) == 1).all()
    assert list(mat.integer) == [True, True, False, False, False, False]
    assert cflp_matrix(TWO_BY_TWO, strong=False).A.shape == (2 + 2, 2 + 4)


def test_ladder_generator_is_seeded() -> None:
    """Same size and seed: identical tables; another seed: different demand."""
    size = LadderSize.parse("40x6x3x4")
    first, again = ladder_tables(size, seed=3), ladder_tables(size, seed=3)
    assert first.keys() == again.keys()
    for name in first:
        pd.testing.assert_frame_equal(first[name], again[name])
    other = ladder_tables(size, seed=4)
    assert not first["demand"].equals(other["demand"])
    assert len(first["regions"]) == 40 and len(first["hubs"]) == 6
    assert len(first["products"]) == 3 and set(first["demand"]["period"]) == {1, 2, 3, 4}


def test_ladder_size_label_round_trips() -> None:
    """``RxHxPxT`` parses and prints back; malformed labels are refused."""
    assert LadderSize.parse("250x25x6x8").label == "250x25x6x8"
    with pytest.raises(ValueError, match="RxHxPxT"):
        LadderSize.parse("250x25x6")


def test_ladder_scenario_validates_windows_prune_and_baselines_agree(tmp_path: Path) -> None:
    """A small rung loads and solves to a verified plan; the delivery windows leave fewer
    hub-region arcs than regions x hubs; bare HiGHS and PuLP on the same matrix reach
    hubopt's optimum (gap 0)."""
    path = write_ladder_scenario("40x6x2x3", tmp_path, seed=1, time_limit_s=60, mip_gap=0.0)
    problem = build_problem(load_scenario(path))
    arcs = problem.out_arcs
    region = problem.streams["region_idx"].to_numpy()[arcs["stream_idx"].to_numpy()]
    pairs = set(zip(arcs["hub_idx"], region, strict=True))
    assert 40 <= len(pairs) < 40 * 6
    result = solve(path)
    assert str(result.status) == "optimal"
    assert result.verification is not None and result.verification.ok
    model = build_model(problem)
    bare = highs_plain(model, 60, 0.0)
    textbook = pulp_matrix(model, 60, 0.0)
    assert bare.status == textbook.status == "optimal"
    assert bare.objective == pytest.approx(result.objective, rel=1e-6)
    assert textbook.objective == pytest.approx(result.objective, rel=1e-6)


def test_cap_variant_optima_are_read() -> None:
    """capopt's continuation lines give all 12 capa/b/c variants."""
    optima = read_cap_variant_optima(FIXTURES / "orlib" / "capopt.txt")
    assert len(optima) == 12
    assert optima["capa-8000"] == 19240822.449
    assert optima["capb-5000"] == 13656379.578
    assert optima["capc-7250"] == 11505767.394


def test_options_apply_to_the_scenario_and_unknown_keys_fail(tmp_path: Path) -> None:
    """``--option policy.linking=stream`` changes the config; a misspelt key is refused."""
    path = write_ladder_scenario("20x4x1x2", tmp_path)
    scenario = load_scenario(path)
    changed = apply_options(scenario, {"policy.linking": "stream", "solver.time_limit_s": 7})
    assert changed.config.policy.linking == "stream"
    assert changed.config.solver.time_limit_s == 7
    with pytest.raises(ValueError, match="linkin"):
        apply_options(scenario, {"policy.linkin": "stream"})


def test_results_csv_has_the_documented_columns(tmp_path: Path) -> None:
    """The CSV header is COLUMNS in order, docs/solvers.md lists every column, the sidecar
    JSON has the machine info, and a row from fake runs carries the ratios."""
    case = Case("orlib", "cap41", "cflp", "x", "x", "16x50", 60.0, 0.0, optimum=100.0)
    runs = {
        "hubopt": {"status": "optimal", "objective": 100.0, "bound": 100.0, "gap": 0.0,
                   "build_s": 0.5, "solve_s": 1.0, "total_s": 2.0, "verified": True,
                   "peak_rss_mb": 150.0, "columns": 10, "rows": 5, "nonzeros": 20},
        "highs": {"status": "optimal", "objective": 100.0, "total_s": 4.0, "peak_rss_mb": 90.0},
        "pulp": {"status": "time_limit", "total_s": 60.0, "peak_rss_mb": 120.0},
    }  # fmt: skip
    row = make_row(case, Settings(), runs)
    assert row["speedup_vs_highs"] == 2.0 and row["speedup_vs_pulp"] == 30.0
    assert row["pulp_failed"] is True and row["hubopt_rel_error"] == 0.0
    assert row["hubopt_build_share"] == 0.25
    info = {"machine": {"cpu_count": 2}, "load_start": [0.1], "load_end": [0.2]}
    path, side = write_results([row], tmp_path / "x-orlib.csv", info)
    with path.open(newline="") as fh:
        header = next(csv.reader(fh))
    assert header == COLUMNS
    assert json.loads(side.read_text())["machine"]["cpu_count"] == 2
    documented = set(re.findall(r"^\| `(\w+)` \|", DOCS.read_text(), flags=re.MULTILINE))
    assert set(COLUMNS) <= documented, sorted(set(COLUMNS) - documented)
    text = table([{k: str(v) for k, v in row.items()}])
    assert ">=30.00x (time_limit)" in text and "2.00x" in text
    assert "PuLP + CBC failed (no proven optimum) on 1/1" in text


def test_quick_set_needs_only_repo_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without ../shared/benchmarks the quick OR-Library and Holmberg cases come from
    tests/fixtures at 60 s per run, and capa/b/c is skipped with a message (and is never in
    the quick set)."""
    assert cases_for("capabc", True, tmp_path, Settings()) == ([], "not in the quick subset")
    monkeypatch.setattr("benchmarks.harness.shared_dir", lambda: None)
    orlib, _ = cases_for("orlib", True, tmp_path, Settings())
    assert [c.name for c in orlib] == ["cap41", "cap71", "cap101", "cap131"]
    holmberg, _ = cases_for("holmberg", True, tmp_path, Settings())
    assert [c.name for c in holmberg] == ["p13"] and holmberg[0].optimum == 8252
    assert {c.time_limit for c in orlib + holmberg} == {60.0}
    capabc, note = cases_for("capabc", False, tmp_path, Settings())
    assert capabc == [] and "skipped" in note


def test_child_process_reports_result_and_peak_rss(tmp_path: Path) -> None:
    """A run in a child process returns the bare-HiGHS optimum of cap41 and its own peak RSS."""
    [case] = cases_for("orlib", False, tmp_path, Settings(), only=["cap41"])[0]
    out = run_child("highs", case, Settings())
    assert out["status"] == "optimal"
    assert math.isclose(out["objective"], CAP_OPTIMA["cap41"], rel_tol=REL)
    assert out["peak_rss_mb"] > 10


def test_hubopts_solver_log_is_kept_beside_the_results(tmp_path: Path) -> None:
    """The hubopt child's solver log (the run folder's ``solver.log``) goes to the given
    file, not into the results row."""
    [case] = cases_for("orlib", False, tmp_path, Settings(), only=["cap41"])[0]
    log = tmp_path / "logs" / "cap41.log"
    out = run_child("hubopt", case, Settings(), log)
    assert out["status"] == "optimal" and "solver_log" not in out
    text = log.read_text(encoding="utf-8")
    assert "HiGHS" in text and "Objective value" in text, text[:500]


def test_a_killed_run_reports_its_seconds_so_the_ratio_is_a_lower_bound(tmp_path: Path) -> None:
    """A child still running past kill_factor x limit + kill_grace_s is killed; its
    seconds until then are its time, and the table reads the ratio as ``>=``."""
    # korea-small: PuLP + CBC take over a minute on it (81 s in the harness), and building
    # its model alone takes seconds, so the child is surely still running at 0.2 s (cap41,
    # once used here, answered within the parent's first 0.5 s poll)
    [case] = cases_for("korea", False, tmp_path, Settings(), only=["korea-small"])[0]
    quick = Settings(kill_factor=0.0, kill_grace_s=0.2)
    out = run_child("pulp", case, quick)
    assert out["status"] == "killed" and "0.2 s" in out["message"]
    assert 0.2 <= out["total_s"] < 30
    ours = {"status": "optimal", "total_s": out["total_s"] / 4}
    row = make_row(case, quick, {"hubopt": ours, "pulp": out})
    assert row["speedup_vs_pulp"] == pytest.approx(4.0) and row["pulp_failed"] is True
    assert ">=4.00x (killed)" in table([{k: str(v) for k, v in row.items()}])


def test_hubopt_child_plans_within_the_cases_memory_limit(tmp_path: Path) -> None:
    """A ladder case's memory limit reaches hubopt in its child process (as
    ``HUBOPT_MEMORY_LIMIT_BYTES``): with 1 kB the guard refuses the rung, naming the
    memory; the results row says the limit. The 5000 rung plans within issue 8's 8 GB."""
    assert MEMORY_LIMITS["5000x300x20x12"] == 8_000_000_000
    [case] = cases_for("ladder", False, tmp_path, Settings(), only=["20x4x1x2"])[0]
    assert case.memory_limit is None
    tight = dataclasses.replace(case, memory_limit=1000)
    out = run_child("hubopt", tight, Settings())
    assert out["status"] == "error"
    assert "memory" in out["message"] and "1000" not in os.environ.get(
        "HUBOPT_MEMORY_LIMIT_BYTES", ""
    )
    row = make_row(tight, Settings(), {"hubopt": out})
    assert "hubopt planned within 1e-06 GB" in row["note"]


def test_option_values_are_parsed_as_yaml() -> None:
    """``--option k=v`` values are YAML scalars; ``--method M`` is ``solver.method=M``."""
    options = parse_options(["policy.linking=stream", "solver.time_limit_s=5"], "benders")
    assert options == {"policy.linking": "stream", "solver.time_limit_s": 5,
                       "solver.method": "benders"}  # fmt: skip
    with pytest.raises(SystemExit, match="KEY=VALUE"):
        parse_options(["nokey"], None)


def test_an_interrupted_run_resumes_where_it_stopped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--resume STAMP`` keeps the instances the run measured, measures the rest into the
    same file and lists both sessions (each with the machine's pace); other settings,
    another commit or a stamp with no results are refused with exit 2, naming what
    differs."""
    machine = {"cpu_count": 2, "ram_gb": 1.0, "git_commit": "abc123", "git_dirty": False}
    monkeypatch.setattr("benchmarks.run.machine_info", lambda: dict(machine))
    base = ["--sets", "orlib", "--runners", "highs", "--out", str(tmp_path)]
    assert run_main([*base, "--only", "cap41"]) == 0
    [csv_path] = tmp_path.glob("*-orlib.csv")
    stamp = csv_path.name.removesuffix("-orlib.csv")
    assert f"--resume {stamp}" in capsys.readouterr().out
    first = read_rows([csv_path])
    assert [r["instance"] for r in first] == ["cap41"]

    assert run_main([*base, "--only", "cap41", "cap71", "--resume", stamp]) == 0
    assert "resumed: 1 of 2 instances measured before" in capsys.readouterr().out
    rows = read_rows([csv_path])
    assert [r["instance"] for r in rows] == ["cap41", "cap71"]
    assert rows[0] == first[0]  # kept, not measured again
    assert math.isclose(float(rows[1]["highs_objective"]), CAP_OPTIMA["cap71"], rel_tol=REL)
    info = json.loads(csv_path.with_suffix(".json").read_text())
    assert len(info["sessions"]) == 2 and info["complete"] is True
    # the machine's pace at each session's start and end; the file's start is the run's
    assert all(s["pace_start_s"] > 0 and s["pace_end_s"] > 0 for s in info["sessions"])
    assert info["pace_start_s"] == info["sessions"][0]["pace_start_s"]
    assert info["pace_end_s"] == info["sessions"][1]["pace_end_s"]

    pulp = ["--sets", "orlib", "--runners", "pulp", "--out", str(tmp_path)]
    assert run_main([*pulp, "--resume", stamp]) == 2
    err = capsys.readouterr().err
    assert f"{stamp}-orlib.json" in err and "settings was" in err
    machine["git_commit"] = "def456"
    assert run_main([*base, "--resume", stamp]) == 2
    assert "git commit was abc123, now def456" in capsys.readouterr().err
    assert run_main([*base, "--resume", "19990101T000000Z"]) == 2
    assert "no results of that run" in capsys.readouterr().err


def test_the_pace_is_one_lps_seconds_whatever_ran_on_the_thread_before(tmp_path: Path) -> None:
    """:class:`Pace` times an optimal LP even after a HiGHS run with two threads on the
    same thread (whose scheduler refuses a one-thread run: status "Not Set"); what it
    times is the 200x20x4x6 rung's whole LP relaxation."""
    import highspy

    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 2)
    h.addVar(0.0, 1.0)
    h.run()
    assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    pace = Pace(tmp_path)
    assert pace.model.n_vars > 10_000 and not pace.model.integer.any()
    assert 0.0 < pace.seconds() < 120.0
