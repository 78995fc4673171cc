# Makefile: the one build of mdserver.  `make help` lists the targets.
.DEFAULT_GOAL := all
SHELL := /bin/bash

CC      ?= gcc
DUCKDB  := build/duckdb
# civetweb 1.15: Debian's source with our patch (scripts/patches), unpacked by
# `make deps` and compiled here: WebSockets, IPv6, OpenSSL 3 linked (TLS), no
# CGI, and threads with a 1 MiB stack (Debian's build gives them 100 KB).
CIVETWEB := build/civetweb/src
CIVETWEB_CFLAGS = $(OPT) -g -Wno-deprecated-declarations -DNDEBUG -DUSE_WEBSOCKET -DUSE_IPV6 -DNO_CGI -DOPENSSL_API_3_0 -DNO_SSL_DL \
                   -DUSE_STACK_SIZE=1048576 -I$(CIVETWEB)/include
OPT     ?= -O2
CFLAGS  ?= $(OPT) -g
CFLAGS  += -std=gnu11 -Wall -Wextra -Wno-unused-parameter -Wshadow -Wstrict-prototypes \
           -D_GNU_SOURCE -I. -isystem $(CIVETWEB)/include -isystem $(DUCKDB) -MMD -MP
LIBS    := -L$(DUCKDB) -lduckdb -lcjson -lsqlite3 -lmbedcrypto -lssl -lcrypto -lreadline -lpthread -ldl -lm
RPATH   := -Wl,-rpath,'$$ORIGIN/build/duckdb'

# One object list per binary.
SHARED_SRC := $(sort $(wildcard shared/*.c))
SERVER_SRC := $(sort $(wildcard server/*.c server/*/*.c))
MAIN_SRC   := server/main.c
# The browser engine's router and splitter, built natively too: dual
# execution from the terminal and the sqllogictest runner (server/client/dual.c).
ENGINE_SRC := wasm/catalog.c wasm/catalog_rows.c wasm/router.c wasm/splitter.c wasm/json_exact.c wasm/driver.c
LIB_SRC    := $(SHARED_SRC) $(ENGINE_SRC) $(filter-out $(MAIN_SRC),$(SERVER_SRC))

# Unit tests (cmocka): one binary per file, registered here.
UNIT_TESTS := $(sort $(basename $(notdir $(wildcard tests/unit/test_*.c))))
# Fuzz targets (libFuzzer, clang): one per decoder.
FUZZ_TARGETS := $(sort $(basename $(notdir $(wildcard tests/fuzz/fuzz_*.c))))

OBJ := build/obj
ifdef ASAN
  OBJ     := build/asan/obj
  CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer
  LDFLAGS += -fsanitize=address,undefined
endif

LIB_OBJ    := $(LIB_SRC:%.c=$(OBJ)/%.o) $(OBJ)/civetweb.o
SHARED_OBJ := $(SHARED_SRC:%.c=$(OBJ)/%.o)
MAIN_OBJ   := $(MAIN_SRC:%.c=$(OBJ)/%.o)

# Test programs link shared/ plus the server modules they name here, so a
# test of shared/ code never depends on the rest of the server.
test_token_OBJS := server/token.c server/meta.c server/sqlite_file.c
test_secrets_OBJS := server/secrets.c server/sqlite_file.c
test_result_format_OBJS := server/client/result_format.c
test_arrow_ipc_OBJS := tests/support/arrow_equal.c
test_db_statements_OBJS := server/storage/db_statements.c
test_path_guard_OBJS := server/duckling/path_guard.c
test_admission_OBJS := server/admission.c
test_cgroup_OBJS := server/cgroup.c
test_storage_OBJS := server/storage/objstore.c server/storage/manifest.c server/storage/snapshot.c \
                     server/storage/dirty.c server/storage/dbmeta.c server/storage/dbmeta_shares.c server/uuid.c server/storage/snapcache.c server/sqlite_file.c
test_store_service_OBJS := server/storage/store_service.c server/storage/store_remote.c server/storage/store_wire.c \
                           server/storage/objstore.c server/storage/manifest.c server/storage/dbmeta.c server/storage/dbmeta_shares.c server/uuid.c \
                           server/sqlite_file.c server/meta.c server/secrets.c server/history.c \
                           server/workspace_db.c
