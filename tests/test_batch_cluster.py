"""Batches on a real Dask cluster: a `dask scheduler` and `dask worker` processes on
127.0.0.1, started here as subprocesses (free ports, bounded waits, killed by PID).

The scenarios are tiny (two hubs, two regions, one product; the optimum opens only H1:
its fixed cost 100 is the objective, see :func:`two_hubs`), so the time goes into the
cluster, not the solver. Where a scenario must still be running when the scheduler or a
worker is killed, the workers get ``tests/fixtures/slow_solve`` on their PYTHONPATH and
``HUBOPT_TEST_SOLVE_DELAY_S``: every solve then sleeps first.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from helpers import FIXTURES, write_scenario
from typer.testing import CliRunner

from hubopt.batch import run_batch
from hubopt.cli import app
from hubopt.errors import NoWorkersError
from hubopt.runs import read_manifest

REPO = Path(__file__).resolve().parents[1]
DASK = [str(Path(sys.executable).with_name("dask"))]
START_TIMEOUT_S = 60.0
DELAY_S = 4.0


def two_hubs(folder: Path, name: str, data_dir: str = "", **blocks: Any) -> Path:
    """``folder/<name>.yaml``: hubs H1 (fixed cost 100) and H2 (150), capacity 100 each,
    regions R1 (10 units) and R2 (20 units), no transport cost: H1 alone serves both, so
    the optimum is 100. Tables in ``folder/<data_dir or name>/data/``."""
    hubs = [
        {"hub_id": "H1", "lat": 37.5, "lon": 127.0, "fixed_cost": 100, "throughput_capacity": 100},
        {"hub_id": "H2", "lat": 35.1, "lon": 129.0, "fixed_cost": 150, "throughput_capacity": 100},
    ]
    regions = [
        {"region_id": "R1", "lat": 37.6, "lon": 127.1},
        {"region_id": "R2", "lat": 35.2, "lon": 129.1},
    ]
    demand = [
        {"region_id": "R1", "product_id": "P", "period": 1, "quantity": 10},
        {"region_id": "R2", "product_id": "P", "period": 1, "quantity": 20},
    ]
    tables = {"hubs": hubs, "regions": regions, "products": [{"product_id": "P"}], "demand": demand}
    sub = data_dir or name
    written = write_scenario(folder / sub, tables, name=name, **blocks)
    doc = yaml.safe_load(written.read_text())
    doc["data"] = {k: f"{sub}/{v}" for k, v in doc["data"].items()}
    target = folder / f"{name}.yaml"
    target.write_text(yaml.safe_dump(doc, sort_keys=False))
    written.unlink()
    return target


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Cluster:
    """A scheduler and workers as subprocesses; every one is stopped by its PID."""

    def __init__(self, folder: Path, delay_s: float = 0.0) -> None:
        self.folder = folder
        self.port = free_port()
        self.address = f"tcp://127.0.0.1:{self.port}"
        self.processes: list[subprocess.Popen[bytes]] = []
        self.env = os.environ | {"PYTHONPATH": os.pathsep.join([str(REPO), *self._extra(delay_s)])}
        if delay_s:
            self.env["HUBOPT_TEST_SOLVE_DELAY_S"] = str(delay_s)
        self.cwd = folder / "worker-cwd"  # not where the scenarios are
        self.cwd.mkdir(parents=True, exist_ok=True)

    @staticmethod
    def _extra(delay_s: float) -> list[str]:
        return [str(FIXTURES / "slow_solve")] if delay_s else []

    def _start(self, args: list[str], log: str) -> subprocess.Popen[bytes]:
        with (self.folder / log).open("wb") as sink:
            process = subprocess.Popen(
                [*DASK, *args], cwd=self.cwd, env=self.env, stdout=sink, stderr=sink
            )
        self.processes.append(process)
        return process

    def start_scheduler(self) -> subprocess.Popen[bytes]:
        """Start the scheduler and wait until its port accepts connections."""
        process = self._start(
            [
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--dashboard-address",
                ":0",
                "--no-show",
            ],
            "scheduler.log",
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return process
            except OSError:
                time.sleep(0.2)
        raise TimeoutError(f"the scheduler did not listen on {self.port}")

    def start_workers(self, count: int) -> list[subprocess.Popen[bytes]]:
        """Start ``count`` single-threaded workers without nanny (the PID is the worker)."""
        workers = [
            self._start(
                [
                    "worker",
                    self.address,
                    "--nthreads",
                    "1",
                    "--no-nanny",
                    "--no-dashboard",
                    "--host",
                    "127.0.0.1",
                ],
                f"worker-{len(self.processes)}.log",
            )
            for _ in range(count)
        ]
        self.wait_for_workers(count)
        return workers

    def wait_for_workers(self, count: int) -> None:
        """Block until the scheduler knows ``count`` workers (bounded)."""
        from distributed import Client

        with Client(self.address, timeout="30s", set_as_default=False) as client:
            client.wait_for_workers(count, timeout=START_TIMEOUT_S)

    def stop(self) -> None:
        """Kill every process started here, by PID."""
        for process in self.processes:
            if process.poll() is None:
                process.kill()
        for process in self.processes:
            process.wait(timeout=30)


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    """A scheduler with no worker."""
    running = Cluster(tmp_path / "cluster")
    running.start_scheduler()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def one_worker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """A scheduler and one single-threaded worker, shared by the tests that do not kill."""
    running = Cluster(tmp_path_factory.mktemp("cluster"))
    running.start_scheduler()
    running.start_workers(1)
    yield running
    running.stop()


@pytest.fixture
def slow_cluster(tmp_path: Path) -> Iterator[Cluster]:
    """A scheduler whose workers' solves each sleep DELAY_S first."""
    running = Cluster(tmp_path / "cluster", delay_s=DELAY_S)
    running.start_scheduler()
    yield running
    running.stop()


