#!/bin/sh
# run_unit.sh BIN...: run cmocka unit test binaries; print "N passed, M failed".
# A binary that dies without a cmocka summary (e.g. a sanitizer abort) counts
# as one failure, so the run fails loudly by exit code.
pass=0; fail=0
for b in "$@"; do
	out=$("$b" 2>&1); rc=$?
	p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | awk '{s+=$1} END {print s+0}')
	f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | awk '{s+=$1} END {print s+0}')
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
	if [ "$f" -ne 0 ]; then printf '%s\n' "$out"; echo "FAIL $b"; else echo "ok   $b ($p)"; fi
	pass=$((pass + p)); fail=$((fail + f))
done
echo "unit: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
