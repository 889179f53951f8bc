"""Durability: every change berthd acknowledged survives kill -9, SIGTERM
and restarts; SIGTERM under load answers or drops each request cleanly and
exits 0; a store that cannot be opened is refused with a clear message; a
large store loads whole.

The kill test is seeded (BERTH_SEED, printed) so a failing interleaving of
kill delays and operations can be replayed."""
import copy
import http.client
import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import tempfile
import threading
import time

import boto3
import botocore.config
import botocore.exceptions

import harness
from harness import Berth, berthd_args, fresh, main, wait_until

PREFIX = "AmazonEC2ContainerServiceV20141113."
ACCOUNT = harness.ACCOUNT
REGION = harness.REGION
SEED = int(os.environ.get("BERTH_SEED", "20261123"))
SANITIZER_MARKS = ("Sanitizer", "runtime error:", "LeakSanitizer")


class NoAnswer(Exception):
    """The call got no HTTP answer (connection refused, reset, closed)."""


class RawClient:
    """AWS JSON 1.1 over one http.client keep-alive connection: much faster
    than boto3, so the load has more writes in flight when the kill lands."""

    def __init__(self, port, timeout=10):
        self.port = port
        self.timeout = timeout
        self.conn = None

    def close(self):
        if self.conn:
            self.conn.close()
        self.conn = None

    def call(self, action, body):
        """Returns (status, parsed body, headers); raises NoAnswer."""
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        data = json.dumps(body).encode()
        try:
            self.conn.request("POST", "/", data, {
                "X-Amz-Target": PREFIX + action,
                "Content-Type": "application/x-amz-json-1.1"})
            r = self.conn.getresponse()
            payload = r.read()
        except (OSError, http.client.HTTPException) as e:
            self.close()
            raise NoAnswer(repr(e))
        headers = {k.lower(): v for k, v in r.getheaders()}
        if headers.get("connection", "").lower() == "close":
            self.close()
        try:
            parsed = json.loads(payload)
        except ValueError:
            parsed = payload
        return r.status, parsed, headers


def boto_client(port):
    """A boto3 client of its own (one per thread) that never retries: a
    retried write would blur what was acknowledged."""
    return boto3.session.Session().client(
        "ecs", endpoint_url="http://127.0.0.1:%d" % port, region_name=REGION,
        aws_access_key_id="test", aws_secret_access_key="test",
        config=botocore.config.Config(retries={"total_max_attempts": 1, "mode": "standard"},
                                      connect_timeout=5, read_timeout=10))


def snake(action):
    return "".join("_" + ch.lower() if ch.isupper() else ch for ch in action).lstrip("_")


def boto_call(client):
    def call(action, body):
        try:
            out = getattr(client, snake(action))(**body)
        except botocore.exceptions.ClientError as e:
            return (e.response["ResponseMetadata"]["HTTPStatusCode"],
                    {"__type": e.response["Error"]["Code"], "message": e.response["Error"]["Message"]}, {})
        except botocore.exceptions.BotoCoreError as e:
            raise NoAnswer(repr(e))
        return 200, out, {}
    return call


def raw_call(client):
    return client.call


def cluster_arn(name):
    return "arn:aws:ecs:%s:%s:cluster/%s" % (REGION, ACCOUNT, name)


def cp_arn(name):
    return "arn:aws:ecs:%s:%s:capacity-provider/%s" % (REGION, ACCOUNT, name)


def sanitizer_clean(b):
    with open(b.log_path, "r", errors="replace") as f:
        text = f.read()
    for mark in SANITIZER_MARKS:
        assert mark not in text, "sanitizer report in berthd log:\n" + text[-6000:]


# ---- the state a stream of acknowledged calls implies ----

KEYS = ["k%d" % i for i in range(8)]
INSIGHTS = ["enabled", "disabled", "enhanced"]


def new_state():
    return {"clusters": {}, "cps": {}}