def wait_for(condition: Any, timeout_s: float = START_TIMEOUT_S) -> None:
    """Poll ``condition()`` until true (bounded)."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met")
        time.sleep(0.2)


def test_mixed_threads_and_relative_paths_from_another_directory_solve(
    one_worker: Cluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One worker solves solver.threads 1, 2, 3 and 0 one after another (HiGHS used to
    keep the first count: "Not Set"), from relative scenario, data and --out paths given
    in a directory the worker does not run in; each manifest records its threads."""
    cluster = one_worker
    client_dir = tmp_path / "client"
    for threads in (1, 2, 3, 0):
        two_hubs(client_dir / "scenarios", f"t{threads}", solver={"threads": threads})
    monkeypatch.chdir(client_dir)
    runner = CliRunner()
    args = ["batch", "scenarios", "--out", "out", "--dask-scheduler", cluster.address, "--json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    rows = {r["name"]: r for r in json.loads(result.stdout.strip().splitlines()[-1])["scenarios"]}
    assert {n: r["status"] for n, r in rows.items()} == dict.fromkeys(
        ["t0", "t1", "t2", "t3"], "optimal"
    )
    assert {n: r["objective"] for n, r in rows.items()} == pytest.approx(dict.fromkeys(rows, 100.0))
    share = max(1, (os.cpu_count() or 1) // 1)  # one single-threaded worker on this machine
    threads = {n: r["threads"] for n, r in rows.items()}
    assert threads == {"t0": share, "t1": 1, "t2": 2, "t3": 3}
    manifest = read_manifest(client_dir / "out" / "t2")
    assert manifest is not None and manifest["batch"]["threads_per_solve"] == 2
    assert not (cluster.cwd / "out").exists()


def test_ship_data_returns_run_folders_with_the_clients_paths(
    one_worker: Cluster, tmp_path: Path
) -> None:
    """--ship-data: the worker reads shipped copies of the tables, yet the run folder on
    the client names the client's table paths and has the input hash of a local run."""
    cluster = one_worker
    path = two_hubs(tmp_path / "s", "shipped")
    local = run_batch([path], out=tmp_path / "local", workers=0)
    shipped = run_batch(
        [path], out=tmp_path / "dask", dask_scheduler=cluster.address, ship_data=True
    )
    assert shipped["status"].tolist() == ["optimal"]
    assert shipped["input_hash"].tolist() == local["input_hash"].tolist()
    resolved = (tmp_path / "dask" / "shipped" / "scenario.resolved.yaml").read_text()
    assert str(tmp_path / "s" / "shipped" / "data" / "demand.csv") in resolved
    assert "hubopt-job-" not in resolved


def test_killing_the_scheduler_never_leaves_a_finished_scenario_crashed(
    slow_cluster: Cluster, tmp_path: Path
) -> None:
    """The scheduler dies while two scenarios are solving: their processes finish, and
    reconciliation reports them from their run folders; the scenarios never started are
    `lost`; comparison.csv is written after the last run folder."""
    slow_cluster.start_workers(2)
    folder, out = tmp_path / "s", tmp_path / "out"
    paths = [two_hubs(folder, f"s{i}", data_dir="shared") for i in range(4)]
    scheduler = slow_cluster.processes[0]

    def kill_when_two_run() -> None:
        wait_for(lambda: len(list(out.glob(".*.lease"))) >= 2)
        scheduler.send_signal(signal.SIGKILL)

    killer = threading.Thread(target=kill_when_two_run, daemon=True)
    killer.start()
    table = run_batch(paths, out=out, dask_scheduler=slow_cluster.address).set_index("name")
    killer.join(timeout=1)
    assert table.attrs["incident"]["kind"] == "scheduler_lost"
    finished = [n for n in table.index if read_manifest(out / n) is not None]
    assert len(finished) >= 2
    for name in finished:
        assert table.at[name, "status"] == "optimal", table.loc[name].to_dict()
        assert "recovered from its run folder" in str(table.at[name, "note"])
    assert set(table["status"]) <= {"optimal", "lost"}
    csv_written = (out / "comparison.csv").stat().st_mtime_ns
    assert all((out / n / "manifest.json").stat().st_mtime_ns <= csv_written for n in finished)
    from_csv = pd.read_csv(out / "comparison.csv").set_index("name")
    assert from_csv.loc[finished, "status"].tolist() == ["optimal"] * len(finished)


def test_killing_a_worker_is_recorded_as_a_rerun(slow_cluster: Cluster, tmp_path: Path) -> None:
    """A worker killed (SIGKILL) in the middle of a solve: Dask re-runs the scenario on the
    other worker, and both the row and the run folder's manifest say it was attempt 2."""
    workers = slow_cluster.start_workers(2)
    out = tmp_path / "out"
    path = two_hubs(tmp_path / "s", "victim")
    by_pid = {w.pid: w for w in workers}

    def kill_the_worker_running_it() -> None:
        lease = out / ".victim.lease"
        wait_for(lease.is_file)
        record = json.loads(lease.read_text())
        by_pid[record["pid"]].send_signal(signal.SIGKILL)

    killer = threading.Thread(target=kill_the_worker_running_it, daemon=True)
    killer.start()
    table = run_batch([path], out=out, dask_scheduler=slow_cluster.address)
    killer.join(timeout=1)
    row = table.iloc[0]
    assert row["status"] == "optimal" and row["objective"] == pytest.approx(100)
    assert row["attempts"] == 2
    manifest = read_manifest(out / "victim")
    assert manifest is not None
    if manifest["batch"]["attempt"] == 2:  # the re-run solved it (the usual case)
        assert row["note"] == "re-run after a lost worker (attempt 2)"
        assert manifest["batch"]["previous"]["pid"] in by_pid
    else:  # the killed worker's scenario process finished before the re-run began
        assert row["note"].startswith("finished by the lost worker's process")
    assert not list(out.glob(".*.lease"))


def test_zero_workers_is_a_documented_error_within_the_timeout(
    cluster: Cluster, tmp_path: Path
) -> None:
    """A scheduler without workers: NoWorkersError after --worker-timeout, CLI exit 7;
    nothing is written."""
    path = two_hubs(tmp_path / "s", "alone")
    with pytest.raises(NoWorkersError, match=r"no Dask worker .* within 2 s"):
        run_batch([path], out=tmp_path / "out", dask_scheduler=cluster.address, worker_timeout_s=2)
    args = ["batch", str(path), "--out", str(tmp_path / "o"), "--dask-scheduler"]
    result = CliRunner().invoke(app, [*args, cluster.address, "--worker-timeout", "2"])
    assert result.exit_code == 7, result.output
    assert not (tmp_path / "o" / "comparison.csv").exists()


def test_unreachable_scheduler_has_its_own_exit_code(tmp_path: Path) -> None:
    """Nobody listens at the address: exit 8 with the address in the message (not 5)."""
    path = two_hubs(tmp_path / "s", "nowhere")
    address = f"tcp://127.0.0.1:{free_port()}"
    args = ["batch", str(path), "--out", str(tmp_path / "o"), "--dask-scheduler", address]
    result = CliRunner().invoke(app, [*args, "--worker-timeout", "2", "--json"])
    assert result.exit_code == 8, result.output
    payload = json.loads(result.stdout.strip().splitlines()[-1])
    assert payload["exit_code"] == 8 and address in payload["error"]
