"""Batch runs (DESIGN §1 job 4, §7): many scenarios in parallel processes or on Dask.

Every scenario is isolated: an invalid, infeasible, crashing or time-limited scenario
becomes a row with its status and error, and the others finish. Each scenario that
loads writes ``OUT/<name>/`` (a run folder, see :mod:`hubopt.runs`) or
``OUT/<name>.error.json``; the batch writes ``OUT/comparison.csv``,
``OUT/comparison.parquet`` and ``OUT/compare.html`` (see :mod:`hubopt.compare`).

Workers run :func:`run_job`, an importable top-level function, so the default process
pool (``spawn``) and Dask workers can both call it. Dask workers must see OUT and the
scenario files at the same paths (a shared filesystem).
"""

from __future__ import annotations

import dataclasses
import logging
import multiprocessing
import os
import time
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from hubopt.api import solve
from hubopt.changes import comparison_row, comparison_table
from hubopt.compare import write_comparison
from hubopt.errors import HubOptError, InputError, Problem, ScenarioError
from hubopt.result import Result
from hubopt.runs import finished_manifest, read_headline, write_error, write_run
from hubopt.scenario.load import resolve_extends
from hubopt.scenario.scenario import Scenario, load_scenario
from hubopt.scenario.sweep import SweepPoint, is_sweep_file, load_point, load_sweep, safe_name
from hubopt.solvers import SOLVED_STATUSES

log = logging.getLogger(__name__)

SOLVED = SOLVED_STATUSES
INVALID, CRASHED = "invalid_input", "crashed"
YAML_SUFFIXES = (".yaml", ".yml")
Row = dict[str, Any]


@dataclass(frozen=True)
class BatchJob:
    """One scenario of a batch: a scenario file or an expanded sweep point.

    Attributes
    ----------
    name:
        Scenario name; the run folder is ``OUT/<name>``.
    source:
        The file it came from.
    path:
        The scenario file (None for sweep points).
    point:
        The sweep point (None for scenario files).
    error:
        A problem found while collecting (unreadable file, bad sweep, duplicate name).
    """

    name: str
    source: str
    path: Path | None = None
    point: SweepPoint | None = None
    error: str | None = None
    params: dict[str, Any] = field(default_factory=dict)


# ---- collecting ------------------------------------------------------------------------


def collect_jobs(paths: Iterable[str | Path]) -> list[BatchJob]:
    """Scenario files, folders of them (``*.yaml``, ``*.yml``, not recursive) and sweep files.

    A file that cannot be read becomes a job carrying its error; a repeated name too.
    """
    files: list[Path] = []
    for given in map(Path, paths):
        if given.is_dir():
            files += sorted(p for p in given.iterdir() if p.suffix.lower() in YAML_SUFFIXES)
        else:
            files.append(given)
    jobs: list[BatchJob] = []
    for file in files:
        if is_sweep_file(file):
            try:
                points = load_sweep(file)
            except HubOptError as err:
                jobs.append(BatchJob(file.stem, str(file), error=str(err)))
                continue
            jobs += [BatchJob(p.name, str(file), point=p, params=p.params) for p in points]
            continue
        try:
            doc, _ = resolve_extends(file)
            name = str(doc.get("name") or file.stem)
        except HubOptError as err:
            jobs.append(BatchJob(file.stem, str(file), path=file, error=str(err)))
            continue
        jobs.append(BatchJob(_folder_name(name), str(file), path=file))
    return _flag_duplicates(jobs)


def _folder_name(name: str) -> str:
    return safe_name(name)


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


# ---- one job (runs in a worker process) ------------------------------------------------


