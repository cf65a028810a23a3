"""The pieces of the solve benchmark (``benchmarks/run.py``): instance sets, one child
process per solver run, result rows, the results files and the tables.

Each instance is solved three times, each in a fresh child process (so its peak RSS is
its own), all with the same time limit and relative MIP gap:

``hubopt``  :func:`hubopt.api.solve` as a user calls it (load, build, solve, decode,
            verify), with ``--backend`` / ``--option`` applied; whatever ``solve`` does
            on this checkout is what is measured.
``highs``   bare HiGHS on the plain textbook matrix (:mod:`benchmarks.textbook`).
``pulp``    the textbook model in PuLP + CBC (:mod:`benchmarks.textbook`).
"""

from __future__ import annotations

import csv
import json
import math
import multiprocessing as mp
import os
import platform
import resource
import subprocess
import time
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from benchmarks.ladder import LADDER, LadderSize, write_ladder_scenario
from benchmarks.textbook import highs_cflp, highs_plain, pulp_cflp, pulp_matrix
from hubopt.orlib import (
    FacilityInstance,
    read_holmberg,
    read_optima,
    read_orlib_cap,
    write_facility_scenario,
)

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "orlib"
HOLMBERG_FIXTURES = ROOT / "tests" / "fixtures" / "holmberg"
RESULTS = ROOT / "benchmarks" / "results"
RUNNERS = ("hubopt", "highs", "pulp")
SETS = ("orlib", "capabc", "holmberg", "korea", "ladder")
NAN = float("nan")
OPT_TOL = 1e-6  # relative: a run "matches" a published optimum within this

ORLIB_NAMES = [
    *(f"cap{k}" for k in (41, 42, 43, 44, 51, 61, 62, 63, 64, 71, 72, 73, 74)),
    *(f"cap{k}" for k in (81, 82, 83, 84, 91, 92, 93, 94, 101, 102, 103, 104)),
    *(f"cap{k}" for k in (111, 112, 113, 114, 121, 122, 123, 124, 131, 132, 133, 134)),
]
CAPABC = {
    "capa": (8000, 10000, 12000, 14000),
    "capb": (5000, 6000, 7000, 8000),
    "capc": (5000, 5750, 6500, 7250),
}
QUICK = {
    "orlib": ["cap41", "cap71", "cap101", "cap131"],
    "capabc": [],
    "holmberg": ["p13"],
    "korea": ["korea-small"],
    "ladder": ["250x25x6x8"],
}
QUICK_TIME_LIMIT = 60.0  # seconds per run in the quick subset, every set
TIME_LIMITS = {  # seconds per solver run, per set (ladder: per rung, from issue 8's targets)
    "orlib": 60.0,
    "capabc": 600.0,
    "holmberg": 60.0,
    "korea": None,  # the scenario's own (korea 100 s, korea-small 60 s)
    "250x25x6x8": 120.0,
    "1000x60x10x12": 300.0,
    "2000x150x10x12": 600.0,
    "5000x300x20x12": 1500.0,  # + ~150 s build and verification: a plan within 30 min
}
MEMORY_LIMITS = {  # bytes hubopt plans within (HUBOPT_MEMORY_LIMIT_BYTES), per ladder rung
    "5000x300x20x12": 8_000_000_000,  # issue 8: within 8 GB peak RSS
}

