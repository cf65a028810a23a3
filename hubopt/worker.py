"""One batch job, as it runs on a worker (a local thread or a Dask worker).

:func:`run_job` supervises the scenario in a child Python process
(``python -m hubopt.worker``): the child loads, solves and writes the run folder; the
supervisor enforces the wall-clock limit from outside (it kills the child's process
group), turns a dying child (segfault, out of memory) into a ``crashed`` row, and keeps a
*lease* file ``OUT/.<name>.lease`` fresh while the child works, so that a client that lost
its scheduler can tell a scenario still running from one that is gone, and a re-run after
a lost worker knows it is a re-run (the manifest records the attempt).

A job carries everything resolved on the client: the scenario document with absolute
paths, and with ``ship_data`` the table files' bytes (then the child works in a private
temporary folder and the run folder travels back to the client as bytes).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import pickle
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field, replace
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from hubopt.api import solve
from hubopt.changes import comparison_row
from hubopt.errors import InputError
from hubopt.result import Result
from hubopt.runs import read_manifest, write_error, write_run
from hubopt.scenario.load import validate_config
from hubopt.scenario.scenario import Scenario, build_scenario, input_hash_of
from hubopt.solvers import SOLVED_STATUSES
from hubopt.version import __version__

log = logging.getLogger(__name__)

SOLVED = SOLVED_STATUSES
INVALID, CRASHED, TIMEOUT = "invalid_input", "crashed", "timeout"
HEARTBEAT_S = 2.0
STOP = threading.Event()  # set when a local batch is interrupted: supervisors kill children
Row = dict[str, Any]


@dataclass(frozen=True)
class BatchJob:
    """One scenario of a batch, resolved on the client.

    Attributes
    ----------
    name:
        Scenario name; the run folder is ``OUT/<name>``.
    source:
        The file it came from (absolute).
    doc:
        The scenario document: ``extends`` merged, data and output paths absolute.
    label:
        Where the document came from, for error messages.
    files:
        Every YAML file it was read from (absolute), recorded in the manifest.
    path:
        The scenario or sweep file (recorded as the run's scenario file).
    params:
        Sweep parameters (label -> value).
    error:
        A problem found on the client (unreadable file, bad sweep, duplicate name).
    tables:
        With ``--ship-data``: table key -> (absolute path on the client, file bytes).
    resume_hash:
        With ``--resume``: the input hash of the finished run in ``OUT/<name>``.
    """

    name: str
    source: str
    doc: dict[str, Any] | None = None
    label: str = ""
    files: tuple[str, ...] = ()
    path: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    tables: dict[str, tuple[str, bytes]] | None = None
    resume_hash: str | None = None


@dataclass(frozen=True)
class JobSettings:
    """What every job of one batch shares.

    Attributes
    ----------
    out_dir:
        The batch folder (absolute; on the client with ``ship_data``).
    batch_id:
        Identifies this batch in manifests and leases.
    time_limit_s:
        Solver time limit overriding every scenario's (None: the scenario's).
    threads:
        Solver threads for scenarios that leave ``solver.threads`` at 0; None: the
        worker's cores divided by the tasks it runs at once (``threads_by_worker``).
    threads_by_worker:
        Dask worker address -> threads per solve, worked out on the client per machine.
    wall_limit_s:
        Wall-clock limit per scenario, enforced by killing the child process; None: twice
        the solver time limit plus 300 s; 0: no limit.
    versions:
        The client's hubopt and highspy versions; a worker with others refuses to solve.
    ship_data:
        Tables travel with the job and the run folder comes back (no shared filesystem).
    in_process:
        Solve in the calling process (``--workers 0``): no child, no wall-clock limit.
    leases:
        Keep ``OUT/.<name>.lease`` files (Dask with a shared filesystem): they tell a
        re-run it is one, and let a child whose worker died finish its scenario.
    """

    out_dir: str
    batch_id: str
    time_limit_s: float | None = None
    threads: int | None = None
    threads_by_worker: dict[str, int] = field(default_factory=dict)
    wall_limit_s: float | None = None
    versions: dict[str, str] = field(default_factory=dict)
    ship_data: bool = False
    in_process: bool = False
    leases: bool = False


def installed_versions() -> dict[str, str]:
    """hubopt, highspy and Python versions of this process (compared client vs worker)."""
    try:
        highspy = version("highspy")
    except PackageNotFoundError:
        highspy = "not installed"
    return {"hubopt": __version__, "highspy": highspy, "python": platform.python_version()}


def version_skew(expected: dict[str, str], found: dict[str, str]) -> str:
    """'' when the versions that matter agree, else what differs (hubopt, highspy, Python x.y)."""
    differ = [
        f"{name} {found.get(name)} (client: {expected.get(name)})"
        for name in ("hubopt", "highspy")
        if expected.get(name) != found.get(name)
    ]
    minor = [(v or "").rsplit(".", 1)[0] for v in (expected.get("python"), found.get("python"))]
    if minor[0] != minor[1]:
        differ.append(f"Python {found.get('python')} (client: {expected.get('python')})")
    return ", ".join(differ)


# ---- on the worker: supervise one scenario in a child process --------------------------


def run_job(job: BatchJob, settings: JobSettings) -> Row:
    """Run one scenario; never raises for the scenario's own failures.

    Returns the comparison row (see :func:`hubopt.changes.comparison_row`). With
    ``ship_data`` the row carries the run folder's files under ``"_files"``.
    """
    start = time.perf_counter()
    base = job_base(job)
    if job.error is not None:
        return failed_row(base, INVALID, job.error, start)
    skew = version_skew(settings.versions, installed_versions()) if settings.versions else ""
    if skew:
        where = f"{socket.gethostname()} ({sys.executable})"
        return failed_row(base, "error", f"version skew on worker {where}: {skew}", start)
    threads = settings.threads or worker_threads(settings)
    if settings.in_process:
        return solve_job(job, settings, threads, Path(settings.out_dir), {})
    with tempfile.TemporaryDirectory(prefix="hubopt-job-") as scratch:
        folder = Path(scratch)
        out_root, renames = Path(settings.out_dir), dict[str, str]()
        if settings.ship_data:
            job, renames = _materialise(job, folder / "data")
            out_root = folder / "out"
        lease = Lease(out_root, job.name, settings.batch_id) if settings.leases else None
        attempt = lease.claim() if lease is not None else {"attempt": 1}
        if attempt["attempt"] > 1 and _done_in_this_batch(out_root / job.name, settings):
            # the process of the lost worker finished it before this re-run began
            if lease is not None:
                lease.release()
            return base | {"status": "skipped", "recovered": True, **attempt}
        try:
            child = (job, settings, threads, str(out_root), attempt, renames)
            row = _supervise(child, folder, lease, start)
        finally:
            if lease is not None:
                lease.release()
        row["attempts"] = attempt["attempt"]
        if settings.ship_data:
            row["_files"] = _pack(out_root, renames)
        return row


def _done_in_this_batch(run_dir: Path, settings: JobSettings) -> bool:
    manifest = read_manifest(run_dir)
    return manifest is not None and (manifest.get("batch") or {}).get("id") == settings.batch_id


def worker_threads(settings: JobSettings) -> int:
    """This worker's share of the machine's cores (at least 1)."""
    try:
        from distributed import get_worker

        worker = get_worker()
    except (ImportError, ValueError):
        return max(1, os.cpu_count() or 1)
    share = settings.threads_by_worker.get(worker.address)
    return share or max(1, (os.cpu_count() or 1) // max(1, worker.state.nthreads))


def _supervise(
    request_args: tuple[Any, ...], scratch: Path, lease: Lease | None, start: float
) -> Row:
    """Run the child on ``request_args`` (the arguments of :func:`solve_job`), keep the
    lease fresh, kill the child at the wall-clock limit."""
    job, settings, out_root = request_args[0], request_args[1], Path(request_args[3])
    base = job_base(job)
    request, reply, errors = scratch / "job.pickle", scratch / "row.pickle", scratch / "stderr"
    request.write_bytes(pickle.dumps(request_args))
    limit = wall_limit(job, settings)
    with errors.open("wb") as stderr:
        child = subprocess.Popen(
            [sys.executable, "-m", "hubopt.worker", str(request), str(reply), str(os.getpid())],
            stdin=subprocess.DEVNULL,
            stdout=stderr,
            stderr=stderr,
            start_new_session=True,  # its own process group: killed as a whole
        )
        while True:
            try:
                child.wait(timeout=HEARTBEAT_S)
                break
            except subprocess.TimeoutExpired:
                if lease is not None:
                    lease.beat()
                if STOP.is_set():  # the local batch was interrupted (Ctrl-C)
                    _kill(child)
                    return failed_row(base, "error", "interrupted", start)
                if limit and time.perf_counter() - start > limit:
                    _kill(child)
                    message = (
                        f"killed after the wall-clock limit of {limit:g} s per scenario "
                        "(--scenario-timeout); the solver did not stop by itself"
                    )
                    _record_error(out_root / job.name, TimeoutError(message), job.name)
                    return failed_row(base, TIMEOUT, message, start)
    if child.returncode == 0 and reply.is_file():
        row: Row = pickle.loads(reply.read_bytes())
        return row
    tail = errors.read_text(errors="replace").strip().splitlines()[-3:]
    code = child.returncode
    how = f"signal {signal.Signals(-code).name}" if code < 0 else f"exit code {code}"
    message = f"the scenario's process died ({how}; a crash or out of memory)"
    if tail:
        message += ": " + " | ".join(tail)
    _record_error(out_root / job.name, RuntimeError(message), job.name)
    return failed_row(base, CRASHED, message, start)


def wall_limit(job: BatchJob, settings: JobSettings) -> float:
    """Seconds a scenario may take in all (0: no limit); default 2 x time limit + 300 s."""
    if settings.wall_limit_s is not None:
        return float(settings.wall_limit_s)
    limit = settings.time_limit_s
    if limit is None:
        solver = (job.doc or {}).get("solver")
        limit = solver.get("time_limit_s") if isinstance(solver, dict) else None
    try:
        seconds = float(limit) if limit is not None else 120.0
    except (TypeError, ValueError):
        seconds = 120.0
    return 2 * seconds + 300


def _kill(child: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(child.pid, signal.SIGKILL)
    child.wait()


class Lease:
    """``OUT/.<name>.lease``: who runs a scenario of this batch; fresh while it runs."""

    def __init__(self, out_root: Path, name: str, batch_id: str) -> None:
        self.path = lease_path(out_root, name)
        self.batch_id = batch_id

    def claim(self) -> dict[str, Any]:
        """Take the lease; a lease of this batch already there means this is a re-run."""
        previous = read_lease(self.path)
        attempt: dict[str, Any] = {"attempt": 1}
        if previous is not None and previous.get("batch") == self.batch_id:
            attempt = {
                "attempt": int(previous.get("attempt", 1)) + 1,
                "previous": {k: previous.get(k) for k in ("host", "pid", "started_at")},
            }
        record = {
            "batch": self.batch_id,
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "attempt": attempt["attempt"],
        }
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(f"{self.path.name}.{os.getpid()}")
            tmp.write_text(json.dumps(record), encoding="utf-8")
            os.replace(tmp, self.path)
        except OSError:
            log.warning("cannot write the lease %s", self.path, exc_info=True)
        return attempt

    def beat(self) -> None:
        """Refresh the lease's modification time."""
        with contextlib.suppress(OSError):
            os.utime(self.path)

    def release(self) -> None:
        """Remove the lease (the scenario is settled, one way or the other)."""
        self.path.unlink(missing_ok=True)


