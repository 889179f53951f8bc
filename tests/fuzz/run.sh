#!/bin/sh
# run.sh [SECONDS]: build the fuzzers (build.sh), run each for SECONDS
# (default 60) over a copy of its corpus, then merge the inputs that found
# new coverage back into tests/fuzz/corpus/NAME (-merge=1, so the corpus only
# grows by what is new).  A crash, leak, timeout or broken invariant fails
# the run; libFuzzer's reproducer is kept as tests/fuzz/crash-NAME-* (git
# ignores those) and replayed with
#	build-fuzz/fuzz_NAME tests/fuzz/crash-NAME-...
#
#	FUZZERS="request validate"   which harnesses (default: every
#	                             tests/fuzz/fuzz_NAME.c)
#	FUZZ_ARGS="-jobs=2"          extra libFuzzer flags
set -u
cd "$(dirname "$0")/../.."
secs=${1:-60}
[ -n "$secs" ] || secs=60
FUZZERS=${FUZZERS:-$(cd tests/fuzz && ls fuzz_*.c | sed "s/^fuzz_//; s/\.c$//")}
OUT=${FUZZ_BUILD:-build-fuzz}
FUZZ_ARGS=${FUZZ_ARGS:-}
MAX_CORPUS_KB=2048     # bytes of input, not disk blocks

sh tests/fuzz/build.sh $FUZZERS || exit 1

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=0
for h in $FUZZERS; do
	corpus="tests/fuzz/corpus/$h"
	mkdir -p "$corpus" "$work/$h"
	cp "$corpus"/* "$work/$h"/ 2>/dev/null
	dict=""
	[ -f "tests/fuzz/$h.dict" ] && dict="-dict=tests/fuzz/$h.dict"
	echo "== fuzz_$h for ${secs}s ($(ls "$corpus" | wc -l) corpus files)"
	log="$work/$h.log"
	# shellcheck disable=SC2086
	"$OUT/fuzz_$h" -max_total_time="$secs" -max_len=4096 -timeout=10 $dict \
		-artifact_prefix="tests/fuzz/crash-$h-" -print_final_stats=1 $FUZZ_ARGS \
		"$work/$h" > "$log" 2>&1
	rc=$?
	grep -E '^stat::(number_of_executed_units|average_exec_per_sec|new_units_added|peak_rss_mb)' "$log"
	if [ "$rc" -ne 0 ]; then
		grep -E 'ERROR|invariant|SUMMARY|Test unit written' "$log" | head -n 20
		echo "FAIL fuzz_$h (exit $rc); full log:"
		tail -n 60 "$log"
		failed=$((failed + 1))
		continue
	fi
	before=$(ls "$corpus" | wc -l)
	"$OUT/fuzz_$h" -merge=1 -max_len=4096 -timeout=10 "$corpus" "$work/$h" > "$work/$h.merge" 2>&1 || {
		echo "FAIL fuzz_$h: merge"; tail -n 20 "$work/$h.merge"; failed=$((failed + 1)); continue; }
	after=$(ls "$corpus" | wc -l)
	kb=$(( $(cat "$corpus"/* | wc -c) / 1024 ))
	echo "ok   fuzz_$h: corpus $before -> $after files, ${kb} KB"
	[ "$kb" -gt "$MAX_CORPUS_KB" ] && echo "note: $corpus is over ${MAX_CORPUS_KB} KB; minimise it (-merge=1 into an empty directory)"
done
echo "fuzz: $(echo $FUZZERS | wc -w) fuzzers, $failed failed"
[ "$failed" -eq 0 ]