# The results CSV, column by column (docs/solvers.md repeats this list).
COLUMNS = [
    "set",  # orlib, capabc, holmberg, korea, ladder
    "instance",  # cap41, capa-8000, p1, korea-small, 250x25x6x8
    "size",  # facilities x customers, or regions x hubs x products x periods
    "time_limit_s",  # the same for all three runs
    "mip_gap",  # relative gap all three stop at
    "method",  # hubopt's backend and --option settings
    "baseline_form",  # which textbook model the two baselines solve
    "known_optimum",  # published optimum, when there is one
    "columns",  # hubopt's model size
    "rows",
    "nonzeros",
    "hubopt_status",  # optimal, feasible, time_limit, infeasible, error, killed, memory
    "hubopt_objective",
    "hubopt_bound",
    "hubopt_gap",  # relative, (objective - bound) / objective
    "hubopt_build_s",  # tables -> problem -> matrix
    "hubopt_solve_s",  # the solver call(s)
    "hubopt_total_s",  # load + build + solve + decode + verify, wall clock
    "hubopt_build_share",  # build / total
    "hubopt_peak_rss_mb",
    "hubopt_verified",  # the independent verifier's verdict
    "hubopt_rel_error",  # |objective - known optimum| / known optimum
    "highs_status",
    "highs_objective",
    "highs_bound",
    "highs_gap",
    "highs_total_s",  # matrix build + passModel + run
    "highs_peak_rss_mb",
    "highs_rel_error",
    "pulp_status",
    "pulp_objective",
    "pulp_build_s",  # writing the model in PuLP
    "pulp_total_s",  # build + CBC (PuLP writes an MPS file and runs cbc); killed: until then
    "pulp_peak_rss_mb",  # the child and its cbc process
    "pulp_rel_error",
    "pulp_failed",  # PuLP + CBC did not prove an optimum (or a gap) within the limit
    "speedup_vs_highs",  # highs_total_s / hubopt_total_s (> 1: hubopt faster)
    "speedup_vs_pulp",  # pulp_total_s / hubopt_total_s (a lower bound when PuLP was killed)
    "note",
]


@dataclass(frozen=True)
class Case:
    """One instance of a set, with what its three runs need."""

    set: str
    name: str
    kind: str  # "cflp" (a facility-location file) or "scenario" (a hubopt YAML)
    source: str  # the instance file, or the scenario YAML
    scenario: str  # the hubopt scenario YAML to solve (written for "cflp" cases)
    size: str
    time_limit: float
    mip_gap: float
    capacity: float | None = None  # capa/b/c: the capacity variant
    single_source: bool = False  # Holmberg: binary assignment
    optimum: float | None = None
    drop_routing: bool = False  # Korea: the MIP only, not the launch-day van routing
    memory_limit: int | None = None  # bytes hubopt plans within (HUBOPT_MEMORY_LIMIT_BYTES)


@dataclass
class Settings:
    """What the command line chose."""

    backend: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    runners: tuple[str, ...] = RUNNERS
    time_limit: float | None = None  # overrides the per-set limits
    pulp_max_columns: int = 2_000_000
    textbook_linking: str = "strong"  # or "aggregated": the CFLP baselines without x_ij <= y_i
    mem_limit_mb: float = 20_000.0
    kill_factor: float = 2.0  # a run still going at kill_factor x its limit + kill_grace_s
    kill_grace_s: float = 300.0  # ... is killed
    seed: int = 0

    @property
    def method(self) -> str:
        """hubopt's backend and options as one string, for the CSV."""
        parts = [self.backend or "auto"] + [f"{k}={v}" for k, v in sorted(self.options.items())]
        return " ".join(parts)


def shared_dir() -> Path | None:
    """``../shared/benchmarks`` beside the repo (or ``$HUBOPT_BENCH_DATA``), if present."""
    env = os.environ.get("HUBOPT_BENCH_DATA")
    for candidate in ([Path(env)] if env else []) + [ROOT.parent / "shared" / "benchmarks"]:
        if candidate.is_dir():
            return candidate
    return None


def read_cap_variant_optima(path: Path) -> dict[str, float]:
    """``capa-8000`` ... from OR-Library's capopt (``value (capacity N)`` lines)."""
    out: dict[str, float] = {}
    current = ""
    for line in path.read_text().splitlines():
        parts = line.replace("(", " ").replace(")", " ").split()
        if len(parts) >= 3 and parts[-2] == "capacity":
            if not line[0].isspace():
                current = parts[0]
                parts = parts[1:]
            out[f"{current}-{int(float(parts[-1]))}"] = float(parts[0])
    return out