def lease_path(out_root: Path, name: str) -> Path:
    """Where the lease of scenario ``name`` lives."""
    return out_root / f".{name}.lease"


def read_lease(path: Path) -> dict[str, Any] | None:
    """The lease record, or None if there is none (or it is unreadable)."""
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


# ---- shipping data in and run folders out ----------------------------------------------


def _materialise(job: BatchJob, folder: Path) -> tuple[BatchJob, dict[str, str]]:
    """Write shipped tables under ``folder``; return the job pointing at them, and the
    map from those paths back to the client's."""
    assert job.doc is not None and job.tables is not None  # collect_jobs ships both
    data = dict(job.doc.get("data") or {})
    renames: dict[str, str] = {}
    for key, (original, content) in job.tables.items():
        local = folder / key / Path(original).name
        local.parent.mkdir(parents=True, exist_ok=True)
        local.write_bytes(content)
        data[key] = str(local)
        renames[str(local)] = original
    return replace(job, doc={**job.doc, "data": data}, tables=None), renames


def _pack(out_root: Path, renames: dict[str, str]) -> dict[str, bytes]:
    """Every file under ``out_root`` as bytes, with the worker's data paths renamed back
    to the client's in the text files that record them."""
    files: dict[str, bytes] = {}
    if not out_root.is_dir():
        return files
    for path in sorted(p for p in out_root.rglob("*") if p.is_file()):
        content = path.read_bytes()
        if path.name in {"manifest.json", "scenario.resolved.yaml"} or path.suffix == ".json":
            text = content.decode("utf-8", errors="surrogateescape")
            for local, original in renames.items():
                text = text.replace(local, original)
            content = text.encode("utf-8", errors="surrogateescape")
        files[path.relative_to(out_root).as_posix()] = content
    return files


