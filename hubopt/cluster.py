"""Running batch jobs on a Dask cluster (a scheduler given, or a LocalCluster started here).

Before any solve: connect (an unreachable scheduler is :class:`SchedulerError`, exit 8),
wait for a worker (none within ``worker_timeout_s`` is :class:`NoWorkersError`, exit 7),
compare every worker's hubopt, highspy and Python versions with the client's
(:class:`VersionSkewError`, exit 9) and work out each worker's solver threads: the cores
of its machine divided by the tasks all workers on that machine run at once.

While the jobs run, a lost scheduler or a cluster without workers for
``worker_timeout_s`` stops the wait; the batch then reconciles the rows with the run
folders (:func:`hubopt.batch.reconcile`). A task that Dask re-ran after its worker died
is recorded (``attempts``), from the scheduler's count of workers that died running it.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from hubopt.errors import HubOptError, NoWorkersError, SchedulerError, VersionSkewError
from hubopt.worker import (
    CRASHED,
    BatchJob,
    JobSettings,
    Row,
    failed_row,
    installed_versions,
    job_base,
    run_job,
    version_skew,
)

log = logging.getLogger(__name__)

POLL_S = 2.0
CONNECT_TIMEOUT_S = 15.0
Incident = dict[str, str]


def run_dask(
    jobs: list[BatchJob],
    settings: JobSettings,
    emit: Callable[[BatchJob, Row], None],
    address: str | None,
    local_workers: int | None,
    worker_timeout_s: float,
) -> Incident | None:
    """Run every job on the cluster; return what interrupted the batch, if anything.

    Raises
    ------
    SchedulerError, NoWorkersError, VersionSkewError
        Before any job was submitted.
    """
    try:
        from distributed import Client, LocalCluster
    except ImportError as err:  # pragma: no cover - a declared dependency
        raise HubOptError("Dask runs need the 'distributed' package installed") from err
    cluster = None
    if local_workers:
        cluster = LocalCluster(
            n_workers=local_workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",  # a free port: never clash with a running cluster
            silence_logs=logging.WARNING,
        )
    connect_s = min(CONNECT_TIMEOUT_S, max(1.0, worker_timeout_s))
    try:
        client = Client(cluster or address, timeout=f"{connect_s}s", set_as_default=False)
    except (OSError, TimeoutError) as err:
        if cluster is not None:
            cluster.close()
        raise SchedulerError(
            f"cannot reach the Dask scheduler {address!r} within {connect_s:g} s "
            f"({err}). Is `dask scheduler` running there, and is the port open?"
        ) from None
    try:
        settings = prepare(client, settings, worker_timeout_s, str(address or "local cluster"))
        return _submit_and_wait(client, jobs, settings, emit, worker_timeout_s)
    finally:
        try:
            client.close(timeout=5)
        except Exception:  # closing after a lost scheduler may fail: nothing to keep
            log.debug("closing the Dask client failed", exc_info=True)
        if cluster is not None:
            cluster.close()


def prepare(client: Any, settings: JobSettings, worker_timeout_s: float, where: str) -> JobSettings:
    """Wait for a worker, check versions, and give each worker its solver threads."""
    try:
        client.wait_for_workers(1, timeout=worker_timeout_s)
    except TimeoutError:
        raise NoWorkersError(
            f"no Dask worker joined the scheduler {where} within {worker_timeout_s:g} s "
            "(--worker-timeout). Start workers with `dask worker ADDRESS`."
        ) from None
    try:
        facts: dict[str, dict[str, Any]] = client.run(worker_facts)
    except Exception as err:  # e.g. ModuleNotFoundError: the worker's hubopt lacks this module
        raise VersionSkewError(
            f"cannot ask the workers for their versions ({type(err).__name__}: {err}); "
            "they run another hubopt than this client (or none): install the same version "
            "on every worker"
        ) from None
    skews = [
        f"{address} ({fact['host']}): {skew}"
        for address, fact in sorted(facts.items())
        if (skew := version_skew(settings.versions, fact["versions"]))
    ]
    if skews:
        raise VersionSkewError(
            "workers run other versions than this client; install the same versions "
            "everywhere (pip install hubopt==... highspy==...):\n  - " + "\n  - ".join(skews)
        )
    return replace(settings, threads_by_worker=threads_by_worker(facts))


def worker_facts(dask_worker: Any) -> dict[str, Any]:
    """Run on each worker: its host, cores, concurrent tasks and versions."""
    return {
        "host": socket.gethostname(),
        "cpus": os.cpu_count() or 1,
        "nthreads": dask_worker.state.nthreads,
        "versions": installed_versions(),
    }


def threads_by_worker(facts: dict[str, dict[str, Any]]) -> dict[str, int]:
    """Solver threads per worker: its machine's cores / the tasks run at once there.

    Two single-threaded workers on a 2-core machine get 1 thread each, so their solves
    do not oversubscribe the cores (HiGHS would otherwise start one thread per core).
    """
    tasks_per_host: dict[str, int] = {}
    for fact in facts.values():
        tasks_per_host[fact["host"]] = tasks_per_host.get(fact["host"], 0) + fact["nthreads"]
    return {
        address: max(1, int(fact["cpus"]) // max(1, tasks_per_host[fact["host"]]))
        for address, fact in facts.items()
    }


def _submit_and_wait(
    client: Any,
    jobs: list[BatchJob],
    settings: JobSettings,
    emit: Callable[[BatchJob, Row], None],
    worker_timeout_s: float,
) -> Incident | None:
    futures = {
        client.submit(run_job, job, settings, pure=False, key=f"hubopt-{job.name}-{i}"): job
        for i, job in enumerate(jobs)
    }
    pending = set(futures)
    without_workers_since: float | None = None
    while pending:
        done = _first_done(pending, POLL_S)
        reruns = _reruns(client, [f.key for f in done if f.status == "finished"])
        for future in done:
            pending.discard(future)
            job = futures[future]
            if future.status == "cancelled":
                return _lost_scheduler(pending | {future})
            try:
                row = future.result()
            except Exception as err:  # KilledWorker and friends: this job only
                row = _crashed(job, err)
            row["attempts"] = max(int(row.get("attempts") or 1), reruns.get(future.key, 0) + 1)
            emit(job, row)
        if client.status != "running":
            return _lost_scheduler(pending)
        if pending:
            workers = _worker_count(client)
            if workers is None:
                return _lost_scheduler(pending)
            now = time.monotonic()
            without_workers_since = (without_workers_since or now) if workers == 0 else None
            if without_workers_since is not None and now - without_workers_since > worker_timeout_s:
                client.cancel(list(pending))
                return {
                    "kind": "no_workers",
                    "message": f"the cluster had no worker for {worker_timeout_s:g} s "
                    "(--worker-timeout) and the batch stopped waiting",
                }
    return None


def _first_done(pending: set[Any], timeout_s: float) -> set[Any]:
    """The futures done now, waiting up to ``timeout_s`` for the first one."""
    deadline = time.monotonic() + timeout_s
    while True:
        done = {future for future in pending if future.done()}
        if done or time.monotonic() > deadline:
            return done
        time.sleep(0.1)


def _lost_scheduler(pending: set[Any]) -> Incident:
    log.warning("lost the Dask scheduler with %d scenario(s) unsettled", len(pending))
    return {
        "kind": "scheduler_lost",
        "message": "the Dask scheduler was lost before the scenario finished",
    }


def _worker_count(client: Any) -> int | None:
    """Workers the scheduler knows now; None if the scheduler does not answer."""
    try:
        return len(client.nthreads())
    except Exception:  # any comm failure means the same: no scheduler
        return None


def _reruns(client: Any, keys: list[str]) -> dict[str, int]:
    """Per task key, how many workers died while running it (Dask's ``suspicious``)."""
    if not keys:
        return {}
    try:
        counts: dict[str, int] = client.run_on_scheduler(suspicious_counts, keys)
    except Exception:  # the count is bookkeeping: never fail the batch over it
        log.debug("cannot read re-run counts from the scheduler", exc_info=True)
        return {}
    return counts


def suspicious_counts(keys: list[str], dask_scheduler: Any = None) -> dict[str, int]:
    """Run on the scheduler: the ``suspicious`` count of each task (re-runs after a lost
    worker)."""
    tasks = dask_scheduler.tasks
    return {key: int(tasks[key].suspicious) for key in keys if key in tasks}


def _crashed(job: BatchJob, err: BaseException) -> Row:
    message = f"{type(err).__name__}: {str(err) or type(err).__name__}"
    if type(err).__name__ == "KilledWorker":
        message = (
            f"every worker that ran it died ({err}); Dask gave up on it. See the workers' logs."
        )
    return failed_row(job_base(job), CRASHED, message, time.perf_counter())
