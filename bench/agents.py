#!/usr/bin/env python3
"""agents.py: berth-agent figures (issue 6).

  agents.py [--tasks 100] [--agents 1000] [--seconds 60] [--json OUT]

Figures only, never pass/fail (non-zero exit only when a run could not be
made).

1. One real berth-agent starts --tasks tasks (each a `sleep` process): ten
   RunTask calls of count 10 (launchType EXTERNAL) sent back to back, then
   DescribeClusters polled every 10 ms until runningTasksCount reaches
   --tasks.  Figure: RunTask sent -> all RUNNING (median of --runs).

2. berthd with --agents connected agents: each is registered
   (RegisterContainerInstance as berth-agent) and then keeps one AgentPoll
   long poll open at all times (waitSeconds 20, re-sent as soon as it is
   answered), as a real agent does.  The agents' traffic comes from one
   asyncio process speaking the protocol over raw HTTP/1.1 keep-alive
   connections (a thousand real agent processes, two threads each, would
   measure this machine's scheduler rather than berthd).  Figure: berthd's
   CPU (utime+stime) over --seconds of that steady state, as a share of one
   core, and the polls answered per second.
"""
import argparse
import asyncio
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import boto3
import botocore.config

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TCK = os.sysconf("SC_CLK_TCK")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def start_berthd(opts, tmp, *extra):
    data = tempfile.mkdtemp(prefix="agents-", dir=tmp)
    port = free_port()
    p = subprocess.Popen([opts.berthd, "--listen", "127.0.0.1:%d" % port, "--data-dir", data, "--store-sync",
                          "normal", "--log-level", "warn", "--transition-ms", "0"] + list(extra),
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(500):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            return p, port, data
        except OSError:
            time.sleep(0.01)
    raise SystemExit("berthd did not start")


def ecs_client(port):
    return boto3.client("ecs", endpoint_url="http://127.0.0.1:%d" % port, region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test",
                        config=botocore.config.Config(retries={"max_attempts": 1}))


def proc_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def stop(p):
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(10)
    except subprocess.TimeoutExpired:
        p.kill()


# ---------------------------------------------------------------- 1. start 100 tasks

def one_start_run(opts, tmp, run):
    p, port, data = start_berthd(opts, tmp)
    adir = tempfile.mkdtemp(prefix="agent-", dir=tmp)
    ecs_client(port).create_cluster(clusterName="bench")
    agent = subprocess.Popen([opts.agent, "--endpoint", "http://127.0.0.1:%d" % port, "--cluster", "bench",
                              "--data-dir", adir, "--no-cgroups", "--cpu", "1000000", "--memory", "1000000",
                              "--log-level", "warn"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        ecs = ecs_client(port)
        for _ in range(500):
            if ecs.list_container_instances(cluster="bench")["containerInstanceArns"]:
                break
            time.sleep(0.01)
        td = ecs.register_task_definition(family="sleep", requiresCompatibilities=["EXTERNAL"], containerDefinitions=[
            {"name": "main", "image": "none", "cpu": 1, "memory": 4, "command": ["sleep", "600"],
             "stopTimeout": 1}])["taskDefinition"]["taskDefinitionArn"]
        t0 = time.time()
        for _ in range(opts.tasks // 10):
            r = ecs.run_task(cluster="bench", taskDefinition=td, launchType="EXTERNAL", count=10)
            if r["failures"]:
                raise SystemExit("RunTask failed: %s" % r["failures"])
        while True:
            c = ecs.describe_clusters(clusters=["bench"])["clusters"][0]
            if c["runningTasksCount"] >= opts.tasks // 10 * 10:
                break
            if time.time() - t0 > 60:
                raise SystemExit("only %d tasks RUNNING after 60 s" % c["runningTasksCount"])
            time.sleep(0.01)
        return time.time() - t0
    finally:
        agent.kill()
        agent.wait()
        subprocess.run(["pkill", "-KILL", "-f", adir], capture_output=True)
        stop(p)


# ---------------------------------------------------------------- 2. many agents

async def http_call(reader, writer, target, body):
    data = json.dumps(body).encode()
    writer.write(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-amz-json-1.1\r\n"
                 b"X-Amz-Target: " + target.encode() + b"\r\nContent-Length: " + str(len(data)).encode() +
                 b"\r\n\r\n" + data)
    await writer.drain()
    status = int((await reader.readline()).split()[1])
    length = 0
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    payload = await reader.readexactly(length)
    return status, json.loads(payload) if payload else None


async def fake_fleet(port, n, seconds, pid, counters):
    ECS = "AmazonEC2ContainerServiceV20141113."
    conns, arns = [], []
    for i in range(n):
        r, w = await asyncio.open_connection("127.0.0.1", port)
        st, out = await http_call(r, w, ECS + "RegisterContainerInstance", {
            "cluster": "fleet", "versionInfo": {"agentVersion": "berth-agent/0.1.0 (protocol 1)"},
            "totalResources": [{"name": "CPU", "type": "INTEGER", "integerValue": 2048},
                               {"name": "MEMORY", "type": "INTEGER", "integerValue": 4096}]})
        if st != 200:
            raise SystemExit("register failed: %s" % out)
        conns.append((r, w))
        arns.append(out["containerInstance"]["containerInstanceArn"])
    stop_at = [None]

    async def agent(i):
        r, w = conns[i]
        while stop_at[0] is None or time.time() < stop_at[0]:
            st, out = await http_call(r, w, "BerthExtensions_v1.AgentPoll", {
                "protocolVersion": 1, "cluster": "fleet", "containerInstance": arns[i], "waitSeconds": 20,
                "tasks": []})
            if st != 200:
                raise SystemExit("poll failed: %s" % out)
            counters["polls"] += 1
    tasks = [asyncio.create_task(agent(i)) for i in range(n)]
    await asyncio.sleep(2)  # every agent has a poll open
    polls0, t0, c0 = counters["polls"], time.time(), proc_ticks(pid)
    await asyncio.sleep(seconds)
    counters["cpu_s"] = (proc_ticks(pid) - c0) / TCK
    counters["wall_s"] = time.time() - t0
    counters["answered"] = counters["polls"] - polls0
    stop_at[0] = time.time()
    for t in tasks:
        t.cancel()
    for _, w in conns:
        w.close()


def fleet_run(opts, tmp):
    p, port, data = start_berthd(opts, tmp, "--max-connections", str(max(4096, opts.agents * 2)))
    try:
        ecs_client(port).create_cluster(clusterName="fleet")
        counters = {"polls": 0}
        try:
            asyncio.run(fake_fleet(port, opts.agents, opts.seconds, p.pid, counters))
        except asyncio.CancelledError:
            pass
        return counters
    finally:
        stop(p)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tasks", type=int, default=100)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--agents", type=int, default=1000)
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--berthd", default=os.path.join(ROOT, "build", "berthd"))
    ap.add_argument("--agent", default=os.path.join(ROOT, "build", "berth-agent"))
    ap.add_argument("--json")
    opts = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="bench-agents-")
    try:
        starts = [one_start_run(opts, tmp, i) for i in range(opts.runs)]
        fleet = fleet_run(opts, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("one berth-agent, %d sleep tasks: RunTask -> all RUNNING  median %.2f s  (runs: %s)" % (
        opts.tasks, statistics.median(starts), ", ".join("%.2f" % s for s in starts)))
    share = 100.0 * fleet["cpu_s"] / fleet["wall_s"]
    print("%d connected agents (20 s long polls) for %.0f s: berthd CPU %.2f s = %.2f%% of a core, "
          "%.1f polls answered/s" % (opts.agents, fleet["wall_s"], fleet["cpu_s"], share,
                                    fleet["answered"] / fleet["wall_s"]))
    if opts.json:
        with open(opts.json, "w") as f:
            json.dump({"start_s": starts, "fleet": fleet}, f, indent=1)


if __name__ == "__main__":
    sys.exit(main())
