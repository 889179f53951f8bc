#!/bin/sh
# bench/place_run.sh: build and run bench/place_bench.c, the pure placement
# core's figures (issue 3): 1,000,000 tasks of 256 CPU / 512 MiB onto 10,000
# instances of 4 vCPU / 8 GiB in 3 zones, with binpack(memory) and with
# spread(zone),spread(instanceId) (and random), and the time a placement
# takes on 1,000, 10,000 and 100,000 instances.  No server, no network.
# Figures only: non-zero exit only if it does not build or run.
#
# The binary goes to a temporary directory (removed on exit); CC and
# CFLAGS_PLACE (default -O2) may be set.  It prints the command lines it
# used, then place_bench's own output.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
CC=${CC:-cc}
OPT=${CFLAGS_PLACE:--O2}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/berth-place.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT
trap 'exit 130' INT TERM HUP

cd "$ROOT" || exit 1
BUILD_CMD="$CC -std=c17 -D_GNU_SOURCE $OPT -Isrc bench/place_bench.c src/sched/place.c src/lib/rng.c src/lib/xalloc.c src/lib/err.c -o \$TMP/place_bench"
echo "place: build: $BUILD_CMD"
# shellcheck disable=SC2086 # OPT is a word list
$CC -std=c17 -D_GNU_SOURCE $OPT -Isrc bench/place_bench.c src/sched/place.c src/lib/rng.c src/lib/xalloc.c src/lib/err.c \
	-o "$TMP/place_bench" || { echo "place: FAILED: place_bench did not build" >&2; exit 1; }
echo "place: run:   \$TMP/place_bench   ($(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg))"
echo
"$TMP/place_bench" || { echo "place: FAILED: place_bench exited with $?" >&2; exit 1; }

# The service scheduler's pure core (issue 4): one reconcile pass.
echo
echo "service: build: $CC -std=c17 -D_GNU_SOURCE $OPT -Isrc bench/service_bench.c src/sched/service.c src/sched/strategy.c src/lib/xalloc.c src/lib/err.c"
# shellcheck disable=SC2086
$CC -std=c17 -D_GNU_SOURCE $OPT -Isrc bench/service_bench.c src/sched/service.c src/sched/strategy.c src/lib/xalloc.c src/lib/err.c \
	-o "$TMP/service_bench" || { echo "service: FAILED: service_bench did not build" >&2; exit 1; }
"$TMP/service_bench" || { echo "service: FAILED: service_bench exited with $?" >&2; exit 1; }
