# SPDX-License-Identifier: Apache-2.0
# Protobrain: the one entry point. `make help` lists the targets.

SHELL := /bin/bash
.DEFAULT_GOAL := all

# ---- tools (override on the command line: make VERILATOR=/opt/bin/verilator) ----
CC        ?= cc
VERILATOR ?= verilator
YOSYS     ?= yosys
IVERILOG  ?= iverilog
PYTHON    ?= .venv/bin/python

BUILD     := build
CSTD      := -std=c11 -D_POSIX_C_SOURCE=200809L
WARN      := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
GEN_DIR   := $(BUILD)/gen
INCS      := -Iinclude -Icommon -Isim -Icompiler -Idriver -I$(GEN_DIR)
CFLAGS    ?= -O2 -g
ALL_CFLAGS = $(CSTD) $(WARN) $(INCS) $(CFLAGS)
SAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
LDLIBS    := -lprotobuf-c -lopenblas -lm
PROTOC_C  ?= protoc-c
ONNX_PROTO ?= /usr/include/onnx/onnx.proto

# ---- sources: each library is every .c file of its directory ----
COMMON_SRC   := $(wildcard common/*.c)
SIM_SRC      := $(wildcard sim/*.c)
COMPILER_SRC := $(wildcard compiler/*.c)
DRIVER_SRC   := $(wildcard driver/*.c)
CLI_SRC      := $(wildcard driver/cli/*.c)
LIB_SRC      := $(COMMON_SRC) $(SIM_SRC) $(COMPILER_SRC) $(DRIVER_SRC)
TEST_SRC     := $(wildcard tests/unit/test_*.c)
HEADERS      := $(wildcard include/protobrain/*.h common/*.h sim/*.h compiler/*.h compiler/*/*.h driver/*.h tests/lib/*.h) \
                $(GEN_DIR)/onnx.pb-c.h

COMPILER_SRC += $(wildcard compiler/*/*.c)
LIB_OBJ      := $(LIB_SRC:%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/gen/onnx.pb-c.o
LIB_SAN_OBJ  := $(LIB_SRC:%.c=$(BUILD)/san/%.o) $(BUILD)/san/gen/onnx.pb-c.o
TEST_BIN     := $(TEST_SRC:tests/unit/%.c=$(BUILD)/tests/%)
TEST_SAN_BIN := $(TEST_SRC:tests/unit/%.c=$(BUILD)/san/tests/%)
CLI          := $(BUILD)/protobrain

# ---- generated from the ISA single source (include/protobrain/isa.h) ----
GEN_TOOL  := $(BUILD)/tools/gen_isa
GENERATED := rtl/pb_isa.vh docs/isa.md

.PHONY: all help deps test test-c test-san test-cli check-generated generate demo clean

all: $(CLI) $(TEST_BIN) ## build the CLI (build/protobrain) and the C tests

help: ## list the targets
	@echo "Protobrain make targets:"
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | awk -F'\t' '{printf "  %-16s %s\n", $$1, $$2}'
	@echo "Tool variables: CC=$(CC) VERILATOR=$(VERILATOR) YOSYS=$(YOSYS) IVERILOG=$(IVERILOG) PYTHON=$(PYTHON)"

deps: ## install every Debian package and the .venv the targets need (idempotent)
	@tools/deps.sh

# ONNX protobuf bindings, generated at build time from Debian's onnx.proto (libonnx-dev)
$(GEN_DIR)/onnx.pb-c.c $(GEN_DIR)/onnx.pb-c.h: $(ONNX_PROTO)
	@mkdir -p $(GEN_DIR)
	$(PROTOC_C) --c_out=$(GEN_DIR) -I$(dir $(ONNX_PROTO)) $(ONNX_PROTO)

# generated code: compiled without our warning set
$(BUILD)/obj/gen/onnx.pb-c.o: $(GEN_DIR)/onnx.pb-c.c $(GEN_DIR)/onnx.pb-c.h
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) -I$(GEN_DIR) $(CFLAGS) -c $< -o $@

$(BUILD)/san/gen/onnx.pb-c.o: $(GEN_DIR)/onnx.pb-c.c $(GEN_DIR)/onnx.pb-c.h
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) -I$(GEN_DIR) $(SAN_FLAGS) -c $< -o $@

$(BUILD)/obj/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/san/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) $(INCS) $(SAN_FLAGS) -c $< -o $@

$(BUILD)/libpbcore.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/libpbcore-san.a: $(LIB_SAN_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(CLI): $(CLI_SRC:%.c=$(BUILD)/obj/%.o) $(BUILD)/libpbcore.a
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libpbcore.a $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests/lib -o $@ $< $(BUILD)/libpbcore.a $(LDLIBS)

$(BUILD)/san/tests/%: tests/unit/%.c $(BUILD)/libpbcore-san.a $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) $(INCS) $(SAN_FLAGS) -Itests/lib -o $@ $< $(BUILD)/libpbcore-san.a $(LDLIBS)

$(BUILD)/san/protobrain: $(CLI_SRC:%.c=$(BUILD)/san/%.o) $(BUILD)/libpbcore-san.a
	$(CC) $(CSTD) $(WARN) $(INCS) $(SAN_FLAGS) -o $@ $^ $(LDLIBS)

# ---- generated files ----
$(GEN_TOOL): tools/gen_isa.c $(BUILD)/libpbcore.a $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(BUILD)/libpbcore.a $(LDLIBS)

generate: $(GEN_TOOL) ## regenerate rtl/pb_isa.vh and docs/isa.md from the ISA source
	$(GEN_TOOL) verilog > rtl/pb_isa.vh
	$(GEN_TOOL) markdown > docs/isa.md

check-generated: $(GEN_TOOL) ## fail when a generated file is stale
	@mkdir -p $(BUILD)/gen
	@$(GEN_TOOL) verilog > $(BUILD)/gen/pb_isa.vh
	@$(GEN_TOOL) markdown > $(BUILD)/gen/isa.md
	@ok=1; for f in $(GENERATED); do \
	  if ! diff -u $$f $(BUILD)/gen/$$(basename $$f) > $(BUILD)/gen/$$(basename $$f).diff; then \
	    echo "STALE: $$f differs from the ISA source; run 'make generate' (diff in $(BUILD)/gen/$$(basename $$f).diff)"; ok=0; \
	  fi; done; \
	  if [ $$ok = 1 ]; then echo "generated files are current: $(GENERATED)"; else exit 1; fi

# ---- tests ----
test: deps ## install deps, build with -Werror, run the whole suite (ends with "N passed, N failed")
	@$(MAKE) --no-print-directory test-build
	@tests/run_tests.sh

.PHONY: test-build
test-build: $(CLI) $(TEST_BIN) $(TEST_SAN_BIN) $(BUILD)/san/protobrain $(GEN_TOOL)

demo: deps $(CLI) ## run the end-to-end demo
	@tests/demo.sh

clean: ## remove build/
	rm -rf $(BUILD)
