"""Regenerate the README screenshots (docs/img/map.png, docs/img/report.png) in a real browser.

    .venv/bin/python tools/screenshots.py                     # solve korea-small, then shoot
    .venv/bin/python tools/screenshots.py --run out/korea-small   # reuse a run folder

The default is the 3-week Korea cut (`scenarios/korea/korea-small.yaml`): it solves to
its 1 % gap in under a minute, so the pictures show a proven plan on any machine.

Pages are opened exactly as the browser tests open them (tests/browser/offline.py): the
run folder is served on 127.0.0.1, folium's CDN scripts and styles come from the local
asset cache (tests/browser/assets.py, filled by tools/install_browser_deps.sh), map tiles
are answered with a blank tile and any other external request is refused, so the
pictures show hubopt's own layers and nothing from the internet. Debian's Chromium
(/usr/bin/chromium) runs headless. The PNGs are reduced to a 256-colour palette to stay
small enough for the repository.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from PIL import Image
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import hubopt  # noqa: E402
from tests.browser import assets  # noqa: E402
from tests.browser.offline import CHROMIUM, LocalServer, PageCheck, route_handler  # noqa: E402

LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
DEMO = ROOT / "scenarios" / "korea" / "korea-small.yaml"
MAX_BYTES = 400_000


def solve_demo(scenario: Path, out: Path) -> Path:
    """Solve a scenario and write its run folder (map.html and report.html included)."""
    result = hubopt.solve(hubopt.load_scenario(scenario))
    return hubopt.write_run(result, out, force=True)


def shoot(page_path: Path, target: Path, size: tuple[int, int], settle_ms: int) -> list[str]:
    """Open one page offline in headless Chromium and save a viewport PNG; return page errors."""
    server = LocalServer(page_path.parent)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS
            )
            context = browser.new_context(
                viewport={"width": size[0], "height": size[1]}, service_workers="block"
            )
            page = context.new_page()
            check = PageCheck(page=page)
            page.on("pageerror", lambda err: check.errors.append(f"page error: {err}"))
            context.route("**/*", route_handler(check, server.origin, set()))
            page.goto(f"{server.origin}/{page_path.name}", wait_until="networkidle")
            page.wait_for_timeout(settle_ms)
            page.screenshot(path=str(target))
            browser.close()
    finally:
        server.close()
    shrink(target)
    return check.errors


def shrink(png: Path) -> None:
    """Re-save a PNG with a 256-colour palette (screenshots of maps compress well so)."""
    image = Image.open(png).convert("RGB")
    image.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(png, optimize=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, help="an existing run folder (default: solve)")
    parser.add_argument("--scenario", type=Path, default=DEMO, help="scenario to solve")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "img")
    args = parser.parse_args(argv)
    missing = assets.missing_specs()
    if missing or not CHROMIUM.is_file():
        print("run `bash tools/install_browser_deps.sh` first", file=sys.stderr)
        return 2
    run = args.run or solve_demo(args.scenario, ROOT / "out" / "screenshots")
    args.out.mkdir(parents=True, exist_ok=True)
    shots = {
        "map.png": (run / "map.html", (1200, 800), 1500),
        "report.png": (run / "report.html", (1200, 1000), 2500),
    }
    failed = False
    for name, (page, size, settle) in shots.items():
        target = args.out / name
        errors = shoot(page, target, size, settle)
        size_kb = target.stat().st_size / 1000
        print(f"{target}: {size_kb:.0f} KB" + (f"; page errors: {errors}" if errors else ""))
        failed |= bool(errors) or target.stat().st_size > MAX_BYTES
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
