#!/usr/bin/env python3
"""startup.py: wall time from exec of a server to its first successful answer.

  startup.py --runs N [--name CLUSTER] -- COMMAND... 

COMMAND is the server to start; the literal {port} in it is replaced by a
free loopback port picked for each run (e.g. berthd --listen 127.0.0.1:{port}
--data-dir DIR, or python3 -m moto.server -p {port}).  Each run:

  t0 = just before fork/exec (subprocess.Popen)
  poll: TCP connect to the port every --poll-us (500 us) until accepted,
        then DescribeClusters for --name on that connection;
  t1 = when an answer with status 200 arrives (and, with --expect-found,
        --name is among the clusters answered, so the store has been loaded)
  then SIGTERM and wait for the server to exit.

The answer is repeated until it succeeds (a server that accepts before it is
ready answers an error or drops the connection; both count as not yet).
Prints one JSON object: {"runs_ms": [...], "median_ms": M, "min_ms": m,
"max_ms": X, "self_reported_ms": [...], "cpu_ms": [...], "cpu_median_ms": C};
self_reported_ms is berthd's own "loaded in" figure from its log when
present; cpu_ms is the server's utime+stime when its first good answer
arrived (clock ticks: 10 ms steps), less sensitive to a busy machine than
the wall time.
"""
import argparse
import http.client
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

AUTH = ("AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/ecs/aws4_request, "
        "SignedHeaders=host;x-amz-target, Signature=0")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def cpu_ms(pid):
    """utime + stime of pid so far, in ms (clock-tick resolution)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) * 1000.0 / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def try_answer(port, name, expect_found, auth):
    """One attempt: connect, ask, return True on a good answer."""
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
    except OSError:
        return False
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        c.sock = s
        h = {"Content-Type": "application/x-amz-json-1.1",
             "X-Amz-Target": "AmazonEC2ContainerServiceV20141113.DescribeClusters"}
        if auth:
            h["Authorization"] = AUTH
        c.request("POST", "/", body=json.dumps({"clusters": [name]}), headers=h)
        r = c.getresponse()
        body = r.read()
        if r.status != 200:
            return False
        if expect_found:
            j = json.loads(body)
            return any(cl.get("clusterName") == name for cl in j.get("clusters", []))
        return True
    except (OSError, http.client.HTTPException, ValueError):
        return False
    finally:
        s.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--name", default="bench-cluster-00000")
    ap.add_argument("--expect-found", action="store_true", help="the answer must contain --name")
    ap.add_argument("--auth", action="store_true", help="send the static Authorization header (moto)")
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("--poll-us", type=float, default=500, help="pause between refused connects (default 500 us)")
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.cmd[1:] if a.cmd and a.cmd[0] == "--" else a.cmd
    if not cmd:
        ap.error("no server command given")

    runs, self_reported, cpu = [], [], []
    pat = re.compile(rb"loaded in ([0-9.]+) ms")
    for _ in range(a.runs):
        port = free_port()
        argv = [x.replace("{port}", str(port)) for x in cmd]
        log = tempfile.TemporaryFile()
        t0 = time.perf_counter()
        p = subprocess.Popen(argv, stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        try:
            deadline = t0 + a.timeout
            while True:
                if try_answer(port, a.name, a.expect_found, a.auth):
                    t1 = time.perf_counter()
                    cpu.append(cpu_ms(p.pid))
                    break
                if p.poll() is not None:
                    log.seek(0)
                    sys.exit("server exited with %s before answering:\n%s"
                             % (p.returncode, log.read()[-2000:].decode(errors="replace")))
                if time.perf_counter() > deadline:
                    sys.exit("no good answer within %.0f s" % a.timeout)
                time.sleep(a.poll_us / 1e6)
        finally:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(15)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        runs.append((t1 - t0) * 1000.0)
        log.seek(0)
        m = pat.search(log.read())
        if m:
            self_reported.append(float(m.group(1)))
        log.close()
    out = {
        "runs_ms": [round(x, 2) for x in runs],
        "median_ms": round(statistics.median(runs), 2),
        "min_ms": round(min(runs), 2),
        "max_ms": round(max(runs), 2),
        "self_reported_ms": self_reported,
        "cpu_ms": cpu,
    }
    if all(x is not None for x in cpu):
        out["cpu_median_ms"] = round(statistics.median(cpu), 1)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
