#!/bin/sh
# check.sh: the layer check (no include from a lower layer to a higher one),
# cppcheck, and clang-format (reported, not enforced: the generated tables
# and hand-aligned tables are exempt).
# Layers, highest first: lib, model, sched|scaling, store, api, server, agent.
rc=0
rank() {
	case "$1" in
	lib) echo 0 ;; model) echo 1 ;; sched|scaling) echo 2 ;; store) echo 3 ;;
	api) echo 4 ;; server) echo 5 ;; agent) echo 6 ;; *) echo 99 ;;
	esac
}
for f in $(find src -name '*.[ch]'); do
	layer=$(echo "$f" | cut -d/ -f2)
	mine=$(rank "$layer")
	for inc in $(sed -n 's/^#include "\([a-z]*\)\/.*/\1/p' "$f" | sort -u); do
		theirs=$(rank "$inc")
		if [ "$theirs" -gt "$mine" ]; then
			echo "layer: $f ($layer) includes $inc, a lower layer"
			rc=1
		fi
		# sched and scaling are both core: neither includes the other
		if [ "$theirs" -eq "$mine" ] && [ "$inc" != "$layer" ]; then
			echo "layer: $f ($layer) includes $inc, a sibling core module"
			rc=1
		fi
	done
done
[ $rc -eq 0 ] && echo "layers: ok"
if command -v cppcheck >/dev/null; then
	cppcheck -q --error-exitcode=1 --enable=warning,portability --std=c11 -D_GNU_SOURCE \
		--suppress=missingIncludeSystem -Isrc src 2>&1 || rc=1
	[ $rc -eq 0 ] && echo "cppcheck: ok"
fi
if command -v clang-format >/dev/null; then
	n=0
	for f in $(find src -name '*.[ch]' ! -name 'shapes_*.c'); do
		clang-format --dry-run "$f" 2>&1 | grep -q warning && n=$((n + 1))
	done
	echo "clang-format: $n files differ from .clang-format (advisory)"
fi
exit $rc
