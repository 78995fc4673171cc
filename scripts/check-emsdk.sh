#!/usr/bin/env bash
# scripts/check-emsdk.sh: refuse to build with an emscripten other than the one
# pinned in emsdk.lock.
set -euo pipefail
cd "$(dirname "$0")/.."
want=$(sed -n 's/^emscripten=//p' emsdk.lock)
if ! command -v emcc >/dev/null 2>&1; then
    echo "emscripten $want is required (emsdk.lock) but emcc is not installed: run 'make deps'" >&2
    exit 1
fi
have=$(NODE_PATH=/usr/share/nodejs emcc --version 2>/dev/null | sed -n '1s/.*) \([0-9][0-9.]*\).*/\1/p')
if [ "$have" != "$want" ]; then
    echo "emscripten $want is required (emsdk.lock) but emcc reports '${have:-unknown}': install $want or fix PATH" >&2
    exit 1
fi
