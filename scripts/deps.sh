#!/usr/bin/env bash
# scripts/deps.sh: install what the build, the tests and the benchmarks need,
# and nothing that is already there.  Called by `make deps` (and so by
# `make run` / `make test`).  Everything is pinned:
#   - Debian packages: bookworm's versions, by name (list below);
#   - npm packages: package-lock.json (npm ci);
#   - DuckDB 1.4.4: libduckdb.so from the pinned npm bindings package (in the
#     lockfile) and duckdb.h from the duckdb@1.4.4 npm tarball, checked by SHA-1;
#   - emscripten: the version in emsdk.lock (scripts/check-emsdk.sh).
# Usage: scripts/deps.sh [--bench]   (--bench adds the benchmark peers)
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PKGS=(gcc make pkg-config libcivetweb-dev libcjson-dev libsqlite3-dev libmbedtls-dev
          libcmocka-dev libreadline-dev libssl-dev emscripten clang)
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

scripts/check-emsdk.sh
say "all dependencies present"
