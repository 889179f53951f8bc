#!/usr/bin/env python3
"""tasks.py: task figures (issue 3), berthd side by side with moto.

  tasks.py [--berthd PATH] [--part runtask,listtasks] [--no-moto] ...
  tasks.py --million [--berthd PATH]

Each part starts its own servers (berthd on a fresh data dir with
--sim-step-ms 3600000, so no task moves on while it is measured; moto as
`python3 -m moto.server`), on 127.0.0.1 port 0, and stops them by pid at the
end (SIGTERM, SIGKILL after 15 s).  Figures only: the exit status is
non-zero only when a part could not run (a server did not start or died, a
setup call failed, berthd answered errors or wrong answers under load).

runtask: RunTask(count=10) calls per second.  Against each server: a
  cluster, a task definition (one container busybox, cpu 16, memory 32),
  container instances enough for every task of the run (berthd:
  RegisterContainerInstance with an instanceIdentityDocument and
  totalResources CPU 4096 / MEMORY 16384, zones us-east-1a/b/c in turn;
  moto takes the same call but gives every instance 4096 CPU / 7482 MiB),
  then bench/runtask.lua under wrk: a checked warm-up of --runtask-warmup
  calls, then the measured run of --runtask-calls calls (moto:
  --moto-runtask-calls), each thread stopping after its share.  Every answer
  is checked (200, tasks, no failures).
listtasks: ListTasks (first page, maxResults 100) of one cluster holding
  1,000, 10,000 and 100,000 tasks (berthd) and 1,000 and 10,000 (moto, as
  far as --moto-populate-seconds allows), each level reached with
  RunTask(count=10) calls from --populate-threads http.client threads, then
  bench/listtasks.lua under wrk: a checked warm-up and a measured run.
--million: one berthd, 2,000 instances of CPU 1,000,000 / MEMORY 1,000,000,
  a task definition of cpu 1 / memory 1 (or the smallest memory berthd
  accepts), RSS (VmRSS) before and after 100,000 RunTask(count=10) calls
  (bench/runtask.lua under wrk), the time they took, the tasks counted after
  (DescribeClusters pending+running and ListTasks followed to the end), and
  bytes per task = RSS growth / tasks.

Every table row names the command that produced its figure (the list under
the table).  --json OUT writes every raw figure.
"""
import argparse
import http.client
import itertools
import json
import math
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import populate  # noqa: E402  (the JSON 1.1 client of the cluster figures)

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TARGET = "AmazonEC2ContainerServiceV20141113."
# moto routes a request to a service by the Authorization header's credential
# scope; berthd ignores an unsigned one.  Static, never checked.
AUTH = ("AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/ecs/aws4_request, "
        "SignedHeaders=host;x-amz-target, Signature=0")
ZONES = ("us-east-1a", "us-east-1b", "us-east-1c")
SIM_STEP_MS = 3600000
TCK = os.sysconf("SC_CLK_TCK")


class BenchError(Exception):
    pass


def say(msg):
    print("tasks: " + msg, file=sys.stderr, flush=True)


# ------------------------------------------------------------------ processes

class Servers:
    """Every server started here, stopped by pid (SIGTERM, SIGKILL after 15 s)."""

    def __init__(self, tmp):
        self.tmp = tmp
        self.procs = []

    def _start(self, name, argv, pattern):
        log_path = os.path.join(self.tmp, "%s.%d.log" % (name, len(self.procs)))
        log = open(log_path, "wb")
        p = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log.close()
        p.log_path = log_path
        p.name = name
        p.argv = argv
        self.procs.append(p)
        rx = re.compile(pattern)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with open(log_path, "rb") as f:
                m = rx.search(f.read())
            if m:
                p.port = int(m.group(1))
                return p
            if p.poll() is not None:
                raise BenchError("%s did not start (exit %s): %s" % (name, p.returncode, tail(log_path)))
            time.sleep(0.05)
        raise BenchError("%s did not log its port within 60 s: %s" % (name, tail(log_path)))

    def berthd(self, binary, sync, extra=()):
        data = tempfile.mkdtemp(prefix="berthd.", dir=self.tmp)
        argv = [binary, "--listen", "127.0.0.1:0", "--data-dir", data, "--store-sync", sync,
                "--sim-step-ms", str(SIM_STEP_MS)] + list(extra)
        p = self._start("berthd", argv, rb"listening on 127\.0\.0\.1:([0-9]+)")
        p.data_dir = data
        return p

    def moto(self):
        return self._start("moto", ["python3", "-m", "moto.server", "-H", "127.0.0.1", "-p", "0"],
                           rb"Running on http://127\.0\.0\.1:([0-9]+)")

    def stop(self, p):
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                say("pid %d (%s) ignored SIGTERM for 15 s: SIGKILL" % (p.pid, p.name))
                p.kill()
                p.wait()
        if p in self.procs:
            self.procs.remove(p)
        return p.returncode

    def stop_all(self):
        for p in list(self.procs):
            try:
                self.stop(p)
            except Exception:  # noqa: BLE001 - best effort on the way out
                pass


def tail(path, n=1500):
    try:
        with open(path, "rb") as f:
            return f.read()[-n:].decode(errors="replace")
    except OSError:
        return ""