def run_job(
    job: BatchJob,
    out_dir: str,
    time_limit_s: float | None,
    resume: bool,
    threads: int | None = None,
) -> Row:
    """Load, solve and write one scenario; never raises for the scenario's own failures.

    ``threads`` caps the solver threads of scenarios that leave ``solver.threads`` at 0
    (all cores), so parallel workers do not oversubscribe the machine; it is not part of
    the input hash. Returns the comparison row (see :func:`hubopt.compare.comparison_row`).
    """
    start = time.perf_counter()
    target = Path(out_dir) / job.name
    base = {"name": job.name, "source": job.source, "params": job.params}
    if job.error is not None:
        return _failed(base, INVALID, job.error, start)
    try:
        scenario = _load(job, time_limit_s)
    except InputError as err:
        _record_error(target, err, job.name)
        return _failed(base, INVALID, str(err), start)
    except Exception as err:  # a bug while loading: report it, let the others finish
        log.debug("loading %s failed", job.name, exc_info=True)
        _record_error(target, err, job.name)
        return _failed(base, "error", f"{type(err).__name__}: {err}", start)
    input_hash = scenario.input_hash()
    if resume:
        previous = finished_manifest(target, input_hash)
        if previous is not None:
            row = comparison_row(base, previous, read_headline(target))
            return row | {"run_dir": str(target), "skipped": True, "input_hash": input_hash}
    try:
        result = _solve_and_write(scenario, target, time_limit_s, threads)
    except Exception as err:
        log.debug("solving %s failed", job.name, exc_info=True)
        _record_error(target, err, job.name)
        return _failed(base, "error", f"{type(err).__name__}: {err}", start, input_hash)
    headline = result.kpis.headline if result.solution is not None else {}
    row = comparison_row(base, result.summary(), headline)
    row["error"] = _status_message(result)
    return row | {
        "wall_seconds": round(time.perf_counter() - start, 3),
        "run_dir": str(target),
        "skipped": False,
        "input_hash": input_hash,
    }


def _load(job: BatchJob, time_limit_s: float | None) -> Scenario:
    if job.point is not None:
        scenario = load_point(job.point)
    elif job.path is not None:
        scenario = load_scenario(job.path)
        if scenario.name != job.name:  # folder-safe name differs from the YAML name
            config = scenario.config.model_copy(update={"name": job.name})
            scenario = dataclasses.replace(scenario, config=config)
    else:
        raise ScenarioError(Problem(job.source, "a scenario file or sweep point", "nothing"))
    if time_limit_s is not None:
        solver = scenario.config.solver.model_copy(update={"time_limit_s": float(time_limit_s)})
        scenario = dataclasses.replace(
            scenario, config=scenario.config.model_copy(update={"solver": solver})
        )
    return scenario


def _solve_and_write(
    scenario: Scenario, target: Path, time_limit_s: float | None, threads: int | None
) -> Result:
    if scenario.config.solver.threads:
        threads = None  # the scenario asked for a thread count: keep it
    result = solve(scenario, time_limit_s=time_limit_s, threads=threads)
    write_run(result, target, force=True)
    stale = target.parent / f"{target.name}.error.json"
    stale.unlink(missing_ok=True)
    return result


def _status_message(result: Result) -> str:
    status = str(result.status)
    if status in SOLVED:
        return ""
    if status == "infeasible":
        reasons = "; ".join(result.diagnosis[:3])
        return f"infeasible: {reasons}" if reasons else "infeasible"
    if status == "time_limit":
        limit = result.scenario.config.solver.time_limit_s
        return f"no feasible solution within the time limit ({limit:g} s)"
    return result.message or status


def _failed(
    base: Row, status: str, message: str, start: float, input_hash: str | None = None
) -> Row:
    return base | {
        "status": status,
        "error": message,
        "wall_seconds": round(time.perf_counter() - start, 3),
        "skipped": False,
        "input_hash": input_hash,
    }


