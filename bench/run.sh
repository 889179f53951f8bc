#!/bin/sh
# bench/run.sh [BUILD]: issue 2's figures for berthd, side by side with moto
# in the same run.  Figures only, never pass/fail: the exit status is non-zero
# only when the benchmark itself could not run (no berthd, a server that
# would not start or died, wrong answers under load).
#
#   1. berthd on a fresh data dir: populate BENCH_CLUSTERS clusters
#      (bench/populate.py), RSS; for DescribeClusters (10 random names,
#      bench/describe.lua) and ListClusters (first page, bench/list.lua):
#      a BENCH_WARMUP s wrk run that checks every answer, then a
#      BENCH_SECONDS s measured run (requests/s, p50/p99 from wrk, server
#      CPU from /proc/PID/stat); RSS; store size; restart: RSS after
#      loading; start-to-first-answer (bench/startup.py).
#   2. moto (python3 -m moto.server): the same, populated with the same
#      clusters (or as many as BENCH_MOTO_POPULATE_SECONDS allows: the
#      table says how many).
#   3. bench/table.py prints the table: metric | berthd | moto | ratio | aim.
#   4. bench/place_run.sh: the pure placement core (bench/place_bench.c).
#   5. bench/tasks.py: RunTask(count=10) calls/s and ListTasks against 1,000,
#      10,000 and 100,000 tasks, berthd and moto (own servers); with
#      BENCH_MILLION=1 also tasks.py --million (RSS per task, 1,000,000 tasks).
#   6. bench/services.py: 5,000 services of 10 tasks each to steady state
#      (time, berthd CPU, RSS), CreateService and DescribeServices calls/s,
#      berthd and moto (own servers); BENCH_SVC=0 skips it.
#   7. bench/svcctl_bench.c, bench/cas_controller_bench.c (in process) and
#      bench/cas_reaction.py: the service and managed scaling controllers;
#      BENCH_CTL=0 skips them.
#
# Environment (defaults in brackets):
#   BENCH_SECONDS [10]   measured wrk run per workload and server
#   BENCH_WARMUP [2]     checked warm-up run before each measured run
#   BENCH_CLUSTERS [10000]   clusters stored
#   BENCH_CONNECTIONS [32]   wrk keep-alive connections
#   BENCH_THREADS [2]    wrk threads
#   BENCH_STORE_SYNC [full]  berthd --store-sync
#   BENCH_STARTUP_RUNS [10]  start-to-first-answer repetitions (moto: 3)
#   BENCH_MOTO [1]       0 skips moto
#   BENCH_MOTO_CLUSTERS [BENCH_CLUSTERS]
#   BENCH_MOTO_POPULATE_SECONDS [240]  stop populating moto after this long
#   BENCH_OUT            also write the raw results (JSON) to this file
#   BERTHD               the berthd binary [BUILD/berthd]
#   BENCH_PLACE [1]      0 skips bench/place_run.sh
#   BENCH_TASKS [1]      0 skips bench/tasks.py
#   BENCH_TASKS_SECONDS [5]  measured ListTasks run per level (tasks.py)
#   BENCH_RUNTASK_CALLS [20000], BENCH_MOTO_RUNTASK_CALLS [400]  (tasks.py)
#   BENCH_MILLION [0]    1 also runs tasks.py --million (a few minutes)
# Everything listens on 127.0.0.1 only; every process started here is
# stopped by its pid on exit (trap).
set -u

BUILD=${1:-build}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
BERTHD=${BERTHD:-$BUILD/berthd}
SECS=${BENCH_SECONDS:-10}
WARM=${BENCH_WARMUP:-2}
N=${BENCH_CLUSTERS:-10000}
CONNS=${BENCH_CONNECTIONS:-32}
WTHREADS=${BENCH_THREADS:-2}
SYNC=${BENCH_STORE_SYNC:-full}
STARTUP_RUNS=${BENCH_STARTUP_RUNS:-10}
MOTO=${BENCH_MOTO:-1}
MOTO_N=${BENCH_MOTO_CLUSTERS:-$N}
MOTO_LIMIT=${BENCH_MOTO_POPULATE_SECONDS:-240}
PREFIX=bench-cluster-