def alive(p):
    if p.poll() is not None:
        return False
    try:
        with open("/proc/%d/stat" % p.pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def check_alive(p, when):
    if not alive(p):
        raise BenchError("%s died %s (exit %s): %s" % (p.name, when, p.poll(), tail(p.log_path)))


def cpu_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def status_kb(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return None


def du_bytes(path):
    total = 0
    for dirpath, _, files in os.walk(path):
        for fn in files:
            try:
                total += os.path.getsize(os.path.join(dirpath, fn))
            except OSError:
                pass
    return total


# --------------------------------------------------------------------- client

class Client(populate.Client):
    """One keep-alive connection to 127.0.0.1 (populate.py's client: it
    reconnects when the server closes, as moto does), plus must()."""

    def __init__(self, port, auth):
        super().__init__("127.0.0.1", port, auth)
        self.conn.timeout = 120

    def must(self, action, body):
        status, payload = self.call(action, body)
        if status != 200:
            raise BenchError("%s %s -> %d %s" % (action, json.dumps(body)[:300], status, payload[:500].decode(errors="replace")))
        return json.loads(payload)


def parallel(n, threads, port, auth, fn, time_limit=0):
    """fn(client, i) -> None or an error string, for i in range(n), from
    `threads` threads taking indices from one counter.  Returns
    (done, errors, first_error, seconds, stopped_early)."""
    counter = itertools.count()
    lock = threading.Lock()
    st = {"done": 0, "errors": 0, "first": None, "stop": False}
    t0 = time.perf_counter()
    deadline = t0 + time_limit if time_limit > 0 else None

    def worker():
        c = Client(port, auth)
        done = errors = 0
        while not st["stop"]:
            i = next(counter)
            if i >= n:
                break
            if deadline and time.perf_counter() > deadline:
                st["stop"] = True
                break
            try:
                err = fn(c, i)
            except Exception as ex:  # noqa: BLE001 - counted and reported
                err = repr(ex)
            if err is None:
                done += 1
            else:
                errors += 1
                with lock:
                    if st["first"] is None:
                        st["first"] = err
        with lock:
            st["done"] += done
            st["errors"] += errors

    ts = [threading.Thread(target=worker, daemon=True) for _ in range(max(1, min(threads, n)))]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return st["done"], st["errors"], st["first"], time.perf_counter() - t0, st["stop"]


def create_cluster(port, auth, name):
    Client(port, auth).must("CreateCluster", {"clusterName": name})


def register_td(port, auth, family, cpu, memory):
    j = Client(port, auth).must("RegisterTaskDefinition", {
        "family": family,
        "containerDefinitions": [{"name": "app", "image": "busybox", "cpu": cpu, "memory": memory, "essential": True}],
    })
    td = j["taskDefinition"]
    return "%s:%d" % (td["family"], td["revision"])


def moto_ec2_instances(port, n, batch=100):
    """moto checks that a registered instance exists in its EC2 backend: make
    n there first (EC2 RunInstances, Query protocol); returns their ids."""
    ids = []
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    h = {"Content-Type": "application/x-www-form-urlencoded",
         "Authorization": AUTH.replace("/ecs/", "/ec2/")}
    while len(ids) < n:
        k = min(batch, n - len(ids))
        body = urllib.parse.urlencode({"Action": "RunInstances", "Version": "2016-11-15", "ImageId": "ami-12c6146b",
                                       "MinCount": k, "MaxCount": k, "InstanceType": "m5.xlarge"})
        c.request("POST", "/", body=body, headers=h)
        r = c.getresponse()
        payload = r.read().decode(errors="replace")
        got = re.findall(r"<instanceId>(i-[0-9a-f]+)</instanceId>", payload)
        if r.status != 200 or len(got) != k:
            raise BenchError("moto EC2 RunInstances(%d) -> %d %s" % (k, r.status, payload[:500]))
        ids += got
        c.close()
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    return ids


def instance_body(cluster, i, cpu, memory, ids=None, first=0):
    doc = {"instanceId": ids[i] if ids else "i-%017x" % (0x100000 + first + i), "instanceType": "m5.xlarge",
           "availabilityZone": ZONES[i % 3], "region": "us-east-1"}
    return {"cluster": cluster, "instanceIdentityDocument": json.dumps(doc),
            "totalResources": [{"name": "CPU", "type": "INTEGER", "integerValue": cpu},
                               {"name": "MEMORY", "type": "INTEGER", "integerValue": memory}]}


def register_instances(port, auth, cluster, n, cpu, memory, threads=8, first=0):
    """n container instances; against moto (auth) their EC2 instances first."""
    ids = moto_ec2_instances(port, n) if auth else None

    def one(c, i):
        body = instance_body(cluster, i, cpu, memory, ids, first)
        status, payload = c.call("RegisterContainerInstance", body)
        if status != 200:
            return "RegisterContainerInstance %s -> %d %s" % (json.dumps(body)[:400],
                                                               status, payload[:400].decode(errors="replace"))
        return None
    done, errors, first, secs, _ = parallel(n, threads, port, auth, one)
    if errors:
        raise BenchError("%d of %d RegisterContainerInstance failed; first: %s" % (errors, n, first))
    return secs


def populate_tasks(port, auth, cluster, td, calls, threads, time_limit=0):
    """`calls` RunTask(count=10); returns (tasks made, calls ok, errors, first error, seconds, stopped early)."""
    made = [0]
    lock = threading.Lock()
    body = {"cluster": cluster, "taskDefinition": td, "count": 10}

    def one(c, i):
        status, payload = c.call("RunTask", body)
        if status != 200:
            return "RunTask %s -> %d %s" % (json.dumps(body), status, payload[:400].decode(errors="replace"))
        j = json.loads(payload)
        n = len(j.get("tasks", []))
        with lock:
            made[0] += n
        if j.get("failures") or n != 10:
            return "RunTask %s -> 200 with %d tasks, failures %s" % (json.dumps(body), n, json.dumps(j.get("failures"))[:400])
        return None
    ok, errors, first, secs, stopped = parallel(calls, threads, port, auth, one, time_limit)
    return made[0], ok, errors, first, secs, stopped


def count_listed(port, auth, cluster):
    """ListTasks followed to the end: (ARNs, pages, seconds)."""
    c = Client(port, auth)
    n = pages = 0
    tok = None
    t0 = time.perf_counter()
    while True:
        body = {"cluster": cluster, "maxResults": 100}
        if tok:
            body["nextToken"] = tok
        j = c.must("ListTasks", body)
        n += len(j.get("taskArns", []))
        pages += 1
        tok = j.get("nextToken")
        if not tok:
            break
    return n, pages, time.perf_counter() - t0


def metrics(port):
    """berthd's /metrics counters as a dict (empty when there is none, e.g. moto)."""
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        c.request("GET", "/metrics")
        r = c.getresponse()
        text = r.read().decode(errors="replace")
        if r.status != 200:
            return {}
    except (OSError, http.client.HTTPException):
        return {}
    out = {}
    for line in text.splitlines():
        if line.startswith("berth_"):
            k, _, v = line.partition(" ")
            try:
                out[k] = float(v)
            except ValueError:
                pass
    return out


def metrics_delta(m0, m1):
    return {k: m1[k] - m0.get(k, 0) for k in m1}


def cluster_counts(port, auth, cluster):
    j = Client(port, auth).must("DescribeClusters", {"clusters": [cluster]})
    cl = (j.get("clusters") or [{}])[0]
    return cl.get("pendingTasksCount"), cl.get("runningTasksCount")


# ------------------------------------------------------------------------ wrk

def wrk_json(out):
    m = re.search(r"^WRK_JSON (.*)$", out, re.M)
    if not m:
        raise BenchError("wrk printed no figures: " + out[-1500:])
    return json.loads(m.group(1))


def wrk_timed(opts, p, script, sargs, seconds, latency=True):
    """A plain wrk run of `seconds`; returns (figures, server CPU ticks, argv)."""
    url = "http://127.0.0.1:%d/" % p.port
    argv = ["wrk", "-t%d" % opts.threads, "-c%d" % max(opts.connections, opts.threads), "-d%ds" % seconds,
            "--timeout", "10s"] + (["--latency"] if latency else []) + ["-s", os.path.join(HERE, script), url, "--"] + sargs
    c0 = cpu_ticks(p.pid)
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                       timeout=seconds + 120)
    c1 = cpu_ticks(p.pid)
    out = r.stdout.decode(errors="replace")
    if r.returncode != 0:
        raise BenchError("wrk failed (%d): %s" % (r.returncode, out[-1500:]))
    return wrk_json(out), c1 - c0, argv


def wrk_runtask(opts, p, cluster, td, calls, auth, cap_s=1200):
    """bench/runtask.lua: `calls` RunTask(count=10) split over the wrk threads;
    wrk gets SIGINT once every thread has had its share.  Returns
    (figures, server CPU ticks, argv, wall seconds)."""
    threads = opts.threads
    conns = max(opts.connections, threads)
    per = max(1, math.ceil(calls / threads))
    url = "http://127.0.0.1:%d/" % p.port
    argv = ["wrk", "-t%d" % threads, "-c%d" % conns, "-d%ds" % cap_s, "--timeout", "30s", "--latency",
            "-s", os.path.join(HERE, "runtask.lua"), url, "--", cluster, td, str(per), "10"] + (["auth"] if auth else [])
    c0 = cpu_ticks(p.pid)
    t0 = time.perf_counter()
    w = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    done = 0
    other = []
    try:
        for line in w.stderr:
            if line.startswith(b"WRK_THREAD_DONE"):
                done += 1
                if done == threads:
                    w.send_signal(signal.SIGINT)
                    break
            else:
                other.append(line)
        wall = time.perf_counter() - t0
        out, err = w.communicate(timeout=cap_s + 60)
    finally:
        if w.poll() is None:
            w.kill()
            w.wait()
    c1 = cpu_ticks(p.pid) if alive(p) else c0
    text = out.decode(errors="replace")
    if done < threads:
        raise BenchError("wrk ended before every thread had its %d answers (%d of %d done): %s %s"
                         % (per, done, threads, text[-1500:], b"".join(other + [err]).decode(errors="replace")[-800:]))
    return wrk_json(text), c1 - c0, argv, wall


def wrk_errors(j):
    return j["err_connect"] + j["err_read"] + j["err_write"] + j["err_status"] + j["err_timeout"]


# ---------------------------------------------------------------------- table

class Table:
    def __init__(self, title):
        self.title = title
        self.rows = []
        self.cmds = []
        self.notes = []

    def cmd(self, argv_or_text):
        text = argv_or_text if isinstance(argv_or_text, str) else shlex.join(argv_or_text)
        # the temporary paths and ports differ every run: show them as they were
        if text in self.cmds:
            return self.cmds.index(text) + 1
        self.cmds.append(text)
        return len(self.cmds)

    def row(self, metric, b, m="", ratio="", aim="", ref=None):
        self.rows.append((metric, b, m, ratio, aim, "" if ref is None else "[%s]" % ref))

    def show(self):
        head = ("metric", "berthd", "moto", "ratio", "aim (this run)", "cmd")
        rows = [head] + self.rows
        w = [max(len(str(r[i])) for r in rows) for i in range(6)]
        line = "+".join("-" * (n + 2) for n in w)
        print()
        print(self.title)
        print(line)
        for i, r in enumerate(rows):
            print("|".join(" %s " % (str(c).ljust(w[k]) if k in (0, 4, 5) else str(c).rjust(w[k])) for k, c in enumerate(r)))
            if i == 0:
                print(line)
        print(line)
        for i, c in enumerate(self.cmds):
            print("  [%d] %s" % (i + 1, c))
        for n in self.notes:
            print(n)
        sys.stdout.flush()


def fmt(x, unit="", digits=None):
    if x is None:
        return "-"
    if isinstance(x, str):
        return x
    if digits is None:
        digits = 0 if isinstance(x, int) or abs(x) >= 100 else (1 if abs(x) >= 10 else 2)
    return ("{:,.%df}" % digits).format(x) + unit


def ratio(b, m, higher_better=True):
    if not b or not m:
        return "-"
    x = b / m if higher_better else m / b
    return ("%.0fx" % x) if x >= 10 else ("%.1fx" % x)


def this_cmd(extra):
    """The tasks.py command line for a part, as a reader would type it."""
    return "python3 bench/tasks.py " + extra


# ---------------------------------------------------------------------- parts

def part_runtask(opts, srv, res):
    tab = Table("RunTask(count=10) calls/s (%s; wrk %d threads x %d connections; berthd --store-sync %s)"
                % (time.strftime("%Y-%m-%d %H:%M"), opts.threads, max(opts.connections, opts.threads), opts.store_sync))
    top = tab.cmd(this_cmd("--part runtask"))
    figs = {}
    plan = [("berthd", opts.runtask_calls, opts.runtask_warmup, False, 256)]
    if opts.moto:
        # moto ignores totalResources: every instance gets 4096 CPU / 7482 MiB -> 233 tasks of 32 MiB
        plan.append(("moto", opts.moto_runtask_calls, opts.moto_runtask_warmup, True, 233))
    for name, calls, warm, auth, per_inst in plan:
        p = srv.berthd(opts.berthd, opts.store_sync) if name == "berthd" else srv.moto()
        say("%s: port %d, pid %d" % (name, p.port, p.pid))
        cluster = "bench-runtask"
        create_cluster(p.port, auth, cluster)
        td = register_td(p.port, auth, "bench-runtask", 16, 32)
        slack = 2 * max(opts.connections, opts.threads)      # answered but uncounted calls
        tasks_max = (calls + warm + 2 * slack) * 10
        n_inst = math.ceil(tasks_max / per_inst * 1.05) + 1
        say("%s: registering %d container instances (room for %d tasks)" % (name, n_inst, n_inst * per_inst))
        reg_s = register_instances(p.port, auth, cluster, n_inst, 4096, 16384)
        say("%s: %d instances in %.1f s; %d checked warm-up calls" % (name, n_inst, reg_s, warm))
        wj, _, wargv, _ = wrk_runtask(opts, p, cluster, td, warm, auth)
        check_alive(p, "during the RunTask warm-up")
        rounds = []
        nr = max(1, opts.runtask_rounds)
        ticks = 0
        for k in range(nr):
            share = calls // nr + (1 if k < calls % nr else 0)
            pend, run = cluster_counts(p.port, auth, cluster)
            say("%s: round %d of %d: %d measured RunTask(count=10) calls, %s tasks in the cluster"
                % (name, k + 1, nr, share, (pend or 0) + (run or 0)))
            m0 = {} if auth else metrics(p.port)
            rj, rt, argv, _ = wrk_runtask(opts, p, cluster, td, share, auth)
            check_alive(p, "during the RunTask run")
            rj["metrics"] = metrics_delta(m0, metrics(p.port)) if m0 else {}
            rj["tasks_before"] = (pend or 0) + (run or 0)
            rj["cpu_us_per_call"] = rt / TCK * 1e6 / rj["requests"] if rj["requests"] else None
            rj["argv"] = argv
            rounds.append(rj)
            ticks += rt
        j = {"requests": sum(r["requests"] for r in rounds), "duration_s": sum(r["duration_s"] for r in rounds)}
        j["rps"] = j["requests"] / j["duration_s"] if j["duration_s"] else 0
        j["p50_us"] = sorted(r["p50_us"] for r in rounds)[len(rounds) // 2]
        j["p99_us"] = max(r["p99_us"] for r in rounds)
        for key in ("bad_status", "bad_body", "err_connect", "err_read", "err_write", "err_status", "err_timeout"):
            j[key] = sum(r[key] for r in rounds)
        j["first_bad"] = next((r["first_bad"] for r in rounds if r["first_bad"]), "")
        argv = rounds[0]["argv"]
        pend, run = cluster_counts(p.port, auth, cluster)
        f = {"instances": n_inst, "register_seconds": reg_s, "warm": wj, "run": j, "rounds": rounds, "cpu_ticks": ticks,
             "cpu_us_per_call": ticks / TCK * 1e6 / j["requests"] if j["requests"] else None,
             "pending_after": pend, "running_after": run, "argv": argv, "rss_kb": status_kb(p.pid, "VmRSS")}
        figs[name] = f
        say("%s: %.0f calls/s, p50 %.2f ms, p99 %.2f ms; %s bad answers" % (
            name, j["rps"], j["p50_us"] / 1000, j["p99_us"] / 1000, j["bad_status"] + j["bad_body"] + wj["bad_status"] + wj["bad_body"]))
        f["exit"] = srv.stop(p)
    res["runtask"] = figs
    b, m = figs.get("berthd"), figs.get("moto")

    def g(f, *ks):
        x = f
        for k in ks:
            if x is None:
                return None
            x = x.get(k) if isinstance(x, dict) else None
        return x
    rb = g(b, "run", "rps")
    rm = g(m, "run", "rps")
    refb = tab.cmd(b["argv"])
    refm = tab.cmd(m["argv"]) if m else None
    refs = "%d,%d" % (refb, refm) if m else str(refb)
    ok = (rb / rm >= 85) if (rb and rm) else None
    tab.row("RunTask(count=10) calls/s", fmt(rb), fmt(rm), ratio(rb, rm), aim_note(ok, ">= 85x moto"), refs)
    tab.row("  tasks/s", fmt(rb * 10 if rb else None), fmt(rm * 10 if rm else None), "", "", refs)
    def per_round(f, key, scale, unit, digits):
        if not f:
            return "-"
        return " / ".join(fmt(r[key] * scale if r[key] is not None else None, unit, digits) for r in f["rounds"])
    tab.row("  rounds: tasks in the cluster at the start", per_round(b, "tasks_before", 1, "", 0),
            per_round(m, "tasks_before", 1, "", 0), "", "", refs)
    tab.row("  calls/s by round", per_round(b, "rps", 1, "", 0), per_round(m, "rps", 1, "", 0), "", "", refs)
    tab.row("  server CPU per call by round", per_round(b, "cpu_us_per_call", 1, " us", 0),
            per_round(m, "cpu_us_per_call", 1, " us", 0), "", "", refs)
    tab.row("  p99 latency by round", per_round(b, "p99_us", 1e-3, " ms", 1), per_round(m, "p99_us", 1e-3, " ms", 0), "", "", refs)
    if b and b["rounds"][0]["metrics"]:
        def mcell(key, scale, unit, digits):
            return " / ".join(fmt(r["metrics"].get(key, 0) * scale / max(1, r["metrics"].get("berth_requests_total", 0)), unit, digits)
                              for r in b["rounds"])
        tab.row("  berthd /metrics by round: store records written per call", mcell("berth_store_records_written_total", 1, "", 1),
                "", "", "", refs)
        tab.row("  berthd /metrics by round: store commit time per call", mcell("berth_store_commit_seconds_total", 1e6, " us", 0),
                "", "", "", refs)
        tab.row("  berthd /metrics by round: calls per store commit",
                " / ".join(fmt(r["metrics"].get("berth_requests_total", 0) / max(1, r["metrics"].get("berth_store_commits_total", 0)), "", 1)
                           for r in b["rounds"]), "", "", "", refs)
        errs = sum(r["metrics"].get("berth_request_errors_total", 0) for r in b["rounds"])
        if errs:
            tab.notes.append("WARNING: berthd's /metrics counted %d error answers during the measured RunTask rounds" % errs)
    tab.row("  calls measured (answered, checked)", fmt(g(b, "run", "requests")), fmt(g(m, "run", "requests")), "", "", refs)
    tab.row("  run time", fmt(g(b, "run", "duration_s"), " s", 2), fmt(g(m, "run", "duration_s"), " s", 1), "", "", refs)
    tab.row("  p50 latency (median of the rounds)", fmt(g(b, "run", "p50_us") / 1000 if b else None, " ms", 3),
            fmt(g(m, "run", "p50_us") / 1000 if m else None, " ms", 1),
            ratio(g(b, "run", "p50_us"), g(m, "run", "p50_us"), False), "", refs)
    tab.row("  p99 latency (worst round)", fmt(g(b, "run", "p99_us") / 1000 if b else None, " ms", 3),
            fmt(g(m, "run", "p99_us") / 1000 if m else None, " ms", 1),
            ratio(g(b, "run", "p99_us"), g(m, "run", "p99_us"), False), "", refs)
    tab.row("  server CPU per call", fmt(g(b, "cpu_us_per_call"), " us", 1), fmt(g(m, "cpu_us_per_call"), " us", 0),
            ratio(g(b, "cpu_us_per_call"), g(m, "cpu_us_per_call"), False), "", refs)
    for name, f in figs.items():
        bad = f["run"]["bad_status"] + f["run"]["bad_body"] + f["warm"]["bad_status"] + f["warm"]["bad_body"]
        errs = wrk_errors(f["run"]) + wrk_errors(f["warm"])
        if bad or errs:
            fb = f["run"]["first_bad"] or f["warm"]["first_bad"]
            tab.notes.append("WARNING: %s: %d wrong answer(s), %d socket/status error(s) in RunTask%s"
                             % (name, bad, errs, (": first: " + fb) if fb else ""))
    tab.row("  container instances registered", fmt(g(b, "instances")), fmt(g(m, "instances")), "", "", top)
    tab.row("  tasks in the cluster after (pending+running)",
            fmt((b["pending_after"] or 0) + (b["running_after"] or 0)) if b else "-",
            fmt((m["pending_after"] or 0) + (m["running_after"] or 0)) if m else "-", "", "", top)
    if m:
        tab.notes.append("moto gives every container instance 4096 CPU / 7482 MiB whatever totalResources says; it closes "
                         "the connection after every answer, so wrk reconnects for each moto call.")
    tab.notes.append("calls/s = answered calls / wrk's duration (start to the SIGINT sent when every wrk thread had its "
                     "share), summed over the %d rounds (one wrk run each, in order; 'by round' "
                     "cells list the rounds left to right); the few calls in flight at the end of a round are "
                     "served but not counted." % opts.runtask_rounds)
    tab.show()
    return figs


def aim_note(ok, text):
    if ok is None:
        return text
    return text + (" (met)" if ok else " (NOT met)")


def part_listtasks(opts, srv, res):
    tab = Table("ListTasks (first page, maxResults 100) vs tasks in the cluster (%s; wrk %d threads x %d connections, "
                "best of %d runs of %d s)" % (time.strftime("%Y-%m-%d %H:%M"), opts.threads, max(opts.connections, opts.threads),
                                               opts.list_runs, opts.seconds))
    top = tab.cmd(this_cmd("--part listtasks"))
    figs = {}
    plan = [("berthd", [1000, 10000, 100000], False, 256)]
    if opts.moto:
        plan.append(("moto", opts.moto_list_levels, True, 233))
    for name, levels, auth, per_inst in plan:
        p = srv.berthd(opts.berthd, opts.store_sync) if name == "berthd" else srv.moto()
        say("%s: port %d, pid %d" % (name, p.port, p.pid))
        cluster = "bench-listtasks"
        create_cluster(p.port, auth, cluster)
        td = register_td(p.port, auth, "bench-listtasks", 16, 32)
        n_inst = math.ceil(max(levels) / per_inst * 1.05) + 1
        say("%s: registering %d container instances" % (name, n_inst))
        register_instances(p.port, auth, cluster, n_inst, 4096, 16384)
        have = 0
        lv = {}
        deadline = time.monotonic() + opts.moto_populate_seconds if auth else None
        for level in levels:
            calls = (level - have) // 10
            left = (deadline - time.monotonic()) if deadline else 0
            if deadline and left <= 0:
                break
            say("%s: %d RunTask(count=10) to reach %d tasks" % (name, calls, level))
            made, ok, errors, first, secs, stopped = populate_tasks(p.port, auth, cluster, td, calls,
                                                                    opts.populate_threads, left if deadline else 0)
            have += made
            if errors:
                raise BenchError("%s: %d RunTask failed while populating; first: %s" % (name, errors, first))
            check_alive(p, "while populating")
            pend, run = cluster_counts(p.port, auth, cluster)
            say("%s: %d tasks (cluster says pending %s running %s) in %.1f s" % (name, have, pend, run, secs))
            wj, _, _ = wrk_timed(opts, p, "listtasks.lua", [cluster] + (["auth"] if auth else []) + ["check"], opts.warmup, False)
            runs = []
            for _ in range(max(1, opts.list_runs)):
                runs.append(wrk_timed(opts, p, "listtasks.lua", [cluster] + (["auth"] if auth else []), opts.seconds))
                check_alive(p, "during ListTasks")
            # the best run (highest requests/s): the machine is shared
            j, ticks, argv = max(runs, key=lambda x: x[0]["rps"])
            j["all_rps"] = [x[0]["rps"] for x in runs]
            j["all_cpu_us"] = [x[1] / TCK * 1e6 / x[0]["requests"] if x[0]["requests"] else None for x in runs]
            lv[have] = {"populate_seconds": secs, "populate_calls_per_s": ok / secs if secs else None,
                        "stopped_early": stopped, "warm": wj, "run": j, "cpu_ticks": ticks, "argv": argv,
                        "cpu_us": ticks / TCK * 1e6 / j["requests"] if j["requests"] else None,
                        "rss_kb": status_kb(p.pid, "VmRSS"), "pending": pend, "running": run}
            say("%s: %d tasks: ListTasks %.0f req/s, p50 %.3f ms" % (name, have, j["rps"], j["p50_us"] / 1000))
            if stopped:
                break
        recheck = None
        if not auth and len(levels) > 1:
            # The lowest level again, on a second cluster of the same (now
            # warm) server: tells a cost of the tasks from a cost of a
            # freshly started process (measured first).
            c2 = cluster + "-again"
            create_cluster(p.port, auth, c2)
            n2 = math.ceil(levels[0] / per_inst * 1.05) + 1
            register_instances(p.port, auth, c2, n2, 4096, 16384, first=n_inst)
            made, ok, errors, first, secs, _ = populate_tasks(p.port, auth, c2, td, levels[0] // 10, opts.populate_threads)
            if errors:
                raise BenchError("%s: %d RunTask failed while populating; first: %s" % (name, errors, first))
            wrk_timed(opts, p, "listtasks.lua", [c2, "check"], opts.warmup, False)
            runs = [wrk_timed(opts, p, "listtasks.lua", [c2], opts.seconds) for _ in range(max(1, opts.list_runs))]
            check_alive(p, "during ListTasks")
            j, ticks, argv = max(runs, key=lambda x: x[0]["rps"])
            recheck = {"tasks": made, "run": j, "argv": argv, "cpu_us": ticks / TCK * 1e6 / j["requests"] if j["requests"] else None}
            say("%s: again %d tasks in a second cluster: ListTasks %.0f req/s" % (name, made, j["rps"]))
        figs[name] = {"levels": lv, "recheck": recheck, "exit": srv.stop(p)}
    res["listtasks"] = figs

    ref_list = ",".join(str(tab.cmd(next(iter(figs[name]["levels"].values()))["argv"]))
                        for name in figs if figs[name]["levels"])
    b = figs["berthd"]["levels"]
    m = figs.get("moto", {}).get("levels", {})
    bl = sorted(b)
    ml = sorted(m)
    cols = max(len(bl), len(ml))

    def cells(d, keys, key, unit, digits, scale=1.0):
        if not keys:
            return "-"
        out = []
        for n in keys:
            v = d[n]["run"][key] if key in d[n]["run"] else d[n].get(key)
            out.append(fmt(v * scale if v is not None else None, unit, digits))
        return " / ".join(out)
    tab.row("tasks in the cluster (levels)", " / ".join(fmt(n) for n in bl), " / ".join(fmt(n) for n in ml) or "-", "", "", top)
    for label, key, unit, digits, scale in (("requests/s", "rps", "", 0, 1.0), ("p50 latency", "p50_us", " ms", 3, 1e-3),
                                            ("p99 latency", "p99_us", " ms", 3, 1e-3), ("server CPU per request", "cpu_us", " us", 1, 1.0)):
        tab.row("ListTasks %s at each level" % label, cells(b, bl, key, unit, digits, scale),
                cells(m, ml, key, unit, 1 if unit else digits, scale), "", "", ref_list)
    # growth: last level against the first.  Server CPU per request is the
    # steadier gauge: on a small shared machine wrk's requests/s moves by
    # tens of percent from run to run whatever the level.
    if len(bl) >= 2:
        cg = b[bl[-1]]["cpu_us"] / b[bl[0]]["cpu_us"] if b[bl[0]]["cpu_us"] and b[bl[-1]]["cpu_us"] else None
        g = b[bl[-1]]["run"]["rps"] / b[bl[0]]["run"]["rps"]
        tab.row("  berthd at %s vs at %s tasks: CPU per request, requests/s" % (fmt(bl[-1]), fmt(bl[0])),
                "%s, %.2fx" % ("%.2fx" % cg if cg else "-", g), "", "",
                aim_note(cg <= 1.25 if cg else None, "flat: CPU/request within 1.25x"), ref_list)
    rc = figs["berthd"].get("recheck")
    if rc:
        rref = tab.cmd(rc["argv"])
        tab.row("  berthd %s again (2nd cluster, warm server): req/s, CPU/req" % fmt(rc["tasks"]),
                "%s, %s" % (fmt(rc["run"]["rps"]), fmt(rc["cpu_us"], " us", 1)), "", "", "", rref)
    if len(ml) >= 2:
        cg = m[ml[-1]]["cpu_us"] / m[ml[0]]["cpu_us"] if m[ml[0]]["cpu_us"] and m[ml[-1]]["cpu_us"] else None
        g = m[ml[-1]]["run"]["rps"] / m[ml[0]]["run"]["rps"]
        tab.row("  moto at %s vs at %s tasks: CPU per request, requests/s" % (fmt(ml[-1]), fmt(ml[0])), "",
                "%s, %.2fx" % ("%.2fx" % cg if cg else "-", g), "", "", ref_list)
    for n in bl:
        if n in m:
            tab.row("  ratio at %s tasks" % fmt(n), fmt(b[n]["run"]["rps"]), fmt(m[n]["run"]["rps"]),
                    ratio(b[n]["run"]["rps"], m[n]["run"]["rps"]), "", ref_list)
    tab.row("populate RunTask(count=10) calls/s (%d http.client threads)" % opts.populate_threads,
            cells(b, bl, "populate_calls_per_s", "", 0), cells(m, ml, "populate_calls_per_s", "", 0), "", "", top)
    tab.row("RSS at each level", cells(b, bl, "rss_kb", " MiB", 1, 1 / 1024.0), cells(m, ml, "rss_kb", " MiB", 0, 1 / 1024.0),
            "", "", top)
    for name in figs:
        for n, f in figs[name]["levels"].items():
            bad = f["warm"]["bad_status"] + f["warm"]["bad_body"]
            errs = wrk_errors(f["run"]) + wrk_errors(f["warm"])
            if bad or errs:
                tab.notes.append("WARNING: %s at %d tasks: %d wrong answer(s) in the checked warm-up, %d error(s)%s"
                                 % (name, n, bad, errs, (": first: " + f["warm"]["first_bad"]) if f["warm"]["first_bad"] else ""))
            if f["stopped_early"]:
                tab.notes.append("%s: populating stopped at %d tasks (--moto-populate-seconds %d)" % (name, n, opts.moto_populate_seconds))
    if m:
        tab.notes.append("moto ignores maxResults: its first page is every task ARN of the cluster (it also walks every task "
                         "of every cluster to filter them), and it closes the connection after every answer.")
    tab.show()
    return figs


def part_million(opts, srv, res):
    tab = Table("Memory per task: %s RunTask(count=10) calls into one berthd cluster (%s; --store-sync %s; wrk %d threads x %d connections)"
                % (fmt(opts.million_calls), time.strftime("%Y-%m-%d %H:%M"), opts.store_sync, opts.threads,
                   max(opts.connections, opts.threads)))
    top = tab.cmd(this_cmd("--million"))
    p = srv.berthd(opts.berthd, opts.store_sync)
    say("berthd: port %d, pid %d" % (p.port, p.pid))
    f = {"rss_empty_kb": status_kb(p.pid, "VmRSS")}
    cluster = "bench-million"
    create_cluster(p.port, False, cluster)
    td = None
    for mem in (1, 4, 6):
        try:
            td = register_td(p.port, False, "bench-million", 1, mem)
            f["td_memory"] = mem
            break
        except BenchError as ex:
            tab.notes.append("RegisterTaskDefinition with cpu 1, memory %d refused: %s" % (mem, ex))
    if td is None:
        raise BenchError("no task definition accepted")
    n_inst = opts.million_instances
    say("berthd: registering %d instances of CPU %d / MEMORY %d" % (n_inst, opts.million_instance_units, opts.million_instance_units))
    f["register_seconds"] = register_instances(p.port, False, cluster, n_inst, opts.million_instance_units,
                                               opts.million_instance_units)
    time.sleep(0.5)
    f["rss_before_kb"] = status_kb(p.pid, "VmRSS")
    f["store_before"] = du_bytes(p.data_dir)
    calls = opts.million_calls
    say("berthd: %d RunTask(count=10) calls (RSS before: %d kB)" % (calls, f["rss_before_kb"]))
    j, ticks, argv, wall = wrk_runtask(opts, p, cluster, td, calls, False, cap_s=3600)
    check_alive(p, "while making the tasks")
    time.sleep(0.5)
    f["rss_after_kb"] = status_kb(p.pid, "VmRSS")
    f["hwm_kb"] = status_kb(p.pid, "VmHWM")
    f["store_running"] = du_bytes(p.data_dir)
    f.update({"run": j, "cpu_ticks": ticks, "argv": argv, "wall": wall})
    pend, run = cluster_counts(p.port, False, cluster)
    f["pending"], f["running"] = pend, run
    say("berthd: made in %.1f s (%.0f calls/s); cluster says pending %s running %s; RSS %d kB; counting with ListTasks"
        % (j["duration_s"], j["rps"], pend, run, f["rss_after_kb"]))
    listed, pages, lsecs = count_listed(p.port, False, cluster)
    f.update({"listed": listed, "list_pages": pages, "list_seconds": lsecs})
    lj, lticks, largv = wrk_timed(opts, p, "listtasks.lua", [cluster, "check"], min(opts.seconds, 5))
    f.update({"list_first_page": lj, "list_argv": largv})
    f["rss_end_kb"] = status_kb(p.pid, "VmRSS")
    f["exit"] = srv.stop(p)
    f["store_after"] = du_bytes(p.data_dir)
    res["million"] = f

    tasks = listed
    r1 = tab.cmd(argv)
    tab.row("tasks made (ListTasks followed to the end)", fmt(tasks), "", "", "", top)
    tab.row("  cluster's pendingTasksCount + runningTasksCount", fmt((pend or 0) + (run or 0)), "", "", "", top)
    tab.row("  RunTask(count=10) calls answered (wrk)", fmt(j["requests"]), "", "", "", r1)
    tab.row("  time to make them", fmt(j["duration_s"], " s", 1), "", "", "", r1)
    tab.row("  RunTask calls/s (tasks/s)", "%s (%s)" % (fmt(j["rps"]), fmt(j["rps"] * 10)), "", "", "", r1)
    tab.row("  p50 / p99 latency", "%s / %s" % (fmt(j["p50_us"] / 1000, " ms", 2), fmt(j["p99_us"] / 1000, " ms", 2)), "", "", "", r1)
    tab.row("  server CPU per call", fmt(ticks / TCK * 1e6 / j["requests"] if j["requests"] else None, " us", 1), "", "", "", r1)
    bpt = (f["rss_after_kb"] - f["rss_before_kb"]) * 1024.0 / tasks if tasks else None
    tab.row("RSS before (%d instances registered)" % n_inst, fmt(f["rss_before_kb"] / 1024.0, " MiB", 1), "", "", "", top)
    tab.row("RSS after", fmt(f["rss_after_kb"] / 1024.0, " MiB", 1), "", "", "", top)
    tab.row("bytes of RSS per task", fmt(bpt, " B", 0), "", "", aim_note(bpt <= 512 if bpt else None, "<= 512 B"), top)
    tab.row("  peak RSS (VmHWM) / RSS after ListTasks", "%s / %s" % (fmt(f["hwm_kb"] / 1024.0, " MiB", 1),
                                                                     fmt(f["rss_end_kb"] / 1024.0, " MiB", 1)), "", "", "", top)
    tab.row("store on disk while running / after SIGTERM", "%s / %s" % (fmt(f["store_running"] / 1048576.0, " MiB", 1),
                                                                        fmt(f["store_after"] / 1048576.0, " MiB", 1)), "", "", "", top)
    if tasks:
        tab.row("  store bytes per task (after SIGTERM)", fmt((f["store_after"] - f["store_before"]) / tasks, " B", 0), "", "", "", top)
    tab.row("ListTasks followed to the end: pages / time", "%s / %s" % (fmt(pages), fmt(lsecs, " s", 1)), "", "", "", top)
    r2 = tab.cmd(largv)
    tab.row("ListTasks first page at %s tasks: requests/s, p50" % fmt(tasks), "%s, %s" % (fmt(lj["rps"]), fmt(lj["p50_us"] / 1000, " ms", 3)),
            "", "", "", r2)
    tab.row("berthd exit status on SIGTERM", fmt(f["exit"]), "", "", "", top)
    bad = j["bad_status"] + j["bad_body"]
    if bad or wrk_errors(j):
        tab.notes.append("WARNING: %d wrong answer(s), %d error(s) while making the tasks%s"
                         % (bad, wrk_errors(j), (": first: " + j["first_bad"]) if j["first_bad"] else ""))
    if (pend or 0) + (run or 0) != tasks:
        tab.notes.append("WARNING: the cluster's counts (%s pending + %s running) differ from the %d tasks listed" % (pend, run, tasks))
    tab.notes.append("task definition: 1 container, cpu 1, memory %d; instances: CPU %d, MEMORY %d, zones a/b/c in turn."
                     % (f["td_memory"], opts.million_instance_units, opts.million_instance_units))
    tab.show()
    return f


def main():
    env = os.environ.get
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--berthd", default=env("BERTHD", os.path.join(ROOT, "build", "berthd")))
    ap.add_argument("--part", default="runtask,listtasks", help="runtask, listtasks (comma-separated)")
    ap.add_argument("--million", action="store_true", help="only the 1,000,000-task memory figure")
    ap.add_argument("--no-moto", dest="moto", action="store_false")
    ap.add_argument("--store-sync", default=env("BENCH_STORE_SYNC", "full"))
    ap.add_argument("--threads", type=int, default=int(env("BENCH_THREADS", "2")), help="wrk threads")
    ap.add_argument("--connections", type=int, default=int(env("BENCH_CONNECTIONS", "32")), help="wrk connections")
    ap.add_argument("--seconds", type=int, default=int(env("BENCH_TASKS_SECONDS", "5")), help="measured ListTasks run")
    ap.add_argument("--list-runs", type=int, default=2, help="measured ListTasks runs per level (the best is shown)")
    ap.add_argument("--warmup", type=int, default=int(env("BENCH_WARMUP", "2")), help="checked ListTasks warm-up")
    ap.add_argument("--runtask-calls", type=int, default=int(env("BENCH_RUNTASK_CALLS", "20000")))
    ap.add_argument("--runtask-warmup", type=int, default=2000)
    ap.add_argument("--runtask-rounds", type=int, default=4, help="measured calls split into this many wrk runs")
    ap.add_argument("--moto-runtask-calls", type=int, default=int(env("BENCH_MOTO_RUNTASK_CALLS", "400")))
    ap.add_argument("--moto-runtask-warmup", type=int, default=40)
    ap.add_argument("--moto-list-levels", default="1000,10000", help="moto's ListTasks levels")
    ap.add_argument("--moto-populate-seconds", type=int, default=int(env("BENCH_MOTO_POPULATE_SECONDS", "120")))
    ap.add_argument("--populate-threads", type=int, default=8)
    ap.add_argument("--million-calls", type=int, default=100000)
    ap.add_argument("--million-instances", type=int, default=2000)
    ap.add_argument("--million-instance-units", type=int, default=1000000, help="CPU and MEMORY of each instance")
    ap.add_argument("--json", help="write the raw figures here")
    opts = ap.parse_args()
    opts.moto_list_levels = [int(x) for x in opts.moto_list_levels.split(",") if x]
    if not os.access(opts.berthd, os.X_OK):
        sys.exit("tasks: no berthd at %s (make first)" % opts.berthd)
    if not shutil.which("wrk"):
        sys.exit("tasks: wrk is not installed (make deps)")
    if opts.moto and not opts.million:
        if subprocess.run(["python3", "-c", "import moto.server"], stderr=subprocess.DEVNULL).returncode:
            say("moto is not importable: its column stays empty")
            opts.moto = False

    def on_signal(signum, frame):
        raise KeyboardInterrupt("signal %d" % signum)
    for s in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, on_signal)

    tmp = tempfile.mkdtemp(prefix="berth-tasks.")
    srv = Servers(tmp)
    res = {"nproc": os.cpu_count(), "loadavg_start": open("/proc/loadavg").read().split()[:3]}
    rc = 0
    try:
        if opts.million:
            part_million(opts, srv, res)
        else:
            parts = [x.strip() for x in opts.part.split(",") if x.strip()]
            for x in parts:
                if x == "runtask":
                    part_runtask(opts, srv, res)
                elif x == "listtasks":
                    part_listtasks(opts, srv, res)
                else:
                    sys.exit("tasks: unknown part %s" % x)
        res["loadavg_end"] = open("/proc/loadavg").read().split()[:3]
        print("load average %s at start, %s at end; %s cores"
              % (" ".join(res["loadavg_start"]), " ".join(res["loadavg_end"]), res["nproc"]))
    except BenchError as ex:
        print("tasks: FAILED: %s" % ex, file=sys.stderr)
        rc = 1
    except KeyboardInterrupt as ex:
        print("tasks: interrupted (%s)" % ex, file=sys.stderr)
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