# ---- in the child: load, solve, write ---------------------------------------------------


def solve_job(
    job: BatchJob,
    settings: JobSettings,
    threads: int,
    out_root: Path,
    attempt: dict[str, Any],
    renames: dict[str, str] | None = None,
) -> Row:
    """Load, solve and write one scenario into ``out_root/<name>`` (in this process)."""
    start = time.perf_counter()
    target = out_root / job.name
    base = job_base(job)
    try:
        scenario = load_job(job, settings.time_limit_s)
    except InputError as err:
        _record_error(target, err, job.name)
        return failed_row(base, INVALID, str(err), start)
    except Exception as err:  # a bug while loading: report it, let the others finish
        log.debug("loading %s failed", job.name, exc_info=True)
        _record_error(target, err, job.name)
        return failed_row(base, "error", f"{type(err).__name__}: {err}", start)
    input_hash = _input_hash(scenario, renames or {})
    if job.resume_hash is not None and job.resume_hash == input_hash:
        return base | {"status": "skipped", "skipped": True, "input_hash": input_hash}
    if scenario.config.solver.threads:
        threads = scenario.config.solver.threads  # the scenario asked for a count: keep it
    try:
        result = solve(scenario, time_limit_s=settings.time_limit_s, threads=threads)
        batch = {"id": settings.batch_id, "threads_per_solve": threads, **attempt}
        batch["worker"] = socket.gethostname()
        extra = {"batch": batch, "input_hash": input_hash}
        write_run(result, target, force=True, extra=extra)
        target.parent.joinpath(f"{target.name}.error.json").unlink(missing_ok=True)
    except Exception as err:
        log.debug("solving %s failed", job.name, exc_info=True)
        _record_error(target, err, job.name)
        status = INVALID if isinstance(err, InputError) else "error"
        message = str(err) if isinstance(err, InputError) else f"{type(err).__name__}: {err}"
        return failed_row(base, status, message, start, input_hash)
    headline = result.kpis.headline if result.solution is not None else {}
    row = comparison_row(base, result.summary(), headline)
    row["error"] = status_message(result)
    return row | {
        "wall_seconds": round(time.perf_counter() - start, 3),
        "run_dir": str(target),
        "skipped": False,
        "input_hash": input_hash,
        "threads": threads,
    }


