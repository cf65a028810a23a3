"""Map the CDN URLs that folium emits to files in a local asset cache.

Browser tests run offline: every script, stylesheet, font and image a folium page asks
for is served from ``asset_cache_dir()``, filled once by ``tools/install_browser_deps.sh``
with packages fetched through ``npm pack`` (and, for one folium stylesheet, folium's
own sdist through ``pip download``).

Versions come from the URL wherever the URL carries one, so a folium upgrade that moves
Leaflet from 1.9.3 to 1.9.4 asks for ``leaflet@1.9.4``: the install script fetches it,
and until then the request fails with a message naming the URL. A URL that no rule
knows raises ``UnmappedAssetError`` naming it; nothing is guessed.

Cache layout::

    <cache>/npm/<name>@<version>/...          package contents (tarball's top folder stripped)
    <cache>/folium/<version>/templates/...    folium's templates folder, from its sdist

Run ``python tests/browser/assets.py specs`` to print what the cache must hold (the
install script does), or ``... check`` to resolve every supported URL.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

INSTALL_HINT = "run `bash tools/install_browser_deps.sh`"
COMPLETE_MARKER = ".hubopt-complete"

# cdnjs library name -> (npm package, folders of the npm package that hold what cdnjs
# serves at the library's top level). The npm version is the cdnjs version.
CDNJS_TO_NPM: dict[str, tuple[str, tuple[str, ...]]] = {
    # Leaflet.awesome-markers 2.0.2 is not on npm under its own name; this is its
    # verbatim 2.0.2 release (js/, css/, css/images/).
    "Leaflet.awesome-markers": ("drmonty-leaflet-awesome-markers", ("js", "css")),
    "leaflet-minimap": ("leaflet-minimap", ("src", "dist")),
    "leaflet.markercluster": ("leaflet.markercluster", ("dist",)),
    "jquery": ("jquery", ("dist",)),
}

# Unversioned jsDelivr GitHub URLs (``/gh/owner/repo/file``) pinned to an npm release.
GH_TO_NPM: dict[str, tuple[str, tuple[str, ...]]] = {
    "jieter/Leaflet.Sync": ("leaflet.sync@0.2.4", ("",)),
}

# Exact hosts/prefixes with no npm twin of the same name.
# netdna's bootstrap/3.0.0/css/bootstrap-glyphicons.css is the glyphicons-only part of
# Bootstrap 3.0.0, which is not on npm; glyphicons-only-bootstrap is the same CSS rules
# (from 3.3.7) with the same ../fonts/ layout.
NETDNA_BOOTSTRAP: dict[str, tuple[str, dict[str, str]]] = {
    "3.0.0": (
        "glyphicons-only-bootstrap@1.0.1",
        {"css/bootstrap-glyphicons.css": "css/bootstrap.min.css", "fonts/": "fonts/"},
    ),
}

FOLIUM_TEMPLATES_REPO = "python-visualization/folium"

# Tile servers whose PNG tiles are answered with a blank tile.
TILE_URL_PATTERN = re.compile(
    r"^https?://([a-z0-9-]+\.)?(tile\.openstreetmap\.org|basemaps\.cartocdn\.com)/.+\.png$",
    re.IGNORECASE,
)

CDN_HOSTS = frozenset(
    {
        "cdn.jsdelivr.net",
        "cdnjs.cloudflare.com",
        "code.jquery.com",
        "netdna.bootstrapcdn.com",
    }
)


class UnmappedAssetError(LookupError):
    """A CDN URL that no rule maps, or whose mapped file is not in the cache."""


@dataclass(frozen=True)
class AssetSource:
    """Where a CDN URL is served from: an npm package or folium's templates folder."""

    kind: str  # "npm" or "folium"
    spec: str  # "name@version" for npm, the folium version for folium
    candidates: tuple[str, ...]  # paths inside the package, tried in order


def asset_cache_dir() -> Path:
    """Return the asset cache folder (``$HUBOPT_ASSET_CACHE`` or the user cache)."""
    override = os.environ.get("HUBOPT_ASSET_CACHE")
    if override:
        return Path(override).expanduser()
    return Path.home() / ".cache" / "hubopt-browser-assets"


def is_cdn_url(url: str) -> bool:
    """Return whether the URL is on a CDN host that this module maps."""
    return urlsplit(url).hostname in CDN_HOSTS


def is_tile_url(url: str) -> bool:
    """Return whether the URL is a map tile from a known tile server."""
    return TILE_URL_PATTERN.match(url) is not None


def _with_min_fallback(paths: list[str]) -> tuple[str, ...]:
    # Some npm releases ship only the unminified file that the CDN also minifies.
    out: list[str] = []
    for path in paths:
        out.append(path)
        match = re.fullmatch(r"(.+)\.min\.(js|css)", path)
        if match:
            out.append(f"{match[1]}.{match[2]}")
    return tuple(out)


def _in_folders(folders: tuple[str, ...], path: str) -> list[str]:
    return [f"{folder}/{path}" if folder else path for folder in folders]


def _installed_folium_version() -> str:
    import folium

    return folium.__version__


