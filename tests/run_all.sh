#!/bin/sh
# run_all.sh BUILD: the whole suite: unit tests, fuzz corpus replay, the
# end-to-end tests through real clients.  Ends with "N passed, M failed" and
# exits non-zero on any failure.
BUILD=${1:-build}
export BERTHD="$PWD/$BUILD/berthd"
export BERTH_AGENT="$PWD/$BUILD/berth-agent"
pass=0; fail=0
count() {  # add the "N passed, M failed" of a log to the totals
	line=$(grep -E '[0-9]+ passed, [0-9]+ failed' "$1" | tail -n 1)
	p=$(printf '%s' "$line" | grep -oE '[0-9]+ passed' | grep -oE '[0-9]+')
	f=$(printf '%s' "$line" | grep -oE '[0-9]+ failed' | grep -oE '[0-9]+')
	[ -z "$p" ] && p=0
	[ -z "$f" ] && f=0
	if [ "$2" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
	pass=$((pass + p)); fail=$((fail + f))
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "== unit"
sh tools/run_unit.sh $(ls "$BUILD"/tests/test_* | grep -v "\.d$") > "$tmp/unit" 2>&1; rc=$?
cat "$tmp/unit"; count "$tmp/unit" $rc

if [ -x tests/fuzz/replay.sh ] || [ -f tests/fuzz/replay.sh ]; then
	echo "== fuzz corpus replay"
	sh tests/fuzz/replay.sh "$BUILD" > "$tmp/fuzz" 2>&1; rc=$?
	cat "$tmp/fuzz"; count "$tmp/fuzz" $rc
fi

for t in tests/api/test_*.py; do
	echo "== $t"
	python3 "$t" > "$tmp/api" 2>&1; rc=$?
	cat "$tmp/api"; count "$tmp/api" $rc
done

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
