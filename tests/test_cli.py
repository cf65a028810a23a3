"""The `hubopt` CLI: JSON contract, exit codes, run folder contents (issue 2, DESIGN §5)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from helpers import write_scenario

from hubopt.cli.common import gap_text
from hubopt.orlib import read_orlib_cap, write_facility_scenario

FIXTURES = Path(__file__).parent / "fixtures"
CLI = [sys.executable, "-m", "hubopt.cli"]


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the CLI in a subprocess, as a planner would."""
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=300)


def tiny(tmp_path: Path, **blocks: object) -> Path:
    """One hub, one region, 10 units: cost = fixed 5 (no transport cost)."""
    return write_scenario(
        tmp_path,
        {
            "hubs": [{"hub_id": "H1", "lat": 37.5, "lon": 127.0, "fixed_cost": 5}],
            "regions": [{"region_id": "R1", "lat": 37.6, "lon": 127.1}],
            "products": [{"product_id": "P"}],
            "demand": [{"region_id": "R1", "product_id": "P", "period": 1, "quantity": 10}],
        },
        **blocks,
    )


def test_solve_json_is_one_object_with_the_contract_keys(tmp_path: Path) -> None:
    """`solve --json` prints exactly one JSON object with the documented keys; exit 0."""
    path = write_facility_scenario(
        read_orlib_cap(FIXTURES / "orlib" / "cap41.txt"), tmp_path / "cap41"
    )
    out = run_cli("solve", str(path), "--out", str(tmp_path / "run"), "--json")
    assert out.returncode == 0, out.stderr
    payload = json.loads(out.stdout)  # the whole stdout is one JSON document
    for key in (
        "status",
        "objective",
        "bound",
        "gap",
        "build_seconds",
        "solve_seconds",
        "run_dir",
        "kpis",
    ):
        assert key in payload
    assert payload["status"] == "optimal"
    assert payload["objective"] == pytest.approx(1040444.375, rel=1e-9)
    assert payload["verified"] is True
    run = Path(payload["run_dir"])
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["verification"]["ok"] is True
    assert manifest["status"] == "optimal" and manifest["input_hash"]
    for stem in ("hubs", "flows", "inflows", "stock", "unmet", "costs"):
        assert (run / "solution" / f"{stem}.parquet").exists() and (
            run / "solution" / f"{stem}.csv"
        ).exists()
    assert (run / "kpis.json").exists() and (run / "scenario.resolved.yaml").exists()
    assert not (run / "map.html").exists()  # output.map: false in the OR-Library scenario


def test_invalid_scenario_exits_2_naming_file_and_field(tmp_path: Path) -> None:
    """A typo'd key gives exit 2, the file, the key and a "did you mean" hint, no traceback."""
    path = tiny(tmp_path, policy={"max_open_hub": 3})
    out = run_cli("solve", str(path), "--out", str(tmp_path / "run"))
    assert out.returncode == 2
    assert "scenario.yaml" in out.stderr and "policy.max_open_hub" in out.stderr
    assert "Did you mean 'max_open_hubs'" in out.stderr
    assert "Traceback" not in out.stderr + out.stdout
    assert not (tmp_path / "run").exists()


def test_invalid_data_json_lists_problems(tmp_path: Path) -> None:
    """With --json the invalid-input answer is one JSON object listing every problem."""
    path = tiny(tmp_path)
    hubs = tmp_path / "data" / "hubs.csv"
    hubs.write_text("hub_id,lat,lon,fixed_cost\nH1,91,127,abc\n")
    out = run_cli("solve", str(path), "--json", "--out", str(tmp_path / "run"))
    assert out.returncode == 2
    payload = json.loads(out.stdout)
    assert payload["status"] == "invalid_input"
    text = " ".join(payload["problems"])
    assert (
        "hubs.csv, row 1, column 'lat'" in text and "hubs.csv, row 1, column 'fixed_cost'" in text
    )


def test_infeasible_exits_3_with_diagnosis(tmp_path: Path) -> None:
    """A window nothing can meet, no late penalty, no lost-sale penalty: exit 3 + diagnosis."""
    path = tiny(
        tmp_path, campaigns=[{"id": "flash", "delivery_window_hours": 0.01, "service_level": 1.0}]
    )
    out = run_cli("solve", str(path), "--json", "--out", str(tmp_path / "run"))
    assert out.returncode == 3, out.stdout + out.stderr
    payload = json.loads(out.stdout)
    assert payload["status"] == "infeasible"
    assert any("R1" in reason for reason in payload["diagnosis"])
    assert (Path(payload["run_dir"]) / "diagnosis.json").exists()