class Actor:
    """One client thread's resources (its names start with its tag, so the
    actors never touch each other's) and the state its acknowledged calls
    imply.  A call that got no answer is kept as `pending`: after the
    restart the state must be the acknowledged one, or that one with the
    pending call applied, and nothing else."""

    def __init__(self, tag, kind, seed):
        self.tag = tag
        self.kind = kind              # "raw" or "boto3"
        self.rng = random.Random(seed)
        self.state = new_state()
        self.seq = 0
        self.pending = None
        self.acked = 0                # acknowledged writes this round
        self.error = None

    def owns(self, name):
        return name.startswith("dur-%s-" % self.tag) or name.startswith("dcp-%s-" % self.tag)

    def _name(self, kind):
        self.seq += 1
        return "%s-%s-%d" % (kind, self.tag, self.seq)

    def _tags(self, lo, hi):
        keys = self.rng.sample(KEYS, self.rng.randint(lo, hi))
        return [{"key": k, "value": "v%d" % self.rng.randrange(10**6)} for k in keys]

    def next_op(self):
        """(action, body, apply) for a call that is valid in the current
        acknowledged state; apply(state) is what its success implies."""
        rng = self.rng
        st = self.state
        active = sorted(n for n, c in st["clusters"].items() if c["status"] == "ACTIVE")
        cps = sorted(n for n, c in st["cps"].items() if c["status"] == "ACTIVE")
        taggable = [("c", n) for n in active] + [("p", n) for n in cps]
        r = rng.random()
        if not active or r < 0.20:
            name = self._name("dur")
            tags = self._tags(0, 3)
            body = {"clusterName": name}
            if tags:
                body["tags"] = tags
            insights = "disabled"
            if rng.random() < 0.5:
                insights = rng.choice(INSIGHTS)
                body["settings"] = [{"name": "containerInsights", "value": insights}]
            cpl, strat = [], []
            if rng.random() < 0.3:
                cpl = ["FARGATE", "FARGATE_SPOT"]
                strat = [["FARGATE_SPOT", rng.randint(1, 5), rng.randint(0, 3)]]
                body["capacityProviders"] = cpl
                body["defaultCapacityProviderStrategy"] = [
                    {"capacityProvider": s[0], "weight": s[1], "base": s[2]} for s in strat]

            def apply(s):
                s["clusters"][name] = {"status": "ACTIVE", "tags": {t["key"]: t["value"] for t in tags},
                                       "insights": insights, "cps": list(cpl), "strategy": copy.deepcopy(strat)}
            return "CreateCluster", body, apply
        if r < 0.40:
            kind, name = rng.choice(taggable)
            tags = self._tags(1, 3)
            arn = cluster_arn(name) if kind == "c" else cp_arn(name)

            def apply(s):
                d = s["clusters" if kind == "c" else "cps"][name]["tags"]
                for t in tags:
                    d[t["key"]] = t["value"]
            return "TagResource", {"resourceArn": arn, "tags": tags}, apply
        if r < 0.52:
            kind, name = rng.choice(taggable)
            have = sorted(st["clusters" if kind == "c" else "cps"][name]["tags"])
            keys = rng.sample(have, min(len(have), rng.randint(1, 2))) + ([rng.choice(KEYS)] if rng.random() < 0.3 else [])
            keys = sorted(set(keys)) or [rng.choice(KEYS)]
            arn = cluster_arn(name) if kind == "c" else cp_arn(name)

            def apply(s):
                d = s["clusters" if kind == "c" else "cps"][name]["tags"]
                for k in keys:
                    d.pop(k, None)
            return "UntagResource", {"resourceArn": arn, "tagKeys": keys}, apply
        if r < 0.64:
            name = rng.choice(active)
            value = rng.choice(INSIGHTS)

            def apply(s):
                s["clusters"][name]["insights"] = value
            return "UpdateClusterSettings", {"cluster": name, "settings": [{"name": "containerInsights", "value": value}]}, apply
        if r < 0.72:
            name = rng.choice(active)

            def apply(s):
                c = s["clusters"][name]
                c["status"] = "INACTIVE"
                c["cps"] = []
                c["strategy"] = []
            return "DeleteCluster", {"cluster": name}, apply
        if r < 0.82 or not cps:
            name = self._name("dcp")
            tags = self._tags(0, 2)
            # managed draining off: with it (the default) a cluster that
            # associates the provider needs the Auto Scaling group to exist,
            # or it ends FAILED and refuses the next PutClusterCapacityProviders
            body = {"name": name, "autoScalingGroupProvider": {"autoScalingGroupArn": "asg-" + name,
                                                               "managedDraining": "DISABLED"}}
            if tags:
                body["tags"] = tags

            def apply(s):
                s["cps"][name] = {"status": "ACTIVE", "tags": {t["key"]: t["value"] for t in tags}}
            return "CreateCapacityProvider", body, apply
        name = rng.choice(active)
        m = rng.random()
        if m < 0.6:
            cpl = rng.sample(cps, min(len(cps), rng.randint(1, 3)))
        elif m < 0.85:
            cpl = ["FARGATE", "FARGATE_SPOT"]
        else:
            cpl = []
        strat = [[cpl[0], rng.randint(1, 9), rng.randint(0, 5)]] if cpl else []
        if len(cpl) > 1 and rng.random() < 0.5:
            strat.append([cpl[1], rng.randint(1, 9), 0])
        body = {"cluster": name, "capacityProviders": cpl,
                "defaultCapacityProviderStrategy": [{"capacityProvider": x[0], "weight": x[1], "base": x[2]} for x in strat]}

        def apply(s):
            s["clusters"][name]["cps"] = list(cpl)
            s["clusters"][name]["strategy"] = copy.deepcopy(strat)
        return "PutClusterCapacityProviders", body, apply

    def run(self, call, barrier, max_ops):
        """Issue writes until the server stops answering (the kill) or
        max_ops.  An error answer is a failure of the test."""
        self.acked = 0
        self.pending = None
        try:
            barrier.wait(30)
        except threading.BrokenBarrierError:
            self.error = "barrier broken"
            return
        for _ in range(max_ops):
            op = self.next_op()
            action, body, apply = op
            try:
                status, out, _ = call(action, body)
            except NoAnswer:
                self.pending = op
                return
            if status != 200:
                self.error = "%s %s answered %s: %s" % (action, json.dumps(body), status, out)
                return
            apply(self.state)
            self.acked += 1

    def observed(self, clusters, cps):
        """This actor's part of what the server shows."""
        return {"clusters": {n: v for n, v in clusters.items() if self.owns(n)},
                "cps": {n: v for n, v in cps.items() if self.owns(n)}}

    def reconcile(self, obs):
        """Accept obs if it is the acknowledged state, or that state with the
        unanswered call applied; adopt it.  Returns whether the unanswered
        call was applied (None if there was none)."""
        if obs == self.state:
            return False if self.pending else None
        if self.pending:
            alt = copy.deepcopy(self.state)
            self.pending[2](alt)
            if obs == alt:
                self.state = alt
                return True
        raise AssertionError("actor %s: the restarted berthd lost acknowledged state:\n%s" % (
            self.tag, state_diff(self.state, obs, self.pending)))


