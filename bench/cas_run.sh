#!/bin/sh
# bench/cas_run.sh: build and run bench/cas_bench.c, the pure managed scaling
# core's figures (issue 5): one evaluation over 10,000 instances and 100,000
# PROVISIONING tasks in 1,000 shapes (aim <= 50 ms on one core), the same
# with the shapes given grouped, and a scale-in evaluation choosing 4,000
# terminations.  No server, no network.  Figures only: non-zero exit only if
# it does not build or run.
#
# The binary goes to a temporary directory (removed on exit); CC and
# CFLAGS_CAS (default -O2) may be set.  It prints the command line it used,
# then cas_bench's own output.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
CC=${CC:-cc}
OPT=${CFLAGS_CAS:--O2}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/berth-cas.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT
trap 'exit 130' INT TERM HUP

cd "$ROOT" || exit 1
SRC="bench/cas_bench.c src/scaling/cas.c src/lib/rng.c src/lib/xalloc.c src/lib/err.c"
echo "cas: build: $CC -std=c17 -D_GNU_SOURCE $OPT -Isrc $SRC -o \$TMP/cas_bench"
# shellcheck disable=SC2086 # OPT and SRC are word lists
$CC -std=c17 -D_GNU_SOURCE $OPT -Isrc $SRC -o "$TMP/cas_bench" ||
	{ echo "cas: FAILED: cas_bench did not build" >&2; exit 1; }
echo "cas: run:   \$TMP/cas_bench   ($(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg))"
echo
"$TMP/cas_bench" || { echo "cas: FAILED: cas_bench exited with $?" >&2; exit 1; }