TMP=$(mktemp -d "${TMPDIR:-/tmp}/berth-bench.XXXXXX") || exit 1
RES="$TMP/results"
: > "$RES"
PIDS=""      # servers started here, stopped on exit
FGPID=""     # the foreground job (wrk, a populate) while it runs

cleanup() {
	trap - EXIT INT TERM HUP
	[ -n "$FGPID" ] && kill "$FGPID" 2>/dev/null
	for p in $PIDS; do
		stop "$p" 2>/dev/null
	done
	rm -rf "$TMP"
}
# fd 3: the run's own stderr, for messages from inside redirected commands
exec 3>&2
trap cleanup EXIT
trap 'echo "bench: interrupted" >&3; exit 130' INT TERM HUP

say() { echo "bench: $*" >&3; }
die() { echo "bench: FAILED: $*" >&3; exit 1; }
put() { printf '%s=%s\n' "$1" "$2" >> "$RES"; }   # a result: key=value

# run a foreground command so that the trap can stop it
fg_run() {
	"$@" &
	FGPID=$!
	wait "$FGPID"
	rc=$?
	FGPID=""
	return $rc
}

forget_pid() {  # drop $1 from PIDS
	np=""
	for p in $PIDS; do [ "$p" = "$1" ] || np="$np $p"; done
	PIDS=$np
}

# cpu_ticks PID: utime + stime of the whole process (all threads), in ticks
cpu_ticks() {
	sed 's/^.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'
}
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
hwm_kb() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status"; }
# alive PID: running (a child that exited stays a zombie until waited for,
# which kill -0 would still find)
alive() {
	st=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)
	[ -n "$st" ] && [ "$st" != Z ]
}

