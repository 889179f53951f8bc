#!/usr/bin/env python3
"""services.py: service figures (issue 4), berthd side by side with moto.

  services.py [--services N] [--tasks-per-service K] [--no-moto] [--json OUT] ...

Figures only, never pass/fail: the exit status is non-zero only when the
run could not be made (a server did not start or died, a setup call or a
CreateService failed, berthd answered errors or wrong answers under load, or
the services did not all reach steady state within --timeout).

berthd (fresh data dir, --sim-step-ms 50, --healthy-grace-ms 0,
--transition-ms 0, --store-sync as run.sh):
  1. CreateCluster, RegisterTaskDefinition (one container, busybox, cpu 10,
     memory 32), --instances container instances (default: one per 100
     tasks, i.e. 500 for 5,000 x 10) of CPU 4096 / MEMORY 16384 in zones
     us-east-1a/b/c in turn (RegisterContainerInstance with an identity
     document; bench/tasks.py's helpers).
  2. t0; N CreateService calls (desiredCount K, launchType EC2) as fast as
     --create-threads http.client keep-alive connections can send them
     (bench/populate.py's JSON 1.1 client).  Every answer is checked
     (200, status ACTIVE).
  3. Polls DescribeClusters every --poll-ms until runningTasksCount is N*K
     and pendingTasksCount 0 ("all tasks RUNNING"), then DescribeServices
     of every service, 10 a call from the same threads, until each has
     runningCount == desiredCount == K, pendingCount 0 and one deployment
     ("every service steady"; the time is the end of the sweep that found
     them all so, an upper bound: the sweep's own length is shown beside
     it), and again until every PRIMARY deployment's rolloutState is
     COMPLETED.  berthd's CPU time (utime+stime of /proc/PID/stat) over
     t0 .. steady, and over the create calls alone; VmRSS before the
     services and at the end, VmHWM; the store's size; CPU over
     --idle-seconds with every service steady (the controller at rest).
  4. DescribeServices of 10 random services under wrk (a generated script
     in the temporary directory, built on bench/common.lua): a checked
     warm-up (--warmup s, every answer 200 with no failures) and a measured
     run of --seconds.
moto (python3 -m moto.server; it does not run tasks): the same cluster and
task definition, the same CreateService bodies from the same number of
threads (up to --moto-services, stopping after --moto-seconds), then the
same DescribeServices workload over the services it made.  So the two can
be compared on CreateService calls/s and DescribeServices calls/s only.

Every table row names the command behind its figure (the list under the
table).  --json OUT writes every raw figure.
"""
import argparse
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tasks as T  # noqa: E402  (servers, the JSON 1.1 client, wrk, the table)

HERE = T.HERE
ROOT = T.ROOT
TCK = T.TCK
CLUSTER = "bench-services"
FAMILY = "bench-svc"
BenchError = T.BenchError


def say(msg):
    print("services: " + msg, file=sys.stderr, flush=True)


def svc_name(i):
    return "svc-%05d" % i


class Servers(T.Servers):
    """tasks.py's Servers, with berthd started for services (its own sim step)."""

    def berthd_svc(self, binary, sync, sim_step_ms, grace_ms):
        data = tempfile.mkdtemp(prefix="berthd.", dir=self.tmp)
        argv = [binary, "--listen", "127.0.0.1:0", "--data-dir", data, "--store-sync", sync,
                "--transition-ms", "0", "--sim-step-ms", str(sim_step_ms), "--healthy-grace-ms", str(grace_ms)]
        p = self._start("berthd", argv, rb"listening on 127\.0\.0\.1:([0-9]+)")
        p.data_dir = data
        return p


