#!/usr/bin/env bash
# bench/run.sh: the benchmarks of `make bench` (docs/benchmarks.md says what
# each measures and why it is fair).
#
#   1. build build/bench/mdbench (bench/bench.mk)
#   2. start ./mdserver (fresh data dir, --threads T, --memory-limit M) and a
#      private PostgreSQL 15 (initdb in a temp dir, loopback only)
#   3. mdbench setup: facts (10M rows), dim, xfer (5M rows) through mdserver
#      into the user's my_db; xfer in PostgreSQL from the same expressions
#   4. stop mdserver (its duckling checkpoints my_db), copy my_db.duckdb for
#      the in-process DuckDB side, start mdserver again
#   5. mdbench overhead | transfer | latency: one BENCH line each
#   6. mdbench hybrid: hybrid_join, hybrid_aggregate (dual execution); then
#      bench/browser.mjs --hybrid-join-page: the same join from the page
#   7. mdbench storage: snapshot_small_commit, snapshot_history_cost,
#      time_travel_attach, clone_cost on a ~1 GB database of their own
#   8. stop both servers; bench/browser.mjs, bench/workspace.mjs and
#      bench/results.mjs (Chromium, a server of their own each):
#      page_first_result and browser_ingest; workspace_tti_cold,
#      workspace_tti_warm, notebook_open_200, completion_20k,
#      stream_longest_task; cache_bytes_per_1m, sort_5m_first_window,
#      scroll_window, column_profile_10m, pivot_10m; bench/multiuser.mjs (a
#      server of its own, no browser): share_follow, read_scaling
#   9. build/bench.json = the twenty-four JSON objects (servers are stopped on
#      failure or Ctrl-C too: trap)
#
# Output: context lines start with two spaces; each benchmark ends with
#   BENCH <name> ours=<v> peer=<v> ratio=<ours/peer> target=<op><t> PASS|MISS
# Exit status: 0 when every benchmark was measured (PASS or MISS), 1 when one
# could not be (its line then says nan and MISS, and its JSON has "error").
#
# Environment (defaults in brackets): MDBENCH_THREADS [nproc],
# MDBENCH_RUNS [7], MDBENCH_MEMORY_LIMIT [8GB], MDBENCH_FACTS_ROWS
# [10000000], MDBENCH_XFER_ROWS [5000000], MDBENCH_LATENCY_COUNT [10000],
# MDBENCH_STORAGE_ROWS [40000000, about 1 GB],
# MDBENCH_KEEP=1 keeps the temp dirs,
# MDSERVER [./mdserver].
set -uo pipefail
cd "$(dirname "$0")/.."

MDSERVER=${MDSERVER:-./mdserver}
MDBENCH=build/bench/mdbench
THREADS=${MDBENCH_THREADS:-$(nproc)}
RUNS=${MDBENCH_RUNS:-7}
MEM=${MDBENCH_MEMORY_LIMIT:-8GB}
FACTS_ROWS=${MDBENCH_FACTS_ROWS:-10000000}
XFER_ROWS=${MDBENCH_XFER_ROWS:-5000000}
LAT_COUNT=${MDBENCH_LATENCY_COUNT:-10000}
STORAGE_ROWS=${MDBENCH_STORAGE_ROWS:-40000000}
RESULTS=build/bench/results
OUT=build/bench.json
BENCHES=(remote_overhead result_transfer small_query_latency hybrid_join hybrid_aggregate hybrid_join_page
         snapshot_small_commit snapshot_history_cost time_travel_attach clone_cost
         page_first_result browser_ingest
         workspace_tti_cold workspace_tti_warm notebook_open_200 completion_20k stream_longest_task
         cache_bytes_per_1m sort_5m_first_window scroll_window column_profile_10m pivot_10m
         share_follow read_scaling)

say() { printf '  %s\n' "$*"; }
T0=$SECONDS
elapsed() { echo "$((SECONDS - T0)) s"; }

SERVER_PID="" PG_PID="" PG_DIR="" WORK="" AS_PG=() STEP_PID=""
PGBIN=/usr/lib/postgresql/15/bin
[ -x "$PGBIN/postgres" ] || PGBIN=$(pg_config --bindir 2>/dev/null || echo /usr/lib/postgresql/15/bin)

# ---- mdserver --------------------------------------------------------------

