"""Safe by construction, and limits honoured.

No object construction from YAML; every user string escaped in maps and reports; a run
folder never replaced by another scenario's results without ``--force``; writes atomic
even when the process is killed; identical inputs give identical tables; the memory
guard refuses a too-large model before building; the solver time limit is honoured.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from helpers import write_scenario

from hubopt.api import solve
from hubopt.errors import ModelTooLargeError
from hubopt.present.maps import plan_map
from hubopt.present.report import render_report
from hubopt.runs import write_run
from hubopt.solvers import SolveStatus

REPO = Path(__file__).parents[1]
KOREA = REPO / "scenarios" / "korea" / "korea.yaml"
SCRIPT = "<script>alert(1)</script>"
HANDLER = '" onmouseover="alert(1)'
PAYLOADS = (SCRIPT, HANDLER, "<img src=x onerror=alert(1)>")


def cli(*args: str, env: dict[str, str] | None = None, **kw: Any) -> subprocess.CompletedProcess:
    """Run the real CLI."""
    return subprocess.run(
        [sys.executable, "-m", "hubopt.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
        **kw,
    )


def small_tables(label: str = "") -> dict[str, list[dict[str, Any]]]:
    """Two hubs, three regions, one product; ``label`` is put into every display name."""
    return {
        "hubs": [
            {
                "hub_id": "H1",
                "name": f"Seoul {label}",
                "lat": 37.5,
                "lon": 127.0,
                "fixed_cost": 10,
                "throughput_capacity": 80,
            },
            {
                "hub_id": "H2",
                "name": f"Busan {label}",
                "lat": 35.1,
                "lon": 129.0,
                "fixed_cost": 8,
                "throughput_capacity": 80,
            },
        ],
        "regions": [
            {
                "region_id": f"R{j}",
                "name": f"Region {j} {label}",
                "lat": 35.2 + j,
                "lon": 127.5,
                "province": f"Do {label}",
            }
            for j in range(3)
        ],
        "products": [
            {
                "product_id": "P1",
                "name": f"Jacket {label}",
                "unit_margin": 30,
                "lost_sale_penalty": 100,
            }
        ],
        "demand": [
            {"region_id": f"R{j}", "product_id": "P1", "period": t, "quantity": 10 + j, "std": 1}
            for j in range(3)
            for t in (1, 2)
        ],
    }


# ---- YAML and code execution -----------------------------------------------------------


def test_yaml_object_tags_are_refused_and_never_run(tmp_path: Path) -> None:
    """A `!!python/object/apply` tag is an input error (exit 2); the command never runs."""
    path = write_scenario(tmp_path, small_tables())
    sentinel = tmp_path / "pwned"
    path.write_text(
        path.read_text() + f'hook: !!python/object/apply:os.system ["touch {sentinel}"]\n'
    )
    proc = cli("solve", str(path), "--out", str(tmp_path / "run"), "--json")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "python/object" in json.loads(proc.stdout)["error"]
    assert not sentinel.exists()
    assert not (tmp_path / "run").exists()


# ---- escaping --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hostile_result(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A solved scenario whose every name carries script and event-handler payloads."""
    label = " ".join(PAYLOADS)
    folder = tmp_path_factory.mktemp("xss")
    path = write_scenario(
        folder,
        small_tables(label),
        name=f"xss {SCRIPT}",
        campaigns=[
            {
                "id": f"sale {SCRIPT}",
                "name": f"Sale {HANDLER}",
                "periods": [2],
                "uplift": 1.5,
                "delivery_window_hours": 48,
            }
        ],
    )
    result = solve(path)
    assert result.status == SolveStatus.OPTIMAL
    return result


def _assert_escaped(html: str) -> None:
    for payload in PAYLOADS:
        assert payload not in html, f"unescaped {payload!r}"
    assert 'onmouseover="alert(1)' not in html
    assert "onerror=alert(1)>" not in html


def test_map_escapes_every_user_string(hostile_result: Any) -> None:
    """Hub, region, product and campaign names are escaped in the rendered map."""
    html = plan_map(hostile_result).get_root().render()
    _assert_escaped(html)
    assert "alert(1)" in html  # the names are there, escaped


def test_report_escapes_every_user_string(hostile_result: Any) -> None:
    """The campaign-review report escapes every name, the scenario and campaign ids."""

    html = render_report(hostile_result)
    _assert_escaped(html)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


# ---- run folders -----------------------------------------------------------------------


