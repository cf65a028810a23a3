"""Fixtures for real-browser checks of HTML pages (folium maps, reports), offline.

``open_page(path)`` serves the file's folder on 127.0.0.1 (so a report's iframes can
load ``map.html`` beside it), opens it in headless Chromium, and routes every request:
CDN assets come from the local asset cache (see ``assets.py``), map tiles get a blank
PNG, anything else external is aborted and recorded in ``PageCheck.errors``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Playwright,
    Request,
    Response,
    sync_playwright,
)
from playwright.sync_api import Error as PlaywrightError

from . import assets
from .offline import (
    CHROMIUM,
    CHROMIUM_ARGS,
    PAGE_TIMEOUT_MS,
    VIEWPORT,
    LocalServer,
    PageCheck,
    route_handler,
)


def _fail_setup(problem: str) -> None:
    pytest.fail(
        f"Browser tests cannot run: {problem}. Run `bash tools/install_browser_deps.sh`.",
        pytrace=False,
    )


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Headless Debian Chromium, shared by the session; fails if not installed."""
    if not CHROMIUM.is_file():
        _fail_setup(f"{CHROMIUM} is missing")
    missing = assets.missing_specs()
    if missing:
        _fail_setup(f"asset cache {assets.asset_cache_dir()} lacks {', '.join(missing)}")
    playwright: Playwright = sync_playwright().start()
    try:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()
    finally:
        playwright.stop()


@pytest.fixture
def open_page(
    browser: Browser, request: pytest.FixtureRequest
) -> Iterator[Callable[[Path | str], PageCheck]]:
    """Return ``open(path) -> PageCheck``: load a local HTML file and wait for network idle."""
    cleanups: list[Callable[[], None]] = []
    screenshot_dir = request.config.rootpath / "test-artifacts" / "screenshots"

    def open_(path_or_html_file: Path | str) -> PageCheck:
        text = str(path_or_html_file)
        path = Path(urlsplit(text).path if text.startswith("file://") else text).resolve()
        if not path.is_file():
            raise FileNotFoundError(f"no HTML file at {path}")
        server = LocalServer(path.parent)
        cleanups.append(server.close)
        context = browser.new_context(viewport=VIEWPORT, service_workers="block")
        cleanups.append(context.close)
        page = context.new_page()
        page.set_default_timeout(PAGE_TIMEOUT_MS)
        check = PageCheck(page=page, screenshot_dir=screenshot_dir)
        blocked: set[str] = set()

        def on_console(message: ConsoleMessage) -> None:
            if message.type == "error":
                check.errors.append(f"console error: {message.text} ({message.location})")

        def on_request_failed(failed: Request) -> None:
            if failed.url not in blocked:
                check.errors.append(f"request failed: {failed.url} ({failed.failure})")

        def on_response(response: Response) -> None:
            if response.status >= 400:
                check.errors.append(f"HTTP {response.status}: {response.url}")

        page.on("console", on_console)
        page.on("pageerror", lambda err: check.errors.append(f"page error: {err}"))
        page.on("requestfailed", on_request_failed)
        page.on("response", on_response)
        context.route("**/*", route_handler(check, server.origin, blocked))
        try:
            page.goto(f"{server.origin}/{quote(path.name)}", wait_until="networkidle")
        except PlaywrightError as err:
            check.errors.append(f"navigation failed: {err}")
        return check

    yield open_
    for cleanup in reversed(cleanups):
        cleanup()
