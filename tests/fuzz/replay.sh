#!/bin/sh
# replay.sh BUILD: replay every fuzz corpus file through its harness without
# libFuzzer, with the project's compiler and flags: each harness is linked
# with tests/fuzz/replay_main.c against BUILD/libberth.a (so build/ after
# `make all`, build-san/ with ASan+UBSan after `make SANITIZE=1 all`).
# Every tests/fuzz/fuzz_NAME.c with a corpus/NAME directory is replayed.
# Prints "fuzz-replay: N passed, M failed", one per corpus file; exits
# non-zero on any failure.  `make test` runs it (tests/run_all.sh).
set -u
cd "$(dirname "$0")/../.."
BUILD=${1:-build}
CC=${CC:-cc}
LIB="$BUILD/libberth.a"
LDLIBS="-luv -lmicrohttpd -lcjson -lsqlite3 -lcrypto -lm -lpthread"
CFLAGS="-std=c17 -D_GNU_SOURCE -Wall -Wextra -Wshadow -Werror -Isrc -O1 -g"
if [ ! -f "$LIB" ]; then
	echo "fuzz-replay: $LIB missing (run make all first)"
	echo "fuzz-replay: 0 passed, 1 failed"
	exit 1
fi
# A sanitized library needs the sanitizer runtimes at link time.
if nm "$LIB" 2>/dev/null | grep -q '__asan_'; then
	CFLAGS="$CFLAGS -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined"
fi
out="$BUILD/fuzz"
mkdir -p "$out"
pass=0; fail=0
for h in $(cd tests/fuzz && ls fuzz_*.c | sed "s/^fuzz_//; s/\.c$//"); do
	corpus="tests/fuzz/corpus/$h"
	[ -d "$corpus" ] || continue
	bin="$out/replay_$h"
	# shellcheck disable=SC2086
	if ! $CC $CFLAGS -o "$bin" "tests/fuzz/fuzz_$h.c" tests/fuzz/replay_main.c "$LIB" $LDLIBS; then
		echo "FAIL fuzz_$h: does not build"
		fail=$((fail + 1))
		continue
	fi
	log="$out/replay_$h.log"
	"$bin" "fuzz_$h" "$corpus" > "$log" 2>&1
	rc=$?
	line=$(grep -E '^fuzz_[a-z0-9]+: [0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
	p=$(printf '%s' "$line" | sed -n 's/.*: \([0-9]*\) passed.*/\1/p')
	f=$(printf '%s' "$line" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
	[ -n "$p" ] || p=0
	[ -n "$f" ] || f=0
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
	if [ "$f" -ne 0 ]; then
		tail -n 40 "$log"
		echo "FAIL fuzz_$h"
	else
		echo "ok   fuzz_$h ($p files)"
	fi
	pass=$((pass + p)); fail=$((fail + f))
done
echo "fuzz-replay: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