def test_validate_and_schema(tmp_path: Path) -> None:
    """`validate` summarises a valid scenario; `schema` prints a JSON Schema of the YAML."""
    out = run_cli("validate", str(tiny(tmp_path)), "--json")
    assert out.returncode == 0
    assert json.loads(out.stdout)["delivery_arcs"] == 1
    schema = json.loads(run_cli("schema").stdout)
    assert {"data", "campaigns", "policy", "solver", "output"} <= set(schema["properties"])


def test_backend_option_is_honoured(tmp_path: Path) -> None:
    """`--backend cbc` solves with CBC and reports it."""
    out = run_cli(
        "solve", str(tiny(tmp_path)), "--backend", "cbc", "--json", "--out", str(tmp_path / "run")
    )
    assert out.returncode == 0
    payload = json.loads(out.stdout)
    assert payload["backend"] == "cbc" and payload["objective"] == pytest.approx(5.0)


# ---- campaign decisions: footprint, economics, re-plan (issue 12) -----------------------


def campaign_toy(tmp_path: Path, **campaign: object) -> Path:
    """R1 wants 10 units in periods 1 and 2; HA (fixed 50 per period, 15 units out per
    period) ships at 1, HB (fixed 80) at 2; the sale doubles period 2 (margin 10 per unit)."""
    return write_scenario(
        tmp_path,
        {
            "hubs": [
                {
                    "hub_id": "HA",
                    "lat": 37.5,
                    "lon": 127.0,
                    "fixed_cost": 50,
                    "throughput_capacity": 15,
                },
                {"hub_id": "HB", "lat": 37.5, "lon": 127.0, "fixed_cost": 80},
            ],
            "regions": [{"region_id": "R1", "lat": 37.6, "lon": 127.1, "province": "Seoul"}],
            "products": [{"product_id": "P", "unit_margin": 10}],
            "demand": [
                {"region_id": "R1", "product_id": "P", "period": t, "quantity": 10} for t in (1, 2)
            ],
            "lanes": [
                {"from_id": "HA", "to_id": "R1", "cost_per_unit": 1},
                {"from_id": "HB", "to_id": "R1", "cost_per_unit": 2},
            ],
        },
        campaigns=[{"id": "sale", "periods": [2], "uplift": 2.0, "spend": 45, **campaign}],
        output={"map": True, "report": True},
    )


def test_solve_with_campaign_economics_and_footprint(tmp_path: Path) -> None:
    """`--campaign-economics` writes the marginal table and the report sections; with
    `footprint: optimize` the run has campaign_footprint.csv/parquet and says the objective
    is cost - incremental margin. Here the sale pays (margin 100 > 95 extra cost), so it
    runs in R1: objective 215 - 100 = 115."""
    path = campaign_toy(tmp_path, footprint="optimize")
    out = run_cli(
        "solve", str(path), "--out", str(tmp_path / "run"), "--json", "--campaign-economics"
    )
    assert out.returncode == 0, out.stderr
    payload = json.loads(out.stdout)
    assert payload["objective"] == pytest.approx(115)
    assert payload["objective_terms"] == "cost - incremental campaign margin"
    (row,) = payload["campaign_economics"]
    assert row["marginal_logistics_cost"] == pytest.approx(95)
    run = Path(payload["run_dir"])
    for suffix in ("csv", "parquet"):
        assert (run / "solution" / f"campaign_footprint.{suffix}").is_file()
    footprint = (run / "solution" / "campaign_footprint.csv").read_text().splitlines()
    assert footprint[0].startswith(
        "campaign_id,region_id,included,incremental_units,incremental_margin,spend,logistics_cost"
    )
    assert (run / "kpis" / "kpi_campaign_economics.csv").is_file()
    report = (run / "report.html").read_text(encoding="utf-8")
    assert "Where to run the campaign" in report and "Marginal campaign economics" in report
    assert "cost − incremental margin" in report
    page = (run / "map.html").read_text(encoding="utf-8")
    assert "Campaign footprint: sale" in page and "Campaign promise: sale" in page