def state_diff(want, got, pending):
    lines = []
    if pending:
        lines.append("  (unanswered call, may or may not apply: %s %s)" % (pending[0], json.dumps(pending[1])))
    for kind in ("clusters", "cps"):
        for n in sorted(set(want[kind]) | set(got[kind])):
            w, g = want[kind].get(n), got[kind].get(n)
            if w != g:
                lines.append("  %s %s: acknowledged %s, restarted %s" % (kind, n, w, g))
    return "\n".join(lines[:40])


def describe_clusters(port, names):
    """name -> the normalized view the actors predict (status, tags,
    containerInsights, providers, default strategy)."""
    cli = RawClient(port)
    out = {}
    names = sorted(names)
    for i in range(0, len(names), 100):
        status, body, _ = cli.call("DescribeClusters", {"clusters": names[i:i + 100], "include": ["TAGS", "SETTINGS"]})
        assert status == 200, body
        for c in body["clusters"]:
            out[c["clusterName"]] = {
                "status": c["status"],
                "tags": {t["key"]: t["value"] for t in c.get("tags", [])},
                "insights": {s["name"]: s["value"] for s in c["settings"]}["containerInsights"],
                "cps": c["capacityProviders"],
                "strategy": [[s["capacityProvider"], s["weight"], s["base"]] for s in c["defaultCapacityProviderStrategy"]],
            }
    cli.close()
    return out


def list_all(port, action, key, body=None):
    cli = RawClient(port)
    items, token = [], None
    for _ in range(10000):
        req = dict(body or {})
        if token:
            req["nextToken"] = token
        status, out, _ = cli.call(action, req)
        assert status == 200, out
        items.extend(out[key])
        token = out.get("nextToken")
        if not token:
            break
    cli.close()
    return items


def all_cps(port):
    """Every stored capacity provider, by the unnamed (paginated) describe."""
    out = {}
    for cp in list_all(port, "DescribeCapacityProviders", "capacityProviders", {"include": ["TAGS"], "maxResults": 10}):
        if cp["name"] in ("FARGATE", "FARGATE_SPOT"):
            continue
        out[cp["name"]] = {"status": cp["status"], "tags": {t["key"]: t["value"] for t in cp.get("tags", [])}}
    return out


# ---- kill -9 under write load ----

