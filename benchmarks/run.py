"""hubopt solve benchmark (``make bench``, ``make bench-quick``).

    python benchmarks/run.py [--quick] [--sets orlib,capabc,holmberg,korea,ladder]
                             [--only NAME ...] [--time-limit S] [--backend B]
                             [--option KEY=VALUE ...] [--runners hubopt,highs,pulp]
    python benchmarks/run.py --markdown RESULTS.csv [...] [--docs docs/solvers.md]

Per instance: hubopt's build / solve / total seconds, status, objective, bound, gap and
peak RSS, and the same run's ratios against bare HiGHS on the plain textbook matrix and
against the textbook PuLP + CBC model (benchmarks/textbook.py); every solver runs in its
own child process with the same time limit and MIP gap. Nothing is asserted.

Sets
----
orlib     OR-Library cap41..cap134 (37; ../shared/benchmarks/orlib_cap, else the four in
          tests/fixtures/orlib), 60 s each.
capabc    capa/capb/capc x 4 capacities (12; ../shared/benchmarks/orlib_cap), 600 s each.
holmberg  Holmberg single-source p1..p71 (../shared/benchmarks/holmberg_sscflp, else
          p1, p2, p13 in tests/fixtures/holmberg), hubopt
          with ``policy.single_sourcing: true``, 60 s each.
korea     the Korea demo (korea-small, korea; time limit and gap from the YAML; the
          launch-day van routing is left out so all three solve the same MILP).
ladder    seeded synthetic scenarios 250x25x6x8 .. 5000x300x20x12 (benchmarks/ladder.py),
          written to a temporary folder; 120 / 300 / 600 / 1500 s.

``--quick`` runs cap41, cap71, cap101, cap131, Holmberg p13, korea-small and the
250x25x6x8 rung, all from files in the repo, 60 s per run. A set whose data is not
there (../shared/benchmarks, or ``$HUBOPT_BENCH_DATA``) is skipped with a message. ``--backend`` and ``--option`` (any
scenario key, e.g. ``--option policy.linking=stream``; ``--method M`` is short for
``--option solver.method=M``) apply to hubopt's run only.

Results: ``benchmarks/results/<timestamp>-<set>.csv`` (columns: harness.COLUMNS, listed
in docs/solvers.md) with a sidecar ``.json`` (machine, versions, git commit, load
average at start and end, settings, and the machine's pace at start and end:
``harness.Pace``, the seconds of one fixed LP, printed at each set's start; compare runs of
different sessions through it, the machines here are shared and their speed changes by
the hour). ``--markdown`` prints the short table of one or
more results files; with ``--docs`` it replaces the table between the
``<!-- bench-table:start/end -->`` markers in that file.

Resuming
--------
A whole ``make bench`` takes hours. Every results file is rewritten after each instance,
so an interrupted run keeps what it measured, and ``--resume STAMP`` (the stamp printed
when the run started, also the results files' prefix) goes on with the same sets and
settings: instances already in ``STAMP-<set>.csv`` are skipped, the rest are measured and
appended, and the sidecar lists every session (start, end, load average). Each row's
ratios still come from one session (its three runs follow each other). A resume is
refused when the settings, the ``--quick`` flag or the git commit differ from the run's,
or when either has uncommitted changes (a run measures one version of hubopt): check that
commit out to go on.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import math
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.harness import (  # noqa: E402
    PACE_RUNG,
    RESULTS,
    RUNNERS,
    SETS,
    Pace,
    Settings,
    apply_options,
    cases_for,
    machine_info,
    make_row,
    now_stamp,
    run_child,
    settings_dict,
    shared_dir,
    write_results,
)

MARK_START, MARK_END = "<!-- bench-table:start -->", "<!-- bench-table:end -->"
FAILED = {"error", "killed", "memory", "time_limit", "infeasible", "unbounded", ""}


def _num(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _secs(value: Any) -> str:
    v = _num(value)
    return "-" if math.isnan(v) else (f"{v:.2f}" if v < 10 else f"{v:.0f}")


def _gap(value: Any) -> str:
    v = _num(value)
    return "-" if math.isnan(v) else f"{100 * v:.2f}%"


def _vs(row: dict[str, Any], base: str) -> str:
    """``hubopt vs base`` as ``N.Nx`` (time ratio, both proven optimal), ``>=N.Nx`` (the
    baseline did not finish), or the two gaps when hubopt did not finish either."""
    ours, theirs = row.get("hubopt_status", ""), row.get(f"{base}_status", "")
    if not theirs:
        return "-"
    if theirs == "skipped":
        return "skipped"
    ratio = _num(row.get(f"speedup_vs_{base}"))
    if ours == "optimal" and theirs == "optimal":
        return f"{ratio:.2f}x"
    if ours == "optimal":
        return f">={ratio:.2f}x ({theirs})" if not math.isnan(ratio) else theirs
    if base == "highs":
        return f"gap {_gap(row.get('highs_gap'))} ({theirs})"
    return theirs


def table(rows: list[dict[str, Any]], markdown: bool = False) -> str:
    """The summary table (plain text or Markdown) and a footer with the counts."""
    head = [
        "set",
        "instance",
        "status",
        "objective",
        "gap",
        "build s",
        "solve s",
        "total s",
        "RSS MB",
        "bare HiGHS s",
        "vs HiGHS",
        "PuLP s",
        "vs PuLP",
    ]
    body = []
    for r in rows:
        obj = _num(r.get("hubopt_objective"))
        body.append(
            [
                r["set"],
                r["instance"],
                r["hubopt_status"] + ("" if r.get("hubopt_verified") in ("True", True) else "*"),
                "-" if math.isnan(obj) else f"{obj:,.1f}",
                _gap(r.get("hubopt_gap")),
                _secs(r.get("hubopt_build_s")),
                _secs(r.get("hubopt_solve_s")),
                _secs(r.get("hubopt_total_s")),
                _secs(r.get("hubopt_peak_rss_mb")),
                _secs(r.get("highs_total_s")),
                _vs(r, "highs"),
                _secs(r.get("pulp_total_s")),
                _vs(r, "pulp"),
            ]
        )
    lines = []
    if markdown:
        lines.append("| " + " | ".join(head) + " |")
        lines.append("|" + "|".join("---" for _ in head) + "|")
        lines += ["| " + " | ".join(b) + " |" for b in body]
    else:
        widths = [max(len(str(x)) for x in col) for col in zip(head, *body, strict=True)]
        fmt = "  ".join(f"{{:<{w}}}" if i < 3 else f"{{:>{w}}}" for i, w in enumerate(widths))
        lines.append(fmt.format(*head))
        lines += [fmt.format(*b) for b in body]
    lines.append("")
    lines.append(footer(rows))
    return "\n".join(lines)


def footer(rows: list[dict[str, Any]]) -> str:
    """Counts: optimal runs, matches of published optima, PuLP failures, geometric means."""
    n = len(rows)
    opt = sum(r["hubopt_status"] == "optimal" for r in rows)
    known = [r for r in rows if not math.isnan(_num(r.get("known_optimum")))]
    match = sum(_num(r.get("hubopt_rel_error")) <= 1e-6 for r in known)
    pulp = [r for r in rows if r.get("pulp_status")]
    pulp_failed = sum(str(r.get("pulp_failed")) == "True" for r in pulp)
    out = [f"{n} instances; hubopt optimal on {opt}"]
    if known:
        out.append(f"published optimum reached on {match}/{len(known)}")
    if pulp:
        out.append(f"PuLP + CBC failed (no proven optimum) on {pulp_failed}/{len(pulp)}")
    for base in ("highs", "pulp"):
        both = [
            _num(r[f"speedup_vs_{base}"])
            for r in rows
            if r["hubopt_status"] == "optimal" and r.get(f"{base}_status") == "optimal"
        ]
        both = [v for v in both if v > 0]
        if both:
            geo = math.exp(sum(math.log(v) for v in both) / len(both))
            name = "bare HiGHS" if base == "highs" else "PuLP + CBC"
            out.append(
                f"{name}/hubopt time, geometric mean over {len(both)} both-optimal: {geo:.2f}x"
            )
    slow = [r for r in rows if _num(r.get("hubopt_solve_s")) > 10]
    if slow:
        ok = sum(_num(r.get("hubopt_build_share")) <= 0.10 for r in slow)
        out.append(f"build <= 10% of total on {ok}/{len(slow)} instances with solve > 10 s")
    return "; ".join(out) + ". (* = not verified / no plan)"


def read_rows(paths: list[Path]) -> list[dict[str, Any]]:
    """Rows of one or more results CSVs."""
    rows: list[dict[str, Any]] = []
    for path in paths:
        with path.open(newline="") as fh:
            rows += list(csv.DictReader(fh))
    return rows


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def resume_run(
    out: Path,
    stamp: str,
    sets: list[str],
    settings: Settings,
    machine: dict[str, Any],
    quick: bool,
) -> dict[str, tuple[list[dict[str, Any]], dict[str, Any]]]:
    """The rows and sidecar of each set run ``stamp`` has results of, in ``out``.

    Raises
    ------
    ValueError
        No results of ``stamp`` there, or a sidecar whose settings, ``quick`` flag or git
        commit differ from this run's (the message names the file and what differs).
    """
    found: dict[str, tuple[list[dict[str, Any]], dict[str, Any]]] = {}
    wanted = json.loads(json.dumps(settings_dict(settings)))
    for set_name in sets:
        path = out / f"{stamp}-{set_name}.csv"
        if not path.is_file():
            continue
        side = path.with_suffix(".json")
        try:
            info = json.loads(side.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise ValueError(f"{side}: cannot read the run's sidecar ({exc})") from exc
        differ = [
            f"{key} was {info.get(key)!r}, now {value!r}"
            for key, value in (("settings", wanted), ("quick", quick))
            if info.get(key) != value
        ]
        then = info.get("machine", {})
        if then.get("git_commit") != machine["git_commit"]:
            differ.append(f"git commit was {then.get('git_commit')}, now {machine['git_commit']}")
        if then.get("git_dirty") or machine["git_dirty"]:
            differ.append("uncommitted changes (then or now): the code measured is unknown")
        if differ:
            raise ValueError(f"{side}: this run differs from the one resumed: {'; '.join(differ)}")
        found[set_name] = (read_rows([path]), info)
    if not found:
        names = ", ".join(f"{stamp}-{s}.csv" for s in sets)
        raise ValueError(f"no results of that run in {out} (looked for {names})")
    return found


def markdown(paths: list[Path], docs: Path | None) -> None:
    """Print the Markdown table of ``paths``; splice it into ``docs`` between the markers."""
    text = table(read_rows(paths), markdown=True)
    lines = []
    for p in paths:
        side = p.with_suffix(".json")
        meta = yaml.safe_load(side.read_text()) if side.is_file() else {}
        m = meta.get("machine", {})
        where = f"`benchmarks/results/{p.name}`"
        if m:
            where += (
                f": {m.get('cpu_count')} CPUs ({m.get('cpu_model')}), {m.get('ram_gb')} GB, "
                f"load {meta.get('load_start')} -> {meta.get('load_end')}, pace "
                f"{meta.get('pace_start_s')} -> {meta.get('pace_end_s')} s, highspy "
                f"{m.get('highspy')}, PuLP {m.get('pulp')}, commit {str(m.get('git_commit'))[:9]}"
            )
        lines.append(f"- {where}")
    block = f"{text}\n\nFrom:\n\n" + "\n".join(lines)
    print(block)
    if docs is not None:
        doc = docs.read_text()
        if MARK_START not in doc or MARK_END not in doc:
            raise SystemExit(f"{docs} has no {MARK_START} ... {MARK_END} markers")
        head, rest = doc.split(MARK_START, 1)
        _, tail = rest.split(MARK_END, 1)
        docs.write_text(f"{head}{MARK_START}\n{block}\n{MARK_END}{tail}")
        print(f"updated {docs}")


def parse_options(items: list[str], method: str | None) -> dict[str, Any]:
    """``KEY=VALUE`` pairs (values parsed as YAML scalars) into a dict."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise SystemExit(f"--option wants KEY=VALUE, got {item!r}")
        out[key.strip()] = yaml.safe_load(value)
    if method:
        out["solver.method"] = method
    return out


