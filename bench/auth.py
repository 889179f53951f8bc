#!/usr/bin/env python3
"""auth.py: what authentication and authorization cost (issue 7).

  auth.py [--seconds S] [--clusters N] [--connections C] [--berthd PATH] [--json OUT]

Figures only, never pass/fail (the exit status is non-zero only when a run
could not be made: a server did not start, or answered anything but 200).

The same workload against three berthd set-ups, one after the other on a
fresh data directory each: DescribeClusters of 10 clusters (of --clusters
made beforehand), one request signed once by botocore and sent again and
again by wrk (--connections keep-alive connections, 2 threads; a SigV4
signature stays valid for 15 minutes, so replaying it is legitimate, and
berthd verifies it in full every time: canonical request, two SHA-256 and
an HMAC with the cached signing key).

  open    --auth open: the signature is not checked;
  root    --auth sigv4, signed with the root credentials: verified, no policy;
  user    --auth sigv4, signed by an IAM user whose inline policy (three
          statements) allows ecs:DescribeClusters on arn:...:cluster/bench-*:
          verified, then 10 authorization requests evaluated.

For each: requests/s, p50 and p99 latency (wrk), and berthd's CPU per
request (utime+stime of /proc/PID/stat over the measured run).  A checked
warm-up (every answer 200, no failures) comes first.
"""
import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import boto3
import botocore.auth
import botocore.awsrequest
import botocore.config
import botocore.credentials

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
AK, SK = "AKIDBENCHROOT0000001", "bench-root-secret"
TCK = os.sysconf("SC_CLK_TCK")
TARGET = "AmazonEC2ContainerServiceV20141113.DescribeClusters"

LUA = r'''
dofile(%(common)s)
function init(args)
   wrk.method = "POST"
   wrk.path = "/"
   wrk.body = %(body)s
%(headers)s
   bench.check(args, '"failures":%%[%%]')
end
'''


def lua_str(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def proc_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def start(berthd, mode, tmp):
    data = tempfile.mkdtemp(prefix="auth-", dir=tmp)
    port = free_port()
    args = [berthd, "--listen", "127.0.0.1:%d" % port, "--data-dir", data, "--store-sync", "normal",
            "--log-level", "warn", "--auth", "open" if mode == "open" else "sigv4"]
    env = dict(os.environ, BERTH_ROOT_ACCESS_KEY_ID=AK, BERTH_ROOT_SECRET_ACCESS_KEY=SK)
    p = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = "http://127.0.0.1:%d" % port
    for _ in range(500):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            return p, url, data
        except OSError:
            time.sleep(0.01)
    p.kill()
    raise SystemExit("berthd did not start (%s)" % mode)


def client(url, service, ak, sk):
    return boto3.client(service, endpoint_url=url, region_name="us-east-1", aws_access_key_id=ak,
                        aws_secret_access_key=sk, config=botocore.config.Config(retries={"max_attempts": 1}))


def signed(url, body, ak, sk):
    req = botocore.awsrequest.AWSRequest(method="POST", url=url + "/", data=body, headers={
        "X-Amz-Target": TARGET, "Content-Type": "application/x-amz-json-1.1"})
    botocore.auth.SigV4Auth(botocore.credentials.Credentials(ak, sk), "ecs", "us-east-1").add_auth(req)
    return {k: v for k, v in req.headers.items()}


def wrk(opts, url, script, args, seconds):
    cmd = ["wrk", "-t2", "-c%d" % opts.connections, "-d%ds" % seconds, "--latency", "-s", script, url, "--"] + args
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60).stdout
    for line in out.splitlines():
        if line.startswith("WRK_JSON "):
            return json.loads(line[len("WRK_JSON "):])
    raise SystemExit("wrk gave no result: %s" % out[-500:])


