#!/usr/bin/env bash
# tests/run.sh: run every suite and end with one line
#   N passed, N failed, N skipped
# Suites: cmocka unit tests (build/tests/test_*), then the Node suites
# (tests/interop; tests/wasm: the browser engine build/ui/engine.mjs;
# tests/blackbox: node:test against a real ./mdserver), then DuckDB's
# sqllogictest files through build/slt-hybrid and build/slt-wasm.
# Every skipped case is printed with its reason.
# Usage: tests/run.sh [--unit]   (env MDSERVER and TEST_BIN_DIR pick other builds)
set -uo pipefail
cd "$(dirname "$0")/.."
BIN_DIR=${TEST_BIN_DIR:-build/tests}
export MDSERVER=${MDSERVER:-./mdserver} TEST_BIN_DIR=$BIN_DIR
passed=0 failed=0 skipped=0
log=build/test-logs
mkdir -p "$log"

echo "== unit tests (cmocka)"
for t in "$BIN_DIR"/test_*; do
    [ -x "$t" ] || continue
    name=$(basename "$t")
    out=$("$t" 2>&1); rc=$?
    echo "$out" > "$log/$name.log"
    p=$(echo "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -1)
    f=$(echo "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -1)
    s=$(echo "$out" | sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p' | tail -1)
    p=${p:-0} f=${f:-0} s=${s:-0}
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; echo "$out" | tail -20; fi
    [ "$f" -gt 0 ] && echo "$out" | grep -E '^\[  (FAILED|ERROR) |^\[  FAILED  \]|error|Error' | head -20
    echo "$out" | grep -E '^\[  SKIPPED \] [a-z_]' | sed 's/^/  skipped: /'
    echo "  $name: $p passed, $f failed, $s skipped"
    passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
done

if [ "${1:-}" != "--unit" ]; then
    for suite in interop wasm ui blackbox browser; do
        files=$(ls tests/$suite/*.test.mjs 2>/dev/null)
        [ -n "$files" ] || continue
        echo "== $suite tests (node)"
        out=$(node --test --test-reporter=tap --test-concurrency=1 $files 2>&1); rc=$?
        echo "$out" > "$log/$suite.tap"
        p=$(echo "$out" | sed -n 's/^# pass \([0-9]*\)/\1/p' | tail -1)
        f=$(echo "$out" | sed -n 's/^# fail \([0-9]*\)/\1/p' | tail -1)
        s=$(echo "$out" | sed -n 's/^# skipped \([0-9]*\)/\1/p' | tail -1)
        p=${p:-0} f=${f:-0} s=${s:-0}
        if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
        echo "$out" | grep -E '^ *(not )?ok [0-9]+ - ' | sed 's/^ */  /'
        [ "$f" -gt 0 ] && echo "$out" | grep -B2 -A25 '^ *not ok' | head -120
        echo "$out" | grep -E '# SKIP' | sed 's/^ */  skipped: /'
        echo "  $suite: $p passed, $f failed, $s skipped"
        passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
    done
fi

# sqllogictest: DuckDB's own test files through build/slt-hybrid: on the
# native engine (local), on a real mdserver (remote), and with the tables
# spread over both by a seed so that queries are split (random; seeds 1 and
# 2 here, and a few sql/ files that once failed split, with seeds 1 and 3;
# 1 to 5 and the whole sql/ corpus in `make slt`); then the same select
# files through build/slt-wasm, the page's way of running SQL.  One case per
# line below: runner, placement, seed, files (the runner prints every
# failing query).  The corpus is the
# handbook's copy beside the checkout (SLT_DIR); without it the cases are
# skipped and say so.
if [ "${1:-}" != "--unit" ]; then
    echo "== sqllogictest (build/slt-hybrid; build/slt-wasm: the C driver in WebAssembly, hosted as the page hosts it)"
    slt_dir=${SLT_DIR:-../shared/slt}
    case_no=0
    while read -r runner placement seed files; do
        case_no=$((case_no + 1))
        [ "$seed" = "-" ] && seed=""
        name="$runner $files --placement $placement${seed:+ --seed $seed}"
        missing=""
        for f in $files; do [ -f "$slt_dir/$f" ] || missing=$f; done
        if [ -n "$missing" ]; then
            echo "  skipped: $name: the corpus is not at $slt_dir (set SLT_DIR)"
            skipped=$((skipped + 1))
            continue
        fi
        paths=""
        for f in $files; do paths="$paths $slt_dir/$f"; done
        # shellcheck disable=SC2086
        out=$(timeout 900 "build/$runner" --placement "$placement" ${seed:+--seed "$seed"} $paths 2>&1); rc=$?
        # the case's number, not its files: a list of files makes too long a file name
        echo "$out" > "$log/slt-$case_no-$placement${seed:+-$seed}.log"
        if [ "$rc" -eq 0 ]; then
            echo "  ok $name: $(echo "$out" | tail -1)"
            passed=$((passed + 1))
        else
            echo "  not ok $name: $(echo "$out" | tail -1)"
            echo "$out" | grep -A1 '^FAIL' | head -20
            failed=$((failed + 1))
        fi
    done <<'CASES'
slt-hybrid local - sqlite_select1.test
slt-hybrid remote - sqlite_select1.test
slt-hybrid local - sqlite_select4.test
slt-hybrid remote - sqlite_select4.test
slt-hybrid random 1 sqlite_select1.test sqlite_select2.test sqlite_select4.test
slt-hybrid random 2 sqlite_select1.test sqlite_select2.test sqlite_select4.test
slt-hybrid random 1 sql/join/semianti/right_semi.test sql/cte/test_recursive_cte_union.test sql/projection/select_struct_star.test sql/order/order_by_internal_5293.test sql/aggregate/qualify/test_qualify.test sql/join/iejoin/iejoin_issue_7278.test sql/setops/test_union_all_by_name.test
slt-hybrid random 3 sql/join/semianti/right_semi.test sql/cte/test_recursive_cte_union.test sql/projection/select_struct_star.test sql/order/order_by_internal_5293.test sql/aggregate/qualify/test_qualify.test sql/join/iejoin/iejoin_issue_7278.test sql/setops/test_union_all_by_name.test
slt-wasm random 1 sqlite_select1.test sqlite_select2.test sqlite_select4.test
slt-wasm random 2 sqlite_select1.test sqlite_select2.test sqlite_select4.test
CASES
fi

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