# stop PID: SIGTERM, SIGKILL after 15 s; returns the exit status
stop() {
	kill -TERM "$1" 2>/dev/null
	i=0
	while alive "$1" && [ $i -lt 150 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	alive "$1" && { say "pid $1 ignored SIGTERM for 15 s: SIGKILL"; kill -KILL "$1" 2>/dev/null; }
	wait "$1"
}

# ecs_call PORT ACTION BODY [auth]: one request; the answer on stdout, fails
# unless the status is 200
ecs_call() {
	python3 - "$@" <<'PY'
import sys, urllib.request, urllib.error
port, action, body = sys.argv[1], sys.argv[2], sys.argv[3]
req = urllib.request.Request("http://127.0.0.1:%s/" % port, data=body.encode(), method="POST")
req.add_header("Content-Type", "application/x-amz-json-1.1")
req.add_header("X-Amz-Target", "AmazonEC2ContainerServiceV20141113." + action)
if len(sys.argv) > 4:
    req.add_header("Authorization", "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/ecs/aws4_request, SignedHeaders=host, Signature=0")
try:
    with urllib.request.urlopen(req, timeout=10) as r:
        sys.stdout.write(r.read().decode())
except urllib.error.HTTPError as e:
    sys.stdout.write("%d %s" % (e.code, e.read().decode(errors="replace")))
    sys.exit(1)
PY
}

# metrics PORT: berthd's /metrics text
metrics() {
	python3 -c 'import sys, urllib.request; sys.stdout.write(urllib.request.urlopen("http://127.0.0.1:%s/metrics" % sys.argv[1], timeout=10).read().decode())' "$1"
}

# wait_port LOG PATTERN PID: the port the server logs, once it does
wait_port() {
	i=0
	while [ $i -lt 600 ]; do
		port=$(grep -oE "$2" "$1" 2>/dev/null | head -n 1 | grep -oE '[0-9]+$')
		if [ -n "$port" ]; then echo "$port"; return 0; fi
		alive "$3" || return 1
		sleep 0.05
		i=$((i + 1))
	done
	return 1
}

command -v wrk >/dev/null || die "wrk is not installed (make deps)"
command -v python3 >/dev/null || die "python3 is not installed"
[ -x "$BERTHD" ] || die "no berthd at $BERTHD (make first)"
if [ "$MOTO" = 1 ] && ! python3 -c 'import moto.server' 2>/dev/null; then
	say "moto is not importable: its column stays empty"
	MOTO=0
fi
TCK=$(getconf CLK_TCK)
put clk_tck "$TCK"
put seconds "$SECS"
put connections "$CONNS"
put wrk_threads "$WTHREADS"
put clusters_wanted "$N"
put store_sync "$SYNC"
put nproc "$(nproc 2>/dev/null || echo '?')"
put loadavg_start "$(cut -d' ' -f1-3 /proc/loadavg)"

# measure SRV PID PORT COUNT AUTH: the two wrk workloads against a server
measure() {
	srv=$1 pid=$2 port=$3 count=$4 auth=$5
	url="http://127.0.0.1:$port/"
	for wl in describe list; do
		if [ "$wl" = describe ]; then sargs="$count $PREFIX $auth"; else sargs="$auth"; fi
		say "$srv: $wl: ${WARM}s checked warm-up"
		# shellcheck disable=SC2086 # sargs is a word list
		fg_run wrk -t"$WTHREADS" -c"$CONNS" -d"${WARM}s" --timeout 10s -s "$HERE/$wl.lua" "$url" -- $sargs check \
			> "$TMP/$srv.$wl.warm" 2>&1 || die "$srv: wrk warm-up failed: $(cat "$TMP/$srv.$wl.warm")"
		wj=$(sed -n 's/^WRK_JSON //p' "$TMP/$srv.$wl.warm")
		[ -n "$wj" ] || die "$srv: wrk printed no figures: $(cat "$TMP/$srv.$wl.warm")"
		put "$srv.$wl.warm" "$wj"
		alive "$pid" || die "$srv died during the $wl warm-up"
		m0=""
		[ "$srv" = berthd ] && m0=$(metrics "$port")
		c0=$(cpu_ticks "$pid")
		say "$srv: $wl: ${SECS}s measured run"
		# shellcheck disable=SC2086
		fg_run wrk -t"$WTHREADS" -c"$CONNS" -d"${SECS}s" --timeout 10s --latency -s "$HERE/$wl.lua" "$url" -- $sargs \
			> "$TMP/$srv.$wl.run" 2>&1 || die "$srv: wrk failed: $(cat "$TMP/$srv.$wl.run")"
		c1=$(cpu_ticks "$pid")
		alive "$pid" || die "$srv died during the $wl run"
		j=$(sed -n 's/^WRK_JSON //p' "$TMP/$srv.$wl.run")
		[ -n "$j" ] || die "$srv: wrk printed no figures: $(cat "$TMP/$srv.$wl.run")"
		put "$srv.$wl.run" "$j"
		put "$srv.$wl.cpu_ticks" "$((c1 - c0))"
		if [ -n "$m0" ]; then
			m1=$(metrics "$port")
			put "$srv.$wl.server_requests" "$(($(echo "$m1" | awk '/^berth_requests_total/ {print $2}') - $(echo "$m0" | awk '/^berth_requests_total/ {print $2}')))"
			put "$srv.$wl.server_errors" "$(($(echo "$m1" | awk '/^berth_request_errors_total/ {print $2}') - $(echo "$m0" | awk '/^berth_request_errors_total/ {print $2}')))"
		fi
		say "$srv: $wl: $(echo "$j" | python3 -c 'import json,sys; j=json.load(sys.stdin); print("%(rps).0f req/s, p50 %(p50_us)d us, p99 %(p99_us)d us" % j)')"
	done
}

# ---------------------------------------------------------------- berthd
say "berthd: $BERTHD (store-sync $SYNC), data in $TMP/berth"
"$BERTHD" --listen 127.0.0.1:0 --data-dir "$TMP/berth" --store-sync "$SYNC" > "$TMP/berthd.log" 2>&1 &
BPID=$!
PIDS="$PIDS $BPID"
BPORT=$(wait_port "$TMP/berthd.log" 'listening on 127\.0\.0\.1:[0-9]+' "$BPID") ||
	die "berthd did not start: $(cat "$TMP/berthd.log")"
put berthd.rss_empty_kb "$(rss_kb "$BPID")"
say "berthd: port $BPORT; populating $N clusters"
fg_run python3 "$HERE/populate.py" --port "$BPORT" --count "$N" --threads 16 --prefix "$PREFIX" --first-error \
	> "$TMP/berthd.populate" || die "berthd: populate failed: $(cat "$TMP/berthd.populate")"
put berthd.populate "$(cat "$TMP/berthd.populate")"
say "berthd: populated: $(cat "$TMP/berthd.populate")"
put berthd.rss_populated_kb "$(rss_kb "$BPID")"
BN=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["created"])' "$TMP/berthd.populate")

