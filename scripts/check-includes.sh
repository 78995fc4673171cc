#!/usr/bin/env bash
# scripts/check-includes.sh [ROOT]: checks that the C includes show the
# layers (run by `make test`, tests/blackbox/build.test.mjs).
#
# A quoted include is either a bare name, a file in the including file's own
# folder, or a path from the repository's root ("shared/md_error.h"); the
# build has -I. and no other folder of ours.  Which folder may include which:
#   shared/           shared/ only (C used by the server and the browser engine)
#   wasm/             shared/, wasm/ (the browser engine)
#   server/duckdb/    shared/, wasm/, server/duckdb/ (code on a DuckDB connection,
#                     used by the duckling and by the terminal client's local site)
#   server/duckling/  not server/client/ (the duckling process)
#   server/client/    not server/duckling/ (the terminal client process)
#   server/           shared/, wasm/, server/
# Prints each include that breaks a rule and exits 1 if there is one.
set -uo pipefail
root=${1:-.}
cd "$root" || exit 2
bad=0
allowed() { # folder of the including file, include path -> 0 if allowed
    local dir=$1 inc=$2
    case "$dir" in
    shared) [[ $inc == shared/* ]] ;;
    wasm) [[ $inc == shared/* || $inc == wasm/* ]] ;;
    server/duckdb) [[ $inc == shared/* || $inc == wasm/* || $inc == server/duckdb/* ]] ;;
    server/duckling) [[ $inc != server/client/* && ( $inc == shared/* || $inc == wasm/* || $inc == server/* ) ]] ;;
    server/client) [[ $inc != server/duckling/* && ( $inc == shared/* || $inc == wasm/* || $inc == server/* ) ]] ;;
    server | server/*) [[ $inc == shared/* || $inc == wasm/* || $inc == server/* ]] ;;
    *) true ;;
    esac
}
while IFS= read -r file; do
    dir=$(dirname "$file")
    while IFS= read -r line; do
        n=${line%%:*}
        inc=$(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' <<<"${line#*:}")
        [ -n "$inc" ] || continue
        if [[ $inc != */* ]]; then
            [ -f "$dir/$inc" ] && continue
            echo "$file:$n: \"$inc\" is not in $dir/: name it by its path from the repository's root"
            bad=1
        elif [ ! -f "$inc" ]; then
            echo "$file:$n: \"$inc\" does not exist (includes name files from the repository's root)"
            bad=1
        elif ! allowed "$dir" "$inc"; then
            echo "$file:$n: $dir/ may not include \"$inc\" (see scripts/check-includes.sh)"
            bad=1
        fi
    done < <(grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$file")
done < <(find shared wasm server tests bench scripts -name '*.[ch]' 2>/dev/null | sort)
exit $bad