def _in_set(set_name: str, name: str) -> bool:
    if set_name == "orlib":
        return name in ORLIB_NAMES
    if set_name == "capabc":
        return name in {f"{b}-{c}" for b, caps in CAPABC.items() for c in caps}
    if set_name == "holmberg":
        return name in {f"p{k}" for k in range(1, 72)}
    if set_name == "korea":
        return (ROOT / "scenarios" / "korea" / f"{name}.yaml").is_file()
    try:
        LadderSize.parse(name)
    except ValueError:
        return False
    return True


def _cflp_case(
    set_name: str,
    name: str,
    source: Path,
    tmp: Path,
    time_limit: float,
    optimum: float | None,
    capacity: float | None = None,
    single_source: bool = False,
) -> Case:
    inst = read_holmberg(source) if single_source else read_orlib_cap(source, capacity=capacity)
    inst = FacilityInstance(name, inst.capacity, inst.fixed_cost, inst.demand, inst.cost)
    yaml_path = write_facility_scenario(inst, tmp / set_name / name, single_sourcing=single_source)
    m, n = inst.cost.shape
    return Case(
        set_name,
        name,
        "cflp",
        str(source),
        str(yaml_path),
        f"{m}x{n}",
        time_limit,
        0.0,
        capacity,
        single_source,
        optimum,
    )


def cases_for(
    set_name: str, quick: bool, tmp: Path, settings: Settings, only: list[str] | None = None
) -> tuple[list[Case], str]:
    """The cases of one set (scenario folders written under ``tmp``) and a note.

    The note says what was skipped and why (e.g. ``../shared/benchmarks`` is missing).
    """
    shared = shared_dir()
    if set_name not in SETS:
        raise ValueError(f"unknown set {set_name!r}; one of {', '.join(SETS)}")
    names: list[str] | None = QUICK[set_name] if quick else None
    if names == [] and not only:
        return [], "not in the quick subset"
    if only:  # keep the names that belong to this set (a ladder rung may be any RxHxPxT)
        names = [n for n in only if _in_set(set_name, n)]
        if not names:
            return [], ""

    def limit(key: str, default: float) -> float:
        if settings.time_limit is not None:
            return settings.time_limit
        if quick:
            return QUICK_TIME_LIMIT
        value = TIME_LIMITS.get(key)
        return default if value is None else value

    out: list[Case] = []
    note = ""
    if set_name == "orlib":
        wanted = names or ORLIB_NAMES
        folder = shared / "orlib_cap" if shared else None
        optima = read_optima(FIXTURES / "capopt.txt")
        for name in wanted:
            source = folder / f"{name}.txt" if folder else FIXTURES / f"{name}.txt"
            if not source.is_file():
                source = FIXTURES / f"{name}.txt"
            if not source.is_file():
                note = "../shared/benchmarks/orlib_cap not found: only the 4 instances in tests/fixtures/orlib"
                continue
            out.append(_cflp_case("orlib", name, source, tmp, limit("orlib", 60), optima.get(name)))
    elif set_name == "capabc":
        if shared is None:
            return [], "skipped: ../shared/benchmarks not found (capa/b/c are not in the repo)"
        optima = read_cap_variant_optima(FIXTURES / "capopt.txt")
        every = [f"{base}-{cap}" for base, caps in CAPABC.items() for cap in caps]
        for name in names or every:  # in the order asked for
            base, cap = name.split("-")
            source = shared / "orlib_cap" / f"{base}.txt"
            out.append(
                _cflp_case(
                    "capabc",
                    name,
                    source,
                    tmp,
                    limit("capabc", 600),
                    optima[name],
                    capacity=float(cap),
                )
            )
    elif set_name == "holmberg":
        folder = shared / "holmberg_sscflp" if shared else HOLMBERG_FIXTURES
        values = (folder / "os_oscar-oliveira.txt").read_text().split()
        optima = {f"p{k + 1}": float(v) for k, v in enumerate(values)}
        for name in names or [f"p{k}" for k in range(1, 72)]:
            source = folder / name if (folder / name).is_file() else HOLMBERG_FIXTURES / name
            if not source.is_file():
                note = "../shared/benchmarks/holmberg_sscflp not found: only p1, p2, p13 (tests/fixtures/holmberg)"
                continue
            out.append(
                _cflp_case(
                    "holmberg",
                    name,
                    source,
                    tmp,
                    limit("holmberg", 60),
                    optima.get(name),
                    single_source=True,
                )
            )
    elif set_name == "korea":
        for name in names or ["korea-small", "korea"]:
            yaml_path = ROOT / "scenarios" / "korea" / f"{name}.yaml"
            doc = yaml.safe_load(yaml_path.read_text())
            solver = doc.get("solver", {})
            out.append(
                Case(
                    "korea",
                    name,
                    "scenario",
                    str(yaml_path),
                    str(yaml_path),
                    "250x27 regions x hubs",
                    limit("korea", float(solver.get("time_limit_s", 120))),
                    float(solver.get("mip_gap", 0.005)),
                    drop_routing=True,
                )
            )
    elif set_name == "ladder":
        for label in names or [s.label for s in LADDER]:
            size = LadderSize.parse(label)
            yaml_path = write_ladder_scenario(size, tmp / "ladder" / label, seed=settings.seed)
            out.append(
                Case(
                    "ladder",
                    label,
                    "scenario",
                    str(yaml_path),
                    str(yaml_path),
                    label,
                    limit(label, 600),
                    0.01,
                    memory_limit=MEMORY_LIMITS.get(label),
                )
            )
    return out, note