def run_mode(opts, mode, tmp):
    p, url, data = start(opts.berthd, mode, tmp)
    try:
        root = client(url, "ecs", AK, SK)
        for i in range(opts.clusters):
            root.create_cluster(clusterName="bench-%05d" % i)
        ak, sk = AK, SK
        if mode == "user":
            iam = client(url, "iam", AK, SK)
            iam.create_user(UserName="bench")
            arn = "arn:aws:ecs:us-east-1:000000000000:"
            iam.put_user_policy(UserName="bench", PolicyName="clusters", PolicyDocument=json.dumps({
                "Version": "2012-10-17", "Statement": [
                    {"Effect": "Allow", "Action": ["ecs:List*"], "Resource": "*"},
                    {"Effect": "Deny", "Action": "ecs:Delete*", "Resource": "*"},
                    {"Effect": "Allow", "Action": "ecs:DescribeClusters", "Resource": arn + "cluster/bench-*"}]}))
            k = iam.create_access_key(UserName="bench")["AccessKey"]
            ak, sk = k["AccessKeyId"], k["SecretAccessKey"]
        names = ["bench-%05d" % (i * 7 % opts.clusters) for i in range(10)]
        body = json.dumps({"clusters": names})
        hdrs = signed(url, body, ak, sk)
        script = os.path.join(tmp, "auth.%s.lua" % mode)
        with open(script, "w") as f:
            f.write(LUA % {"common": lua_str(os.path.join(HERE, "common.lua")), "body": lua_str(body),
                           "headers": "\n".join('   wrk.headers[%s] = %s' % (lua_str(k), lua_str(v))
                                                for k, v in hdrs.items() if k.lower() != "content-length")})
        warm = wrk(opts, url, script, ["check"], opts.warmup)
        if warm.get("bad_status") or warm.get("bad_body") or not warm.get("requests"):
            raise SystemExit("%s: wrong answers in the warm-up: %s" % (mode, warm))
        t0 = proc_ticks(p.pid)
        run = wrk(opts, url, script, [], opts.seconds)
        ticks = proc_ticks(p.pid) - t0
        if p.poll() is not None:
            raise SystemExit("%s: berthd died" % mode)
        run["cpu_us"] = ticks / TCK * 1e6 / run["requests"] if run["requests"] else None
        return run
    finally:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
        shutil.rmtree(data, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=int(os.environ.get("BENCH_SECONDS", 10)))
    ap.add_argument("--warmup", type=int, default=int(os.environ.get("BENCH_WARMUP", 2)))
    ap.add_argument("--clusters", type=int, default=100)
    ap.add_argument("--connections", type=int, default=int(os.environ.get("BENCH_CONNECTIONS", 32)))
    ap.add_argument("--berthd", default=os.path.join(ROOT, "build", "berthd"))
    ap.add_argument("--json")
    opts = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="bench-auth-")
    res = {}
    try:
        for mode in ("open", "root", "user"):
            res[mode] = run_mode(opts, mode, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("DescribeClusters (10 names), %d connections, %d s each:" % (opts.connections, opts.seconds))
    print("%-6s %12s %10s %10s %14s" % ("auth", "requests/s", "p50 ms", "p99 ms", "CPU/request µs"))
    for mode, r in res.items():
        rps = r["requests"] / r["duration_s"]
        print("%-6s %12.0f %10.2f %10.2f %14.1f" % (mode, rps, r["p50_us"] / 1000, r["p99_us"] / 1000,
                                                   r["cpu_us"] or 0))
    base = res["open"]["requests"] / res["open"]["duration_s"]
    for mode in ("root", "user"):
        r = res[mode]
        print("%s vs open: %.1f%% of the throughput, +%.1f µs CPU a request" % (
            mode, 100 * r["requests"] / r["duration_s"] / base, (r["cpu_us"] or 0) - (res["open"]["cpu_us"] or 0)))
    if opts.json:
        with open(opts.json, "w") as f:
            json.dump(res, f, indent=1)


if __name__ == "__main__":
    sys.exit(main())