def main(argv: list[str] | None = None) -> int:
    """Run the chosen sets, write one results file per set, print the summary."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="the make bench-quick subset")
    parser.add_argument("--sets", default=",".join(SETS), help="comma-separated sets")
    parser.add_argument("--only", nargs="+", help="instance names within the sets")
    parser.add_argument("--time-limit", type=float, help="seconds per run (all sets)")
    parser.add_argument("--backend", help="hubopt's solver.backend (default: the scenario's)")
    parser.add_argument("--method", help="shorthand for --option solver.method=METHOD")
    parser.add_argument("--option", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--runners", default=",".join(RUNNERS), help="hubopt,highs,pulp")
    parser.add_argument("--pulp-max-columns", type=int, default=2_000_000)
    parser.add_argument(
        "--textbook-linking",
        choices=["strong", "aggregated"],
        default="strong",
        help="CFLP baselines with the per-arc rows x_ij <= y_i (strong) or without",
    )
    parser.add_argument("--mem-limit-mb", type=float, default=20_000.0)
    parser.add_argument(
        "--kill-factor",
        type=float,
        default=2.0,
        help="kill a run at FACTOR x limit + 300 s (its seconds so far are its time: a "
        "ratio against a killed run is a lower bound)",
    )
    parser.add_argument("--seed", type=int, default=0, help="ladder seed")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument(
        "--resume",
        metavar="STAMP",
        help="go on with the interrupted run STAMP: skip the instances its results have",
    )
    parser.add_argument("--markdown", nargs="+", type=Path, metavar="RESULTS.csv")
    parser.add_argument("--docs", type=Path, help="with --markdown: file to splice into")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    if args.markdown:
        markdown(args.markdown, args.docs)
        return 0
    runners = tuple(r.strip() for r in args.runners.split(",") if r.strip())
    if unknown := set(runners) - set(RUNNERS):
        parser.error(f"unknown runners {sorted(unknown)}; choose from {', '.join(RUNNERS)}")
    sets = [s.strip() for s in args.sets.split(",") if s.strip()]
    if unknown := set(sets) - set(SETS):
        parser.error(f"unknown sets {sorted(unknown)}; choose from {', '.join(SETS)}")
    settings = Settings(
        backend=args.backend,
        options=parse_options(args.option, args.method),
        runners=runners,
        time_limit=args.time_limit,
        pulp_max_columns=args.pulp_max_columns,
        textbook_linking=args.textbook_linking,
        mem_limit_mb=args.mem_limit_mb,
        kill_factor=args.kill_factor,
        seed=args.seed,
    )
    if args.backend is not None:
        from hubopt.scenario.schema import Backend

        known = [str(b) for b in Backend]
        if args.backend not in known:
            parser.error(f"--backend {args.backend!r}: one of {', '.join(known)}")
    if settings.options:  # refuse a misspelt key before hours of runs, not in every child
        from hubopt.scenario.scenario import load_scenario

        try:
            apply_options(
                load_scenario(ROOT / "scenarios/korea/korea-small.yaml"), settings.options
            )
        except ValueError as exc:
            parser.error(f"--option/--method: {exc}")
    stamp = args.resume or now_stamp()
    machine = machine_info()
    shared = shared_dir()
    earlier: dict[str, tuple[list[dict[str, Any]], dict[str, Any]]] = {}
    if args.resume:
        try:
            earlier = resume_run(args.out, stamp, sets, settings, machine, args.quick)
        except ValueError as exc:
            print(f"--resume {stamp}: {exc}", file=sys.stderr)
            return 2
    print(
        f"hubopt bench {stamp}: {machine['cpu_count']} CPUs, {machine['ram_gb']} GB, "
        f"commit {machine['git_commit'][:9]}; shared data: {shared or 'not found'}"
        + ("" if args.resume else f"; if interrupted, go on with --resume {stamp}"),
        flush=True,
    )
    all_rows: list[dict[str, Any]] = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="hubopt-bench-") as tmp:
        pace = Pace(Path(tmp))
        for set_name in sets:
            session = {
                "started": now_stamp(),
                "load_start": _load(),
                "pace_start_s": pace.seconds(),
            }
            print(
                f"[{set_name}] pace: {session['pace_start_s']} s (the {PACE_RUNG} ladder "
                "rung's LP, serial dual simplex; lower is faster)",
                flush=True,
            )
            set_start = time.perf_counter()
            cases, note = cases_for(set_name, args.quick, Path(tmp), settings, args.only)
            if note:
                print(f"[{set_name}] {note}", flush=True)
            rows, before = earlier.get(set_name, ([], {}))
            done = {row["instance"] for row in rows}
            if done:
                print(
                    f"[{set_name}] resumed: {len(done & {c.name for c in cases})} of "
                    f"{len(cases)} instances measured before",
                    flush=True,
                )
            path = args.out / f"{stamp}-{set_name}.csv"
            info: dict[str, Any] | None = None  # this session's sidecar, once it measured
            for case in [c for c in cases if c.name not in done]:
                runs = {}
                log = args.out / "logs" / f"{stamp}-{set_name}-{case.name}.log"
                for runner in runners:
                    runs[runner] = run_child(runner, case, settings, log)
                row = make_row(case, settings, runs)
                rows.append(row)
                print(
                    f"[{set_name}] {case.name}: hubopt {row['hubopt_status']} "
                    f"{_secs(row['hubopt_total_s'])} s gap {_gap(row['hubopt_gap'])} | "
                    f"HiGHS {row['highs_status'] or '-'} {_secs(row['highs_total_s'])} s | "
                    f"PuLP {row['pulp_status'] or '-'} {_secs(row['pulp_total_s'])} s",
                    flush=True,
                )
                seconds = time.perf_counter() - set_start
                info = {
                    "set": set_name,
                    "stamp": stamp,
                    "quick": args.quick,
                    "machine": before.get("machine", machine),
                    "load_start": before.get("load_start", session["load_start"]),
                    "pace_start_s": before.get("pace_start_s", session["pace_start_s"]),
                    "load_end": _load(),
                    "seconds": round(before.get("seconds", 0.0) + seconds, 1),
                    "complete": {c.name for c in cases} <= {row["instance"] for row in rows},
                    "sessions": [
                        *before.get("sessions", []),
                        session | {"ended": now_stamp(), "load_end": _load()},
                    ],
                    "shared_data": str(shared) if shared else None,
                    "settings": settings_dict(settings),
                    "note": note,
                }
                # rewritten after every instance, so an interrupted run keeps what it measured
                write_results(rows, path, info)
            if info is not None:
                # the pace at the set's end, for the file and this session
                info["pace_end_s"] = info["sessions"][-1]["pace_end_s"] = pace.seconds()
                write_results(rows, path, info)
            if path.is_file():
                shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
                print(f"[{set_name}] results: {shown}", flush=True)
            all_rows += rows
    if all_rows:
        files = [args.out / f"{stamp}-{s}.csv" for s in sets]
        text_rows = read_rows([f for f in files if f.is_file()])
        print()
        print(table(text_rows))
    print(f"wall time {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