# --------------------------------------------------------------------------- child runs


def apply_options(scenario: Any, options: dict[str, Any]) -> Any:
    """Set dotted config keys (``solver.time_limit_s``, ``policy.linking`` ...) on a
    :class:`~hubopt.scenario.scenario.Scenario`; each block is re-validated."""

    def set_key(block: Any, keys: list[str], value: Any) -> Any:
        if len(keys) == 1:
            data = block.model_dump()
            data[keys[0]] = value
            return type(block).model_validate(data)
        child = getattr(block, keys[0])
        return block.model_copy(update={keys[0]: set_key(child, keys[1:], value)})

    config = scenario.config
    for key, value in options.items():
        config = set_key(config, key.split("."), value)
    return replace(scenario, config=config)


def _peak_rss_mb() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024.0  # Linux reports kB


def _read_instance(case: Case) -> FacilityInstance:
    if case.single_source:
        return read_holmberg(case.source)
    return read_orlib_cap(case.source, capacity=case.capacity)


def _run_hubopt(case: Case, settings: Settings) -> dict[str, Any]:
    from hubopt.api import solve
    from hubopt.scenario.scenario import load_scenario

    if case.memory_limit is not None:  # this child process only
        os.environ["HUBOPT_MEMORY_LIMIT_BYTES"] = str(case.memory_limit)
    start = time.perf_counter()
    scenario = load_scenario(case.scenario)
    if case.drop_routing:
        scenario = replace(scenario, config=scenario.config.model_copy(update={"routing": None}))
    scenario = apply_options(scenario, settings.options)
    result = solve(
        scenario, backend=settings.backend, time_limit_s=case.time_limit, mip_gap=case.mip_gap
    )
    total = time.perf_counter() - start
    return {
        "status": str(result.status),
        "objective": result.objective,
        "bound": result.bound,
        "gap": result.gap,
        "build_s": result.build_seconds,
        "solve_s": result.solve_seconds,
        "total_s": total,
        "verified": None if result.verification is None else bool(result.verification.ok),
        "message": result.message,
        "solver_log": result.solver_log,
        **result.model_stats,
    }