measure berthd "$BPID" "$BPORT" "$BN" ""
put berthd.rss_after_load_kb "$(rss_kb "$BPID")"
put berthd.hwm_kb "$(hwm_kb "$BPID")"
put berthd.store_bytes_running "$(du -sb "$TMP/berth" | cut -f1)"
stop "$BPID"
put berthd.exit_code "$?"
forget_pid "$BPID"
put berthd.store_bytes "$(du -sb "$TMP/berth" | cut -f1)"
put berthd.store_files "$(find "$TMP/berth" -maxdepth 1 -type f -printf '%f %s; ')"

say "berthd: restart on the stored data"
: > "$TMP/berthd2.log"
"$BERTHD" --listen 127.0.0.1:0 --data-dir "$TMP/berth" --store-sync "$SYNC" > "$TMP/berthd2.log" 2>&1 &
BPID=$!
PIDS="$PIDS $BPID"
BPORT=$(wait_port "$TMP/berthd2.log" 'listening on 127\.0\.0\.1:[0-9]+' "$BPID") ||
	die "berthd did not restart: $(cat "$TMP/berthd2.log")"
put berthd.restart_log "$(grep -m1 'listening on' "$TMP/berthd2.log")"
# one answer first, so that the RSS is the one of a server that has served
ecs_call "$BPORT" DescribeClusters '{"clusters":["'"$PREFIX"'00000"]}' > "$TMP/probe" ||
	die "berthd: no answer after the restart: $(cat "$TMP/probe")"
grep -q '"clusterName":"'"$PREFIX"'00000"' "$TMP/probe" || die "berthd: cluster missing after the restart: $(cat "$TMP/probe")"
put berthd.rss_restarted_kb "$(rss_kb "$BPID")"
stop "$BPID"
forget_pid "$BPID"

say "berthd: start-to-first-answer, $STARTUP_RUNS runs with $BN clusters stored"
fg_run python3 "$HERE/startup.py" --runs "$STARTUP_RUNS" --expect-found --name "${PREFIX}$(printf %05d $((BN - 1)))" -- \
	"$BERTHD" --listen '127.0.0.1:{port}' --data-dir "$TMP/berth" --store-sync "$SYNC" \
	> "$TMP/berthd.startup" || die "berthd: startup measurement failed"
put berthd.startup "$(cat "$TMP/berthd.startup")"
say "berthd: startup: $(cat "$TMP/berthd.startup")"

