# bench/bench.mk: build rules of the benchmark driver (included by the
# top-level Makefile; `make bench` runs bench/run.sh, which builds
# build/bench/mdbench with these rules after scripts/deps.sh --bench has
# installed libpq-dev).
#
# mdbench links the server's own client pieces (libmd.a: ws_client, Arrow
# IPC reader, protocol) plus DuckDB and libpq.

BENCH_DIR  := build/bench
BENCH_OBJ  := $(BENCH_DIR)/obj
BENCH_SRC  := $(sort $(wildcard bench/*.c))
BENCH_OBJS := $(BENCH_SRC:bench/%.c=$(BENCH_OBJ)/%.o)
# Lazy (=): only asked when a bench object is built, so other targets never
# need pkg-config or libpq.
BENCH_PQ_CFLAGS = $(shell pkg-config --cflags libpq 2>/dev/null || echo -I/usr/include/postgresql)
BENCH_PQ_LIBS   = $(shell pkg-config --libs libpq 2>/dev/null || echo -lpq)

.PHONY: bench-build
bench-build: $(BENCH_DIR)/mdbench   # build only the benchmark driver

$(BENCH_OBJ)/%.o: bench/%.c | $(DUCKDB)/duckdb.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Ibench $(BENCH_PQ_CFLAGS) -c $< -o $@

$(BENCH_DIR)/mdbench: $(BENCH_OBJS) $(OBJ)/libmd.a $(OBJ)/libshared.a
	$(CC) $(LDFLAGS) -o $@ $^ $(BENCH_PQ_LIBS) $(LIBS) -Wl,-rpath,'$$ORIGIN/../duckdb'

-include $(wildcard $(BENCH_OBJ)/*.d)