def _matrix(case: Case) -> Any:
    from hubopt.data.problem import build_problem
    from hubopt.model.build import build_model
    from hubopt.scenario.scenario import load_scenario

    return build_model(build_problem(load_scenario(case.scenario)))


def _run_highs(case: Case, settings: Settings) -> dict[str, Any]:
    if case.kind == "cflp":
        out = highs_cflp(
            _read_instance(case),
            case.time_limit,
            case.mip_gap,
            case.single_source,
            strong=settings.textbook_linking == "strong",
        )
    else:
        out = highs_plain(_matrix(case), case.time_limit, case.mip_gap)
    return out.as_dict()


def _run_pulp(case: Case, settings: Settings) -> dict[str, Any]:
    if case.kind == "cflp":
        out = pulp_cflp(
            _read_instance(case),
            case.time_limit,
            case.mip_gap,
            case.single_source,
            strong=settings.textbook_linking == "strong",
        )
        return out.as_dict()
    model = _matrix(case)
    if model.n_vars > settings.pulp_max_columns:
        return {
            "status": "skipped",
            "message": f"{model.n_vars:,} columns > --pulp-max-columns {settings.pulp_max_columns:,}",
        }
    return pulp_matrix(model, case.time_limit, case.mip_gap).as_dict()


def child_main(runner: str, case: Case, settings: Settings, conn: Any) -> None:
    """Entry point of a child process: run one solver, send a dict back on ``conn``."""
    import logging

    logging.basicConfig(level=logging.ERROR)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)  # solver banners and logs; results (and errors) go through the pipe
    os.dup2(devnull, 2)
    try:
        run = {"hubopt": _run_hubopt, "highs": _run_highs, "pulp": _run_pulp}[runner]
        out = run(case, settings)
    except Exception as exc:  # any failure is a result row, not a crash
        out = {"status": "error", "message": f"{type(exc).__name__}: {exc}"[:500]}
    out["peak_rss_mb"] = _peak_rss_mb()
    conn.send(out)
    conn.close()


def _tree_rss(proc: Any) -> float:
    import psutil

    total = 0
    try:
        for p in [proc, *proc.children(recursive=True)]:
            total += p.memory_info().rss
    except psutil.Error:
        pass
    return total / 2**20


def _kill_tree(proc: Any) -> None:
    import psutil

    try:
        for p in proc.children(recursive=True):
            p.kill()
        proc.kill()
    except psutil.Error:
        pass


def run_child(
    runner: str, case: Case, settings: Settings, log: Path | None = None
) -> dict[str, Any]:
    """Run one solver in a fresh process; kill it past ``kill_factor`` x its limit +
    ``kill_grace_s`` (CBC, for one, can overrun its limit by many minutes on capb) or above
    the memory cap. A run killed for time reports the seconds it had run as ``total_s``:
    its time is at least that, so a ratio against it is a lower bound (``>=`` in the
    table). ``log``: where hubopt's solver log goes (the run folder's ``solver.log``: what
    the bound loop, the search and HiGHS did), when the run returns one."""
    import psutil

    ctx = mp.get_context("spawn")
    recv, send = ctx.Pipe(duplex=False)
    child = ctx.Process(target=child_main, args=(runner, case, settings, send), daemon=True)
    child.start()
    send.close()
    proc = psutil.Process(child.pid)
    began = time.monotonic()
    deadline = began + settings.kill_factor * case.time_limit + settings.kill_grace_s
    peak = 0.0
    out: dict[str, Any]
    while True:
        if recv.poll(0.5):
            try:
                out = recv.recv()
            except EOFError:
                out = {"status": "error", "message": f"child exited with code {child.exitcode}"}
            break
        if not child.is_alive():
            out = {"status": "error", "message": f"child exited with code {child.exitcode}"}
            break
        peak = max(peak, _tree_rss(proc))
        if peak > settings.mem_limit_mb:
            _kill_tree(proc)
            out = {"status": "memory", "message": f"killed above {settings.mem_limit_mb:.0f} MB"}
            break
        if time.monotonic() > deadline:
            _kill_tree(proc)
            out = {
                "status": "killed",
                "message": f"killed at {settings.kill_factor:g}x the time limit + "
                f"{settings.kill_grace_s:g} s",
                "total_s": time.monotonic() - began,
            }
            break
    child.join(10)
    if child.is_alive():
        _kill_tree(proc)
        child.join()
    out.setdefault("peak_rss_mb", peak)
    out["peak_rss_mb"] = max(float(out["peak_rss_mb"]), peak)
    solver_log = out.pop("solver_log", None)
    if log is not None and solver_log:
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text(solver_log, encoding="utf-8")
    return out


