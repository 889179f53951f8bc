# Berth: one GNU Makefile.
#   make / make all   build build/berthd
#   make run          install what is missing, build, run berthd with embedded defaults
#   make test         install what is missing, build, run every test; ends with "N passed, M failed"
#   make unit         only the cmocka unit tests
#   make bench        the benchmarks (figures, never pass/fail)
#   make check        clang-format, cppcheck, the layer check
#   make fuzz         run the libFuzzer harnesses (FUZZ_SECONDS each)
#   make SANITIZE=1 test   the same suite under AddressSanitizer + UBSan
#   make deps         install the Debian packages the build and tests need

CC      ?= cc
BUILD   ?= build
SANITIZE ?=
CFLAGS_BASE := -std=c17 -D_GNU_SOURCE -Wall -Wextra -Wshadow -Werror -Isrc -MMD -MP
ifeq ($(SANITIZE),1)
BUILD   := build-san
CFLAGS_OPT := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
LDFLAGS_SAN := -fsanitize=address,undefined
else
CFLAGS_OPT := -O2 -g
LDFLAGS_SAN :=
endif
CFLAGS  += $(CFLAGS_BASE) $(CFLAGS_OPT)
LDLIBS  := -luv -lmicrohttpd -lcjson -lsqlite3 -lcrypto -lm -lpthread

LIB_SRC    := $(wildcard src/lib/*.c src/model/*.c src/sched/*.c src/scaling/*.c src/store/*.c src/api/*.c)
SERVER_SRC := $(filter-out src/server/main.c,$(wildcard src/server/*.c))
AGENT_SRC  := $(filter-out src/agent/main.c src/agent/shim_main.c,$(wildcard src/agent/*.c))
LIB_OBJ    := $(LIB_SRC:%.c=$(BUILD)/%.o)
SERVER_OBJ := $(SERVER_SRC:%.c=$(BUILD)/%.o)
AGENT_OBJ  := $(AGENT_SRC:%.c=$(BUILD)/%.o)
UNIT_SRC   := $(wildcard tests/unit/test_*.c)
UNIT_BIN   := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
AGENT_LIBS := -lcurl

DEB_BUILD := gcc make pkg-config libuv1-dev libmicrohttpd-dev libcjson-dev libsqlite3-dev libssl-dev libcurl4-openssl-dev
DEB_TEST  := libcmocka-dev clang libfuzzer-14-dev libclang-rt-14-dev valgrind curl
DEB_BENCH := wrk hyperfine

.PHONY: all run test unit bench check fuzz deps deps-build deps-test clean
all: $(BUILD)/berthd $(if $(wildcard src/agent/main.c),$(BUILD)/berth-agent $(BUILD)/berth-shim)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/libberth.a: $(LIB_OBJ) $(SERVER_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/berthd: $(BUILD)/src/server/main.o $(BUILD)/libberth.a
	$(CC) $(LDFLAGS_SAN) -o $@ $^ $(LDLIBS)

$(BUILD)/libberth-agent.a: $(AGENT_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/berth-agent: $(BUILD)/src/agent/main.o $(BUILD)/libberth-agent.a $(BUILD)/libberth.a
	$(CC) $(LDFLAGS_SAN) -o $@ $^ $(AGENT_LIBS) $(LDLIBS)

# The shim each container runs under: only the libraries it uses, so that
# starting one is a cheap exec.
$(BUILD)/berth-shim: $(BUILD)/src/agent/shim_main.o $(BUILD)/libberth-agent.a $(BUILD)/libberth.a
	$(CC) $(LDFLAGS_SAN) -o $@ $^ -Wl,--as-needed $(LDLIBS)

# The agent's tests link its library too (the more specific pattern wins).
$(BUILD)/tests/test_agent_%: tests/unit/test_agent_%.c $(BUILD)/libberth-agent.a $(BUILD)/libberth.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libberth-agent.a $(BUILD)/libberth.a $(LDFLAGS_SAN) $(AGENT_LIBS) $(LDLIBS) -lcmocka

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libberth.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libberth.a $(LDFLAGS_SAN) $(LDLIBS) -lcmocka

deps-build:
	@sh tools/deps.sh $(DEB_BUILD)
deps-test:
	@sh tools/deps.sh $(DEB_BUILD) $(DEB_TEST) $(DEB_BENCH)
	@# The clients: the machine's own if it has them, else Debian's.
	@command -v python3 >/dev/null || sh tools/deps.sh python3
	@python3 -c 'import boto3' 2>/dev/null || sh tools/deps.sh python3-boto3
	@command -v aws >/dev/null || sh tools/deps.sh awscli
deps: deps-test

run: deps-build
	$(MAKE) all
	./$(BUILD)/berthd $(ARGS)

unit: $(UNIT_BIN)
	@sh tools/run_unit.sh $(UNIT_BIN)

test: deps-test
	$(MAKE) all unit-bins
	@sh tests/run_all.sh $(BUILD)

unit-bins: $(UNIT_BIN)

bench: deps-test all
	@sh bench/run.sh $(BUILD)

check:
	@sh tools/check.sh

fuzz:
	@sh tests/fuzz/run.sh $(FUZZ_SECONDS)

clean:
	rm -rf build build-san build-fuzz

-include $(LIB_OBJ:.o=.d) $(SERVER_OBJ:.o=.d) $(AGENT_OBJ:.o=.d) $(BUILD)/src/server/main.d $(BUILD)/src/agent/main.d $(BUILD)/src/agent/shim_main.d
