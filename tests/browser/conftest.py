"""Fixtures for real-browser checks of HTML pages (folium maps, reports), offline.

``open_page(path)`` serves the file's folder on 127.0.0.1 (so a report's iframes can
load ``map.html`` beside it), opens it in headless Chromium, and routes every request:
CDN assets come from the local asset cache (see ``assets.py``), map tiles get a blank
PNG, anything else external is aborted and recorded in ``PageCheck.errors``.
"""

from __future__ import annotations

import functools
import http.server
import mimetypes
import struct
import threading
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Page,
    Playwright,
    Request,
    Response,
    Route,
    sync_playwright,
)
from playwright.sync_api import Error as PlaywrightError

from . import assets

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1024, "height": 768}
PAGE_TIMEOUT_MS = 15_000


def _blank_png(width: int = 256, height: int = 256) -> bytes:
    """Return a fully transparent RGBA PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    rows = b"".join(b"\x00" + b"\x00" * 4 * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


BLANK_TILE = _blank_png()


@dataclass
class PageCheck:
    """An opened page, what went wrong on it and the CDN URLs served from the cache.

    ``errors`` and ``served_assets`` keep collecting while the test drives the page.
    """

    page: Page
    errors: list[str] = field(default_factory=list)
    served_assets: list[str] = field(default_factory=list)
    screenshot_dir: Path = Path("test-artifacts/screenshots")

    def screenshot(self, name: str) -> Path:
        """Save a full-page PNG as ``<screenshot_dir>/<name>.png`` and return its path."""
        self.screenshot_dir.mkdir(parents=True, exist_ok=True)
        path = self.screenshot_dir / f"{Path(name).stem}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


class _LocalServer:
    """Serve one folder on 127.0.0.1 with an OS-chosen port, in a background thread."""

    def __init__(self, root: Path) -> None:
        handler = functools.partial(_QuietHandler, directory=str(root))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.origin = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


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


def _route_handler(check: PageCheck, origin: str, blocked: set[str]) -> Callable[[Route], None]:
    def handle(route: Route) -> None:
        url = route.request.url
        if url.startswith(origin + "/"):
            if urlsplit(url).path == "/favicon.ico":
                route.fulfill(status=204, body=b"")
            else:
                route.continue_()
        elif assets.is_tile_url(url):
            route.fulfill(status=200, body=BLANK_TILE, content_type="image/png")
        elif assets.is_cdn_url(url):
            try:
                path = assets.resolve(url)
            except assets.UnmappedAssetError as err:
                blocked.add(url)
                check.errors.append(f"unmapped CDN asset: {err}")
                route.abort("blockedbyclient")
                return
            check.served_assets.append(url)
            content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            route.fulfill(
                status=200,
                path=path,
                content_type=content_type,
                headers={"Access-Control-Allow-Origin": "*"},
            )
        else:
            blocked.add(url)
            check.errors.append(f"blocked external request: {url}")
            route.abort("blockedbyclient")

    return handle


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
        server = _LocalServer(path.parent)
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
        context.route("**/*", _route_handler(check, server.origin, blocked))
        try:
            page.goto(f"{server.origin}/{quote(path.name)}", wait_until="networkidle")
        except PlaywrightError as err:
            check.errors.append(f"navigation failed: {err}")
        return check

    yield open_
    for cleanup in reversed(cleanups):
        cleanup()
