# Klamm — every task of the project. `make help` lists them.
#
# Layout: domain/ ← application/ ← infrastructure/ ← src/main.c (project.yml states the
# rule; `make check-layers` enforces it). All library code is built into
# build/libklamm.a; every test/test_<module>.c becomes one cmocka binary linked to it.

CC        ?= cc
BUILD     ?= build
OPT       ?= -O2 -g
SAN       ?=
CFLAGS    += -std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE -I. $(OPT) $(SAN)
LDFLAGS   += $(SAN)
LDLIBS    += -lz
PYTHON    ?= /usr/bin/python3

LIB_SRCS  := $(shell find domain application infrastructure -name '*.c' 2>/dev/null | sort)
LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
MOCK_SRCS := $(wildcard test/mocks/*.c)
MOCK_OBJS := $(MOCK_SRCS:%.c=$(BUILD)/obj/%.o)
TEST_SRCS := $(sort $(wildcard test/test_*.c))
TEST_BINS := $(TEST_SRCS:test/%.c=$(BUILD)/test/%)
BROKER    := $(BUILD)/klamm

# Debian packages a fresh machine needs: build, unit tests, integration clients, and the
# rest of `make test` and .ci/run — gcovr (make cov), clang with its libFuzzer runtime
# (make fuzz), gdb (make gdb-test), valgrind (make valgrind).
DEB_PKGS  := gcc make libc6-dev zlib1g-dev libcmocka-dev uthash-dev python3 python3-yaml \
	     python3-kafka kcat nodejs npm gcovr clang libclang-rt-14-dev gdb valgrind
# Only `make bench` needs these: the load generator links librdkafka (its mock broker is
# the reference), so `make test` on a fresh machine does not pull them in.
BENCH_DEB_PKGS := librdkafka-dev

.PHONY: all help deps bench-deps bench-report-test build run test unit integration asan valgrind cov bench debug gdb-test crash-test load-test fuzz lab-start lab-check lab-reset lab-verify clean check-layers check-docs

all: build

# Keep the test objects make would otherwise delete as intermediates (no rebuild loop).
.SECONDARY:

help:
	@echo "make run          install deps, build, start the broker on 127.0.0.1:9092 (data in ./data)"
	@echo "make test         deps, build, layer + docs checks, unit, coverage floors, labs, integration,"
	@echo "                  gdb walk-through, crash test, load test, 60 s fuzz"
	@echo "make unit         cmocka unit tests only"
	@echo "make integration  kafka-python, KafkaJS and kcat against a started broker"
	@echo "make asan         unit + integration under AddressSanitizer + UBSan"
	@echo "make deps         install what a fresh Debian machine lacks (bench-deps: librdkafka-dev for make bench)"
	@echo "make check-layers the dependency rule of project.yml"
	@echo "make check-docs   every file:function the docs name still exists"
	@echo "make valgrind     unit tests under valgrind memcheck (leaks are errors)"
	@echo "make cov          line/branch coverage per layer from unit tests, with floors"
	@echo "make crash-test   SIGKILL the broker under acks=all load, restart, check nothing acked is lost"
	@echo "make load-test    1,000 concurrent connections doing metadata + produce + fetch"
	@echo "make fuzz         libFuzzer+ASan/UBSan on the request path (FUZZ_SECONDS=60)"
	@echo "make lab-start LAB=NN / lab-check LAB=NN / lab-reset LAB=NN   classroom labs (docs/labs/)"
	@echo "make lab-verify   every lab: its stub fails its tests, its reference passes"
	@echo "make debug        build-debug/klamm with -O0 -g3, for stepping in gdb"
	@echo "make gdb-test     the gdb walk-through (test/gdb/walkthrough.gdb), checked stop by stop"
	@echo "make bench        throughput/latency vs librdkafka's mock broker (BENCH_SCALE=0.1 for a quick run)"
	@echo "make clean        remove build/"

# ---- dependencies -------------------------------------------------------------
# As root: apt-get install what is missing. Otherwise print the exact command.
# $(call apt_install,PACKAGES): the one recipe both deps and bench-deps use.
define apt_install
	@missing=""; for p in $(1); do \
	  if [ "$$p" = nodejs ] || [ "$$p" = npm ]; then command -v $${p%js} >/dev/null 2>&1 && continue; fi; \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "deps: installing$$missing"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing) || exit 1; \
	  else echo "deps: missing Debian packages; run:  sudo apt-get install -y$$missing"; exit 1; fi; \
	fi
endef

deps:
	$(call apt_install,$(DEB_PKGS))
	@if [ ! -d integration/node/node_modules/kafkajs ]; then \
	  echo "deps: npm ci (KafkaJS for the integration tests)"; \
	  (cd integration/node && npm ci --no-audit --no-fund --loglevel=error) || exit 1; fi

# ---- build --------------------------------------------------------------------
build: $(BROKER)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/libklamm.a: $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BROKER): $(BUILD)/obj/src/main.o $(BUILD)/libklamm.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/test/%: $(BUILD)/obj/test/%.o $(MOCK_OBJS) $(BUILD)/libklamm.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ -lcmocka $(LDLIBS)

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)

# ---- run ----------------------------------------------------------------------
run: deps build
	./$(BROKER) $(if $(wildcard server.properties),server.properties,)

# ---- tests --------------------------------------------------------------------
test: deps build check-layers check-docs bench-report-test unit cov lab-verify integration gdb-test crash-test load-test fuzz

check-docs:
	@$(PYTHON) test/tools/check_docs.py

# The benchmark's target verdicts (test/bench/report.py) on made-up runs; not the benchmark.
bench-report-test:
	@$(PYTHON) test/bench/test_report.py

check-layers:
	@$(PYTHON) test/tools/check_layers.py project.yml

unit: $(TEST_BINS)
	@$(PYTHON) test/tools/run_unit.py $(TEST_BINS)

integration: deps build
	@bash integration/run.sh $(abspath $(BROKER))

asan: deps
	$(MAKE) BUILD=build-asan OPT="-O1 -g -fno-omit-frame-pointer" \
	  SAN="-fsanitize=address,undefined -fno-sanitize-recover=all" build unit integration

# Unit tests under valgrind: any error or definite leak fails the run.
valgrind: $(TEST_BINS)
	@$(PYTHON) test/tools/run_unit.py --wrap "valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite" $(TEST_BINS)

# Coverage from the unit tests alone, per layer, against the floors in test/tools/coverage.py.
cov:
	@rm -rf build-cov
	@$(MAKE) --no-print-directory BUILD=build-cov OPT="-O0 -g --coverage" LDFLAGS=--coverage unit >/dev/null
	@$(PYTHON) test/tools/coverage.py build-cov/obj

# ---- crash safety, load, hostile input ------------------------------------------
FUZZ_SECONDS ?= 60

crash-test: build
	@KLAMM_BROKER=$(abspath $(BROKER)) timeout 300 $(PYTHON) test/crash/crash_test.py

load-test: build
	@KLAMM_BROKER=$(abspath $(BROKER)) timeout 120 $(PYTHON) test/load/load_test.py

fuzz:
	@bash test/fuzz/run.sh $(FUZZ_SECONDS)

# ---- labs (docs/labs/): LAB=NN --------------------------------------------------
lab-start:
	@$(PYTHON) test/tools/labs.py start $(LAB)

lab-check:
	@$(PYTHON) test/tools/labs.py check $(LAB)

lab-reset:
	@$(PYTHON) test/tools/labs.py reset $(LAB)

# Every lab: its stub builds and fails its tests, its reference passes them.
lab-verify:
	@$(PYTHON) test/tools/labs.py verify

# ---- debugging -----------------------------------------------------------------
debug:
	$(MAKE) --no-print-directory BUILD=build-debug OPT="-O0 -g3" build

gdb-test: debug
	@bash test/gdb/run_walkthrough.sh build-debug/klamm

# ---- benchmark: Klamm and librdkafka's in-memory mock broker, side by side ----------
BENCH_TOOL := $(BUILD)/klamm_bench

bench: deps build $(BENCH_TOOL)
	@bash test/bench/run.sh $(abspath $(BROKER)) $(abspath $(BENCH_TOOL))

bench-deps:
	$(call apt_install,$(BENCH_DEB_PKGS))

# The tool's own rule pulls in bench-deps (order-only: installing never rebuilds it).
$(BENCH_TOOL): test/bench/klamm_bench.c | bench-deps
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -Wall -Wextra -Werror -O2 -g -o $@ $< -lrdkafka -lpthread

clean:
	rm -rf build build-asan build-cov build-debug