def test_another_scenario_is_not_overwritten_without_force(tmp_path: Path) -> None:
    """Solving scenario B into A's folder exits 2 and leaves A intact; --force replaces it."""
    a = write_scenario(tmp_path / "a", small_tables(), name="scenario-a")
    b = write_scenario(tmp_path / "b", small_tables(), name="scenario-b")
    run = tmp_path / "run"
    assert cli("solve", str(a), "--out", str(run), "--json").returncode == 0
    before = {p.relative_to(run): p.read_bytes() for p in run.rglob("*") if p.is_file()}
    proc = cli("solve", str(b), "--out", str(run), "--json")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "scenario-a" in proc.stdout and "--force" in proc.stdout
    after = {p.relative_to(run): p.read_bytes() for p in run.rglob("*") if p.is_file()}
    assert after == before
    assert cli("solve", str(b), "--out", str(run), "--json", "--force").returncode == 0
    assert json.loads((run / "manifest.json").read_text())["scenario"] == "scenario-b"


def _complete(folder: Path) -> bool:
    manifest = folder / "manifest.json"
    if not manifest.exists():
        return False
    data = json.loads(manifest.read_text(encoding="utf-8"))
    pages = data.get("pages", [])
    return (folder / "solution" / "flows.csv").exists() and all(
        (folder / p).exists() for p in pages
    )


@pytest.mark.parametrize("kill_at", [0.2, 0.4, 0.6, 0.8, 0.95])
def test_killed_run_leaves_old_complete_folder_or_none(tmp_path: Path, kill_at: float) -> None:
    """SIGKILL at a fraction of a run's duration: the target is complete (old or new) or absent."""
    path = write_scenario(
        tmp_path / "s", small_tables(), name="atomic", output={"map": True, "report": True}
    )
    run = tmp_path / "run"
    start = time.perf_counter()
    assert cli("solve", str(path), "--out", str(run), "--json").returncode == 0
    duration = time.perf_counter() - start
    assert _complete(run)
    old_started = json.loads((run / "manifest.json").read_text())["started_at"]
    # a second run into the same folder, killed part-way
    proc = subprocess.Popen(
        [sys.executable, "-m", "hubopt.cli", "solve", str(path), "--out", str(run), "--json"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(duration * kill_at)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert run.exists(), "the old complete folder vanished"
    assert _complete(run), sorted(p.name for p in run.iterdir())
    assert json.loads((run / "manifest.json").read_text())["started_at"] >= old_started
    # the same for a first run: the target is absent or complete
    fresh = tmp_path / "fresh"
    proc = subprocess.Popen(
        [sys.executable, "-m", "hubopt.cli", "solve", str(path), "--out", str(fresh), "--json"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(duration * kill_at)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not fresh.exists() or _complete(fresh)


def test_same_inputs_and_seed_give_identical_tables(tmp_path: Path) -> None:
    """Two solves of one scenario write byte-identical solution and KPI tables."""
    path = write_scenario(tmp_path / "s", small_tables(), name="twice", solver={"seed": 7})
    first = write_run(solve(path), tmp_path / "one")
    second = write_run(solve(path), tmp_path / "two")
    files = sorted(p.relative_to(first) for p in first.rglob("*.csv"))
    assert files
    for rel in files:
        assert (first / rel).read_bytes() == (second / rel).read_bytes(), rel


# ---- limits ----------------------------------------------------------------------------


def test_memory_guard_refuses_before_building(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With 1 kB allowed the model is refused with a clear message, and never built."""
    path = write_scenario(tmp_path, small_tables())
    monkeypatch.setenv("HUBOPT_MEMORY_LIMIT_BYTES", "1000")

    def never(*args: object) -> None:
        raise AssertionError("build_model ran despite the guard")

    monkeypatch.setattr("hubopt.api.build_model", never)
    with pytest.raises(ModelTooLargeError) as info:
        solve(path)
    message = str(info.value)
    assert "Model too large" in message and "of memory available" in message
    assert "nearest_hubs" in message  # suggests pruning


def test_memory_guard_exit_code_2_and_nothing_written(tmp_path: Path) -> None:
    """The CLI maps the guard to exit 2 and writes nothing."""
    path = write_scenario(tmp_path / "s", small_tables())
    proc = cli(
        "solve",
        str(path),
        "--out",
        str(tmp_path / "run"),
        "--json",
        env={"HUBOPT_MEMORY_LIMIT_BYTES": "1000"},
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    payload = json.loads(proc.stdout)
    assert "Model too large" in payload["error"] and "delivery arcs" in payload["error"]
    assert not (tmp_path / "run").exists()
    assert "Traceback" not in proc.stderr


def test_time_limit_is_honoured() -> None:
    """Korea (10 weeks, 250 regions) with a 1 s limit and gap 0 stops on the limit, with a plan.

    The proof is the solver's own stop reason (its log), not a wall-clock comparison.
    """
    result = solve(KOREA, time_limit_s=1, mip_gap=0.0)
    assert result.status in {SolveStatus.FEASIBLE, SolveStatus.TIME_LIMIT}
    assert "time limit reached" in result.solver_log.lower(), result.solver_log[-2000:]
    if result.status == SolveStatus.FEASIBLE:
        assert result.verification is not None and result.verification.ok