def locate(url: str) -> AssetSource:
    """Return the package and candidate paths for a CDN URL.

    Raises ``UnmappedAssetError`` naming the URL if no rule covers it.
    """
    parts = urlsplit(url)
    host, path = parts.hostname or "", parts.path.lstrip("/")

    if host == "cdn.jsdelivr.net" and path.startswith("npm/"):
        match = re.fullmatch(r"npm/((?:@[^/@]+/)?[^/@]+)@([^/]+)/(.+)", path)
        if match:
            name, version, inner = match.groups()
            return AssetSource("npm", f"{name}@{version}", _with_min_fallback([inner]))
    elif host == "cdn.jsdelivr.net" and path.startswith("gh/"):
        match = re.fullmatch(r"gh/([^/]+)/([^/@]+)(?:@([^/]+))?/(.+)", path)
        if match:
            owner, repo, _ref, inner = match.groups()
            if f"{owner}/{repo}" == FOLIUM_TEMPLATES_REPO and inner.startswith("folium/templates/"):
                name = inner.removeprefix("folium/templates/")
                return AssetSource(
                    "folium", _installed_folium_version(), _with_min_fallback([name])
                )
            pinned = GH_TO_NPM.get(f"{owner}/{repo}")
            if pinned:
                spec, folders = pinned
                return AssetSource("npm", spec, _with_min_fallback(_in_folders(folders, inner)))
    elif host == "cdnjs.cloudflare.com":
        match = re.fullmatch(r"ajax/libs/([^/]+)/([^/]+)/(.+)", path)
        if match and match[1] in CDNJS_TO_NPM:
            lib, version, inner = match.groups()
            name, folders = CDNJS_TO_NPM[lib]
            return AssetSource(
                "npm", f"{name}@{version}", _with_min_fallback(_in_folders(folders, inner))
            )
    elif host == "code.jquery.com":
        match = re.fullmatch(r"jquery-(\d+\.\d+\.\d+)((?:\.min)?\.js)", path)
        if match:
            return AssetSource("npm", f"jquery@{match[1]}", (f"dist/jquery{match[2]}",))
    elif host == "netdna.bootstrapcdn.com":
        match = re.fullmatch(r"bootstrap/([^/]+)/(.+)", path)
        if match and match[1] in NETDNA_BOOTSTRAP:
            spec, renames = NETDNA_BOOTSTRAP[match[1]]
            inner = match[2]
            for prefix, target in renames.items():
                if inner == prefix or (prefix.endswith("/") and inner.startswith(prefix)):
                    return AssetSource("npm", spec, (target + inner.removeprefix(prefix),))
    raise UnmappedAssetError(
        f"No local asset mapping for {url!r}. If folium started emitting a new CDN URL, "
        "add a rule for it in tests/browser/assets.py, then " + INSTALL_HINT + "."
    )


def _installed_templates_dir() -> Path:
    import folium

    return Path(folium.__file__).parent / "templates"


def _served_by_installed_folium(source: AssetSource) -> bool:
    templates = _installed_templates_dir()
    return source.kind == "folium" and any((templates / c).is_file() for c in source.candidates)


def package_dir(source: AssetSource, cache: Path | None = None) -> Path:
    """Return the folder whose files serve the source: a cache entry or folium's templates."""
    if _served_by_installed_folium(source):
        return _installed_templates_dir()
    cache = cache or asset_cache_dir()
    entry = cache / source.kind / source.spec
    return entry / "templates" if source.kind == "folium" else entry


def resolve(url: str, cache: Path | None = None) -> Path:
    """Return the local file that serves a CDN URL.

    Raises ``UnmappedAssetError`` naming the URL when no rule maps it or the mapped
    package or file is missing from the cache.
    """
    source = locate(url)
    root = package_dir(source, cache)
    entry = root.parent if source.kind == "folium" else root
    if not _served_by_installed_folium(source) and not (entry / COMPLETE_MARKER).is_file():
        raise UnmappedAssetError(
            f"{url!r} maps to {source.kind} {source.spec}, which is not in the asset cache "
            f"{entry}; {INSTALL_HINT}."
        )
    for candidate in source.candidates:
        path = (root / candidate).resolve()
        if path.is_relative_to(root.resolve()) and path.is_file():
            return path
    raise UnmappedAssetError(
        f"{url!r} maps to {source.kind} {source.spec} in {root}, but none of "
        f"{list(source.candidates)} exists there."
    )


def supported_urls() -> list[str]:
    """Return every CDN URL of folium's defaults and of the plugins the tests support."""
    import folium.folium
    from folium import plugins

    urls = [url for _, url in folium.folium._default_js + folium.folium._default_css]
    for plugin in (plugins.DualMap, plugins.Fullscreen, plugins.MiniMap, plugins.MarkerCluster):
        urls += [url for _, url in plugin.default_js + getattr(plugin, "default_css", [])]
    return list(dict.fromkeys(urls))


def required_specs() -> list[str]:
    """Return the cache entries the supported URLs need: ``npm NAME@VER`` / ``folium VER``."""
    specs = [
        f"{source.kind} {source.spec}"
        for source in map(locate, supported_urls())
        if not _served_by_installed_folium(source)
    ]
    return list(dict.fromkeys(specs))


def missing_specs() -> list[str]:
    """Return the required cache entries that are not complete in the cache."""
    cache = asset_cache_dir()
    missing = []
    for spec in required_specs():
        kind, name = spec.split(" ", 1)
        folder = cache / kind / name
        if not (folder / COMPLETE_MARKER).is_file():
            missing.append(spec)
    return missing


def _main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else ""
    if command == "specs":
        print("\n".join(required_specs()))
        return 0
    if command == "cache-dir":
        print(asset_cache_dir())
        return 0
    if command == "check":
        failures = 0
        for url in supported_urls():
            try:
                print(f"{url}\n    -> {resolve(url)}")
            except UnmappedAssetError as err:
                failures += 1
                print(f"ERROR: {err}", file=sys.stderr)
        return 1 if failures else 0
    print(f"usage: {argv[0]} specs|cache-dir|check", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(_main(sys.argv))
