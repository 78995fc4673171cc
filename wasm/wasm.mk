# wasm/wasm.mk: the browser engine (C compiled to WebAssembly with emscripten)
# and its native test build.  Included by the top-level Makefile.
#
#   make wasm   build/ui/engine.mjs + build/ui/engine.wasm: one ES module
#               (createEngine) for the page, its workers and the Node tests;
#               part of `make all`.
#
# The module is built from the C files listed in WASM_C plus cJSON compiled
# from the Debian source package that `make deps` unpacks under build/cjson/src
# (the native build links Debian's libcjson instead).  The build refuses to run
# with an emscripten other than the one pinned in emsdk.lock.  Exported
# functions: WASM_EXPORTS, every MD_EXPORT of wasm/exports.c (read from it).
#
# Native unit tests of the engine (tests/unit/test_router.c ...) link the
# wasm/ objects named by their test_X_OBJS below.

WASM_OUT     := build/ui
WASM_MJS     := $(WASM_OUT)/engine.mjs
WASM_INC     := build/wasm/include
CJSON_SRC    := build/cjson/src
WASM_C       := shared/md_alloc.c shared/md_error.c shared/md_buf.c shared/sql_lexer.c shared/session_option.c \
                shared/sql_classify.c wasm/catalog.c wasm/catalog_rows.c wasm/router.c wasm/json_exact.c wasm/splitter.c \
                wasm/driver.c wasm/exports.c
WASM_H       := $(wildcard shared/md_alloc.h shared/md_error.h shared/md_buf.h shared/sql_*.h shared/session_option.h wasm/*.h)
# every MD_EXPORT of wasm/exports.c, read from the file itself
wasm__lparen := (
WASM_EXPORTS := $(shell sed -n 's/^MD_EXPORT .*[ *]\(md_wasm_[a-z_]*\)[$(wasm__lparen)].*/\1/p' wasm/exports.c)

wasm__comma := ,
wasm__empty :=
wasm__space := $(wasm__empty) $(wasm__empty)

EMCC      ?= emcc
EMCFLAGS  := -O2 -std=gnu11 -Wall -Wextra -Wno-unused-parameter -Wshadow -Wstrict-prototypes \
             -D_GNU_SOURCE -I. -I$(WASM_INC)
EMLDFLAGS := -sEXPORT_ES6=1 -sMODULARIZE=1 -sEXPORT_NAME=createEngine -sENVIRONMENT=web,worker \
             -sALLOW_MEMORY_GROWTH=1 -sFILESYSTEM=0 \
             -sEXPORTED_FUNCTIONS=$(subst $(wasm__space),$(wasm__comma),$(strip $(WASM_EXPORTS:%=_%)))

# emcc's optimizer needs acorn from Debian's node modules.  The package's
# cache (/usr/share/emscripten/cache) is writable only by root: a non-root
# build without its own EM_CACHE gets one under build/emcache: its own
# directories (emcc writes there) holding symlinks to the package's files.
EMENV := NODE_PATH=/usr/share/nodejs
WASM_EM_CACHE :=
ifneq ($(shell id -u),0)
  ifeq ($(origin EM_CACHE),undefined)
    WASM_EM_CACHE := $(CURDIR)/build/emcache
    EMENV += EM_CACHE=$(WASM_EM_CACHE)
  endif
endif

.PHONY: wasm clean-wasm
all: wasm
clean: clean-wasm
wasm: $(WASM_MJS)                                 ## build the browser engine: build/ui/engine.mjs + engine.wasm

clean-wasm:
	rm -rf $(WASM_MJS) $(WASM_OUT)/engine.wasm $(WASM_INC) build/emcache

$(CJSON_SRC)/cJSON.c:
	scripts/deps.sh

$(WASM_INC)/cjson/cJSON.h: $(CJSON_SRC)/cJSON.c
	@mkdir -p $(dir $@)
	cp $(CJSON_SRC)/cJSON.h $@

$(WASM_MJS): $(WASM_C) $(WASM_H) $(CJSON_SRC)/cJSON.c $(WASM_INC)/cjson/cJSON.h wasm/wasm.mk emsdk.lock
	scripts/check-emsdk.sh
	@mkdir -p $(dir $@)
	@if [ -n "$(WASM_EM_CACHE)" ] && [ ! -d "$(WASM_EM_CACHE)/sysroot" ]; then \
	    mkdir -p "$(WASM_EM_CACHE)" && cp -rs /usr/share/emscripten/cache/. "$(WASM_EM_CACHE)/"; fi
	$(EMENV) $(EMCC) $(EMCFLAGS) $(WASM_C) $(CJSON_SRC)/cJSON.c $(EMLDFLAGS) -o $@

# Native test builds of the engine's modules.
test_catalog_OBJS := wasm/catalog.c wasm/catalog_rows.c server/duckdb/catalog_query.c
test_router_OBJS  := wasm/router.c wasm/catalog.c
test_splitter_OBJS := wasm/splitter.c wasm/json_exact.c wasm/router.c wasm/catalog.c
test_driver_OBJS := wasm/driver.c wasm/splitter.c wasm/json_exact.c wasm/router.c wasm/catalog.c wasm/catalog_rows.c server/duckdb/ast_json.c