@fresh
def test_kill9_under_write_load_loses_no_acknowledged_write(b):
    rng = random.Random(SEED)
    kinds = ["raw"] * 8 + ["boto3"] * 2
    actors = [Actor("t%d" % i, k, rng.randrange(2**31)) for i, k in enumerate(kinds)]
    print("kill9: seed %d (BERTH_SEED to replay)" % SEED, flush=True)
    for rnd in range(1, 4):
        clients = []
        calls = []
        for a in actors:
            if a.kind == "raw":
                c = RawClient(b.port)
                clients.append(c)
                calls.append(raw_call(c))
            else:
                calls.append(boto_call(boto_client(b.port)))
        barrier = threading.Barrier(len(actors) + 1)
        threads = [threading.Thread(target=a.run, args=(call, barrier, 200000), daemon=True)
                   for a, call in zip(actors, calls)]
        for t in threads:
            t.start()
        barrier.wait(30)
        delay = rng.uniform(0.5, 1.5)
        time.sleep(delay)  # the deliberate random point of the kill
        b.proc.send_signal(signal.SIGKILL)
        b.proc.wait()
        for t in threads:
            t.join(20)
            assert not t.is_alive(), "a client thread did not notice the kill"
        for c in clients:
            c.close()
        errors = [a.error for a in actors if a.error]
        assert not errors, "calls failed under load (before the kill):\n" + "\n".join(errors)
        acked = sum(a.acked for a in actors)
        assert acked >= 20, "only %d writes acknowledged in %.2f s: berthd is not taking load" % (acked, delay)

        b.start()
        clusters_listed = {arn.split("/", 1)[1] for arn in list_all(b.port, "ListClusters", "clusterArns", {"maxResults": 100})}
        known = set()
        for a in actors:
            known |= set(a.state["clusters"])
            if a.pending and a.pending[0] == "CreateCluster":
                known.add(a.pending[1]["clusterName"])
        stray = clusters_listed - known
        assert not stray, "clusters nobody created: %s" % sorted(stray)[:10]
        clusters = describe_clusters(b.port, known)
        cps = all_cps(b.port)
        known_cps = set()
        for a in actors:
            known_cps |= set(a.state["cps"])
            if a.pending and a.pending[0] == "CreateCapacityProvider":
                known_cps.add(a.pending[1]["name"])
        stray = set(cps) - known_cps
        assert not stray, "capacity providers nobody created: %s" % sorted(stray)[:10]
        applied = [a.reconcile(a.observed(clusters, cps)) for a in actors]
        active = {n for a in actors for n, c in a.state["clusters"].items() if c["status"] == "ACTIVE"}
        assert clusters_listed == active, "ListClusters after restart differs from the ACTIVE clusters: missing %s, extra %s" % (
            sorted(active - clusters_listed)[:10], sorted(clusters_listed - active)[:10])
        n_clusters = sum(len(a.state["clusters"]) for a in actors)
        n_cps = sum(len(a.state["cps"]) for a in actors)
        n_tags = sum(len(r["tags"]) for a in actors for kind in ("clusters", "cps") for r in a.state[kind].values())
        print("kill9 round %d: killed after %.2f s; %d acknowledged writes this round (%s) all found; "
              "unanswered calls applied/not: %d/%d; state checked: %d clusters, %d capacity providers, %d tags"
              % (rnd, delay, acked, ", ".join("%s %s %d" % (a.tag, a.kind, a.acked) for a in actors),
                 applied.count(True), applied.count(False), n_clusters, n_cps, n_tags), flush=True)
    assert b.stop() == 0, "berthd exited non-zero on SIGTERM:\n" + b.log()
    sanitizer_clean(b)


# ---- SIGTERM restart keeps every optional block ----

INCLUDE_ALL = ["ATTACHMENTS", "CONFIGURATIONS", "SETTINGS", "STATISTICS", "TAGS"]


def snapshot(b):
    """Everything the API shows, through boto3, in both regions."""
    snap = {}
    for region in (REGION, "us-west-2"):
        ecs = boto_client_region(b.port, region)
        arns = []
        for page in ecs.get_paginator("list_clusters").paginate(PaginationConfig={"PageSize": 2}):
            arns.extend(page["clusterArns"])
        names = sorted(FULL_CLUSTERS.get(region, []))
        d = ecs.describe_clusters(clusters=names, include=INCLUDE_ALL)
        cps = []
        token = None
        while True:
            kw = {"include": ["TAGS"], "maxResults": 3}
            if token:
                kw["nextToken"] = token
            page = ecs.describe_capacity_providers(**kw)
            cps.extend(page["capacityProviders"])
            token = page.get("nextToken")
            if not token:
                break
        tags = {}
        for c in d["clusters"]:
            if c["status"] != "INACTIVE":
                tags[c["clusterArn"]] = ecs.list_tags_for_resource(resourceArn=c["clusterArn"])["tags"]
        for cp in cps:
            if cp["status"] != "INACTIVE" and cp["name"] not in ("FARGATE", "FARGATE_SPOT"):
                tags[cp["capacityProviderArn"]] = ecs.list_tags_for_resource(resourceArn=cp["capacityProviderArn"])["tags"]
        snap[region] = {"list": sorted(arns), "clusters": d["clusters"], "failures": d["failures"],
                        "cps": cps, "tags": tags, "default": ecs.describe_clusters()["clusters"]}
    return snap


def boto_client_region(port, region):
    return boto3.session.Session().client(
        "ecs", endpoint_url="http://127.0.0.1:%d" % port, region_name=region,
        aws_access_key_id="test", aws_secret_access_key="test",
        config=botocore.config.Config(retries={"total_max_attempts": 1, "mode": "standard"}))


FULL_CLUSTERS = {REGION: ["full", "updated", "deleted", "fargate", "df", "default", "plain"], "us-west-2": ["west"]}


def asg(name, **kw):
    p = {"autoScalingGroupArn": "arn:aws:autoscaling:us-east-1:%s:autoScalingGroup:0f1e:autoScalingGroupName/%s" % (ACCOUNT, name)}
    p.update(kw)
    return p


def diff_paths(a, b, path="$"):
    if type(a) is not type(b):
        return ["%s: %r != %r" % (path, a, b)]
    if isinstance(a, dict):
        out = []
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                out.append("%s.%s: only %s" % (path, k, "before" if k in a else "after"))
            else:
                out += diff_paths(a[k], b[k], "%s.%s" % (path, k))
        return out
    if isinstance(a, list):
        if len(a) != len(b):
            return ["%s: %d items != %d items" % (path, len(a), len(b))]
        out = []
        for i, (x, y) in enumerate(zip(a, b)):
            out += diff_paths(x, y, "%s[%d]" % (path, i))
        return out
    return [] if a == b else ["%s: %r != %r" % (path, a, b)]