# ---------------------------------------------------------------- moto
if [ "$MOTO" = 1 ]; then
	say "moto: python3 -m moto.server"
	python3 -m moto.server -H 127.0.0.1 -p 0 > "$TMP/moto.log" 2>&1 &
	MPID=$!
	PIDS="$PIDS $MPID"
	MPORT=$(wait_port "$TMP/moto.log" 'Running on http://127\.0\.0\.1:[0-9]+' "$MPID") ||
		die "moto did not start: $(cat "$TMP/moto.log")"
	put moto.version "$(python3 -c 'import moto; print(moto.__version__)')"
	put moto.rss_empty_kb "$(rss_kb "$MPID")"
	say "moto: port $MPORT; populating $MOTO_N clusters (at most ${MOTO_LIMIT}s)"
	fg_run python3 "$HERE/populate.py" --port "$MPORT" --count "$MOTO_N" --threads 8 --auth --prefix "$PREFIX" \
		--time-limit "$MOTO_LIMIT" --first-error > "$TMP/moto.populate" ||
		die "moto: populate failed: $(cat "$TMP/moto.populate")"
	put moto.populate "$(cat "$TMP/moto.populate")"
	say "moto: populated: $(cat "$TMP/moto.populate")"
	put moto.rss_populated_kb "$(rss_kb "$MPID")"
	MN=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["created"])' "$TMP/moto.populate")
	measure moto "$MPID" "$MPORT" "$MN" auth
	put moto.rss_after_load_kb "$(rss_kb "$MPID")"
	put moto.hwm_kb "$(hwm_kb "$MPID")"
	stop "$MPID"
	forget_pid "$MPID"
	say "moto: start-to-first-answer (empty: moto keeps no state), 3 runs"
	fg_run python3 "$HERE/startup.py" --runs 3 --auth -- python3 -m moto.server -H 127.0.0.1 -p '{port}' \
		> "$TMP/moto.startup" || die "moto: startup measurement failed"
	put moto.startup "$(cat "$TMP/moto.startup")"
fi

put loadavg_end "$(cut -d' ' -f1-3 /proc/loadavg)"
python3 "$HERE/table.py" "$RES" ${BENCH_OUT:+--json "$BENCH_OUT"}
TABLE_RC=$?

# ---------------------------------------------------------------- tasks (issue 3)
# place_run.sh: the pure placement core (bench/place_bench.c), no server.
# tasks.py: RunTask(count=10) calls/s and ListTasks at 1,000 / 10,000 /
# 100,000 tasks, berthd and moto; each part starts and stops its own servers.
# tasks.py --million (BENCH_MILLION=1): RSS per task with 1,000,000 tasks.
if [ "${BENCH_PLACE:-1}" = 1 ]; then
	say "placement core: sh bench/place_run.sh"
	fg_run sh "$HERE/place_run.sh" || die "bench/place_run.sh failed"
fi
[ "${BENCH_CAS:-1}" = 1 ] && { say "managed scaling core: sh bench/cas_run.sh"; fg_run sh "$HERE/cas_run.sh" || die "bench/cas_run.sh failed"; }
if [ "${BENCH_TASKS:-1}" = 1 ]; then
	TASKS_ARGS="--berthd $BERTHD --store-sync $SYNC --threads $WTHREADS --connections $CONNS --warmup $WARM"
	[ "$MOTO" = 1 ] || TASKS_ARGS="$TASKS_ARGS --no-moto"
	say "tasks: python3 bench/tasks.py $TASKS_ARGS"
	# shellcheck disable=SC2086 # a word list (no spaces in BERTHD assumed)
	fg_run python3 "$HERE/tasks.py" $TASKS_ARGS || die "bench/tasks.py failed"
	if [ "${BENCH_MILLION:-0}" = 1 ]; then
		say "tasks: python3 bench/tasks.py --million"
		# shellcheck disable=SC2086
		fg_run python3 "$HERE/tasks.py" --million $TASKS_ARGS || die "bench/tasks.py --million failed"
	fi
fi

