"""Batch runs (DESIGN §1 job 4, §7): many scenarios in parallel processes or on Dask.

Every scenario is isolated: an invalid, infeasible, crashing or time-limited scenario
becomes a row with its status and error, and the others finish. Each scenario that
loads writes ``OUT/<name>/`` (a run folder, see :mod:`hubopt.runs`) or
``OUT/<name>.error.json``; the batch writes ``OUT/comparison.parquet``,
``OUT/compare.html`` and, last, ``OUT/comparison.csv`` (see :mod:`hubopt.compare`).

Scenarios are resolved here, on the client: every path (scenario file, ``extends``
chain, tables, ``--out``) is absolute in the job a worker receives, and with
``ship_data`` the tables travel with it. Each job runs :func:`hubopt.worker.run_job`
(a child process per scenario, see there) in a local thread or on a Dask worker
(:mod:`hubopt.cluster`). The rows are then *reconciled* with the run folders: a scenario
whose future was lost (a dead worker, a lost scheduler) but whose run folder of this
batch is complete is reported from its manifest.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import time
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

import pandas as pd

from hubopt.changes import comparison_row, comparison_table
from hubopt.cluster import run_dask
from hubopt.compare import write_comparison
from hubopt.errors import HubOptError, InputError, Problem
from hubopt.runs import FINISHED, read_manifest, remove_staging, write_atomic, write_files
from hubopt.scenario.load import resolve_extends
from hubopt.scenario.sweep import is_sweep_file, load_sweep, safe_name
from hubopt.worker import (
    CRASHED,
    SOLVED,
    STOP,
    BatchJob,
    JobSettings,
    Row,
    failed_row,
    installed_versions,
    job_base,
    lease_path,
    read_lease,
    run_job,
    wall_limit,
)

log = logging.getLogger(__name__)

__all__ = ["SOLVED", "BatchJob", "collect_jobs", "run_batch"]

LOST = "lost"
YAML_SUFFIXES = (".yaml", ".yml")
SHIP_LIMIT_BYTES = int(os.environ.get("HUBOPT_SHIP_DATA_MAX_BYTES", 256 * 2**20))
LEASE_STALE_S = 15.0  # a lease not refreshed for this long belongs to a dead process


# ---- collecting (on the client) ---------------------------------------------------------


def collect_jobs(paths: Iterable[str | Path], ship_data: bool = False) -> list[BatchJob]:
    """Scenario files, folders of them (``*.yaml``, ``*.yml``, not recursive) and sweep files.

    Relative paths are taken from the current directory; each job carries its scenario
    document with every path absolute (and, with ``ship_data``, its tables' bytes). A
    file that cannot be read becomes a job carrying its error; a repeated name too.
    """
    files: list[Path] = []
    for given in (Path(p).absolute() for p in paths):
        if given.is_dir():
            files += sorted(p for p in given.iterdir() if p.suffix.lower() in YAML_SUFFIXES)
        else:
            files.append(given)
    jobs: list[BatchJob] = []
    for file in files:
        jobs += _jobs_of(file)
    jobs = _flag_duplicates(jobs)
    return [_with_tables(job) for job in jobs] if ship_data else jobs


def _jobs_of(file: Path) -> list[BatchJob]:
    source = str(file)
    try:
        if is_sweep_file(file):
            return [
                BatchJob(
                    p.name,
                    source,
                    doc=p.doc,
                    label=f"{file} [{p.name}]",
                    files=tuple(map(str, p.files)),
                    path=source,
                    params=p.params,
                )
                for p in load_sweep(file)
            ]
        doc, chain = resolve_extends(file)
    except HubOptError as err:
        return [BatchJob(file.stem, source, error=str(err))]
    name = safe_name(str(doc.get("name") or file.stem))
    return [
        BatchJob(
            name, source, doc=doc, label=source, files=tuple(map(str, chain)), path=str(chain[-1])
        )
    ]


def _flag_duplicates(jobs: list[BatchJob]) -> list[BatchJob]:
    seen: dict[str, str] = {}
    out = []
    for job in jobs:
        if job.name in seen and job.error is None:
            job = dataclasses.replace(
                job,
                error=f"duplicate scenario name {job.name!r} (also in {seen[job.name]}); "
                "give each scenario its own name",
            )
        seen.setdefault(job.name, job.source)
        out.append(job)
    return out


def _with_tables(job: BatchJob) -> BatchJob:
    """The job with its table files' bytes (``--ship-data``), within the size limit."""
    data = (job.doc or {}).get("data")
    if job.error is not None or not isinstance(data, dict):
        return job
    tables = {
        key: (path, Path(path).read_bytes())
        for key, path in data.items()
        if isinstance(path, str) and Path(path).is_file()  # a missing one fails on the worker
    }
    size = sum(len(content) for _, content in tables.values())
    if size > SHIP_LIMIT_BYTES:
        problem = Problem(
            f"{job.label}, key 'data'",
            f"at most {SHIP_LIMIT_BYTES / 2**20:g} MB of tables to ship with --ship-data "
            "(HUBOPT_SHIP_DATA_MAX_BYTES)",
            f"{size / 2**20:.1f} MB",
            "Put the tables on a filesystem the workers share and drop --ship-data.",
        )
        return dataclasses.replace(job, error=str(InputError(problem)))
    return dataclasses.replace(job, tables=tables)


# ---- running many ----------------------------------------------------------------------


def run_batch(
    paths: Iterable[str | Path],
    out: str | Path = "batch",
    workers: int | None = None,
    dask_scheduler: str | None = None,
    dask_local: int | None = None,
    resume: bool = False,
    time_limit_s: float | None = None,
    on_start: Callable[[list[BatchJob]], None] | None = None,
    on_row: Callable[[Row], None] | None = None,
    threads_per_solve: int | None = None,
    scenario_timeout_s: float | None = None,
    worker_timeout_s: float = 60.0,
    ship_data: bool = False,
) -> pd.DataFrame:
    """Run many scenarios and write their run folders and the comparison files.

    Parameters
    ----------
    paths:
        Scenario files, folders of scenario files, and sweep files.
    out:
        Batch folder: one run folder per scenario plus ``comparison.csv``,
        ``comparison.parquet`` and ``compare.html``.
    workers:
        Scenarios solved at once locally (default: CPU count, at most the number of
        scenarios); ``0`` solves in this process, one after the other (debugging: no
        crash isolation and no wall-clock limit).
    dask_scheduler:
        Address of a Dask scheduler (``tcp://host:8786``); runs the jobs there.
    dask_local:
        Start a local Dask cluster with this many single-threaded worker processes.
    resume:
        Skip scenarios whose run folder holds a finished run of the same inputs, and
        remove the staging folders an interrupted batch left behind.
    time_limit_s:
        Solver time limit for every scenario (overrides the YAML).
    on_start, on_row:
        Callbacks: the jobs once collected, and each row as it is settled (progress).
    threads_per_solve:
        Solver threads of scenarios that leave ``solver.threads`` at 0 (default: the
        cores of the machine divided by the scenarios it solves at once).
    scenario_timeout_s:
        Wall-clock limit per scenario, enforced by killing its process (default: twice
        the solver time limit plus 300 s; 0: none).
    worker_timeout_s:
        Dask: give up (:class:`hubopt.errors.NoWorkersError`) after this long without a
        worker.
    ship_data:
        Dask: send the tables with each scenario and the run folders back (no shared
        filesystem needed).

    Returns
    -------
    pandas.DataFrame
        One row per scenario, in input order (see :func:`hubopt.compare.comparison_table`);
        ``attrs["incident"]`` describes a lost scheduler or vanished workers, if any.
    """
    if dask_scheduler and dask_local:
        raise ValueError("give either 'dask_scheduler' or 'dask_local', not both")
    for label, value in (("workers", workers), ("threads_per_solve", threads_per_solve)):
        if value is not None and value < (0 if label == "workers" else 1):
            low = 0 if label == "workers" else 1
            raise ValueError(f"The {label!r} parameter of run_batch must be >= {low}. Got {value}.")
    on_dask = bool(dask_scheduler or dask_local)
    out_dir = Path(out).absolute()
    out_dir.mkdir(parents=True, exist_ok=True)
    jobs = collect_jobs(paths, ship_data=ship_data and on_dask)
    if resume:
        for path in remove_staging(out_dir, [job.name for job in jobs]):
            log.info("removed %s, left by an interrupted write", path)
        jobs = [_with_resume_hash(job, out_dir) for job in jobs]
    if on_start is not None:
        on_start(jobs)
    count = min(len(jobs), os.cpu_count() or 1) if workers is None else workers
    settings = JobSettings(
        out_dir=str(out_dir),
        batch_id=uuid.uuid4().hex,
        time_limit_s=time_limit_s,
        threads=threads_per_solve or (None if on_dask else _share(count)),
        wall_limit_s=scenario_timeout_s,
        versions=installed_versions(),
        ship_data=ship_data and on_dask,
        in_process=workers == 0 and not on_dask,
        leases=on_dask and not ship_data,
    )
    rows: dict[int, Row] = {}
    index = {id(job): i for i, job in enumerate(jobs)}

    def emit(job: BatchJob, row: Row) -> None:
        rows[index[id(job)]] = settle(job, row, out_dir, settings)
        if on_row is not None:
            on_row(rows[index[id(job)]])

    incident = None
    if on_dask:
        incident = run_dask(jobs, settings, emit, dask_scheduler, dask_local, worker_timeout_s)
    elif workers == 0:
        for job in jobs:
            emit(job, run_job(job, settings))
    else:
        _run_local(jobs, settings, emit, max(1, count))
    for i, row in reconcile(jobs, rows, out_dir, settings, incident).items():
        rows[i] = row
        if on_row is not None:
            on_row(row)
    if settings.leases:
        for job in jobs:  # leases left by processes that ended orphaned
            path = lease_path(out_dir, job.name)
            if (read_lease(path) or {}).get("batch") == settings.batch_id:
                path.unlink(missing_ok=True)
    table = comparison_table([rows[i] for i in range(len(jobs))])
    table.attrs["incident"] = incident
    write_comparison(table, out_dir)
    return table


def _share(count: int) -> int:
    """Solver threads per scenario when ``count`` scenarios share this machine."""
    return max(1, (os.cpu_count() or 1) // max(1, count))


def _with_resume_hash(job: BatchJob, out_dir: Path) -> BatchJob:
    manifest = read_manifest(out_dir / job.name)
    if job.error is None and manifest is not None and manifest.get("status") in FINISHED:
        return dataclasses.replace(job, resume_hash=manifest.get("input_hash"))
    return job


def _run_local(
    jobs: list[BatchJob],
    settings: JobSettings,
    emit: Callable[[BatchJob, Row], None],
    workers: int,
) -> None:
    """``workers`` scenarios at a time; each runs in its own child process (see
    :func:`hubopt.worker.run_job`), so these threads only wait and watch the clock."""
    pool = ThreadPoolExecutor(workers, thread_name_prefix="hubopt-batch")
    futures = {pool.submit(run_job, job, settings): job for job in jobs}
    try:
        for future in as_completed(futures):
            job = futures[future]
            try:
                row = future.result()
            except Exception as err:  # a bug in the supervisor: this scenario only
                log.debug("supervising %s failed", job.name, exc_info=True)
                row = failed_row(job_base(job), CRASHED, f"{type(err).__name__}: {err}", 0.0)
            emit(job, row)
    except BaseException:  # Ctrl-C: kill the scenario processes, start no more
        STOP.set()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        STOP.clear()


# ---- settling rows against the run folders ----------------------------------------------


def settle(job: BatchJob, row: Row, out_dir: Path, settings: JobSettings) -> Row:
    """A worker's row made final on the client: shipped run folders written, resumed rows
    read back from their run folder, the batch's bookkeeping columns filled."""
    files = row.pop("_files", None)
    if files:
        folder = {k.split("/", 1)[1]: v for k, v in files.items() if k.startswith(f"{job.name}/")}
        if folder:
            write_files(out_dir / job.name, folder)
            row["run_dir"] = str(out_dir / job.name)
        error_file = files.get(f"{job.name}.error.json")
        if error_file is not None:
            write_atomic(out_dir / f"{job.name}.error.json", lambda p: p.write_bytes(error_file))
    if row.get("recovered"):  # a re-run found the run folder its lost worker finished
        attempt = int(row.get("attempt") or 2)
        row = (from_run_folder(job, out_dir / job.name) or row) | {"attempts": attempt}
        row["note"] = f"finished by the lost worker's process; re-run {attempt} not needed"
    elif row.get("skipped"):
        row = from_run_folder(job, out_dir / job.name) or row
        row["skipped"] = True
    attempts = int(row.get("attempts") or 1)
    row["attempts"] = attempts
    if attempts > 1 and not row.get("note"):
        row["note"] = f"re-run after a lost worker (attempt {attempts})"
    return row


def from_run_folder(job: BatchJob, run_dir: Path) -> Row | None:
    """The row of a scenario read from its complete run folder (manifest and KPIs)."""
    manifest = read_manifest(run_dir)
    if manifest is None:
        return None
    try:
        kpis = json.loads((run_dir / "kpis.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        kpis = {}
    row = comparison_row(job_base(job), manifest, dict(kpis.get("headline") or {}))
    reasons = "; ".join((manifest.get("diagnosis") or [])[:3])
    if manifest.get("status") == "infeasible":
        row["error"] = f"infeasible: {reasons}" if reasons else "infeasible"
    batch = manifest.get("batch") or {}
    return row | {
        "run_dir": str(run_dir),
        "skipped": False,
        "input_hash": manifest.get("input_hash"),
        "threads": batch.get("threads_per_solve"),
        "attempts": batch.get("attempt", 1),
    }


def reconcile(
    jobs: list[BatchJob],
    rows: dict[int, Row],
    out_dir: Path,
    settings: JobSettings,
    incident: dict[str, str] | None,
) -> dict[int, Row]:
    """Rows for the scenarios whose future gave no usable answer (lost or crashed worker,
    lost scheduler), from their run folders.

    A complete run folder written by this batch wins over a lost future. A scenario
    whose lease is still fresh (its process is still working, e.g. on a worker that lost
    the scheduler) is waited for, up to its wall-clock limit; the rest are ``lost``.
    """
    open_jobs = {
        i: job
        for i, job in enumerate(jobs)
        if i not in rows or rows[i].get("status") in {CRASHED, LOST}
    }
    found: dict[int, Row] = {}
    deadline = time.monotonic() + _longest_wait(open_jobs.values(), settings)
    while open_jobs:
        for i, job in list(open_jobs.items()):
            row = _recovered(job, out_dir, settings, rows.get(i), incident)
            if row is not None:
                found[i] = row
                del open_jobs[i]
        alive = [job for job in open_jobs.values() if _lease_alive(out_dir, job, settings)]
        if not alive or time.monotonic() > deadline:
            break
        time.sleep(1.0)
    reason = (incident or {}).get("message", "the batch ended without an answer for it")
    for i, job in open_jobs.items():
        if i in rows:  # crashed: its own row says why
            continue
        found[i] = failed_row(job_base(job), LOST, f"lost: {reason}", time.perf_counter())
        found[i] |= {"wall_seconds": None, "note": "lost"}
    return found


def _recovered(
    job: BatchJob,
    out_dir: Path,
    settings: JobSettings,
    previous: Row | None,
    incident: dict[str, str] | None,
) -> Row | None:
    manifest = read_manifest(out_dir / job.name)
    if manifest is None or (manifest.get("batch") or {}).get("id") != settings.batch_id:
        return None
    row = from_run_folder(job, out_dir / job.name)
    if row is None:
        return None
    what = (incident or {}).get("kind") or (previous or {}).get("status") or "its task was lost"
    row["note"] = f"recovered from its run folder ({what})"
    row["error"] = row.get("error") or ""
    return row


def _lease_alive(out_dir: Path, job: BatchJob, settings: JobSettings) -> bool:
    path = lease_path(out_dir, job.name)
    try:
        age = time.time() - path.stat().st_mtime
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return record.get("batch") == settings.batch_id and age < LEASE_STALE_S


def _longest_wait(jobs: Iterable[BatchJob], settings: JobSettings) -> float:
    limits = [wall_limit(job, settings) for job in jobs]
    return max((limit or 24 * 3600.0 for limit in limits), default=0.0)
