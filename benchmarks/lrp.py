"""Location-routing benchmark: hubopt's integrated mode on CLRP instances.

    python benchmarks/lrp.py [INSTANCE_FILE ...] [--time-limit S] [--rounds K] [--budget S]

With no files it runs the Prodhon set (``../shared/benchmarks/lrp/prodhon``, or
``$HUBOPT_LRP_DIR``). Each instance (Prodhon's format: Prodhon, Tuzun-Burke or Barreto
files) becomes a scenario (:func:`hubopt.routing.lrp.write_lrp_scenario`), is solved with
``routing.mode: integrated``, and is priced like the literature (``ceil(100 d)`` arcs for
Prodhon's integer instances). One line per instance: file, our cost, best-known cost
(from the README table of the instance folder, when listed), gap, seconds. Averages per
instance size close the table; rows go to ``bench-results/lrp-<timestamp>.json``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hubopt.api import solve  # noqa: E402
from hubopt.routing.lrp import gap_percent, lrp_cost, read_lrp, write_lrp_scenario  # noqa: E402
from hubopt.solvers.base import stdout_to_stderr  # noqa: E402

LRP_DIR = Path(os.environ.get("HUBOPT_LRP_DIR", ROOT.parent / "shared" / "benchmarks" / "lrp"))


def best_known(folder: Path) -> dict[str, float]:
    """Best-known values from the README tables next to the instance folders."""
    readme = folder / "README.md"
    if not readme.is_file():
        readme = folder.parent / "README.md"
    if not readme.is_file():
        return {}
    out: dict[str, float] = {}
    for line in readme.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 7 and re.fullmatch(r"coord[\w-]+", cells[0]):
            try:
                out[cells[0]] = float(cells[6])
            except ValueError:
                continue
    return out


# customers -> (routing seconds per hub, most rounds, seconds after which no round starts)
SETTINGS = ((20, 0.5, 8, 40.0), (50, 1.0, 8, 40.0), (100, 2.0, 6, 60.0), (10**9, 3.0, 5, 90.0))


def run_instance(
    path: Path, tmp: Path, time_limit: float | None, rounds: int | None, budget: float | None
) -> dict[str, Any]:
    """Solve one instance with the integrated mode and price it like the literature."""
    instance = read_lrp(path)
    n = len(instance.customer_xy)
    _, per_hub, most, search = next(row for row in SETTINGS if n <= row[0])
    scenario = write_lrp_scenario(
        instance,
        tmp / instance.name,
        time_limit or per_hub,
        rounds or most,
        search_time_limit_s=budget or search,
    )
    start = time.perf_counter()
    result = solve(scenario)
    seconds = time.perf_counter() - start
    assert result.solution is not None and result.routes is not None
    assert result.route_verification is not None and result.route_verification.ok
    hubs = result.solution.hubs
    open_hubs = sorted(hubs.loc[hubs["open"] > 0.5, "hub_id"])
    return {
        "instance": path.stem,
        "file": str(path),
        "customers": len(instance.customer_xy),
        "ours": lrp_cost(instance, open_hubs, result.routes.stops),
        "open_hubs": open_hubs,
        "routes": len(result.routes.routes),
        "seconds": seconds,
    }


def main() -> None:
    """Run the instances, print one line each and averages per size, write a results file."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("files", nargs="*", type=Path, help="instance files (default: Prodhon)")
    parser.add_argument("--time-limit", type=float, default=None, help="routing s per hub")
    parser.add_argument("--rounds", type=int, default=None, help="location-routing rounds")
    parser.add_argument(
        "--budget", type=float, default=None, help="seconds after which no new round starts"
    )
    parser.add_argument("--max-customers", type=int, default=None, help="skip larger instances")
    parser.add_argument("--out", type=Path, default=ROOT / "bench-results")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    files = args.files or sorted((LRP_DIR / "prodhon").glob("*.dat"))
    rows = []
    # solver banners go to stderr meanwhile; the table goes to the real stdout as it grows
    out = os.fdopen(os.dup(1), "w", buffering=1)
    out.write(f"{'file':<22} {'ours':>12} {'best-known':>12} {'gap %':>7} {'s':>6}\n")
    with tempfile.TemporaryDirectory() as tmp, stdout_to_stderr():
        for path in files:
            n = len(read_lrp(path).customer_xy)
            if args.max_customers is not None and n > args.max_customers:
                continue
            row = run_instance(path, Path(tmp), args.time_limit, args.rounds, args.budget)
            bks = best_known(path.parent).get(path.stem)
            row["best_known"] = bks
            row["gap_percent"] = gap_percent(row["ours"], bks) if bks else None
            rows.append(row)
            gap = f"{row['gap_percent']:7.2f}" if bks else f"{'-':>7}"
            known = f"{bks:12.2f}" if bks else f"{'-':>12}"
            out.write(f"{path.name:<22} {row['ours']:12.2f} {known} {gap} {row['seconds']:6.1f}\n")
    for size in sorted({r["customers"] for r in rows}):
        gaps = [
            r["gap_percent"]
            for r in rows
            if r["customers"] == size and r["gap_percent"] is not None
        ]
        worst = max(r["seconds"] for r in rows if r["customers"] == size)
        if gaps:
            out.write(
                f"n={size:<4} instances {len(gaps):>2}  mean gap {sum(gaps) / len(gaps):6.2f} %  "
                f"max gap {max(gaps):6.2f} %  slowest {worst:5.1f} s\n"
            )
    args.out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = args.out / f"lrp-{stamp}.json"
    path.write_text(json.dumps({"when": stamp, "rows": rows}, indent=2, default=str))
    out.write(f"results: {path}\n")
    out.close()


if __name__ == "__main__":
    main()
