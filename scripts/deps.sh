#!/usr/bin/env bash
# scripts/deps.sh: install what the build, the tests and the benchmarks need,
# and nothing that is already there.  Called by `make deps` (and so by
# `make run` / `make test`).  Everything is pinned:
#   - Debian packages: bookworm's versions, by name (list below);
#   - npm packages: package-lock.json (npm ci);
#   - DuckDB 1.4.4: libduckdb.so from the pinned npm bindings package (in the
#     lockfile) and duckdb.h from the duckdb@1.4.4 npm tarball, checked by SHA-1;
#   - emscripten: the version in emsdk.lock (scripts/check-emsdk.sh);
#   - cJSON (for the WASM build) and civetweb (compiled into mdserver with
#     our patch): the Debian source packages of the installed -dev versions,
#     patched, under build/cjson/src and build/civetweb/src.
# Usage: scripts/deps.sh [--bench]   (--bench adds the benchmark peers)
set -euo pipefail
cd "$(dirname "$0")/.."
# One run at a time: `make -j` may start this from several rules at once.
mkdir -p build
exec 9> build/.deps.lock
flock 9

APT_PKGS=(gcc make pkg-config libcivetweb-dev libcjson-dev libsqlite3-dev libmbedtls-dev
          libcmocka-dev libreadline-dev libssl-dev emscripten clang
          patch xz-utils    # unpack and patch the cJSON and civetweb sources (below)
          openssl           # the TLS test makes a self-signed certificate
          sqlite3           # the notebook test ages a deleted notebook past the trash period
          chromium)         # browser tests (driven by playwright-core, never a downloaded browser)
# Commands that may come from elsewhere (e.g. a newer Node.js): installed from
# Debian only when the command is missing.   command:package
APT_CMDS=(node:nodejs npm:npm)
BENCH_PKGS=(postgresql-15 libpq-dev)
DUCKDB_HEADER_PKG="duckdb@1.4.4"
DUCKDB_HEADER_SHA1="7878d3c20c23b0f6c583c1b389c2632f0de5b0b1"

say() { printf 'deps: %s\n' "$*"; }

pkgs=("${APT_PKGS[@]}")
[ "${1:-}" = "--bench" ] && pkgs+=("${BENCH_PKGS[@]}")
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
for cp in "${APT_CMDS[@]}"; do
    command -v "${cp%%:*}" >/dev/null 2>&1 || missing+=("${cp#*:}")
done
if [ ${#missing[@]} -gt 0 ]; then
    say "installing Debian packages: ${missing[*]}"
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -q
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# npm packages, exactly as the lockfile says.  --ignore-scripts: no package may
# download anything at install time.
if [ ! -f node_modules/.package-lock.json ] || ! cmp -s package-lock.json node_modules/.mdserver-lock; then
    say "installing npm packages from package-lock.json"
    npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
    cp package-lock.json node_modules/.mdserver-lock
fi

# DuckDB native library and header under build/duckdb.
mkdir -p build/duckdb build/dl
if [ ! -f build/duckdb/libduckdb.so ] || ! cmp -s node_modules/@duckdb/node-bindings-linux-x64/libduckdb.so build/duckdb/libduckdb.so; then
    cp node_modules/@duckdb/node-bindings-linux-x64/libduckdb.so build/duckdb/libduckdb.so
fi
if [ ! -f build/duckdb/duckdb.h ]; then
    say "fetching duckdb.h from $DUCKDB_HEADER_PKG"
    tgz=$(cd build/dl && npm pack --silent --loglevel=error "$DUCKDB_HEADER_PKG" | tail -1)
    got=$(sha1sum "build/dl/$tgz" | cut -d' ' -f1)
    if [ "$got" != "$DUCKDB_HEADER_SHA1" ]; then
        echo "deps: $tgz has SHA-1 $got, expected $DUCKDB_HEADER_SHA1: refusing to use it" >&2
        exit 1
    fi
    tar -xzf "build/dl/$tgz" -C build/duckdb --strip-components=5 package/src/duckdb/src/include/duckdb.h
    rm -f "build/dl/$tgz"
fi

# Debian source packages, fetched with a private deb-src list under build/apt
# at the very version of the installed -dev package, Debian's own patches
# applied, then ours (scripts/patches/NAME-*.patch), unpacked under
# build/NAME/src.  Never committed (build/ is ignored).
#   cJSON:    for the WASM build (the native build links Debian's libcjson);
#   civetweb: compiled into mdserver with our limits patch (a frame judged
#             by its declared length before buffering, an idle hook,
#             connections refusable before their request is read).
debian_source() {  # debian_source SOURCE-PACKAGE DEV-PACKAGE DEST
    local pkg=$1 dev=$2 dest=$3 version stamp
    version=$(dpkg-query -W -f='${source:Version}' "$dev")
    stamp="$version $(find scripts/patches -name "$pkg-*.patch" -exec cat {} + | sha1sum | cut -d' ' -f1)"
    [ -d "$dest/src" ] && [ "$(cat "$dest/src/.debian-version" 2>/dev/null)" = "$stamp" ] && return 0
    say "fetching the $pkg $version Debian source package"
    mkdir -p build/apt/lists/partial "$dest/dl"
    local apt_dir=$PWD/build/apt src_list
    if [ -f /etc/apt/sources.list.d/debian.sources ]; then
        sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources > "$apt_dir/debsrc.sources"
        src_list=$apt_dir/debsrc.sources
    else
        sed -n 's/^deb /deb-src /p' /etc/apt/sources.list > "$apt_dir/debsrc.list"
        src_list=$apt_dir/debsrc.list
    fi
    local apt_opts=(-o "Dir::Etc::SourceList=$src_list" -o Dir::Etc::SourceParts=/dev/null
                    -o "Dir::State::Lists=$apt_dir/lists" -o APT::Sandbox::User="$(id -un)")
    [ -n "${apt_src_updated:-}" ] || apt-get -q "${apt_opts[@]}" update >/dev/null
    apt_src_updated=1
    rm -rf "$dest"/dl/* "$dest/src" "$dest/unpack"
    (cd "$dest/dl" && apt-get -q "${apt_opts[@]}" source --download-only "$pkg=$version" >/dev/null)
    mkdir -p "$dest/unpack"
    tar -xf "$dest"/dl/"$pkg"_*.orig.tar.* -C "$dest/unpack"
    local src patch opts
    src=$(find "$dest/unpack" -mindepth 1 -maxdepth 1 -type d | head -1)
    tar -xf "$dest"/dl/"$pkg"_*.debian.tar.* -C "$src"
    if [ -f "$src/debian/patches/series" ]; then
        while read -r patch opts; do
            case "$patch" in ''|'#'*) continue ;; esac
            patch -d "$src" ${opts:--p1} --forward --batch --quiet < "$src/debian/patches/$patch"
        done < "$src/debian/patches/series"
    fi
    for patch in scripts/patches/"$pkg"-*.patch; do
        [ -f "$patch" ] || continue
        patch -d "$src" -p1 --forward --batch --quiet < "$patch"
    done
    mv "$src" "$dest/src"
    rm -rf "$dest/unpack"
    echo "$stamp" > "$dest/src/.debian-version"
}
debian_source cjson libcjson-dev build/cjson
debian_source civetweb libcivetweb-dev build/civetweb

scripts/check-emsdk.sh
say "all dependencies present"