start_server() {
    : >"$WORK/server.log"
    "$MDSERVER" serve --port 0 --data-dir "$DATA" --threads "$THREADS" --memory-limit "$MEM" \
        >"$WORK/server.log" 2>&1 &
    SERVER_PID=$!
    local port="" i
    for ((i = 0; i < 300; i++)); do    # until it prints its URL (or dies), at most 30 s
        port=$(sed -n 's|.*listening on http://127\.0\.0\.1:\([0-9]*\).*|\1|p' "$WORK/server.log" | head -1)
        [ -n "$port" ] && break
        if ! kill -0 "$SERVER_PID" 2>/dev/null; then
            sed 's/^/  server: /' "$WORK/server.log"
            SERVER_PID=""
            return 1
        fi
        sleep 0.1
    done
    [ -n "$port" ] || { say "mdserver did not print its URL within 30 s"; return 1; }
    URL="ws://127.0.0.1:$port/ws"
    HTTP="http://127.0.0.1:$port"
}

stop_server() {
    [ -n "$SERVER_PID" ] || return 0
    kill -TERM "$SERVER_PID" 2>/dev/null
    wait "$SERVER_PID" 2>/dev/null
    SERVER_PID=""
}

# ---- PostgreSQL ---------------------------------------------------------------

start_pg() {
    PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/mdbench-pg.XXXXXX") || return 1
    if [ "$(id -u)" -eq 0 ]; then   # initdb and postgres refuse to run as root
        id postgres >/dev/null 2>&1 || { say "running as root needs the 'postgres' user (package postgresql-15)"; return 1; }
        chown postgres: "$PG_DIR"
        AS_PG=(runuser -u postgres --)
    fi
    "${AS_PG[@]}" "$PGBIN/initdb" -D "$PG_DIR/data" -U bench --auth=trust -E UTF8 --locale=C \
        >"$PG_DIR/initdb.log" 2>&1 || { sed 's/^/  initdb: /' "$PG_DIR/initdb.log"; return 1; }
    local try i
    for ((try = 0; try < 5; try++)); do   # a free port: try a few random ones
        PG_PORT=$((20000 + RANDOM % 40000))
        # A throwaway cluster: durability off (it only speeds up loading);
        # shared_buffers 1GB; everything else PostgreSQL's defaults.
        "${AS_PG[@]}" "$PGBIN/postgres" -D "$PG_DIR/data" -k "$PG_DIR" -p "$PG_PORT" \
            -c listen_addresses=127.0.0.1 -c shared_buffers=1GB -c fsync=off \
            -c synchronous_commit=off -c full_page_writes=off >"$PG_DIR/server.log" 2>&1 &
        PG_PID=$!
        for ((i = 0; i < 300; i++)); do
            "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" && return 0
            kill -0 "$PG_PID" 2>/dev/null || break
            sleep 0.1
        done
        stop_pg_process
    done
    sed 's/^/  postgres: /' "$PG_DIR/server.log" | tail -20
    return 1
}

stop_pg_process() {
    [ -n "$PG_PID" ] || return 0
    "${AS_PG[@]}" "$PGBIN/pg_ctl" -D "$PG_DIR/data" stop -m fast -w >/dev/null 2>&1 || kill -TERM "$PG_PID" 2>/dev/null
    wait "$PG_PID" 2>/dev/null
    PG_PID=""
}

# Run a long step (mdbench) as a child this shell waits for: unlike a
# foreground command, `wait` returns at once when a signal arrives, so the
# trap stops the step and both servers without waiting for it to finish.
step() {
    "$@" &
    STEP_PID=$!
    wait "$STEP_PID"
    local rc=$?
    STEP_PID=""
    return $rc
}