def _record_error(target: Path, error: BaseException, name: str) -> None:
    try:
        write_error(target, error, name)
    except OSError:
        log.warning("could not write the error file of %s", name, exc_info=True)


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
        Local worker processes (default: CPU count, at most the number of scenarios);
        ``0`` runs in this process (no isolation from crashes; for debugging).
    dask_scheduler:
        Address of a Dask scheduler (``tcp://host:8786``); runs the jobs there.
    dask_local:
        Start a local Dask cluster with this many single-threaded worker processes.
    resume:
        Skip scenarios whose run folder holds a finished run of the same inputs.
    time_limit_s:
        Solver time limit for every scenario (overrides the YAML).
    on_start, on_row:
        Callbacks: the jobs once collected, and each row as it finishes (progress).

    Returns
    -------
    pandas.DataFrame
        One row per scenario, in input order (see :func:`hubopt.compare.comparison_table`).
    """
    if dask_scheduler and dask_local:
        raise ValueError("give either 'dask_scheduler' or 'dask_local', not both")
    if workers is not None and workers < 0:
        raise ValueError(f"The 'workers' parameter of run_batch must be >= 0. Got {workers}.")
    jobs = collect_jobs(paths)
    out_dir = Path(out).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    if on_start is not None:
        on_start(jobs)
    rows: dict[str, Row] = {}
    cpus = os.cpu_count() or 1
    count = workers or min(len(jobs), cpus)
    if dask_local:
        count = dask_local
    # Solvers default to every core; with several workers, share the cores out.
    threads = None if dask_scheduler or workers == 0 else max(1, cpus // max(1, count))
    args = (str(out_dir), time_limit_s, resume, threads)

    def emit(job: BatchJob, row: Row) -> None:
        rows[_key(job)] = row
        if on_row is not None:
            on_row(row)

    if dask_scheduler or dask_local:
        _run_dask(jobs, args, emit, dask_scheduler, dask_local)
    elif workers == 0:
        for job in jobs:
            emit(job, run_job(job, *args))
    else:
        _run_pool(jobs, args, emit, max(1, count))
    table = comparison_table([rows[_key(job)] for job in jobs])
    write_comparison(table, out_dir)
    return table


def _key(job: BatchJob) -> str:
    return f"{job.source}::{job.name}"


def _run_pool(
    jobs: list[BatchJob],
    args: tuple[Any, ...],
    emit: Callable[[BatchJob, Row], None],
    workers: int,
) -> None:
    """A spawn process pool fed at most ``workers`` jobs at a time.

    A worker that dies (segfault, out of memory) breaks the whole pool; the jobs that
    were running then are re-run one by one in their own pool, so only the culprit is
    reported as crashed, and a fresh pool takes the rest.
    """
    context = multiprocessing.get_context("spawn")
    queue = list(jobs)
    while queue:
        broken: list[BatchJob] = []
        with ProcessPoolExecutor(workers, mp_context=context) as pool:
            running: dict[Future[Row], BatchJob] = {}
            while (queue or running) and not broken:
                while queue and len(running) < workers:
                    job = queue.pop(0)
                    running[pool.submit(run_job, job, *args)] = job
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    job = running.pop(future)
                    try:
                        emit(job, future.result())
                    except BrokenProcessPool:
                        broken.append(job)
                    except Exception as err:  # e.g. an unpicklable row: a bug, keep going
                        emit(job, _crashed(job, err))
            broken += list(running.values())
        for job in broken:
            emit(job, _run_isolated(job, args, context))


def _run_isolated(job: BatchJob, args: tuple[Any, ...], context: Any) -> Row:
    with ProcessPoolExecutor(1, mp_context=context) as pool:
        try:
            return pool.submit(run_job, job, *args).result()
        except Exception as err:
            return _crashed(job, err)


def _crashed(job: BatchJob, err: BaseException) -> Row:
    message = str(err) or type(err).__name__
    if isinstance(err, BrokenProcessPool):
        message = "the worker process died (crash or out of memory)"
    return _failed(
        {"name": job.name, "source": job.source, "params": job.params},
        CRASHED,
        f"{type(err).__name__}: {message}",
        time.perf_counter(),
    )


def _run_dask(
    jobs: list[BatchJob],
    args: tuple[Any, ...],
    emit: Callable[[BatchJob, Row], None],
    address: str | None,
    local_workers: int | None,
) -> None:
    """Submit every job to a Dask cluster (given, or a LocalCluster started here)."""
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError as err:  # pragma: no cover - a declared dependency
        raise HubOptError("Dask runs need the 'distributed' package installed") from err
    cluster = None
    try:
        if local_workers:
            cluster = LocalCluster(
                n_workers=local_workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=":0",  # a free port: never clash with a running cluster
                silence_logs=logging.WARNING,
            )
            client = Client(cluster)
        else:
            client = Client(address, timeout="20s")
    except OSError as err:
        raise HubOptError(f"cannot reach the Dask scheduler {address!r}: {err}") from err
    try:
        futures = {client.submit(run_job, job, *args, pure=False, retries=0): job for job in jobs}
        for future in as_completed(list(futures)):
            job = futures[future]
            try:
                emit(job, future.result())
            except Exception as err:  # KilledWorker and friends: this job only
                emit(job, _crashed(job, err))
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
