"""Opening hubopt's pages offline in headless Chromium: what the browser tests
(``conftest.py``) and ``tools/screenshots.py`` share.

The page's folder is served on 127.0.0.1 (:class:`LocalServer`); every request is routed
(:func:`route_handler`): CDN assets come from the local asset cache (``assets.py``), map
tiles get a blank PNG, anything else external is aborted and recorded in
:attr:`PageCheck.errors`.
"""

from __future__ import annotations

import functools
import http.server
import mimetypes
import struct
import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import Page, Route

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


class LocalServer:
    """Serve one folder on 127.0.0.1 with an OS-chosen port, in a background thread."""

    def __init__(self, root: Path) -> None:
        handler = functools.partial(_QuietHandler, directory=str(root))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.origin = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        """Stop serving and wait for the server's thread to end."""
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


def route_handler(check: PageCheck, origin: str, blocked: set[str]) -> Callable[[Route], None]:
    """Route one page's requests (the module's rules); ``blocked`` collects the URLs aborted."""

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
