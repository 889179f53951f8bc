#!/bin/sh
# build.sh: build the libFuzzer harnesses with clang, ASan and UBSan into
# build-fuzz/ (FUZZ_BUILD overrides).  The project's sources (all of src/ but
# server/main.c) are compiled here with -fsanitize=fuzzer-no-link so libFuzzer
# sees their coverage; an object is rebuilt when its .c or any header under
# src/ is newer.  Needs clang, libfuzzer-14-dev and libclang-rt-14-dev
# (make deps installs them).
#
#	sh tests/fuzz/build.sh            every tests/fuzz/fuzz_*.c
#	sh tests/fuzz/build.sh request    only fuzz_request
set -e
cd "$(dirname "$0")/../.."
OUT=${FUZZ_BUILD:-build-fuzz}
CC=${FUZZ_CC:-clang}
SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
CFLAGS="-std=c17 -D_GNU_SOURCE -Isrc -g -O1 -fno-omit-frame-pointer -Wall -Wextra -Wshadow"
LDLIBS="-luv -lmicrohttpd -lcjson -lsqlite3 -lcrypto -lm -lpthread"
HARNESSES=${*:-$(cd tests/fuzz && ls fuzz_*.c | sed "s/^fuzz_//; s/\.c$//")}

if ! command -v "$CC" >/dev/null 2>&1; then
	echo "fuzz build: $CC not found (make deps installs clang)" >&2
	exit 1
fi
mkdir -p "$OUT/obj"
probe="$OUT/probe.c"
printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { (void)d; (void)n; return 0; }\n' > "$probe"
if ! $CC -fsanitize=fuzzer,address,undefined "$probe" -o "$OUT/probe" 2>/dev/null; then
	echo "fuzz build: $CC cannot link -fsanitize=fuzzer (install libfuzzer-14-dev libclang-rt-14-dev: make deps)" >&2
	exit 1
fi
rm -f "$probe" "$OUT/probe"

# The newest header: any object older than it is rebuilt.
newest_h=$(ls -t $(find src -name '*.h' -o -name '*.def') | head -n 1)
objs=""
for src in $(find src -name '*.c' ! -path src/server/main.c | sort); do
	obj="$OUT/obj/$(printf '%s' "${src%.c}" | tr / _).o"
	if [ ! -f "$obj" ] || [ "$src" -nt "$obj" ] || [ "$newest_h" -nt "$obj" ]; then
		echo "  CC $src"
		$CC $CFLAGS $SAN -fsanitize=fuzzer-no-link -c "$src" -o "$obj"
	fi
	objs="$objs $obj"
done
rm -f "$OUT/libberth-fuzz.a"
ar rcs "$OUT/libberth-fuzz.a" $objs

for h in $HARNESSES; do
	echo "  LD $OUT/fuzz_$h"
	$CC $CFLAGS -Werror $SAN -fsanitize=fuzzer "tests/fuzz/fuzz_$h.c" "$OUT/libberth-fuzz.a" \
		$LDLIBS -o "$OUT/fuzz_$h"
done
