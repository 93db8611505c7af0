# SPDX-License-Identifier: Apache-2.0
# libprotobrain: the public driver library (include/protobrain/protobrain.h, driver/protobrain.c,
# docs/driver.md). Included by the top Makefile before its rules.
#
# Every object that goes into build/libprotobrain.so is position independent: the C objects
# (ALL_CFLAGS), the Verilator runtime (VL_CXXFLAGS) and the Verilated models (-CFLAGS -fPIC for
# Verilator's own build). One object tree serves the static and the shared library and the CLI.
ALL_CFLAGS  += -fPIC
VL_CXXFLAGS += -fPIC
VL_FLAGS    += -CFLAGS -fPIC

PB_VERSION := $(shell sed -n 's/^\#define PROTOBRAIN_VERSION "\(.*\)"/\1/p' include/protobrain/protobrain.h)
PREFIX     ?= /usr/local
LIBPB_MAP  := driver/libprotobrain.map
# what the library is made of: the contract library, the reference model, the driver and the
# Verilated configurations (not the compiler, not the CLI)
LIBPB_OBJ  := $(filter $(BUILD)/obj/common/% $(BUILD)/obj/sim/% $(BUILD)/obj/driver/%,$(LIB_OBJ)) $(VSIM_OBJ)
LIBPB_LIBS := -lstdc++ -lz -lm -latomic -pthread
LIBPB      := $(BUILD)/libprotobrain.a $(BUILD)/libprotobrain.so
EXAMPLES   := $(BUILD)/examples/classify
DRIVER_TEST_BIN := $(BUILD)/driver-tests/test_api $(BUILD)/driver-tests/test_alloc $(BUILD)/san/driver-tests/test_api
TEST_EXTRA += $(LIBPB) $(EXAMPLES) $(DRIVER_TEST_BIN)

.PHONY: lib install
lib: $(LIBPB) $(EXAMPLES) ## build libprotobrain (build/libprotobrain.a, .so) and driver/examples (build/examples/)

# Static library: one relocatable object in which every symbol but the public API is made local
# (objcopy --keep-global-symbols), so that the model's, the driver's and Verilator's internal
# names cannot collide with a user's; the same list as the shared library's version script.
$(BUILD)/libprotobrain.a: $(LIBPB_OBJ) $(LIBPB_MAP)
	@mkdir -p $(BUILD)/lib
	@grep -oE '^ +pb_[a-z_]+;' $(LIBPB_MAP) | tr -d ' ;' > $(BUILD)/lib/exports.txt
	ld -r -o $(BUILD)/lib/protobrain.o --whole-archive $(filter-out $(LIBPB_MAP),$^) --no-whole-archive
	objcopy --keep-global-symbols=$(BUILD)/lib/exports.txt $(BUILD)/lib/protobrain.o
	@rm -f $@
	ar rcs $@ $(BUILD)/lib/protobrain.o

# Shared library: exports exactly the version script's symbols; libstdc++ is a dependency.
$(BUILD)/libprotobrain.so: $(LIBPB_OBJ) $(LIBPB_MAP)
	$(CXX) -shared -o $@ -Wl,-soname,libprotobrain.so.0 -Wl,--version-script=$(LIBPB_MAP) -Wl,--no-undefined \
	  -Wl,--whole-archive $(filter-out $(LIBPB_MAP),$^) -Wl,--no-whole-archive $(filter-out -lstdc++,$(LIBPB_LIBS))
	ln -sf libprotobrain.so $(BUILD)/libprotobrain.so.0

$(BUILD)/protobrain.pc: driver/protobrain.pc.in include/protobrain/protobrain.h mk/lib.mk
	@mkdir -p $(dir $@)
	sed -e 's|@PREFIX@|$(abspath $(PREFIX))|' -e 's|@VERSION@|$(PB_VERSION)|' $< > $@

install: $(LIBPB) $(BUILD)/protobrain.pc ## install libprotobrain under PREFIX (default /usr/local): header, .a, .so, lib/pkgconfig/protobrain.pc
	install -d $(DESTDIR)$(abspath $(PREFIX))/include/protobrain $(DESTDIR)$(abspath $(PREFIX))/lib/pkgconfig
	install -m 644 include/protobrain/protobrain.h $(DESTDIR)$(abspath $(PREFIX))/include/protobrain/
	install -m 644 $(BUILD)/libprotobrain.a $(DESTDIR)$(abspath $(PREFIX))/lib/
	install -m 755 $(BUILD)/libprotobrain.so $(DESTDIR)$(abspath $(PREFIX))/lib/libprotobrain.so.$(PB_VERSION)
	ln -sf libprotobrain.so.$(PB_VERSION) $(DESTDIR)$(abspath $(PREFIX))/lib/libprotobrain.so.0
	ln -sf libprotobrain.so.0 $(DESTDIR)$(abspath $(PREFIX))/lib/libprotobrain.so
	install -m 644 $(BUILD)/protobrain.pc $(DESTDIR)$(abspath $(PREFIX))/lib/pkgconfig/
	@rm -f $(BUILD)/protobrain.pc

# The example, built in the tree against the shared library (tests/driver/test_install.sh builds it
# again against an installed copy, with pkg-config).
$(BUILD)/examples/%: driver/examples/%.c include/protobrain/protobrain.h $(BUILD)/libprotobrain.so
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) $(CFLAGS) -Iinclude -o $@ $< -L$(BUILD) -lprotobrain -Wl,-rpath,'$$ORIGIN/..'

# Tests of the library (tests/driver/): the API through the static library (and the model and driver
# under ASan + UBSan), allocation counting through the shared one. They use the public header only.
$(BUILD)/driver-tests/test_api: tests/driver/test_api.c $(BUILD)/libprotobrain.a $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) $(CFLAGS) -Iinclude -Itests/lib -o $@ $< $(BUILD)/libprotobrain.a $(LIBPB_LIBS)

$(BUILD)/san/driver-tests/test_api: tests/driver/test_api.c $(BUILD)/libpbcore-san.a $(VSIM_OBJ) $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) -Iinclude $(SAN_FLAGS) -Itests/lib -c $< -o $@.o
	$(CXX) $(SAN_FLAGS) -o $@ $@.o $(BUILD)/libpbcore-san.a $(VSIM_OBJ) $(LDLIBS) $(VSIM_LIBS)

$(BUILD)/driver-tests/test_alloc: tests/driver/test_alloc.c $(BUILD)/libprotobrain.so $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) $(CFLAGS) -Iinclude -Itests/lib -o $@ $< -L$(BUILD) -lprotobrain -Wl,-rpath,'$$ORIGIN/..'