@berthd_args("--transition-ms", "600000")
def test_sigterm_restart_keeps_every_optional_block(b):
    ecs = b.ecs
    ecs.create_capacity_provider(
        name="cp-ms", tags=[{"key": "team", "value": "a"}, {"key": "env", "value": "prod"}],
        autoScalingGroupProvider=asg("g-ms", managedScaling={
            "status": "ENABLED", "targetCapacity": 80, "minimumScalingStepSize": 2,
            "maximumScalingStepSize": 50, "instanceWarmupPeriod": 120},
            managedTerminationProtection="ENABLED", managedDraining="ENABLED"))
    ecs.create_capacity_provider(name="cp-upd", autoScalingGroupProvider=asg("g-upd", managedDraining="DISABLED"),
                                 tags=[{"key": "x", "value": ""}])
    ecs.update_capacity_provider(name="cp-upd", autoScalingGroupProvider={
        "managedScaling": {"status": "ENABLED", "targetCapacity": 55, "instanceWarmupPeriod": 30},
        "managedDraining": "ENABLED"})
    ecs.create_capacity_provider(name="cp-df", autoScalingGroupProvider={"autoScalingGroupArn": "plain-group-name"})
    ecs.create_capacity_provider(name="cp-del", autoScalingGroupProvider=asg("g-del"))
    ecs.create_capacity_provider(name="cp-plain", autoScalingGroupProvider=asg("g-plain"))
    ecs.delete_capacity_provider(capacityProvider="cp-del")
    ecs.create_cluster(
        clusterName="full", tags=[{"key": "k", "value": "v"}, {"key": "owner", "value": "ops"}],
        settings=[{"name": "containerInsights", "value": "enhanced"}],
        configuration={"executeCommandConfiguration": {
            "kmsKeyId": "kms-1", "logging": "OVERRIDE", "logConfiguration": {
                "cloudWatchLogGroupName": "lg", "cloudWatchEncryptionEnabled": True, "s3BucketName": "bkt",
                "s3EncryptionEnabled": False, "s3KeyPrefix": "p/"}},
            "managedStorageConfiguration": {"kmsKeyId": "k2", "fargateEphemeralStorageKmsKeyId": "k3"}},
        capacityProviders=["cp-ms", "cp-plain"],
        defaultCapacityProviderStrategy=[{"capacityProvider": "cp-ms", "weight": 2, "base": 1},
                                         {"capacityProvider": "cp-plain", "weight": 3}],
        serviceConnectDefaults={"namespace": "ns1"})
    ecs.create_cluster(clusterName="df", capacityProviders=["cp-df"])
    dfail = ecs.delete_capacity_provider(capacityProvider="cp-df")["capacityProvider"]
    assert dfail["updateStatus"] == "DELETE_FAILED", dfail
    ecs.create_cluster(clusterName="updated", tags=[{"key": "a", "value": "1"}, {"key": "b", "value": "2"}])
    ecs.update_cluster(cluster="updated", settings=[{"name": "containerInsights", "value": "enabled"}],
                       configuration={"executeCommandConfiguration": {"logging": "DEFAULT"}},
                       serviceConnectDefaults={"namespace": "arn:aws:servicediscovery:us-east-1:%s:namespace/ns-abc" % ACCOUNT})
    ecs.tag_resource(resourceArn=cluster_arn("updated"), tags=[{"key": "c", "value": "3"}, {"key": "a", "value": "one"}])
    ecs.untag_resource(resourceArn=cluster_arn("updated"), tagKeys=["b"])
    ecs.tag_resource(resourceArn=cp_arn("cp-plain"), tags=[{"key": "late", "value": "tag"}])
    ecs.create_cluster(clusterName="deleted", tags=[{"key": "gone", "value": "yes"}],
                       settings=[{"name": "containerInsights", "value": "enabled"}])
    ecs.delete_cluster(cluster="deleted")
    ecs.create_cluster(clusterName="fargate", capacityProviders=["FARGATE", "FARGATE_SPOT"],
                       defaultCapacityProviderStrategy=[{"capacityProvider": "FARGATE", "base": 2, "weight": 1},
                                                        {"capacityProvider": "FARGATE_SPOT", "weight": 4}])
    ecs.create_cluster()  # the default cluster
    ecs.create_cluster(clusterName="plain")
    boto_client_region(b.port, "us-west-2").create_cluster(clusterName="west", tags=[{"key": "r", "value": "w"}])

    before = snapshot(b)
    # The interesting states are the pending ones: check they are there.
    full = [c for c in before[REGION]["clusters"] if c["clusterName"] == "full"][0]
    assert full["status"] == "PROVISIONING" and full["attachmentsStatus"] == "UPDATE_IN_PROGRESS", full
    assert {a["status"] for a in full["attachments"]} == {"PRECREATED"} and len(full["attachments"]) == 3, full
    cps = {c["name"]: c for c in before[REGION]["cps"]}
    assert cps["cp-upd"]["updateStatus"] == "UPDATE_IN_PROGRESS", cps["cp-upd"]
    assert cps["cp-df"]["updateStatus"] == "DELETE_FAILED" and "df" in cps["cp-df"]["updateStatusReason"]
    assert cps["cp-del"]["updateStatus"] == "DELETE_IN_PROGRESS", cps["cp-del"]

    assert b.stop() == 0, b.log()
    b.start()
    after = snapshot(b)
    d = diff_paths(before, after)
    assert not d, "describe outputs changed across a SIGTERM restart:\n" + "\n".join(d[:40])

    # Once more, to be sure the reload wrote back nothing different.
    assert b.stop() == 0, b.log()
    b.start()
    d = diff_paths(before, snapshot(b))
    assert not d, "describe outputs changed across a second restart:\n" + "\n".join(d[:40])
    assert b.stop() == 0
    sanitizer_clean(b)