# --------------------------------------------------------------------------- rows


def _f(value: Any) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return NAN
    return out if math.isfinite(out) else NAN


def _rel_error(objective: Any, optimum: float | None) -> float:
    obj = _f(objective)
    if optimum is None or math.isnan(obj):
        return NAN
    return abs(obj - optimum) / max(abs(optimum), 1e-9)


def _ratio(base: dict[str, Any], ours: dict[str, Any]) -> float:
    b, o = _f(base.get("total_s")), _f(ours.get("total_s"))
    return b / o if o > 0 and math.isfinite(b) else NAN


def make_row(case: Case, settings: Settings, runs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """One CSV row from the three runs of ``case``."""
    ours = runs.get("hubopt", {})
    hs = runs.get("highs", {})
    pl = runs.get("pulp", {})
    total = _f(ours.get("total_s"))
    build = _f(ours.get("build_s"))
    notes = [
        f"{r}: {runs[r].get('message', '')}"
        for r in runs
        if runs[r].get("status") in {"error", "killed", "memory", "skipped"}
    ]
    if case.memory_limit is not None and "hubopt" in runs:
        notes.append(f"hubopt planned within {case.memory_limit / 1e9:g} GB")
    if case.kind != "cflp":
        form = "hubopt matrix (build_model), no hubopt extras"
    else:
        strong = settings.textbook_linking == "strong"
        form = "cflp strong x_ij<=y_i" if strong else "cflp aggregated (capacity rows only)"
        form += ", binary x" if case.single_source else ""
    pulp_status = pl.get("status", "")
    row: dict[str, Any] = {
        "set": case.set,
        "instance": case.name,
        "size": case.size,
        "time_limit_s": case.time_limit,
        "mip_gap": case.mip_gap,
        "method": settings.method,
        "baseline_form": form,
        "known_optimum": case.optimum if case.optimum is not None else NAN,
        "columns": ours.get("columns", ""),
        "rows": ours.get("rows", ""),
        "nonzeros": ours.get("nonzeros", ""),
        "hubopt_status": ours.get("status", ""),
        "hubopt_objective": _f(ours.get("objective")),
        "hubopt_bound": _f(ours.get("bound")),
        "hubopt_gap": _f(ours.get("gap")),
        "hubopt_build_s": build,
        "hubopt_solve_s": _f(ours.get("solve_s")),
        "hubopt_total_s": total,
        "hubopt_build_share": build / total if total > 0 else NAN,
        "hubopt_peak_rss_mb": _f(ours.get("peak_rss_mb")),
        "hubopt_verified": ours.get("verified", ""),
        "hubopt_rel_error": _rel_error(ours.get("objective"), case.optimum),
        "highs_status": hs.get("status", ""),
        "highs_objective": _f(hs.get("objective")),
        "highs_bound": _f(hs.get("bound")),
        "highs_gap": _f(hs.get("gap")),
        "highs_total_s": _f(hs.get("total_s")),
        "highs_peak_rss_mb": _f(hs.get("peak_rss_mb")),
        "highs_rel_error": _rel_error(hs.get("objective"), case.optimum),
        "pulp_status": pulp_status,
        "pulp_objective": _f(pl.get("objective")),
        "pulp_build_s": _f(pl.get("build_s")),
        "pulp_total_s": _f(pl.get("total_s")),
        "pulp_peak_rss_mb": _f(pl.get("peak_rss_mb")),
        "pulp_rel_error": _rel_error(pl.get("objective"), case.optimum),
        "pulp_failed": "" if not pl else pulp_status != "optimal",
        "speedup_vs_highs": _ratio(hs, ours),
        "speedup_vs_pulp": _ratio(pl, ours),
        "note": "; ".join(notes),
    }
    return row


# --------------------------------------------------------------------------- files


def _git(*args: str) -> str:
    try:
        return subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return ""


def machine_info() -> dict[str, Any]:
    """CPU, memory, load and software versions, for the sidecar JSON."""
    import psutil

    model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "cpu_count": os.cpu_count(),
        "cpu_model": model or platform.processor(),
        "ram_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "highspy": _version("highspy"),
        "pulp": _version("pulp"),
        "hubopt": _version("hubopt"),
        "git_commit": _git("rev-parse", "HEAD"),
        "git_dirty": bool(_git("status", "--porcelain", "--untracked-files=no")),
    }