# ---------------------------------------------------------------- services (issue 4)
# services.py: BENCH_SVC_SERVICES (5,000) services x BENCH_SVC_TASKS (10)
# tasks to steady state, CreateService and DescribeServices calls/s, berthd
# and moto; it starts and stops its own servers.
if [ "${BENCH_SVC:-1}" = 1 ]; then
	SVC_ARGS="--berthd $BERTHD --store-sync $SYNC --threads $WTHREADS --connections $CONNS --warmup $WARM"
	[ "$MOTO" = 1 ] || SVC_ARGS="$SVC_ARGS --no-moto"
	say "services: python3 bench/services.py $SVC_ARGS"
	# shellcheck disable=SC2086 # a word list (no spaces in BERTHD assumed)
	fg_run python3 "$HERE/services.py" $SVC_ARGS || die "bench/services.py failed"
fi

# ---------------------------------------------------------------- controllers in process (issues 4, 5)
# svcctl_bench.c: one scheduler pass over 50,000 healthy tasks, a scale-in
# of 40,000, 5,000 services x 10 to steady; cas_controller_bench.c: one
# managed scaling evaluation over 10,000 instances and 100,000 waiting
# tasks; both link BUILD/libberth.a, no HTTP.  cas_reaction.py: with
# --timing fast, RunTask to the group's scale-out and to RUNNING.
if [ "${BENCH_CTL:-1}" = 1 ]; then
	CTL_TMP=$(mktemp -d "${TMPDIR:-/tmp}/berth-ctl.XXXXXX") || die "mktemp failed"
	for b in svcctl_bench cas_controller_bench; do
		say "$b: cc -O2 bench/$b.c $BUILD/libberth.a"
		cc -std=c17 -D_GNU_SOURCE -O2 -I"$ROOT/src" "$HERE/$b.c" "$BUILD/libberth.a" \
			-luv -lmicrohttpd -lcjson -lsqlite3 -lcrypto -lm -lpthread -o "$CTL_TMP/$b" || die "bench/$b.c did not build"
		fg_run "$CTL_TMP/$b" || die "bench/$b failed"
	done
	rm -rf "$CTL_TMP"
	say "cas reaction: python3 bench/cas_reaction.py --berthd $BERTHD"
	fg_run python3 "$HERE/cas_reaction.py" --berthd "$BERTHD" || die "bench/cas_reaction.py failed"
fi

# ---------------------------------------------------------------- agents and auth (issues 6, 7)
# agents.py: one berth-agent starting 100 sleep tasks; berthd with 1,000
# connected agents (CPU share).  auth.py: DescribeClusters under --auth open,
# sigv4 (root) and sigv4 (an IAM user's policy).  sigv4_bench.c: one
# signature verification with a cached signing key.  BENCH_AGENTS=0 skips.
if [ "${BENCH_AGENTS:-1}" = 1 ]; then
	say "agents: python3 bench/agents.py --berthd $BERTHD"
	fg_run python3 "$HERE/agents.py" --berthd "$BERTHD" --agent "$BUILD/berth-agent" || die "bench/agents.py failed"
	say "auth: python3 bench/auth.py --berthd $BERTHD --seconds $SECS"
	fg_run python3 "$HERE/auth.py" --berthd "$BERTHD" --seconds "$SECS" --connections "$CONNS" || die "bench/auth.py failed"
	AUTH_TMP=$(mktemp -d "${TMPDIR:-/tmp}/berth-auth.XXXXXX") || die "mktemp failed"
	cc -std=c17 -D_GNU_SOURCE -O2 -I"$ROOT/src" "$HERE/sigv4_bench.c" "$BUILD/libberth.a" \
		-luv -lmicrohttpd -lcjson -lsqlite3 -lcrypto -lm -lpthread -o "$AUTH_TMP/sigv4_bench" || die "bench/sigv4_bench.c did not build"
	fg_run "$AUTH_TMP/sigv4_bench" || die "bench/sigv4_bench failed"
	rm -rf "$AUTH_TMP"
fi
exit "$TABLE_RC"