def test_pending_transitions_complete_after_restart(_shared):
    """The parts of pending states describe does not show (the deadline,
    the update's new values) are stored too: they complete after a
    restart.  The restart may land before or after the deadline; either
    way the end state must be the completed one."""
    b = Berth("--transition-ms", "1500")
    try:
        b.start()
        ecs = b.ecs
        # cp-ms's group must exist, or the association fails (the cluster
        # would end FAILED); no instances, MaxSize 0
        asc = b.client("autoscaling")
        asc.create_launch_configuration(LaunchConfigurationName="lc-ms", ImageId="ami-12345678",
                                        InstanceType="m5.large")
        asc.create_auto_scaling_group(AutoScalingGroupName="g-ms", LaunchConfigurationName="lc-ms", MinSize=0,
                                      MaxSize=0, DesiredCapacity=0, AvailabilityZones=["us-east-1a"])
        ecs.create_capacity_provider(name="cp-upd", autoScalingGroupProvider=asg("g-upd", managedDraining="DISABLED"))
        ecs.create_capacity_provider(name="cp-ms", autoScalingGroupProvider=asg("g-ms", managedScaling={"status": "ENABLED"}))
        ecs.create_cluster(clusterName="prov", capacityProviders=["cp-ms"])
        ecs.update_capacity_provider(name="cp-upd", autoScalingGroupProvider={
            "managedScaling": {"status": "ENABLED", "targetCapacity": 55, "instanceWarmupPeriod": 30},
            "managedDraining": "ENABLED"})
        pending = ecs.describe_capacity_providers(capacityProviders=["cp-upd"])["capacityProviders"][0].get("updateStatus")
        assert b.stop() == 0, b.log()
        b.start()

        def settled():
            cl = b.ecs.describe_clusters(clusters=["prov"], include=["ATTACHMENTS"])["clusters"][0]
            cp = b.ecs.describe_capacity_providers(capacityProviders=["cp-upd"])["capacityProviders"][0]
            return (cl["status"] == "ACTIVE" and cl["attachmentsStatus"] == "UPDATE_COMPLETE"
                    and cp.get("updateStatus") == "UPDATE_COMPLETE") and (cl, cp)
        cl, cp = wait_until(settled, timeout=15, interval=0.05, what="pending transitions to complete after the restart")
        assert {a["status"] for a in cl["attachments"]} == {"CREATED"} and len(cl["attachments"]) == 2, cl
        pols = b.client("autoscaling").describe_policies(AutoScalingGroupName="g-ms")["ScalingPolicies"]
        assert [p["PolicyType"] for p in pols] == ["TargetTrackingScaling"], pols
        upd = cp["autoScalingGroupProvider"]
        assert upd["managedScaling"] == {"status": "ENABLED", "targetCapacity": 55, "minimumScalingStepSize": 1,
                                         "maximumScalingStepSize": 10000, "instanceWarmupPeriod": 30}, upd
        assert upd["managedDraining"] == "ENABLED", upd
        print("pending transitions: stopped with cp-upd %s; completed after the restart" % pending, flush=True)
        assert b.stop() == 0
        sanitizer_clean(b)
    finally:
        b.close()


# ---- SIGTERM with requests in flight ----