def proc_cpu(pid):
    """(utime, stime) in clock ticks."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]), int(fields[12])


def cpu_delta(c0, c1):
    return {"user_s": (c1[0] - c0[0]) / TCK, "sys_s": (c1[1] - c0[1]) / TCK,
            "total_s": (c1[0] + c1[1] - c0[0] - c0[1]) / TCK}


# ---------------------------------------------------------------- the calls

def create_services(port, auth, td, n, k, threads, time_limit=0):
    """n CreateService from `threads` connections; returns a dict of figures
    (the indices created, calls/s, first error)."""
    made = []
    lock = threading.Lock()

    def one(c, i):
        body = {"cluster": CLUSTER, "serviceName": svc_name(i), "taskDefinition": td, "desiredCount": k,
                "launchType": "EC2"}
        status, payload = c.call("CreateService", body)
        if status != 200:
            return "CreateService %s -> %d %s" % (json.dumps(body), status, payload[:400].decode(errors="replace"))
        j = json.loads(payload)
        s = j.get("service") or {}
        if s.get("serviceName") != svc_name(i) or s.get("status") != "ACTIVE":
            return "CreateService %s -> 200 %s" % (json.dumps(body), payload[:400].decode(errors="replace"))
        with lock:
            made.append(i)
        return None
    done, errors, first, secs, stopped = T.parallel(n, threads, port, auth, one, time_limit)
    return {"requested": n, "created": len(made), "indices": sorted(made), "errors": errors, "first_error": first,
            "seconds": secs, "rate": len(made) / secs if secs > 0 else None, "stopped_early": stopped,
            "threads": threads}


def cluster_counts(c):
    j = c.must("DescribeClusters", {"clusters": [CLUSTER]})
    cl = (j.get("clusters") or [{}])[0]
    return cl.get("runningTasksCount", 0), cl.get("pendingTasksCount", 0), cl.get("activeServicesCount")


def sweep(port, names, k, threads):
    """DescribeServices of `names`, 10 a call, from `threads` connections.
    Returns (names not steady, names whose PRIMARY rollout is not COMPLETED,
    calls, seconds, an example of a service not steady)."""
    batches = [names[i:i + 10] for i in range(0, len(names), 10)]
    lock = threading.Lock()
    out = {"unsteady": [], "incomplete": [], "example": None}

    def one(c, i):
        body = {"cluster": CLUSTER, "services": batches[i]}
        status, payload = c.call("DescribeServices", body)
        if status != 200:
            return "DescribeServices %s -> %d %s" % (json.dumps(body)[:300], status, payload[:400].decode(errors="replace"))
        j = json.loads(payload)
        if j.get("failures"):
            return "DescribeServices %s -> failures %s" % (json.dumps(body)[:300], json.dumps(j["failures"])[:400])
        uns, inc = [], []
        ex = None
        for s in j.get("services", []):
            deps = s.get("deployments") or []
            steady = (s.get("status") == "ACTIVE" and s.get("desiredCount") == k and s.get("runningCount") == k
                      and s.get("pendingCount") == 0 and len(deps) == 1)
            if not steady:
                uns.append(s["serviceName"])
                if ex is None:
                    ex = {key: s.get(key) for key in ("serviceName", "status", "desiredCount", "runningCount",
                                                       "pendingCount")}
                    ex["deployments"] = [{key: d.get(key) for key in ("status", "rolloutState", "runningCount",
                                                                       "pendingCount", "failedTasks")} for d in deps]
                    ex["events"] = [e.get("message") for e in (s.get("events") or [])[:3]]
            prim = [d for d in deps if d.get("status") == "PRIMARY"]
            if not prim or prim[0].get("rolloutState") != "COMPLETED":
                inc.append(s["serviceName"])
        with lock:
            out["unsteady"] += uns
            out["incomplete"] += inc
            if out["example"] is None and ex:
                out["example"] = ex
        return None
    done, errors, first, secs, _ = T.parallel(len(batches), threads, port, False, one)
    if errors:
        raise BenchError("%d DescribeServices calls failed while checking steady state; first: %s" % (errors, first))
    return out["unsteady"], out["incomplete"], len(batches), secs, out["example"]


# ---------------------------------------------------------------- wrk: DescribeServices

LUA = r'''-- generated by bench/services.py: DescribeServices of 10 random services
-- of %(count)d, pre-built (4096 requests per wrk thread) so that wrk does
-- no formatting during the run.  Arguments: [auth] [check].
dofile(%(common)s)
local names = {%(names)s}
local cluster = %(cluster)s
local reqs = {}
local nreqs = 4096
local k = 0

function init(args)
   bench.setup_headers("DescribeServices", args)
   bench.check(args, '"failures":%%s*%%[%%]')
   math.randomseed(os.time() * 100 + (thread_id or 0))
   local count = #names
   for r = 1, nreqs do
      local seen, pick = {}, {}
      while #pick < math.min(10, count) do
         local i = math.random(1, count)
         if not seen[i] then
            seen[i] = true
            pick[#pick + 1] = '"' .. names[i] .. '"'
         end
      end
      reqs[r] = wrk.format(nil, nil, nil, '{"cluster":"' .. cluster .. '","services":[' .. table.concat(pick, ",") .. ']}')
   end
end

function request()
   k = k %% nreqs + 1
   return reqs[k]
end
'''


def lua_str(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def describe_script(tmp, label, names):
    path = os.path.join(tmp, "describe_services.%s.lua" % label)
    with open(path, "w") as f:
        f.write(LUA % {"count": len(names), "common": lua_str(os.path.join(HERE, "common.lua")),
                       "names": ",".join(lua_str(n) for n in names), "cluster": lua_str(CLUSTER)})
    return path


def measure_describe(opts, p, tmp, label, names, auth):
    script = describe_script(tmp, label, names)
    extra = ["auth"] if auth else []
    wj, _, _ = T.wrk_timed(opts, p, script, extra + ["check"], opts.warmup, False)
    T.check_alive(p, "during the DescribeServices warm-up")
    j, ticks, argv = T.wrk_timed(opts, p, script, extra, opts.seconds)
    T.check_alive(p, "during DescribeServices")
    j["cpu_us"] = ticks / TCK * 1e6 / j["requests"] if j["requests"] else None
    return {"warm": wj, "run": j, "argv": argv, "script": script}


# ---------------------------------------------------------------- the parts

def run_berthd(opts, srv, res):
    n, k = opts.services, opts.tasks_per_service
    p = srv.berthd_svc(opts.berthd, opts.store_sync, opts.sim_step_ms, 0)
    say("berthd: port %d, pid %d" % (p.port, p.pid))
    f = {"argv": p.argv, "services": n, "tasks_per_service": k}
    T.create_cluster(p.port, False, CLUSTER)
    td = T.register_td(p.port, False, FAMILY, opts.task_cpu, opts.task_memory)
    n_inst = opts.instances or max(1, math.ceil(n * k / 100.0))
    say("berthd: registering %d container instances of CPU %d / MEMORY %d" % (n_inst, opts.instance_cpu, opts.instance_memory))
    f["instances"] = n_inst
    f["register_seconds"] = T.register_instances(p.port, False, CLUSTER, n_inst, opts.instance_cpu, opts.instance_memory)
    time.sleep(0.5)
    f["rss_before_kb"] = T.status_kb(p.pid, "VmRSS")
    m0 = T.metrics(p.port)

    say("berthd: %d CreateService (desiredCount %d) from %d connections" % (n, k, opts.create_threads))
    c0 = proc_cpu(p.pid)
    t0 = time.perf_counter()
    cr = create_services(p.port, False, td, n, k, opts.create_threads)
    t_created = time.perf_counter()
    c_created = proc_cpu(p.pid)
    T.check_alive(p, "while creating the services")
    cr["cpu"] = cpu_delta(c0, c_created)
    f["create"] = {key: v for key, v in cr.items() if key != "indices"}
    if cr["errors"]:
        raise BenchError("berthd: %d of %d CreateService failed; first: %s" % (cr["errors"], n, cr["first_error"]))
    say("berthd: %d services created in %.2f s (%.0f calls/s)" % (cr["created"], cr["seconds"], cr["rate"] or 0))

    # all tasks RUNNING: the cluster's counters
    want = n * k
    c = T.Client(p.port, False)
    deadline = t0 + opts.timeout
    t_running = None
    last = (None, None, None)
    progress = []
    next_note = time.perf_counter() + 10
    while time.perf_counter() < deadline:
        T.check_alive(p, "while the services were starting")
        last = cluster_counts(c)
        now = time.perf_counter()
        progress.append((round(now - t0, 2), last[0], last[1]))
        if last[0] == want and last[1] == 0:
            t_running = now
            break
        if now > next_note:
            say("berthd: %.0f s: %s running, %s pending of %d" % (now - t0, last[0], last[1], want))
            next_note = now + 10
        time.sleep(opts.poll_ms / 1000.0)
    f["progress"] = progress[:: max(1, len(progress) // 200)]
    f["active_services"] = last[2]
    if t_running is None:
        f["timeout"] = True
        f["last_counts"] = last
        raise BenchError("berthd: not every task RUNNING after %d s: running %s, pending %s of %d (activeServicesCount %s)"
                         % (opts.timeout, last[0], last[1], want, last[2]))
    say("berthd: all %d tasks RUNNING after %.2f s; checking every service" % (want, t_running - t0))

    # every service steady (re-checking only those that were not), then
    # every PRIMARY rollout COMPLETED (the same way)
    names = [svc_name(i) for i in range(n)]
    sweeps = []

    def until(pick, what, limit):
        left = names
        example = None
        while True:
            uns, inc, calls, secs, ex = sweep(p.port, left, k, opts.create_threads)
            bad = uns if pick == "steady" else inc
            sweeps.append({"for": what, "services": len(left), "calls": calls, "seconds": secs, "left": len(bad)})
            example = ex or example
            if not bad:
                return time.perf_counter(), secs, [], example
            if time.perf_counter() > limit:
                return None, secs, bad, example
            left = bad
            time.sleep(opts.poll_ms / 1000.0)
    t_steady, steady_secs, left, example = until("steady", "runningCount == desiredCount, 1 deployment", deadline)
    if t_steady is None:
        f["sweeps"] = sweeps
        raise BenchError("berthd: all tasks RUNNING but %d services not steady after %d s; e.g. %s"
                         % (len(left), opts.timeout, json.dumps(example)))
    c_steady = proc_cpu(p.pid)
    f["steady_sweep_seconds"] = steady_secs
    t_completed, _, incomplete, _ = until("completed", "PRIMARY rolloutState COMPLETED",
                                          min(deadline, time.perf_counter() + opts.completed_wait))
    f["sweeps"] = sweeps
    f.update({"t_running_s": t_running - t0, "t_steady_s": t_steady - t0,
              "t_completed_s": (t_completed - t0) if t_completed else None,
              "not_completed": len(incomplete) if not t_completed else 0,
              "t_after_last_create_s": t_running - t_created,
              "cpu": cpu_delta(c0, c_steady)})
    f["cpu_pct"] = 100.0 * f["cpu"]["total_s"] / f["t_steady_s"]
    say("berthd: every service steady after %.2f s (rollouts COMPLETED after %s s); berthd CPU %.1f s"
        % (f["t_steady_s"], "%.2f" % f["t_completed_s"] if t_completed else "-", f["cpu"]["total_s"]))
    f["rss_end_kb"] = T.status_kb(p.pid, "VmRSS")
    f["hwm_kb"] = T.status_kb(p.pid, "VmHWM")
    f["store_bytes"] = T.du_bytes(p.data_dir)
    f["metrics"] = T.metrics_delta(m0, T.metrics(p.port)) if m0 else {}

    # at rest: every service steady, nothing to do
    ci0 = proc_cpu(p.pid)
    time.sleep(opts.idle_seconds)
    f["idle_cpu"] = cpu_delta(ci0, proc_cpu(p.pid))
    f["idle_seconds"] = opts.idle_seconds

    say("berthd: DescribeServices (10 of %d) under wrk" % n)
    f["describe"] = measure_describe(opts, p, srv.tmp, "berthd", names, False)
    run, _, _ = cluster_counts(T.Client(p.port, False))
    f["running_after"] = run
    f["exit"] = srv.stop(p)
    res["berthd"] = f
    return f


def run_moto(opts, srv, res):
    n, k = opts.moto_services, opts.tasks_per_service
    p = srv.moto()
    say("moto: port %d, pid %d" % (p.port, p.pid))
    f = {"argv": p.argv}
    T.create_cluster(p.port, True, CLUSTER)
    td = T.register_td(p.port, True, FAMILY, opts.task_cpu, opts.task_memory)
    say("moto: %d CreateService (desiredCount %d) from %d connections, at most %d s"
        % (n, k, opts.create_threads, opts.moto_seconds))
    c0 = proc_cpu(p.pid)
    cr = create_services(p.port, True, td, n, k, opts.create_threads, opts.moto_seconds)
    cr["cpu"] = cpu_delta(c0, proc_cpu(p.pid))
    T.check_alive(p, "while creating the services")
    names = [svc_name(i) for i in cr["indices"]]
    f["create"] = {key: v for key, v in cr.items() if key != "indices"}
    if cr["errors"]:
        raise BenchError("moto: %d CreateService failed; first: %s" % (cr["errors"], cr["first_error"]))
    if not names:
        raise BenchError("moto: no service created")
    say("moto: %d services created in %.1f s (%.0f calls/s)" % (cr["created"], cr["seconds"], cr["rate"] or 0))
    f["rss_kb"] = T.status_kb(p.pid, "VmRSS")
    say("moto: DescribeServices (10 of %d) under wrk" % len(names))
    f["describe"] = measure_describe(opts, p, srv.tmp, "moto", names, True)
    f["exit"] = srv.stop(p)
    res["moto"] = f
    return f


def show(opts, res):
    b, m = res.get("berthd"), res.get("moto")
    n, k = opts.services, opts.tasks_per_service
    tab = T.Table("Services: %s services x %d tasks (%s; berthd --sim-step-ms %d --healthy-grace-ms 0 --store-sync %s; "
                  "%d client threads; wrk %d threads x %d connections)"
                  % (T.fmt(n), k, time.strftime("%Y-%m-%d %H:%M"), opts.sim_step_ms, opts.store_sync,
                     opts.create_threads, opts.threads, max(opts.connections, opts.threads)))
    top = tab.cmd("python3 bench/services.py " + " ".join(sys.argv[1:]))
    fmt, ratio = T.fmt, T.ratio

    def g(f, *ks):
        x = f
        for key in ks:
            if not isinstance(x, dict):
                return None
            x = x.get(key)
        return x
    rb, rm = g(b, "create", "rate"), g(m, "create", "rate")
    tab.row("CreateService calls/s (desiredCount %d)" % k, fmt(rb), fmt(rm), ratio(rb, rm), "", top)
    tab.row("  services created / time", "%s / %s" % (fmt(g(b, "create", "created")), fmt(g(b, "create", "seconds"), " s", 2)),
            "%s / %s%s" % (fmt(g(m, "create", "created")), fmt(g(m, "create", "seconds"), " s", 1),
                           " (STOPPED EARLY: --moto-seconds)" if g(m, "create", "stopped_early") else "") if m else "-", "", "", top)
    cpb = g(b, "create", "cpu", "total_s")
    cpm = g(m, "create", "cpu", "total_s")
    cb = cpb / b["create"]["created"] * 1e6 if cpb is not None and b["create"]["created"] else None
    cm = cpm / m["create"]["created"] * 1e6 if cpm is not None and m and m["create"]["created"] else None
    tab.row("  server CPU per CreateService", fmt(cb, " us", 0), fmt(cm, " us", 0), ratio(cb, cm, False), "", top)
    if b:
        tab.row("all %s tasks RUNNING (from the first CreateService)" % fmt(n * k), fmt(b["t_running_s"], " s", 2), "", "", "", top)
        tab.row("  after the last CreateService answer", fmt(b["t_after_last_create_s"], " s", 2), "", "", "", top)
        tab.row("every service steady (running == desired, 1 deployment)", fmt(b["t_steady_s"], " s", 2), "", "", "", top)
        tab.row("  of which the confirming DescribeServices sweep", fmt(b.get("steady_sweep_seconds"), " s", 2), "", "", "", top)
        tab.row("every PRIMARY rollout COMPLETED", fmt(b["t_completed_s"], " s", 2) if b["t_completed_s"] is not None
                else "not all (%d left)" % b["not_completed"], "", "", "", top)
        tab.row("  tasks/s to RUNNING (tasks / time to all RUNNING)", fmt(n * k / b["t_running_s"] if b["t_running_s"] else None),
                "", "", "", top)
        cpu = b["cpu"]
        tab.row("berthd CPU, first CreateService to steady (user+sys)", "%s (%s + %s)" % (
            fmt(cpu["total_s"], " s", 2), fmt(cpu["user_s"], " s", 2), fmt(cpu["sys_s"], " s", 2)), "", "", "", top)
        tab.row("  CPU / wall over that span", fmt(b["cpu_pct"], " %", 0), "", "", "", top)
        tab.row("  CPU per task started", fmt(cpu["total_s"] / (n * k) * 1e6, " us", 0), "", "", "", top)
        tab.row("berthd CPU at rest, every service steady (%d s)" % b["idle_seconds"],
                fmt(b["idle_cpu"]["total_s"], " s", 2), "", "", "", top)
        tab.row("RSS with the instances only / at the end", "%s / %s" % (fmt(b["rss_before_kb"] / 1024.0, " MiB", 1),
                                                                         fmt(b["rss_end_kb"] / 1024.0, " MiB", 1)),
                fmt(g(m, "rss_kb") / 1024.0 if g(m, "rss_kb") else None, " MiB", 0), "", "", top)
        tab.row("  RSS growth per service (with its %d tasks)" % k,
                fmt((b["rss_end_kb"] - b["rss_before_kb"]) * 1024.0 / n, " B", 0), "", "", "", top)
        tab.row("  peak RSS (VmHWM) / store on disk", "%s / %s" % (fmt(b["hwm_kb"] / 1024.0, " MiB", 1),
                                                                  fmt(b["store_bytes"] / 1048576.0, " MiB", 1)), "", "", "", top)
    db, dm = g(b, "describe", "run"), g(m, "describe", "run")
    refs = ",".join(str(tab.cmd(x["describe"]["argv"])) for x in (b, m) if x)
    tab.row("DescribeServices (10 services) calls/s", fmt(g(db, "rps")), fmt(g(dm, "rps")), ratio(g(db, "rps"), g(dm, "rps")), "", refs)
    tab.row("  p50 / p99 latency", "%s / %s" % (fmt(g(db, "p50_us") / 1000 if db else None, " ms", 3),
                                                fmt(g(db, "p99_us") / 1000 if db else None, " ms", 3)) if db else "-",
            "%s / %s" % (fmt(g(dm, "p50_us") / 1000, " ms", 1), fmt(g(dm, "p99_us") / 1000, " ms", 1)) if dm else "-",
            ratio(g(db, "p99_us"), g(dm, "p99_us"), False), "", refs)
    tab.row("  server CPU per call", fmt(g(db, "cpu_us"), " us", 1), fmt(g(dm, "cpu_us"), " us", 0),
            ratio(g(db, "cpu_us"), g(dm, "cpu_us"), False), "", refs)
    if b:
        tab.row("instances registered (CPU %d / MEMORY %d)" % (opts.instance_cpu, opts.instance_memory),
                fmt(b["instances"]), "", "", "", top)
        tab.row("tasks RUNNING at the end (DescribeClusters)", fmt(b["running_after"]), "", "", "", top)
        tab.row("berthd exit status on SIGTERM", fmt(b["exit"]), "", "", "", top)
    for name, f in (("berthd", b), ("moto", m)):
        if not f:
            continue
        d = f["describe"]
        bad = d["warm"]["bad_status"] + d["warm"]["bad_body"]
        errs = T.wrk_errors(d["run"]) + T.wrk_errors(d["warm"])
        if bad or errs:
            tab.notes.append("WARNING: %s: %d wrong answer(s) in the checked DescribeServices warm-up, %d error(s)%s"
                             % (name, bad, errs, (": first: " + d["warm"]["first_bad"]) if d["warm"]["first_bad"] else ""))
    if b and b.get("metrics", {}).get("berth_request_errors_total"):
        tab.notes.append("WARNING: berthd's /metrics counted %d error answers between the first CreateService and steady state"
                         % b["metrics"]["berth_request_errors_total"])
    tab.notes.append("CreateService calls/s come from %d Python http.client threads (bench/populate.py's client): "
                     "berthd's figure is bounded by that client and includes the scheduler starting tasks meanwhile; "
                     "server CPU per call is the steadier gauge." % opts.create_threads)
    tab.notes.append("Tasks move one lifecycle step per --sim-step-ms (%d ms), so every task needs a few steps to reach "
                     "RUNNING whatever the load; the steady time is the end of the DescribeServices sweep that found "
                     "every service steady (polling every %d ms)." % (opts.sim_step_ms, opts.poll_ms))
    if m:
        tab.notes.append("moto does not run tasks (its services stay at runningCount 0): only the calls compare; it closes "
                         "the connection after every answer, so its figures include a TCP connect per call.")
    tab.show()


def main():
    env = os.environ.get
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--berthd", default=env("BERTHD", os.path.join(ROOT, "build", "berthd")))
    ap.add_argument("--services", type=int, default=int(env("BENCH_SVC_SERVICES", "5000")))
    ap.add_argument("--tasks-per-service", type=int, default=int(env("BENCH_SVC_TASKS", "10")))
    ap.add_argument("--instances", type=int, default=0, help="container instances (default: one per 100 tasks)")
    ap.add_argument("--instance-cpu", type=int, default=4096)
    ap.add_argument("--instance-memory", type=int, default=16384)
    ap.add_argument("--task-cpu", type=int, default=10)
    ap.add_argument("--task-memory", type=int, default=32)
    ap.add_argument("--sim-step-ms", type=int, default=50)
    ap.add_argument("--create-threads", type=int, default=8, help="http.client connections for CreateService and the sweeps")
    ap.add_argument("--poll-ms", type=int, default=100, help="DescribeClusters / sweep polling interval")
    ap.add_argument("--timeout", type=int, default=1800, help="seconds allowed from the first CreateService to steady state")
    ap.add_argument("--completed-wait", type=int, default=120,
                    help="seconds allowed after steady state for every rollout to say COMPLETED")
    ap.add_argument("--idle-seconds", type=int, default=5, help="berthd CPU measured at rest after steady state")
    ap.add_argument("--store-sync", default=env("BENCH_STORE_SYNC", "full"))
    ap.add_argument("--threads", type=int, default=int(env("BENCH_THREADS", "2")), help="wrk threads")
    ap.add_argument("--connections", type=int, default=int(env("BENCH_CONNECTIONS", "32")), help="wrk connections")
    ap.add_argument("--seconds", type=int, default=int(env("BENCH_SVC_SECONDS", "5")), help="measured DescribeServices run")
    ap.add_argument("--warmup", type=int, default=int(env("BENCH_WARMUP", "2")), help="checked DescribeServices warm-up")
    ap.add_argument("--no-moto", dest="moto", action="store_false")
    ap.add_argument("--moto-services", type=int, default=None, help="services made in moto (default: --services)")
    ap.add_argument("--moto-seconds", type=int, default=int(env("BENCH_MOTO_POPULATE_SECONDS", "120")),
                    help="stop creating moto services after this long")
    ap.add_argument("--json", help="write the raw figures here")
    opts = ap.parse_args()
    if opts.moto_services is None:
        opts.moto_services = opts.services
    if opts.services < 1 or opts.tasks_per_service < 0:
        sys.exit("services: --services must be >= 1 and --tasks-per-service >= 0")
    if not os.access(opts.berthd, os.X_OK):
        sys.exit("services: no berthd at %s (make first)" % opts.berthd)
    if not shutil.which("wrk"):
        sys.exit("services: wrk is not installed (make deps)")
    if opts.moto and subprocess.run(["python3", "-c", "import moto.server"], stderr=subprocess.DEVNULL).returncode:
        say("moto is not importable: its column stays empty")
        opts.moto = False

    def on_signal(signum, frame):
        raise KeyboardInterrupt("signal %d" % signum)
    for s in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, on_signal)

    tmp = tempfile.mkdtemp(prefix="berth-services.")
    srv = Servers(tmp)
    res = {"nproc": os.cpu_count(), "loadavg_start": open("/proc/loadavg").read().split()[:3],
           "options": {key: v for key, v in vars(opts).items()}}
    rc = 0
    try:
        run_berthd(opts, srv, res)
        if opts.moto:
            run_moto(opts, srv, res)
        res["loadavg_end"] = open("/proc/loadavg").read().split()[:3]
        show(opts, res)
        print("load average %s at start, %s at end; %s cores"
              % (" ".join(res["loadavg_start"]), " ".join(res["loadavg_end"]), res["nproc"]))
    except BenchError as ex:
        print("services: FAILED: %s" % ex, file=sys.stderr)
        rc = 1
    except KeyboardInterrupt as ex:
        print("services: interrupted (%s)" % ex, file=sys.stderr)
        rc = 130
    finally:
        srv.stop_all()
        shutil.rmtree(tmp, ignore_errors=True)
    if opts.json:
        with open(opts.json, "w") as f:
            json.dump(res, f, indent=1, sort_keys=True, default=str)
    sys.exit(rc)


if __name__ == "__main__":
    main()