# Tools used by the Node and black-box tests (tests/tools/NAME.c -> build/tests/NAME).
TOOLS := $(sort $(basename $(notdir $(wildcard tests/tools/*.c))))

.PHONY: all deps run test bench asan fuzz clean help unit ui slt
all: mdserver ui $(UNIT_TESTS:%=build/tests/%) $(TOOLS:%=build/tests/%) build/slt-hybrid build/slt-wasm build/nosandbox/mdserver  ## build ./mdserver, the web UI, tests

# The web UI the server serves: build/ui = the sources in ui/ plus what the
# build makes (the WASM engine, see wasm/wasm.mk).
UI_SRC := $(shell find ui -type f -not -path 'ui/app/*' 2>/dev/null)
# The workspace (ui/app, Preact + signals, CodeMirror 6): one bundle,
# build/ui/app/app.js and its stylesheet app.css, by esbuild.
APP_SRC := $(shell find ui/app -type f 2>/dev/null)
# duckdb-wasm, served by mdserver itself (never a CDN): its workers and wasm
# files as published, and its ES module bundled with its dependencies
# (apache-arrow, flatbuffers, tslib) so the page needs no import map.
DUCKDB_WASM := node_modules/@duckdb/duckdb-wasm/dist
VENDOR      := build/ui/vendor/duckdb
VENDOR_COPY := duckdb-browser-eh.worker.js duckdb-eh.wasm duckdb-browser-coi.worker.js \
               duckdb-browser-coi.pthread.worker.js duckdb-coi.wasm
# Perspective (pivot and charts): its own bundle, loaded on first use
# (ui/app/pivot_viewer.js), and the viewer's wasm and themes, served as published.
PSP        := node_modules/@perspective-dev/viewer/dist
PSP_VENDOR := build/ui/vendor/perspective
ui: $(UI_SRC:ui/%=build/ui/%) build/ui/js/protocol.js build/ui/app/app.js build/ui/app/pivot.js \
    $(VENDOR_COPY:%=$(VENDOR)/%) $(VENDOR)/duckdb.mjs $(PSP_VENDOR)/perspective-viewer.wasm $(PSP_VENDOR)/themes.css
# The page's session modules stay where they are served (/js/, external).
build/ui/app/app.js: $(APP_SRC) node_modules/.mdserver-lock
	@mkdir -p $(dir $@)
	node_modules/.bin/esbuild ui/app/main.jsx --bundle --format=esm --jsx=automatic --jsx-import-source=preact \
	    '--external:/js/*' '--external:/app/*' --minify --log-level=warning --outdir=build/ui/app --entry-names=app
build/ui/app/pivot.js: ui/app/pivot_viewer.js node_modules/.mdserver-lock
	@mkdir -p $(dir $@)
	node_modules/.bin/esbuild $< --bundle --format=esm --minify --log-level=warning --outfile=$@
$(PSP_VENDOR)/perspective-viewer.wasm: node_modules/.mdserver-lock
	@mkdir -p $(dir $@)
	cp $(PSP)/wasm/perspective-viewer.wasm $@
$(PSP_VENDOR)/themes.css: node_modules/.mdserver-lock
	@mkdir -p $(dir $@)
	cp $(PSP)/css/themes.css $@
build/ui/%: ui/%
	@mkdir -p $(dir $@)
	cp $< $@
# The message table and error codes for JavaScript, printed from the C headers.
$(OBJ)/gen_protocol_js: scripts/gen_protocol_js.c shared/protocol.h shared/md_error.h
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -Wall -Wextra -I. -o $@ $<
build/ui/js/protocol.js: $(OBJ)/gen_protocol_js
	@mkdir -p $(dir $@)
	$< > $@.tmp && mv $@.tmp $@
# The npm packages arrive with `make deps` (node_modules/.mdserver-lock is its
# stamp), possibly during this very make: say so, or make would look for
# the files before they exist.
node_modules/.mdserver-lock: package-lock.json
	scripts/deps.sh
$(DUCKDB_WASM)/%: node_modules/.mdserver-lock
	@test -f $@
# npm's files, not make's: never deleted as intermediates of the copies above.
.SECONDARY: $(VENDOR_COPY:%=$(DUCKDB_WASM)/%) $(DUCKDB_WASM)/duckdb-browser.mjs
$(VENDOR)/%: $(DUCKDB_WASM)/%
	@mkdir -p $(dir $@)
	cp $< $@
$(VENDOR)/duckdb.mjs: scripts/duckdb-vendor.mjs $(DUCKDB_WASM)/duckdb-browser.mjs
	@mkdir -p $(dir $@)
	node_modules/.bin/esbuild $< --bundle --format=esm --log-level=warning \
	    --alias:apache-arrow=./node_modules/@duckdb/duckdb-wasm/node_modules/apache-arrow --outfile=$@

$(DUCKDB)/duckdb.h $(DUCKDB)/libduckdb.so:
	scripts/deps.sh

deps:                                             ## install what is missing (apt, npm, DuckDB 1.4.4)
	scripts/deps.sh

$(OBJ)/%.o: %.c | $(DUCKDB)/duckdb.h $(CIVETWEB)/src/civetweb.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(CIVETWEB)/src/civetweb.c: scripts/patches/civetweb-1.15-limits.patch
	scripts/deps.sh
	@touch $@
$(OBJ)/civetweb.o: $(CIVETWEB)/src/civetweb.c
	@mkdir -p $(dir $@)
	$(CC) $(CIVETWEB_CFLAGS) $(filter -fsanitize% -fno-omit%,$(CFLAGS)) -c $< -o $@

$(OBJ)/libmd.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(OBJ)/libshared.a: $(SHARED_OBJ)
	@rm -f $@
	ar rcs $@ $^

ifdef ASAN
build/asan/mdserver: $(MAIN_OBJ) $(OBJ)/libmd.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS) -Wl,-rpath,'$$ORIGIN/../duckdb'
else
mdserver: $(MAIN_OBJ) $(OBJ)/libmd.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS) $(RPATH)
endif

# A test build whose ducklings skip DuckDB's own sandbox (allowed_directories,
# external access off), so that a test sees the kernel's confinement alone
# (server/duckling/confine.h, tests/blackbox/hardening.test.mjs).  Never installed.
build/nosandbox/duckling.o: server/duckling/duckling.c | $(DUCKDB)/duckdb.h $(CIVETWEB)/src/civetweb.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -DMD_TEST_WITHOUT_DUCKDB_SANDBOX -c $< -o $@
build/nosandbox/mdserver: $(MAIN_OBJ) build/nosandbox/duckling.o $(filter-out $(OBJ)/server/duckling/duckling.o,$(LIB_OBJ))
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS) -Wl,-rpath,'$$ORIGIN/../duckdb'

TESTDIR := build/tests
ifdef ASAN
  TESTDIR := build/asan/tests
endif
test_objs = $(patsubst %.c,$(OBJ)/%.o,$($(1)_OBJS))
.SECONDEXPANSION:
$(TESTDIR)/%: $(OBJ)/tests/unit/%.o $$(call test_objs,$$*) $(OBJ)/libshared.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ -lcmocka $(LIBS) -Wl,-rpath,'$$ORIGIN/../duckdb' -Wl,-rpath,'$$ORIGIN/../../duckdb'

$(TESTDIR)/%: $(OBJ)/tests/tools/%.o $$(call test_objs,$$*) $(OBJ)/libshared.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS) -Wl,-rpath,'$$ORIGIN/../duckdb' -Wl,-rpath,'$$ORIGIN/../../duckdb'

# The sqllogictest runner (tests/slt/slt_hybrid.c says what it does).
SLT_SRC := $(sort $(wildcard tests/slt/*.c))
build/slt-hybrid: $(SLT_SRC:%.c=$(OBJ)/%.o) $(OBJ)/libmd.a $(OBJ)/libshared.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS) -Wl,-rpath,'$$ORIGIN/duckdb'

# The same runner with the page's way of running SQL: the C driver in
# WebAssembly, ui/js/runtime.js and duckdb-wasm in Node (tests/slt/wasm_host.mjs).
build/slt-wasm: build/slt-hybrid
	printf '#!/bin/sh\nexec "$$(dirname "$$0")/slt-hybrid" --host wasm "$$@"\n' > $@
	chmod +x $@

# DuckDB's sqllogictest corpus (the handbook's copy beside the checkout, or SLT_DIR).
SLT_DIR ?= ../shared/slt
slt: all                                          ## every corpus file through build/slt-hybrid (local, remote, random seeds 1-5) and build/slt-wasm (random 1, 2)
	-build/slt-hybrid --placement local $$(find $(SLT_DIR) -name '*.test' | sort)
	-build/slt-hybrid --placement remote $$(find $(SLT_DIR) -name '*.test' | sort)
	-for seed in 1 2 3 4 5; do \
	    build/slt-hybrid --placement random --seed $$seed $$(find $(SLT_DIR) -name '*.test' | sort); done
	-for seed in 1 2; do \
	    build/slt-wasm --placement random --seed $$seed $$(find $(SLT_DIR) -name '*.test' | sort); done

run: deps all                                     ## build, then start ./mdserver with its defaults
	./mdserver serve

unit: all                                         ## run only the cmocka unit tests
	tests/run.sh --unit

test: deps all                                    ## the whole suite; ends with "N passed, N failed, N skipped"
	tests/run.sh

bench: deps all                                   ## benchmarks: one BENCH line each, all in build/bench.json
	scripts/deps.sh --bench
	bench/run.sh

asan:                                             ## build with AddressSanitizer and run the suites with it
	$(MAKE) deps
	$(MAKE) wasm ui
	$(MAKE) ASAN=1 build/asan/mdserver
	$(MAKE) build/nosandbox/mdserver
	$(MAKE) ASAN=1 $(UNIT_TESTS:%=build/asan/tests/%) $(TOOLS:%=build/asan/tests/%)
	rm -f build/test-logs/servers.log
	MDSERVER=build/asan/mdserver TEST_BIN_DIR=build/asan/tests tests/run.sh
	@if grep -E 'AddressSanitizer|LeakSanitizer|runtime error:' build/test-logs/*.log; then \
	    echo "asan: sanitizer reports above (build/test-logs/)"; exit 1; fi

FUZZ_SECONDS ?= 60
fuzz: all                                         ## run each fuzz target FUZZ_SECONDS (default 60) under libFuzzer
	scripts/fuzz.sh $(FUZZ_SECONDS)

clean:                                            ## remove build outputs (keeps downloaded dependencies)
	rm -rf build/obj build/asan build/tests build/fuzz build/bench build/ui mdserver

help:                                             ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 10

# Benchmark programs and their rules.
-include bench/bench.mk
# The browser engine (C compiled to WebAssembly) and its native test build.
-include wasm/wasm.mk

-include $(shell find build/obj build/asan/obj build/nosandbox -name '*.d' 2>/dev/null)