@fresh
def test_sigterm_with_requests_in_flight(b):
    port = b.port
    lock = threading.Lock()
    outcomes = {"200": 0, "503": 0, "none": 0}
    bad = []
    acked_creates = []
    stop_clients = threading.Event()

    def record(status, body, headers, action, req):
        if status == 200:
            with lock:
                outcomes["200"] += 1
                if action == "CreateCluster":
                    acked_creates.append(req["clusterName"])
            return
        if status == 503 and isinstance(body, dict) and body.get("__type") == "ServiceUnavailableException" \
                and body.get("message") and headers.get("x-amzn-requestid"):
            with lock:
                outcomes["503"] += 1
            return
        with lock:
            bad.append("%s answered %s %r %r" % (action, status, body, headers))

    def raw_worker(i):
        cli = RawClient(port, timeout=15)
        for n in range(100000):
            if n % 3 == 2:
                action, req = "DescribeClusters", {"clusters": ["inflight-%d-%d" % (i, n - 1)]}
            else:
                action, req = "CreateCluster", {"clusterName": "inflight-%d-%d" % (i, n), "tags": [{"key": "n", "value": str(n)}]}
            try:
                status, body, headers = cli.call(action, req)
            except NoAnswer as e:
                with lock:
                    outcomes["none"] += 1
                if "Refused" in str(e) or stop_clients.is_set():
                    return
                continue
            record(status, body, headers, action, req)

    def boto_worker(i):
        ecs = boto_client(port)
        for n in range(100000):
            name = "inflight-b%d-%d" % (i, n)
            try:
                ecs.create_cluster(clusterName=name)
            except botocore.exceptions.ClientError as e:
                hdrs = e.response["ResponseMetadata"].get("HTTPHeaders", {})
                record(e.response["ResponseMetadata"]["HTTPStatusCode"],
                       {"__type": e.response["Error"]["Code"], "message": e.response["Error"]["Message"]},
                       {"x-amzn-requestid": hdrs.get("x-amzn-requestid")}, "CreateCluster", {"clusterName": name})
                continue
            except botocore.exceptions.BotoCoreError as e:
                with lock:
                    outcomes["none"] += 1
                if isinstance(e, botocore.exceptions.EndpointConnectionError) or stop_clients.is_set():
                    return
                continue
            record(200, {}, {}, "CreateCluster", {"clusterName": name})

    threads = [threading.Thread(target=raw_worker, args=(i,), daemon=True) for i in range(6)]
    threads += [threading.Thread(target=boto_worker, args=(i,), daemon=True) for i in range(2)]
    for t in threads:
        t.start()
    # A request whose body is still arriving when SIGTERM lands.
    slow = socket.create_connection(("127.0.0.1", port), timeout=15)
    body = json.dumps({"clusterName": "slow-one"}).encode()
    slow.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: " + (PREFIX + "CreateCluster").encode() +
                 b"\r\nContent-Type: application/x-amz-json-1.1\r\nContent-Length: %d\r\n\r\n" % len(body) + body[:5])
    wait_until(lambda: outcomes["200"] >= 300, timeout=30, what="load to build up")
    t0 = time.time()
    b.proc.send_signal(signal.SIGTERM)
    slow.sendall(body[5:])
    reply = b""
    try:
        while True:
            chunk = slow.recv(65536)
            if not chunk:
                break
            reply += chunk
            if b"\r\n\r\n" in reply:
                head, rest = reply.split(b"\r\n\r\n", 1)
                cl = [int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")]
                if cl and len(rest) >= cl[0]:
                    break
    except OSError:
        pass
    slow.close()
    try:
        rc = b.proc.wait(8)
    except subprocess.TimeoutExpired:
        raise AssertionError("berthd still running 8 s after SIGTERM with requests in flight")
    took = time.time() - t0
    stop_clients.set()
    for t in threads:
        t.join(30)
        assert not t.is_alive(), "a client is stuck after berthd exited"
    assert rc == 0, "berthd exited %s on SIGTERM:\n%s" % (rc, b.log())
    assert took < 5, "berthd took %.1f s to stop" % took
    assert not bad, "answers that are neither 200 nor an AWS-shaped 503:\n" + "\n".join(bad[:10])
    if reply:
        status = int(reply.split(b" ", 2)[1])
        payload = json.loads(reply.split(b"\r\n\r\n", 1)[1])
        assert status == 200 or (status == 503 and payload["__type"] == "ServiceUnavailableException"), reply
    sanitizer_clean(b)
    print("sigterm in flight: stopped in %.2f s; answers 200: %d, 503: %d, no answer: %d; slow request: %s"
          % (took, outcomes["200"], outcomes["503"], outcomes["none"],
             reply.split(b"\r\n", 1)[0].decode() if reply else "connection closed"), flush=True)
    # What was acknowledged before the stop is there after it.
    b.start()
    found = describe_clusters(b.port, acked_creates)
    missing = sorted(set(acked_creates) - set(found))
    assert not missing, "acknowledged creates lost across SIGTERM: %s" % missing[:10]
    assert b.stop() == 0


# ---- a store that cannot be opened ----

def run_berthd(data_dir, as_nobody=False, timeout=30, listen="127.0.0.1:0"):
    cmd = [harness.BERTHD, "--listen", listen, "--data-dir", data_dir]
    if as_nobody:
        cmd = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] + cmd
    try:
        p = subprocess.run(cmd, capture_output=True, encoding="utf-8", errors="replace", timeout=timeout)
    except subprocess.TimeoutExpired:
        raise AssertionError("berthd started on an unusable store %s instead of refusing it" % data_dir)
    return p.returncode, p.stdout + p.stderr