def load_job(job: BatchJob, time_limit_s: float | None) -> Scenario:
    """The job's scenario: validated, tables read, what-ifs applied, time limit set."""
    assert job.doc is not None  # a job without a document carries an error instead
    doc = dict(job.doc)
    if isinstance(doc.get("name"), str):
        doc["name"] = job.name  # the folder-safe name
    if time_limit_s is not None:
        doc["solver"] = {**(doc.get("solver") or {}), "time_limit_s": float(time_limit_s)}
    config = validate_config(doc, job.label)
    path = Path(job.path) if job.path else None
    return build_scenario(config, job.label, path=path, files=[Path(f) for f in job.files])


def _input_hash(scenario: Scenario, renames: dict[str, str]) -> str:
    """The scenario's input hash as the client would compute it from its own paths."""
    if not renames:
        return scenario.input_hash()
    text = scenario.resolved_yaml()
    for local, original in renames.items():
        text = text.replace(local, original)
    return input_hash_of(text, scenario.tables.files)


def status_message(result: Result) -> str:
    """'' for a solved scenario, else why it has no plan."""
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


def job_base(job: BatchJob) -> Row:
    """The identity part of a job's row."""
    return {"name": job.name, "source": job.source, "params": job.params}


def failed_row(
    base: Row, status: str, message: str, start: float, input_hash: str | None = None
) -> Row:
    """A row for a scenario without a result."""
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