def test_replan_command(tmp_path: Path) -> None:
    """`hubopt replan` re-plans period 2 from 3 units found at HA: period 1 is frozen, the
    stock at period 1 is 3, period 2 buys 3 fewer; bad rows exit 2 naming the row."""
    path = campaign_toy(tmp_path)
    first = run_cli("solve", str(path), "--out", str(tmp_path / "run"), "--json")
    assert first.returncode == 0, first.stderr
    stock = tmp_path / "stock.csv"
    stock.write_text("hub_id,product_id,quantity\nHA,P,3\n")
    sales = tmp_path / "sales.csv"
    sales.write_text("region_id,product_id,period,quantity\nR1,P,1,10\n")
    out = run_cli(
        "replan",
        str(tmp_path / "run"),
        "--stock",
        str(stock),
        "--sales",
        str(sales),
        "--from-period",
        "2",
        "--out",
        str(tmp_path / "replan"),
        "--json",
    )
    assert out.returncode == 0, out.stderr
    payload = json.loads(out.stdout)
    assert payload["verified"] is True
    run = Path(payload["run_dir"])
    assert (run / "replan_changes.csv").is_file()
    held = (run / "solution" / "stock.csv").read_text().splitlines()
    assert "HA,P,1,3.0" in held
    assert "What the re-plan changed" in (run / "report.html").read_text(encoding="utf-8")
    stock.write_text("hub_id,product_id,quantity\nHX,P,3\nHA,P,-1\n")
    bad = run_cli(
        "replan", str(tmp_path / "run"), "--stock", str(stock), "--from-period", "2", "--json"
    )
    assert bad.returncode == 2
    problems = json.loads(bad.stdout)["problems"]
    assert any("row 2" in p and "HX" in p for p in problems)
    assert any("row 3" in p and "quantity >= 0" in p for p in problems)
    sales.write_text("region_id,product_id,period,quantity\nR1,P,2,10\n")
    late = run_cli(
        "replan",
        str(tmp_path / "run"),
        "--stock",
        str(tmp_path / "stock.csv"),
        "--sales",
        str(sales),
        "--from-period",
        "2",
        "--json",
    )
    assert late.returncode == 2 and "row 2" in late.stdout


def test_backend_heuristic_returns_the_search_plan_with_its_bound(tmp_path: Path) -> None:
    """`--backend heuristic` on cap41: a verified plan, bound <= published optimum <= plan,
    and the status says whether the LP bound proves it (optimal) or not (feasible)."""
    path = write_facility_scenario(
        read_orlib_cap(FIXTURES / "orlib" / "cap41.txt"), tmp_path / "cap41"
    )
    out = run_cli(
        "solve", str(path), "--backend", "heuristic", "--json", "--out", str(tmp_path / "run")
    )
    assert out.returncode == 0, out.stderr
    payload = json.loads(out.stdout)
    assert payload["backend"] == "heuristic" and payload["verified"] is True
    assert payload["bound"] <= 1040444.375 * (1 + 1e-9) <= payload["objective"] * (1 + 2e-9)
    proven = payload["objective"] - payload["bound"] <= 1e-9 * payload["objective"]  # mip_gap 0
    assert payload["status"] == ("optimal" if proven else "feasible")


def test_gap_line_says_proven_optimal_only_at_a_zero_gap() -> None:
    """The summary's gap line: a plan within a 1 % ``mip_gap`` (status optimal, plan 100 000,
    bound 99 160) is "proven" within 840 of the optimum, not "proven optimal"; a time-limited
    plan is "not proven optimal"; an exact one is "proven optimal"."""

    def line(status: str, objective: float, bound: float) -> str:
        gap = (objective - bound) / objective
        return gap_text(SimpleNamespace(status=status, objective=objective, bound=bound, gap=gap))

    assert line("optimal", 100_000.0, 99_160.0) == "0.84%: proven, at most 840 above the optimum"
    assert line("feasible", 100_000.0, 99_160.0).startswith(
        "0.84%: not proven optimal, at most 840"
    )
    assert line("optimal", 1000.0, 1000.0) == "0.00%: proven optimal"


HEAVY = ("highspy", "pulp", "ortools", "folium", "dask", "distributed", "hubopt.api")


def test_the_package_and_the_cli_import_nothing_heavy_until_used() -> None:
    """`import hubopt` and `hubopt --help` load no solver, map or Dask module (they are
    imported on first use), and every public name still resolves; `hubopt.compare` and
    `hubopt.replan` stay the functions even once their submodules are imported."""
    probe = (
        "import sys, hubopt, hubopt.cli\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
        "import hubopt.batch, hubopt.replan.plan\n"
        "from hubopt import compare, replan\n"
        "print(callable(compare), compare.__module__, replan.__module__, hubopt.compare is compare)\n"
        "missing = [n for n in hubopt.__all__ if getattr(hubopt, n, None) is None]\n"
        "print(missing, sorted(set(hubopt.__all__) - set(dir(hubopt))))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    loaded, functions, names = proc.stdout.splitlines()
    assert loaded == "[]"
    assert functions == "True hubopt.compare hubopt.replan.plan True"
    assert names == "[] []"
    with pytest.raises(AttributeError, match="no attribute 'nonexistent'"):
        import hubopt

        hubopt.nonexistent  # noqa: B018
    help_text = run_cli("--help")
    assert help_text.returncode == 0 and "solve" in help_text.stdout
