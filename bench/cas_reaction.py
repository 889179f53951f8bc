#!/usr/bin/env python3
"""cas_reaction.py: how fast cluster auto scaling reacts (issue 5), with
berthd on the real clock and --timing fast (one evaluation a second).

  cas_reaction.py [--berthd PATH] [--runs N]

Each run makes a launch configuration (m5.large), an Auto Scaling group at
0 (MinSize 0, MaxSize 10), a capacity provider with managed scaling on it
and a cluster whose default strategy uses it, then RunTask(count=1): the
task has no instance, so it waits PROVISIONING.  Measured from RunTask's
answer: until DescribeAutoScalingGroups shows DesiredCapacity 2 (the
scale-out from zero, which the aim says happens within one tick), and until
the task is RUNNING (the instances boot, register and take it).  Polls every
2 ms.  moto has no cluster auto scaling, so there is nothing to compare.
Figures only: non-zero exit only if a run could not be made.
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

import boto3

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def start(berthd, data):
    log = open(os.path.join(data, "log"), "w")
    p = subprocess.Popen([berthd, "--listen", "127.0.0.1:0", "--data-dir", data, "--transition-ms", "0",
                          "--timing", "fast", "--sim-step-ms", "50", "--log-level", "info"],
                         stdout=log, stderr=subprocess.STDOUT)
    for _ in range(500):
        with open(os.path.join(data, "log")) as f:
            for line in f:
                if "listening on" in line:
                    port = int(line.split("listening on 127.0.0.1:")[1].split()[0])
                    return p, port
        time.sleep(0.01)
    p.kill()
    raise SystemExit("cas_reaction: berthd did not start")


def one_run(kw, i):
    ecs, asg = boto3.client("ecs", **kw), boto3.client("autoscaling", **kw)
    name = "r%03d" % i
    asg.create_launch_configuration(LaunchConfigurationName=name, ImageId="ami-1", InstanceType="m5.large")
    asg.create_auto_scaling_group(AutoScalingGroupName=name, LaunchConfigurationName=name, MinSize=0, MaxSize=10,
                                  DesiredCapacity=0, AvailabilityZones=["us-east-1a", "us-east-1b"])
    arn = asg.describe_auto_scaling_groups(AutoScalingGroupNames=[name])["AutoScalingGroups"][0]["AutoScalingGroupARN"]
    ecs.create_capacity_provider(name=name, autoScalingGroupProvider={
        "autoScalingGroupArn": arn, "managedScaling": {"status": "ENABLED", "targetCapacity": 100}})
    ecs.create_cluster(clusterName=name, capacityProviders=[name],
                       defaultCapacityProviderStrategy=[{"capacityProvider": name, "weight": 1}])
    ecs.register_task_definition(family=name, containerDefinitions=[{"name": "a", "image": "x", "cpu": 256,
                                                                     "memory": 512}])
    while ecs.describe_clusters(clusters=[name])["clusters"][0]["status"] != "ACTIVE":
        time.sleep(0.002)
    arn_t = ecs.run_task(cluster=name, taskDefinition=name)["tasks"][0]["taskArn"]
    t0 = time.monotonic()
    scaled = running = None
    while running is None and time.monotonic() - t0 < 30:
        if scaled is None:
            g = asg.describe_auto_scaling_groups(AutoScalingGroupNames=[name])["AutoScalingGroups"][0]
            if g["DesiredCapacity"] >= 2:
                scaled = time.monotonic() - t0
        else:
            t = ecs.describe_tasks(cluster=name, tasks=[arn_t])["tasks"][0]
            if t["lastStatus"] == "RUNNING":
                running = time.monotonic() - t0
        time.sleep(0.002)
    if scaled is None or running is None:
        raise SystemExit("cas_reaction: run %d did not scale out (scaled %s, running %s)" % (i, scaled, running))
    return scaled, running


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--berthd", default=os.path.join(ROOT, "build", "berthd"))
    ap.add_argument("--runs", type=int, default=10)
    a = ap.parse_args()
    data = tempfile.mkdtemp(prefix="berth-cas-")
    p, port = start(a.berthd, data)
    kw = dict(endpoint_url="http://127.0.0.1:%d" % port, region_name="us-east-1", aws_access_key_id="t",
              aws_secret_access_key="t")
    try:
        res = [one_run(kw, i) for i in range(a.runs)]
    finally:
        p.terminate()
        p.wait(15)
    sc = [r[0] for r in res]
    rn = [r[1] for r in res]
    print("cas_reaction: berthd --timing fast (1 s evaluation period, 1 s instance boot), %d runs" % a.runs)
    print("  RunTask -> DesiredCapacity 2:   min %.3f s  median %.3f s  max %.3f s   (aim: within one tick, 1 s)"
          % (min(sc), statistics.median(sc), max(sc)))
    print("  RunTask -> task RUNNING:        min %.3f s  median %.3f s  max %.3f s"
          % (min(rn), statistics.median(rn), max(rn)))
    print("  moto: no cluster auto scaling (n/a)")
    print("  command: python3 bench/cas_reaction.py --runs %d" % a.runs)


if __name__ == "__main__":
    sys.exit(main())
