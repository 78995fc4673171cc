#!/usr/bin/env bash
# scripts/fuzz.sh: build every tests/fuzz/fuzz_*.c with clang's libFuzzer,
# AddressSanitizer and UBSan, seed a corpus, and run each target for
# SECONDS (first argument, default 60).  Each target's figures (executions,
# rate, corpus, crashes) go to build/fuzz/summary.txt; a crash leaves its
# reproducer under build/fuzz/<target>/ and makes the script fail.  A target
# names the modules it needs beyond shared/ in its opening comment
# (fuzz-sources:, fuzz-libs:).  Called by `make fuzz`.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
out=build/fuzz
mkdir -p "$out/bin"
: > "$out/summary.txt"
for src in tests/fuzz/fuzz_*.c; do
    name=$(basename "$src" .c)
    echo "== $name: building"
    # a target names the modules it needs beyond shared/ in its opening comment
    extra=$(sed -n 's/^ \* fuzz-sources: //p' "$src")
    libs=$(sed -n 's/^ \* fuzz-libs: //p' "$src")
    # shellcheck disable=SC2086
    clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -I. -isystem build/duckdb \
        "$src" shared/*.c tests/support/*.c $extra -lcjson $libs -o "$out/bin/$name"
    corpus="$out/$name/corpus"
    mkdir -p "$corpus"
    case "$name" in
    fuzz_arrow_ipc)
        i=0
        for q in "SELECT * FROM test_all_types()" "SELECT i, i::VARCHAR s FROM range(3000) t(i)" \
                 "SELECT [1,2] l, {'a': 1} st, MAP {'k': 2} m" "SELECT NULL::INT n FROM range(5)"; do
            build/tests/arrow_tool write --out "$corpus/seed$i" "$q" >/dev/null
            i=$((i + 1))
        done ;;
    fuzz_sql)
        printf "SELECT * FROM 'a.csv' t JOIN db.s.x USING (k); FROM read_csv('x.csv', md_run => 'local')" > "$corpus/seed0"
        printf "WITH c AS (SELECT \$\$a;b\$\$ AS s /* c /* n */ */) INSERT INTO my_db.main.t SELECT E'\\'' FROM c" > "$corpus/seed1" ;;
    fuzz_frame)
        printf 'MD\x01\x10\x00\x00\x00\x00\x01\x00\x00\x00\x0e\x00\x00\x00{"sql":"SELECT"}' > "$corpus/seed0"
        printf 'MD\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x1e\x00\x00\x00{"protocol":1,"token":"mdt_x"}' > "$corpus/seed1"
        printf 'MD\x01\x23\x00\x00\x00\x00\x02\x00\x00\x00\x1a\x00\x00\x00\x12\x00\x00\x00{"table":"t","final":true}' > "$corpus/seed2" ;;
    fuzz_json)
        printf '{"a":[1,{"b":[2,3]}],"s":"[[[\\"]]]"}' > "$corpus/seed0" ;;
    fuzz_session_option)
        printf "SET SESSION TimeZone = 'UTC'" > "$corpus/seed0"
        printf "SET statement_timeout = '5min'" > "$corpus/seed1"
        printf "PRAGMA max_expression_depth = 100" > "$corpus/seed2"
        printf "EXPLAIN (FORMAT json) ANALYZE SELECT enable_logging()" > "$corpus/seed3" ;;
    fuzz_db_statements)
        printf "CREATE DATABASE IF NOT EXISTS a FROM b (SNAPSHOT_TIME '2026-01-01'); ATTACH 'md:a' AS x (READ_ONLY)" > "$corpus/seed0"
        printf "ALTER DATABASE a SET SNAPSHOT_RETENTION_DAYS = 3; CREATE SNAPSHOT s OF a; RESET statement_timeout" > "$corpus/seed1" ;;
    fuzz_path_guard)
        printf "ATTACH 'databases//x.duckdb' AS y; COPY (SELECT 1) TO 'file://./a/../b.csv'" > "$corpus/seed0"
        printf "EXPORT DATABASE db TO 'out'; IMPORT DATABASE 'in'" > "$corpus/seed1" ;;
    fuzz_manifest)
        printf 'MDSNAP\x00\x02\x00\x30\x00\x00\x00\x00\x00\x00\x00\x30\x00\x00\x00\x00\x04\x00\x01\x00\x00\x00\x00\x00\x00\x00' > "$corpus/seed0"
        head -c 64 /dev/zero >> "$corpus/seed0" ;;
    fuzz_store_service)
        printf '\x05\x05\x00\x00\x00alice\x00' > "$corpus/seed0"                 # DB_LIST alice
        printf '\x04\x05\x00\x00\x00alice\x00\x05\x00\x00\x00notes\x00' > "$corpus/seed1" # DB_GET
        printf '\x10\x01\x00\x00\x00\x00\x00\x00\x00' > "$corpus/seed2"             # SNAPSHOT_GET 1
        printf '\x0b\x02\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00x\x00\x10\x27\x00\x00\x00\x00\x00\x00' > "$corpus/seed3" ;;
    fuzz_catalog)
        printf '{"databases":[{"name":"my_db","schemas":[{"name":"main","tables":[{"name":"t","rows":3,"columns":[{"name":"a","type":"INTEGER"}]}]}]}]}' > "$corpus/seed0" ;;
    esac
    echo "== $name: fuzzing for ${secs}s"
    rc=0
    (cd "$out/$name" && "../bin/$name" -max_total_time="$secs" -print_final_stats=1 corpus) > "$out/$name/log" 2>&1 || rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/$name/log")
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$out/$name/log")
    units=$(find "$out/$name/corpus" -type f | wc -l)
    crashes=$(find "$out/$name" -maxdepth 1 -name 'crash-*' -o -maxdepth 1 -name 'leak-*' -o -maxdepth 1 -name 'timeout-*' | wc -l)
    printf '%-22s %6ss %12s execs %8s/s %6s corpus %3s crashes\n' "$name" "$secs" "${execs:-0}" "${rate:-0}" "$units" "$crashes" \
        | tee -a "$out/summary.txt"
    if [ "$rc" -ne 0 ]; then
        grep -E 'ERROR|SUMMARY|#[0-9]+ .* in (md_|LLVM)' "$out/$name/log" | head -20
        echo "== $name: FAILED, reproducer under $out/$name/"
        failed=1
    fi
done
exit "${failed:-0}"
