#!/usr/bin/env bash
# scripts/fuzz.sh: build every tests/fuzz/fuzz_*.c with clang's libFuzzer,
# AddressSanitizer and UBSan, seed a corpus, and run each target for
# SECONDS (first argument, default 60).  A crash stops with its reproducer
# under build/fuzz/<target>/.  Called by `make fuzz`.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
out=build/fuzz
mkdir -p "$out/bin"
for src in tests/fuzz/fuzz_*.c; do
    name=$(basename "$src" .c)
    echo "== $name: building"
    clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Ishared -isystem build/duckdb \
        "$src" shared/*.c tests/support/*.c -lcjson -o "$out/bin/$name"
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
        printf 'MD\x01\x10\x00\x00\x00\x00\x01\x00\x00\x00\x0e\x00\x00\x00{"sql":"SELECT"}' > "$corpus/seed0" ;;
    esac
    echo "== $name: fuzzing for ${secs}s"
    (cd "$out/$name" && "../bin/$name" -max_total_time="$secs" -print_final_stats=1 corpus 2>&1 | tail -4)
done
