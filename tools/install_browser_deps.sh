#!/usr/bin/env bash
# Install what the browser tests (tests/browser) need, once; fast when already done.
#
#   1. Debian's chromium at /usr/bin/chromium (Playwright's own browser download is not used)
#   2. npm, if missing
#   3. the asset cache: every CDN file folium pages reference, from npm packages
#      (`npm pack NAME@VERSION`) and, for one stylesheet the folium wheel lacks, folium's
#      sdist (`pip download`). The list comes from `tests/browser/assets.py specs`, which
#      derives it from the installed folium's URLs.
#
# Cache folder: $HUBOPT_ASSET_CACHE, else ~/.cache/hubopt-browser-assets (outside git).
# Python: $HUBOPT_PYTHON, else .venv/bin/python, else python3 (needs folium installed).
set -euo pipefail

say() { printf '[install_browser_deps] %s\n' "$*"; }
die() { printf '[install_browser_deps] ERROR: %s\n' "$*" >&2; exit 1; }

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"
start_s=$SECONDS

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
        die "need root (or sudo) to run: $*"; fi
}

apt_updated=0
apt_install() {
    command -v apt-get >/dev/null || die "apt-get not found; install $* by hand"
    if [ "$apt_updated" -eq 0 ]; then
        say "apt-get update"
        as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update -qq \
            || die "apt-get update failed"
        apt_updated=1
    fi
    say "apt-get install -y $*"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "$@" \
        >/dev/null || die "apt-get install $* failed"
}

# 1. chromium
if [ -x /usr/bin/chromium ]; then
    say "chromium: present ($(/usr/bin/chromium --version 2>/dev/null | head -n1))"
else
    apt_install chromium
    [ -x /usr/bin/chromium ] || die "chromium installed but /usr/bin/chromium is missing"
fi

# 1b. a CJK font, so screenshots show the Korean region names instead of empty boxes
if fc-list 2>/dev/null | grep -qi "Noto Sans CJK"; then
    say "fonts-noto-cjk: present"
else
    apt_install fonts-noto-cjk
fi

# 2. npm
if command -v npm >/dev/null; then
    say "npm: present ($(npm --version))"
else
    apt_install nodejs npm
    command -v npm >/dev/null || die "npm still missing after apt-get install nodejs npm"
fi

# 3. asset cache
if [ -n "${HUBOPT_PYTHON:-}" ]; then py="$HUBOPT_PYTHON"
elif [ -x .venv/bin/python ]; then py=.venv/bin/python
else py=python3; fi
"$py" -c "import folium" 2>/dev/null \
    || die "$py cannot import folium; create the venv (pip install -e '.[dev]') first"

cache="$("$py" tests/browser/assets.py cache-dir)" || die "cannot read the cache folder"
specs="$("$py" tests/browser/assets.py specs)" \
    || die "tests/browser/assets.py could not map folium's CDN URLs (see above)"
mkdir -p "$cache/npm" "$cache/folium"
say "asset cache: $cache"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
fetched=0

fetch_npm() {  # NAME@VERSION -> $cache/npm/NAME@VERSION
    local spec="$1" dest="$cache/npm/$1" tmp tarball
    tmp="$work/$(echo "$spec" | tr '/@' '__')"
    mkdir -p "$tmp/pkg"
    say "npm pack $spec"
    tarball="$(cd "$tmp" && npm pack --silent "$spec" 2>"$tmp/npm.log" | tail -n1)" \
        || { cat "$tmp/npm.log" >&2; die "npm pack $spec failed"; }
    [ -f "$tmp/$tarball" ] || { cat "$tmp/npm.log" >&2; die "npm pack $spec gave no tarball"; }
    tar -xzf "$tmp/$tarball" -C "$tmp/pkg" --strip-components=1 \
        || die "cannot unpack $tarball"
    touch "$tmp/pkg/.hubopt-complete"
    rm -rf "$dest"
    mkdir -p "$(dirname "$dest")"
    mv "$tmp/pkg" "$dest"
}

fetch_folium_templates() {  # VERSION -> $cache/folium/VERSION/templates (from the sdist)
    local version="$1" dest="$cache/folium/$1" tmp="$work/folium-$1"
    mkdir -p "$tmp/out"
    say "pip download folium==$version (sdist, for templates the wheel does not ship)"
    "$py" -m pip download --quiet --no-deps --no-binary :all: "folium==$version" -d "$tmp" \
        || die "pip download folium==$version failed"
    tar -xzf "$tmp"/folium-*.tar.gz -C "$tmp" --wildcards '*/folium/templates/*' \
        || die "folium sdist has no folium/templates folder"
    mv "$tmp"/folium-*/folium/templates "$tmp/out/templates"
    touch "$tmp/out/.hubopt-complete"
    rm -rf "$dest"
    mv "$tmp/out" "$dest"
}

while read -r kind spec; do
    [ -n "$kind" ] || continue
    if [ -f "$cache/$kind/$spec/.hubopt-complete" ]; then
        say "cached: $kind $spec"
        continue
    fi
    case "$kind" in
        npm) fetch_npm "$spec" ;;
        folium) fetch_folium_templates "$spec" ;;
        *) die "unknown cache entry kind '$kind' from assets.py specs" ;;
    esac
    fetched=$((fetched + 1))
done <<< "$specs"

"$py" tests/browser/assets.py check >/dev/null \
    || die "some folium CDN URLs do not resolve to cached files (see above)"
say "done: $fetched package(s) fetched, every supported CDN URL resolves ($((SECONDS - start_s)) s)"