cleanup() {
    if [ -n "$STEP_PID" ]; then
        kill -TERM "$STEP_PID" 2>/dev/null
        wait "$STEP_PID" 2>/dev/null
    fi
    stop_server
    stop_pg_process
    if [ "${MDBENCH_KEEP:-0}" = 1 ]; then
        say "kept: $WORK $PG_DIR"
    else
        [ -n "$WORK" ] && rm -rf "$WORK"
        [ -n "$PG_DIR" ] && rm -rf "$PG_DIR"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- reporting -------------------------------------------------------------------

UNIT_remote_overhead=ms UNIT_result_transfer=rows/s UNIT_small_query_latency=us
UNIT_page_first_result=ms UNIT_browser_ingest=rows/s UNIT_snapshot_small_commit=ms UNIT_snapshot_history_cost=B
TARGET_remote_overhead='<=1.10' TARGET_result_transfer='>=2.00' TARGET_small_query_latency='<=1.30'
TARGET_page_first_result='<=1.25' TARGET_browser_ingest='>=0.50'
TARGET_snapshot_small_commit='<=3.00' TARGET_snapshot_history_cost='<=1.25'
UNIT_hybrid_join=ms UNIT_hybrid_aggregate=bytes UNIT_time_travel_attach=ms UNIT_clone_cost=ms
TARGET_hybrid_join='<=1.20' TARGET_hybrid_aggregate='<=2.00'
# these two hold a fixed time (100 ms, 50 ms): their ratio targets follow from the measured peer, so
# an unmeasured run has none
TARGET_time_travel_attach='<=nan' TARGET_clone_cost='<=nan'

# A benchmark that did not report (setup failed, mdbench crashed): its line and
# JSON object say so.
report_unmeasured() {
    local name=$1 why=$2 unit target
    unit=UNIT_$name target=TARGET_$name
    say "error: $why"
    echo "BENCH $name ours=nan peer=nan ratio=nan target=${!target} MISS"
    local op=${!target:0:2} t=${!target:2}
    [[ $t =~ ^[0-9.]+$ ]] || t=null
    why=${why//\\/\\\\}
    printf '{\n\t"name":\t"%s",\n\t"unit":\t"%s",\n\t"ours":\tnull,\n\t"peer":\tnull,\n\t"ratio":\tnull,\n\t"target":\t%s,\n\t"target_op":\t"%s",\n\t"pass":\tfalse,\n\t"error":\t"%s"\n}\n' \
        "$name" "${!unit}" "$t" "$op" "${why//\"/\\\"}" >"$RESULTS/$name.json"
}

run_bench() {   # run_bench NAME mdbench-args...
    local name=$1
    shift
    rm -f "$RESULTS/$name.json"
    echo "  == $name ($(elapsed) so far)"
    step "$MDBENCH" "$@" --json "$RESULTS/$name.json"
    local rc=$?
    [ -s "$RESULTS/$name.json" ] || report_unmeasured "$name" "mdbench $1 exited with status $rc before reporting"
}

finish() {
    {
        echo "["
        local first=1 b
        for b in "${BENCHES[@]}"; do
            [ $first = 1 ] || echo ","
            first=0
            cat "$RESULTS/$b.json"
        done
        echo "]"
    } >"$OUT"
    local pass miss errors
    pass=$(grep -l '"pass":[[:space:]]*true' "$RESULTS"/*.json | wc -l)
    errors=$(grep -l '"error":' "$RESULTS"/*.json | wc -l)
    miss=$((${#BENCHES[@]} - pass))
    say "results: $OUT ($pass PASS, $miss MISS; total $(elapsed))"
    [ "$errors" -eq 0 ]
}

# ---- the run ------------------------------------------------------------------------

mkdir -p "$RESULTS"
echo "  == building $MDBENCH"
if ! make -s --no-print-directory "$MDBENCH" 2>&1 | sed 's/^/  /'; then
    for b in "${BENCHES[@]}"; do report_unmeasured "$b" "cannot build $MDBENCH"; done
    finish
    exit 1
fi

setup_failed() {
    for b in "${BENCHES[@]}"; do report_unmeasured "$b" "setup failed: $1"; done
    finish
    exit 1
}

echo "  == setup"
say "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo); DuckDB threads $THREADS, memory limit $MEM, $RUNS runs per measurement"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/mdbench.XXXXXX") || setup_failed "no temp dir"
DATA=$WORK/data
TOKEN=$("$MDSERVER" token create --data-dir "$DATA" --user bench) || setup_failed "mdserver token create failed"
start_server || setup_failed "mdserver did not start"
say "$(head -1 "$WORK/server.log")"
start_pg || setup_failed "PostgreSQL did not start"
say "$("$PGBIN/postgres" --version) on 127.0.0.1:$PG_PORT (data in $PG_DIR)"
PG="host=127.0.0.1 port=$PG_PORT user=bench dbname=postgres"

step "$MDBENCH" setup --url "$URL" --token "$TOKEN" --pg "$PG" \
    --facts-rows "$FACTS_ROWS" --xfer-rows "$XFER_ROWS" || setup_failed "generating the tables failed"

# The in-process side reads a byte copy of the file the duckling uses: made
# after a clean shutdown (checkpointed, no WAL), so both open identical bytes.
say "stopping mdserver (the duckling checkpoints my_db), copying my_db.duckdb for in-process DuckDB"
stop_server
DB=$DATA/users/bench/databases/my_db.duckdb
[ -f "$DB" ] || setup_failed "no $DB after generation"
[ -e "$DB.wal" ] && setup_failed "$DB.wal still exists after shutdown: the copy would differ"
cp "$DB" "$WORK/native.duckdb" || setup_failed "cannot copy $DB"
say "database file: $(du -m "$DB" | cut -f1) MB"
start_server || setup_failed "mdserver did not restart"
say "setup done ($(elapsed))"

status=0
run_bench remote_overhead overhead --url "$URL" --token "$TOKEN" --db "$WORK/native.duckdb" \
    --threads "$THREADS" --memory-limit "$MEM" --runs "$RUNS" || status=1
run_bench result_transfer transfer --url "$URL" --token "$TOKEN" --pg "$PG" --runs "$RUNS" || status=1
run_bench small_query_latency latency --url "$URL" --token "$TOKEN" --db "$WORK/native.duckdb" \
    --threads "$THREADS" --memory-limit "$MEM" --pg "$PG" --count "$LAT_COUNT" --runs "$RUNS" || status=1
# Dual execution: the server's facts table joined with / grouped by tables
# of a local in-process DuckDB, through the native dual engine.
echo "  == hybrid_join, hybrid_aggregate ($(elapsed) so far)"
for b in hybrid_join hybrid_aggregate; do rm -f "$RESULTS/$b.json"; done
step "$MDBENCH" hybrid --url "$URL" --token "$TOKEN" --runs "$RUNS" --json-dir "$RESULTS" || status=1
for b in hybrid_join hybrid_aggregate; do
    [ -s "$RESULTS/$b.json" ] || report_unmeasured "$b" "mdbench hybrid exited before reporting"
done
# The same join from the page (Chromium) against this server, its peer the
# native host's figure just measured.
echo "  == hybrid_join_page ($(elapsed) so far)"
rm -f "$RESULTS/hybrid_join_page.json"
step node bench/browser.mjs --hybrid-join-page --http "$HTTP" --token "$TOKEN" \
    --native "$RESULTS/hybrid_join.json" --json-dir "$RESULTS" || status=1
[ -s "$RESULTS/hybrid_join_page.json" ] || report_unmeasured hybrid_join_page "bench/browser.mjs exited before reporting"
# Snapshot storage, on a database of its own (about 1 GB) that mdbench
# storage makes through the server; its plain copy is the in-process side.
echo "  == snapshot_small_commit, snapshot_history_cost, time_travel_attach, clone_cost ($(elapsed) so far)"
STORAGE_BENCHES="snapshot_small_commit snapshot_history_cost time_travel_attach clone_cost"
for b in $STORAGE_BENCHES; do rm -f "$RESULTS/$b.json"; done
step "$MDBENCH" storage --url "$URL" --token "$TOKEN" --db "$WORK/storage_plain.duckdb" --data-dir "$DATA" \
    --storage-rows "$STORAGE_ROWS" --runs "$RUNS" --json-dir "$RESULTS" || status=1
rm -f "$WORK/storage_plain.duckdb"
for b in $STORAGE_BENCHES; do
    [ -s "$RESULTS/$b.json" ] || report_unmeasured "$b" "mdbench storage exited before reporting"
done

# The page benchmarks (Chromium) start a server of their own: stop this one
# and PostgreSQL first, so that they do not share the machine with idle
# processes holding gigabytes.
stop_server
stop_pg_process
# page_benches SCRIPT TITLE NAME...: the Chromium benchmarks of SCRIPT (a
# server of its own); a NAME it did not report is reported unmeasured.
page_benches() {
    local script=$1 title=$2; shift 2
    echo "  == $title: $* ($script; $(elapsed) so far)"
    for b in "$@"; do rm -f "$RESULTS/$b.json"; done
    MDSERVER=$MDSERVER step node "$script" --json-dir "$RESULTS" || status=1
    for b in "$@"; do
        [ -s "$RESULTS/$b.json" ] || report_unmeasured "$b" "$script exited before reporting"
    done
}
page_benches bench/browser.mjs "the page" page_first_result browser_ingest
page_benches bench/workspace.mjs "the workspace" "${BENCHES[@]:12:5}"
page_benches bench/results.mjs "the results panel" "${BENCHES[@]:17:5}"
page_benches bench/multiuser.mjs "sharing and read scaling" share_follow read_scaling
finish || status=1
exit $status