def write_results(
    rows: list[dict[str, Any]], path: Path, info: dict[str, Any]
) -> tuple[Path, Path]:
    """Write the CSV (``COLUMNS``, in order) and its sidecar JSON (machine, settings)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _cell(row.get(k, "")) for k in COLUMNS})
    side = path.with_suffix(".json")
    side.write_text(json.dumps(info, indent=2, default=str))
    return path, side


def _cell(value: Any) -> Any:
    if isinstance(value, float):
        return "" if math.isnan(value) else f"{value:.10g}"
    return value


def now_stamp() -> str:
    """UTC timestamp for file names."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")


def settings_dict(settings: Settings) -> dict[str, Any]:
    """The settings, JSON-ready."""
    return asdict(settings)


PACE_RUNG = "200x20x4x6"
"""The seeded ladder rung (:mod:`benchmarks.ladder`, seed 0) whose LP :class:`Pace` times."""


class Pace:
    """The machine's pace for this kind of work at a moment: the seconds HiGHS's dual
    simplex takes on the LP relaxation of :data:`PACE_RUNG` (one thread, no presolve,
    from the slack basis; the best of two runs). The machines here are shared and
    their speed changes by the hour: the same AMD EPYC model gave the fresh-clone suite
    in 14:51 one evening and 16:44-21:26 the day before, and the same Korea demo solve in
    65.7 s against 93.3 s. Each results file records the pace at the start and end of its
    set (``pace_start_s``, ``pace_end_s``), so runs of different sessions can be compared
    through it. The model is built once, in ``folder``."""

    def __init__(self, folder: Path) -> None:
        from hubopt.data.problem import build_problem
        from hubopt.model.build import build_model
        from hubopt.scenario.scenario import load_scenario

        path = write_ladder_scenario(PACE_RUNG, folder / "pace")
        model = build_model(build_problem(load_scenario(path)))
        self.model = replace(model, integer=np.zeros_like(model.integer))

    def seconds(self) -> float:
        """The best of two timed LP solves (3 decimals)."""
        import highspy

        from hubopt.solvers.base import in_fresh_thread
        from hubopt.solvers.highs import pass_matrix

        times = []
        for _ in range(2):
            h = highspy.Highs()
            h.setOptionValue("output_flag", False)
            h.setOptionValue("threads", 1)
            h.setOptionValue("presolve", "off")
            h.setOptionValue("solver", "simplex")
            h.setOptionValue("simplex_strategy", 1)  # serial dual
            pass_matrix(h, self.model)
            start = time.perf_counter()
            # a thread of its own gets a HiGHS scheduler of one thread (base.in_fresh_thread)
            in_fresh_thread(h.run)
            times.append(time.perf_counter() - start)
            if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
                raise RuntimeError(
                    f"pace LP ({PACE_RUNG}): {h.modelStatusToString(h.getModelStatus())}"
                )
        return round(min(times), 3)