def expect_refused(data_dir, words, as_nobody=False, listen="127.0.0.1:0"):
    rc, out = run_berthd(data_dir, as_nobody, listen=listen)
    assert rc > 0, "berthd exited %s (a signal is negative) on store %s:\n%s" % (rc, data_dir, out)
    assert "listening on" not in out, out
    for mark in SANITIZER_MARKS:
        assert mark not in out, out
    for w in words:
        assert w in out, "expected %r in berthd's message, got:\n%s" % (w, out)


def test_store_that_cannot_be_opened_is_refused(_shared):
    top = tempfile.mkdtemp(prefix="berth-badstore-")
    try:
        os.chmod(top, 0o755)
        afile = os.path.join(top, "afile")
        open(afile, "w").close()
        expect_refused(afile, ["cannot open the store", afile])
        expect_refused(os.path.join(afile, "sub"), ["cannot create data directory", "Not a directory"])
        # Garbage where the database should be.
        junk = os.path.join(top, "junk")
        os.mkdir(junk)
        with open(os.path.join(junk, "berth.db"), "wb") as f:
            f.write(b"this is not an SQLite database" * 100)
        expect_refused(junk, ["cannot open the store", "not a database"])
        # A record that is not JSON: loading stops with the record named.
        bad = os.path.join(top, "badrec")
        os.mkdir(bad)
        b = Berth(data_dir=bad).start()
        b.ecs.create_cluster(clusterName="fine")
        assert b.stop() == 0
        db = sqlite3.connect(os.path.join(bad, "berth.db"))
        db.execute("INSERT INTO records(kind, id, rev, body) VALUES('cluster', 'us-east-1/broken', 1, '{not json')")
        db.commit()
        db.close()
        expect_refused(bad, ["us-east-1/broken", "not JSON"])
        # Unwritable: an empty directory, and an existing store, berthd may
        # not write to.  As root that needs another user.
        ro = os.path.join(top, "ro")
        os.mkdir(ro)
        os.chmod(ro, 0o555)
        existing = os.path.join(top, "existing")
        os.mkdir(existing)
        b = Berth(data_dir=existing).start()
        b.ecs.create_cluster(clusterName="kept")
        assert b.stop() == 0
        os.remove(b.log_path)
        for f in os.listdir(existing):
            os.chmod(os.path.join(existing, f), 0o444)
        os.chmod(existing, 0o555)
        nobody = os.geteuid() == 0
        expect_refused(ro, ["cannot open the store", "Permission denied"], as_nobody=nobody)
        expect_refused(existing, ["cannot open the store", "readonly"], as_nobody=nobody)
    finally:
        for dirpath, dirnames, _ in os.walk(top):
            for d in dirnames:
                os.chmod(os.path.join(dirpath, d), 0o755)
        shutil.rmtree(top, ignore_errors=True)


def test_second_berthd_on_the_same_store_or_port_is_refused(b):
    """Each berthd keeps the whole model in memory: a second one on the same
    store would acknowledge writes the first then overwrites, and a second
    one on the same port would silently take half of the connections."""
    b.ecs.create_cluster(clusterName="first")
    expect_refused(b.data_dir, ["cannot open the store", "in use by another berthd", "pid %d" % b.proc.pid])
    other = tempfile.mkdtemp(prefix="berth-second-")
    try:
        expect_refused(other, ["cannot listen on 127.0.0.1:%d" % b.port], listen="127.0.0.1:%d" % b.port)
    finally:
        shutil.rmtree(other, ignore_errors=True)
    # The first is untouched, and every connection still reaches it.
    for _ in range(20):
        assert "arn:aws:ecs:%s:%s:cluster/first" % (REGION, ACCOUNT) in RawClient(b.port).call("ListClusters", {})[1]["clusterArns"]


# ---- a large store ----

@fresh
def test_startup_with_large_store(b):
    n_threads, per = 5, 400
    errors = []

    def create(i):
        cli = RawClient(b.port)
        for k in range(per):
            name = "big-%d-%04d" % (i, k)
            status, body, _ = cli.call("CreateCluster", {"clusterName": name, "tags": [{"key": "i", "value": name}]})
            if status != 200:
                errors.append(body)
                return
        cli.close()
    threads = [threading.Thread(target=create, args=(i,)) for i in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors[:3]
    want = {"big-%d-%04d" % (i, k) for i in range(n_threads) for k in range(per)}
    assert len(want) == 2000
    assert b.stop() == 0
    b.start()
    assert "2000 clusters, 0 capacity providers" in b.log(), b.log()
    arns = []
    pages = 0
    for page in b.ecs.get_paginator("list_clusters").paginate(PaginationConfig={"PageSize": 100}):
        arns.extend(page["clusterArns"])
        pages += 1
    assert pages == 20, pages
    assert len(arns) == len(set(arns)) == 2000, len(arns)
    assert {a.split("/", 1)[1] for a in arns} == want
    got = describe_clusters(b.port, want)
    assert set(got) == want
    bad = [n for n, c in got.items() if c["status"] != "ACTIVE" or c["tags"] != {"i": n}]
    assert not bad, bad[:5]
    assert b.stop() == 0
    sanitizer_clean(b)


if __name__ == "__main__":
    main(globals())