def _watch_parent(parent: int, lease: Path | None, limit_s: float) -> None:
    """Guard the child from its supervisor's fate.

    When the supervisor is gone (its Dask worker closed, e.g. after losing the
    scheduler), the child goes on only while it still owns the lease: it keeps the lease
    fresh so a client reconciling the batch waits for its run folder, and it exits as
    soon as a re-run on another worker claims the lease, so no two processes write the
    same run folder. Without a lease an orphan exits at once. The wall-clock limit
    holds either way.
    """
    start, host = time.monotonic(), socket.gethostname()
    while True:
        time.sleep(1.0)
        if limit_s and time.monotonic() - start > limit_s:
            os._exit(4)
        if os.getppid() == parent:
            continue
        record = read_lease(lease) if lease is not None else None
        if (
            lease is None
            or record is None
            or (record.get("pid"), record.get("host"))
            != (
                parent,
                host,
            )
        ):
            os._exit(3)
        with contextlib.suppress(OSError):
            os.utime(lease)


def main(argv: list[str]) -> int:
    """Child entry point: ``python -m hubopt.worker REQUEST REPLY SUPERVISOR_PID``.

    The supervisor's PID comes on the command line: by the time this runs (after the
    imports) the supervisor may already be gone, and ``os.getppid()`` would name init.
    """
    request, reply, parent = Path(argv[0]), Path(argv[1]), int(argv[2])
    job, settings, threads, out_root, attempt, renames = pickle.loads(request.read_bytes())
    lease = lease_path(Path(out_root), job.name) if settings.leases else None
    watch = (parent, lease, wall_limit(job, settings))
    threading.Thread(target=_watch_parent, args=watch, daemon=True).start()
    row = solve_job(job, settings, threads, Path(out_root), attempt, renames)
    if os.getppid() != parent:  # orphaned: the run folder is the answer (see reconcile)
        return 0
    tmp = reply.with_name(reply.name + ".tmp")
    tmp.write_bytes(pickle.dumps(row))
    os.replace(tmp, reply)
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    sys.exit(main(sys.argv[1:]))
