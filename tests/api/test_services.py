"""Services end to end (ECS-SEMANTICS §4.4, §6): CreateService's shape,
defaults and validations; the scheduler that keeps runningCount at
desiredCount, with its events; the split of a service's tasks across
capacity providers by base and weight (ASG and Fargate providers);
replacement of stopped tasks, of tasks on draining instances and of
interrupted Spot tasks; service tasks that wait for a managed-scaling
provider's capacity; rolling deployments within minimumHealthyPercent
and maximumPercent; the deployment circuit breaker with and without rollback;
DAEMON services following the instances; the UpdateService rules;
DeleteService, DRAINING then INACTIVE, and the purge after retention;
DescribeServices and ListServices; ListServicesByNamespace; task protection
against scale-in; the newest 100 events; persistence across a restart and a
kill; events of a service that cannot place its tasks.  Clients are boto3 (with its waiters)
and the AWS CLI.

berthd runs with a short sim step and --healthy-grace-ms 0 (a RUNNING task
counts healthy at once) unless a test says otherwise."""
import datetime
import itertools
import json
import math
import re
import time

from harness import main, expect_error, wait_until, berthd_args, ACCOUNT, REGION

ARN = "arn:aws:ecs:%s:%s:" % (REGION, ACCOUNT)
FAST = ("--sim-step-ms", "20", "--healthy-grace-ms", "0")
FAST_WAIT = {"Delay": 1, "MaxAttempts": 30}

NOT_IDEMPOTENT = "Creation of service was not idempotent."
BOTH = "Specifying both a launch type and capacity provider strategy is not supported."
FORCE_NEEDED = ("When switching from launch type to capacity provider strategy on an existing service, "
                "or making a change to a capacity provider strategy on a service that is already using one, "
                "you must force a new deployment.")
SCALED_ABOVE_0 = "The service cannot be stopped while it is scaled above 0."
CLOSEST = ("(service %s) was unable to place a task because no container instance met all of its "
           "requirements. The closest matching (container-instance %s) has insufficient %s available. "
           "For more information, see the Troubleshooting section of the Amazon ECS Developer Guide.")
NO_INSTANCES = "(service %s) was unable to place a task. Reason: No Container Instances were found in your cluster."

_seq = itertools.count(1)


def uniq(prefix):
    return "%s-%03d" % (prefix, next(_seq))


# ---- clusters, task definitions, instances, capacity providers ----

def settled(b, clu):
    c = b.ecs.describe_clusters(clusters=[clu], include=["ATTACHMENTS"])["clusters"][0]
    return c if c["status"] == "ACTIVE" and c.get("attachmentsStatus") != "UPDATE_IN_PROGRESS" else None


def cluster(b, **kw):
    name = uniq("sc")
    b.ecs.create_cluster(clusterName=name, **kw)
    wait_until(lambda: settled(b, name), what="cluster %s settled" % name)
    return name


def taskdef(b, family=None, cpu=10, memory=10, labels=None, **kw):
    family = family or uniq("std")
    c = {"name": "app", "image": "busybox", "cpu": cpu, "memory": memory, "essential": True}
    if labels:
        c["dockerLabels"] = labels
    out = b.ecs.register_task_definition(family=family, containerDefinitions=[c], **kw)
    return out["taskDefinition"]["taskDefinitionArn"], family


def dual_td(b):
    """A definition both EC2 and FARGATE accept (awsvpc)."""
    family = uniq("dual")
    out = b.ecs.register_task_definition(
        family=family, networkMode="awsvpc", requiresCompatibilities=["EC2", "FARGATE"], cpu="256",
        memory="512", containerDefinitions=[{"name": "app", "image": "busybox", "essential": True}])
    return out["taskDefinition"]["taskDefinitionArn"], family


NET = {"awsvpcConfiguration": {"subnets": ["subnet-12345678"]}}

_inst = itertools.count(1)


def instance(b, clu, cpu=8192, mem=16384, asg=None, zone="us-east-1a"):
    doc = {"instanceId": "i-%017x" % (0x5e0000 + next(_inst)), "instanceType": "m5.large",
           "availabilityZone": zone, "region": REGION, "imageId": "ami-12345678"}
    if asg:
        doc["autoScalingGroupName"] = asg
    out = b.ecs.register_container_instance(
        cluster=clu, instanceIdentityDocument=json.dumps(doc),
        totalResources=[{"name": "CPU", "type": "INTEGER", "integerValue": cpu},
                        {"name": "MEMORY", "type": "INTEGER", "integerValue": mem}])
    return out["containerInstance"]["containerInstanceArn"]


def make_group(b, group, max_size=10):
    """An Auto Scaling group without instances (DesiredCapacity 0): a cluster
    that associates a provider with managed scaling or managed draining
    needs its group, or the association fails."""
    asc = b.client("autoscaling")
    asc.create_launch_configuration(LaunchConfigurationName="lc-" + group, ImageId="ami-12345678",
                                    InstanceType="m5.large")
    asc.create_auto_scaling_group(AutoScalingGroupName=group, LaunchConfigurationName="lc-" + group,
                                  MinSize=0, MaxSize=max_size, DesiredCapacity=0, AvailabilityZones=["us-east-1a"])
    return group


def asg_provider(b):
    """An Auto Scaling group capacity provider over a group made first;
    returns (name, group)."""
    name, group = uniq("scp"), make_group(b, uniq("sasg"))
    b.ecs.create_capacity_provider(name=name, autoScalingGroupProvider={
        "autoScalingGroupArn": "arn:aws:autoscaling:%s:%s:autoScalingGroup:1:autoScalingGroupName/%s"
                               % (REGION, ACCOUNT, group)})
    return name, group


def short(arn):
    return arn.split("/")[-1]


# ---- services and their tasks ----

def create(b, clu, family, name=None, desired=1, **kw):
    name = name or uniq("svc")
    if desired is not None:
        kw["desiredCount"] = desired
    return b.ecs.create_service(cluster=clu, serviceName=name, taskDefinition=family, **kw)["service"]


def svc(b, clu, name, **kw):
    out = b.ecs.describe_services(cluster=clu, services=[name], **kw)
    assert out["failures"] == [] and len(out["services"]) == 1, out
    return out["services"][0]


def messages(s):
    return [e["message"] for e in s["events"]]


def task_arns(b, clu, name, status="RUNNING"):
    pages = b.ecs.get_paginator("list_tasks").paginate(cluster=clu, serviceName=name, desiredStatus=status)
    return [a for p in pages for a in p["taskArns"]]


def describe(b, clu, arns):
    out = []
    for i in range(0, len(arns), 100):
        out += b.ecs.describe_tasks(cluster=clu, tasks=arns[i:i + 100])["tasks"]
    return out


def live_tasks(b, clu, name):
    """The service's tasks whose desired status is RUNNING, described."""
    arns = task_arns(b, clu, name)
    return describe(b, clu, arns) if arns else []


def is_steady(s):
    d = s["deployments"]
    return (s["status"] == "ACTIVE" and len(d) == 1 and d[0]["status"] == "PRIMARY"
            and d[0].get("rolloutState") == "COMPLETED" and s["runningCount"] == s["desiredCount"]
            and s["pendingCount"] == 0)


def summary(s, tasks):
    """What a timeout reports about a service and its tasks."""
    return {"status": s["status"], "desiredCount": s["desiredCount"], "runningCount": s["runningCount"],
            "pendingCount": s["pendingCount"],
            "deployments": [(d["id"], d["status"], d.get("rolloutState"), d["desiredCount"], d["runningCount"])
                            for d in s["deployments"]],
            "tasks": sorted((short(t["taskArn"])[:8], t["lastStatus"], short(t.get("containerInstanceArn", "-"))[:8])
                            for t in tasks),
            "events": messages(s)[:3]}


def wait_settled(b, clu, name, n=None, timeout=15, where=None):
    """Wait for steady state with n tasks (default: desiredCount), every one
    RUNNING (and, given where, one on each of those instances); returns
    (service, tasks)."""
    last = [None]

    def check():
        s = svc(b, clu, name)
        ts = live_tasks(b, clu, name)
        last[0] = summary(s, ts)
        if not is_steady(s) or (n is not None and s["desiredCount"] != n):
            return None
        if len(ts) != s["desiredCount"] or any(t["lastStatus"] != "RUNNING" for t in ts):
            return None
        if where is not None and sorted(t["containerInstanceArn"] for t in ts) != sorted(where):
            return None
        return s, ts
    deadline = time.time() + timeout
    while time.time() < deadline:
        r = check()
        if r:
            return r
        time.sleep(0.05)
    raise AssertionError("service %s not settled with %s tasks%s within %ss; last: %s" % (
        name, n, " on %s" % [short(w)[:8] for w in where] if where else "", timeout, last[0]))


def by_provider(tasks):
    out = {}
    for t in tasks:
        k = t.get("capacityProviderName")
        out[k] = out.get(k, 0) + 1
    return out


def started_ids(s):
    """Task ids named by the "has started N tasks" events (checking N)."""
    ids = []
    pat = re.compile(r"^\(service %s\) has started (\d+) tasks: (.*)\.$" % re.escape(s["serviceName"]))
    for m in messages(s):
        mm = pat.match(m)
        if mm:
            got = re.findall(r"\(task ([0-9a-f]{32})\)", mm.group(2))
            assert len(got) == int(mm.group(1)), m
            assert mm.group(2) == " ".join("(task %s)" % x for x in got), m
            ids += got
    return ids


def steady_msg(name):
    return "(service %s) has reached a steady state." % name


def now_utc():
    return datetime.datetime.now(datetime.timezone.utc)


# ---- 1. CreateService ----

def test_create_service_shape_defaults_and_validation(b):
    clu = cluster(b)
    instance(b, clu)
    td, family = taskdef(b)
    before = now_utc()
    s = create(b, clu, family, name="web", desired=2)
    assert s["serviceArn"] == ARN + "service/%s/web" % clu, s
    assert s["serviceName"] == "web" and s["clusterArn"] == ARN + "cluster/" + clu, s
    assert s["status"] == "ACTIVE" and s["desiredCount"] == 2, s
    assert s["runningCount"] == 0 and s["pendingCount"] == 0, s
    assert s["taskDefinition"] == td and s["launchType"] == "EC2", s
    assert not s.get("capacityProviderStrategy"), s
    assert s["schedulingStrategy"] == "REPLICA", s
    dc = s["deploymentConfiguration"]
    assert dc["maximumPercent"] == 200 and dc["minimumHealthyPercent"] == 100, dc
    assert s["events"] == [], s
    assert s["createdAt"] >= before - datetime.timedelta(seconds=2), s
    assert len(s["deployments"]) == 1, s
    d = s["deployments"][0]
    assert re.fullmatch(r"ecs-svc/\d{19}", d["id"]), d
    assert d["status"] == "PRIMARY" and d["rolloutState"] == "IN_PROGRESS", d
    assert d["taskDefinition"] == td and d["desiredCount"] == 2, d
    assert d["runningCount"] == 0 and d["pendingCount"] == 0 and d["failedTasks"] == 0, d
    assert d["launchType"] == "EC2" and "createdAt" in d and "updatedAt" in d, d
    # the same through DescribeServices
    got = svc(b, clu, "web")
    assert got["serviceArn"] == s["serviceArn"] and got["deployments"][0]["id"] == d["id"], got
    assert svc(b, clu, s["serviceArn"])["serviceName"] == "web"

    # validations
    expect_error("InvalidParameterException", create, b, clu, family, name="web", desired=3,
                 message=NOT_IDEMPOTENT)
    expect_error("InvalidParameterException", create, b, clu, family, desired=None)
    expect_error("InvalidParameterException", create, b, clu, family, launchType="EC2",
                 capacityProviderStrategy=[{"capacityProvider": "FARGATE", "weight": 1}], message=BOTH)
    expect_error("ClientException", create, b, clu, "no-such-family-x")
    expect_error("ClusterNotFoundException", create, b, "no-such-cluster", family)

    # an idempotent clientToken
    one = create(b, clu, family, name="tok", desired=0, clientToken="svc-tok-1")
    two = create(b, clu, family, name="tok", desired=0, clientToken="svc-tok-1")
    assert one["serviceArn"] == two["serviceArn"], (one, two)
    assert one["deployments"][0]["id"] == two["deployments"][0]["id"], (one, two)
    expect_error("InvalidParameterException", create, b, clu, family, name="tok", desired=0,
                 clientToken="svc-tok-2", message=NOT_IDEMPOTENT)
    assert len(b.ecs.list_services(cluster=clu)["serviceArns"]) == 2


def test_an_empty_strategy_beside_a_launch_type_is_no_strategy(b):
    """What Terraform's aws_ecs_service sends with launch_type: ECS takes it
    as the launch type alone (it once crashed berthd)."""
    clu = cluster(b)
    instance(b, clu)
    _, family = taskdef(b)
    s = create(b, clu, family, desired=2, launchType="EC2", capacityProviderStrategy=[])
    assert s["launchType"] == "EC2" and "capacityProviderStrategy" not in s, s
    _, tasks = wait_settled(b, clu, s["serviceName"], 2)
    assert all(t["launchType"] == "EC2" for t in tasks), tasks
    run = b.ecs.run_task(cluster=clu, taskDefinition=family, launchType="EC2", capacityProviderStrategy=[])
    assert len(run["tasks"]) == 1 and run["failures"] == [], run


def test_create_service_copies_the_cluster_default_strategy(b):
    cpa, _ = asg_provider(b)
    cpb, _ = asg_provider(b)
    clu = cluster(b, capacityProviders=[cpa, cpb],
                  defaultCapacityProviderStrategy=[{"capacityProvider": cpa, "weight": 1}])
    _, family = taskdef(b)
    s = create(b, clu, family, desired=0)
    want = [{"capacityProvider": cpa, "weight": 1, "base": 0}]
    assert s["capacityProviderStrategy"] == want and "launchType" not in s, s
    assert s["deployments"][0]["capacityProviderStrategy"] == want, s["deployments"]
    # the cluster's default changes: the service keeps its copy
    b.ecs.put_cluster_capacity_providers(cluster=clu, capacityProviders=[cpa, cpb],
                                         defaultCapacityProviderStrategy=[{"capacityProvider": cpb, "weight": 1}])
    wait_until(lambda: settled(b, clu), what="cluster settled")
    assert svc(b, clu, s["serviceName"])["capacityProviderStrategy"] == want


# ---- 2. steady state ----

def test_reaches_steady_state_events_and_cluster_guards(b):
    clu = cluster(b)
    instance(b, clu)
    instance(b, clu)
    _, family = taskdef(b)
    s = create(b, clu, family, desired=3)
    name, dep = s["serviceName"], s["deployments"][0]["id"]
    s, tasks = wait_settled(b, clu, name, 3)
    assert s["runningCount"] == 3 and s["deployments"][0]["runningCount"] == 3, s
    assert s["deployments"][0]["id"] == dep, s
    rc, out, err = b.cli("ecs", "wait", "services-stable", "--cluster", clu, "--services", name)
    assert rc == 0, err
    for t in tasks:
        assert t["group"] == "service:" + name and t["startedBy"] == dep, t
        assert t["launchType"] == "EC2", t
    # events, newest first
    s = wait_until(lambda: (lambda x: steady_msg(name) in messages(x) and x)(svc(b, clu, name)),
                   what="steady-state event")
    msgs = messages(s)
    assert sorted(started_ids(s)) == sorted(short(t["taskArn"]) for t in tasks), msgs
    first_started = max(i for i, m in enumerate(msgs) if " has started " in m)
    assert msgs.index(steady_msg(name)) < first_started, msgs
    times = [e["createdAt"] for e in s["events"]]
    assert times == sorted(times, reverse=True), times
    assert all(e["id"] for e in s["events"]), s["events"]
    assert len({e["id"] for e in s["events"]}) == len(s["events"]), s["events"]
    assert "(service %s) (deployment %s) deployment completed." % (name, dep) in msgs, msgs
    # the CLI sees the same
    _, out, _ = b.cli("ecs", "describe-services", "--cluster", clu, "--services", name)
    assert out["services"][0]["runningCount"] == 3 and out["services"][0]["deployments"][0]["rolloutState"] == "COMPLETED"
    # ListTasks by service
    listed = b.ecs.list_tasks(cluster=clu, serviceName=name)["taskArns"]
    assert sorted(listed) == sorted(t["taskArn"] for t in tasks), listed
    expect_error("ServiceNotFoundException", b.ecs.list_tasks, cluster=clu, serviceName="no-such-service")
    # the cluster counts its services and will not go while it has one
    c = b.ecs.describe_clusters(clusters=[clu])["clusters"][0]
    assert c["activeServicesCount"] == 1 and c["runningTasksCount"] == 3, c
    other = cluster(b)
    s2 = create(b, other, family, desired=0)
    assert b.ecs.describe_clusters(clusters=[other])["clusters"][0]["activeServicesCount"] == 1
    expect_error("ClusterContainsServicesException", b.ecs.delete_cluster, cluster=other,
                 message="The Cluster cannot be deleted while Services are active.")
    d = b.ecs.delete_service(cluster=other, service=s2["serviceName"])["service"]
    assert d["status"] == "DRAINING", d
    b.ecs.get_waiter("services_inactive").wait(cluster=other, services=[s2["serviceName"]], WaiterConfig=FAST_WAIT)
    assert b.ecs.describe_clusters(clusters=[other])["clusters"][0]["activeServicesCount"] == 0
    assert b.ecs.delete_cluster(cluster=other)["cluster"]["status"] == "INACTIVE"


# ---- 3. capacity providers, base and weight ----

def test_scale_across_two_capacity_providers_with_a_base(b):
    cpa, ga = asg_provider(b)
    cpb, gb = asg_provider(b)
    clu = cluster(b, capacityProviders=[cpa, cpb])
    ia = instance(b, clu, cpu=100000, mem=100000, asg=ga)
    ib = instance(b, clu, cpu=100000, mem=100000, asg=gb)
    ci = b.ecs.describe_container_instances(cluster=clu, containerInstances=[ia, ib])["containerInstances"]
    assert {c["containerInstanceArn"]: c.get("capacityProviderName") for c in ci} == {ia: cpa, ib: cpb}, ci
    _, family = taskdef(b)
    strategy = [{"capacityProvider": cpa, "base": 2, "weight": 1}, {"capacityProvider": cpb, "weight": 3}]
    s = create(b, clu, family, desired=10, capacityProviderStrategy=strategy)
    assert "launchType" not in s, s
    assert s["capacityProviderStrategy"] == [dict(strategy[0]), dict(strategy[1], base=0)], s
    name, dep = s["serviceName"], s["deployments"][0]["id"]
    _, tasks = wait_settled(b, clu, name, 10)
    assert by_provider(tasks) == {cpa: 4, cpb: 6}, by_provider(tasks)
    on = {t["capacityProviderName"]: t["containerInstanceArn"] for t in tasks}
    assert on == {cpa: ia, cpb: ib}, on
    # D=4: A base 2, 2 left split 1:3 = .5/1.5 -> 0/1, the leftover tie goes to the first listed
    b.ecs.update_service(cluster=clu, service=name, desiredCount=4)
    _, tasks = wait_settled(b, clu, name, 4)
    assert by_provider(tasks) == {cpa: 3, cpb: 1}, by_provider(tasks)
    stopped = describe(b, clu, task_arns(b, clu, name, "STOPPED"))
    assert len(stopped) == 6, stopped
    for t in stopped:
        assert t["stopCode"] == "ServiceSchedulerInitiated", t
        assert t["stoppedReason"] == "Scaling activity initiated by (deployment %s)" % dep, t
    s = svc(b, clu, name)
    assert any(re.match(r"^\(service %s\) has stopped 6 running tasks: " % name, m) for m in messages(s)), messages(s)
    # D=7: A base 2, 5 left -> 1.25/3.75 -> 1/3, leftover to B (.75) -> A=3, B=4
    b.ecs.update_service(cluster=clu, service=name, desiredCount=7)
    _, tasks = wait_settled(b, clu, name, 7)
    assert by_provider(tasks) == {cpa: 3, cpb: 4}, by_provider(tasks)
    # D=1: the base absorbs everything
    b.ecs.update_service(cluster=clu, service=name, desiredCount=1)
    _, tasks = wait_settled(b, clu, name, 1)
    assert by_provider(tasks) == {cpa: 1}, by_provider(tasks)


def test_fargate_service_split(b):
    clu = cluster(b, capacityProviders=["FARGATE", "FARGATE_SPOT"])
    family = b.ecs.register_task_definition(
        family=uniq("fg"), networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256", memory="512",
        containerDefinitions=[{"name": "app", "image": "busybox", "essential": True}])["taskDefinition"]["family"]
    strategy = [{"capacityProvider": "FARGATE", "base": 1, "weight": 1},
                {"capacityProvider": "FARGATE_SPOT", "weight": 4}]
    expect_error("InvalidParameterException", create, b, clu, family, desired=2, capacityProviderStrategy=strategy)
    s = create(b, clu, family, desired=10, capacityProviderStrategy=strategy, networkConfiguration=NET)
    assert s["platformVersion"] == "LATEST" and s["networkConfiguration"]["awsvpcConfiguration"]["subnets"] == \
        ["subnet-12345678"], s
    _, tasks = wait_settled(b, clu, s["serviceName"], 10)
    # D=10: base 1, 9 left split 1:4 = 1.8/7.2 -> 1/7, the leftover to FARGATE (.8)
    assert by_provider(tasks) == {"FARGATE": 3, "FARGATE_SPOT": 7}, by_provider(tasks)
    assert all(t["launchType"] == "FARGATE" and t["group"] == "service:" + s["serviceName"] for t in tasks), tasks


@berthd_args("--spot-warning-s", "1", *FAST)
def test_spot_interruption_replaced_on_spot(b):
    clu = cluster(b, capacityProviders=["FARGATE", "FARGATE_SPOT"])
    family = b.ecs.register_task_definition(
        family=uniq("fg"), networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256", memory="512",
        containerDefinitions=[{"name": "app", "image": "busybox", "essential": True}])["taskDefinition"]["family"]
    name = create(b, clu, family, desired=2, networkConfiguration=NET,
                  capacityProviderStrategy=[{"capacityProvider": "FARGATE_SPOT", "weight": 1}])["serviceName"]
    _, tasks = wait_settled(b, clu, name, 2)
    victim = tasks[0]["taskArn"]
    status, _, ans = b.raw(None, json.dumps({"cluster": clu, "tasks": [victim]}),
                           headers={"X-Amz-Target": "BerthExtensions_v1.InterruptSpotTasks"})
    assert status == 200, (status, ans)
    _, now = wait_settled(b, clu, name, 2)
    assert victim not in [t["taskArn"] for t in now], now
    assert by_provider(now) == {"FARGATE_SPOT": 2}, by_provider(now)
    t = wait_until(lambda: (lambda t: t["lastStatus"] == "STOPPED" and t)(describe(b, clu, [victim])[0]),
                   what="the interrupted task STOPPED")
    assert t["stopCode"] == "SpotInterruption", t


@berthd_args("--capacity-wait-s", "30", *FAST)
def test_managed_scaling_service_tasks_wait_for_capacity(b):
    # MaxSize 0: managed scaling (one evaluation a minute) cannot launch
    # instances of its own; the test registers the capacity by hand
    name_cp, group = uniq("scp"), make_group(b, uniq("sasg"), max_size=0)
    b.ecs.create_capacity_provider(name=name_cp, autoScalingGroupProvider={
        "autoScalingGroupArn": "arn:aws:autoscaling:%s:%s:autoScalingGroup:1:autoScalingGroupName/%s"
                               % (REGION, ACCOUNT, group),
        "managedScaling": {"status": "ENABLED", "targetCapacity": 100}})
    clu = cluster(b, capacityProviders=[name_cp],
                  defaultCapacityProviderStrategy=[{"capacityProvider": name_cp, "weight": 1}])
    _, family = taskdef(b)
    name = create(b, clu, family, desired=2)["serviceName"]
    waiting = wait_until(lambda: (lambda ts: len(ts) == 2 and ts)(live_tasks(b, clu, name)),
                         what="two PROVISIONING tasks")
    assert all(t["lastStatus"] == "PROVISIONING" and t["capacityProviderName"] == name_cp for t in waiting), waiting
    s = svc(b, clu, name)
    assert s["runningCount"] == 0, s
    ia = instance(b, clu, asg=group)
    _, tasks = wait_settled(b, clu, name, 2, where=[ia, ia])
    assert sorted(t["taskArn"] for t in tasks) == sorted(t["taskArn"] for t in waiting), tasks


# ---- 4. replacement ----

def test_a_stopped_task_is_replaced(b):
    clu = cluster(b)
    instance(b, clu)
    _, family = taskdef(b)
    name = create(b, clu, family, desired=2)["serviceName"]
    _, tasks = wait_settled(b, clu, name, 2)
    victim = tasks[0]["taskArn"]
    out = b.ecs.stop_task(cluster=clu, task=victim, reason="chaos")["task"]
    assert out["stopCode"] == "UserInitiated" and out["stoppedReason"] == "chaos", out
    s, now = wait_settled(b, clu, name, 2)
    assert victim not in [t["taskArn"] for t in now], now
    assert tasks[1]["taskArn"] in [t["taskArn"] for t in now], now
    new = [t for t in now if t["taskArn"] != tasks[1]["taskArn"]][0]
    assert short(new["taskArn"]) in started_ids(s), messages(s)
    t = wait_until(lambda: (lambda t: t["lastStatus"] == "STOPPED" and t)(describe(b, clu, [victim])[0]),
                   what="the stopped task STOPPED")
    assert t["stopCode"] == "UserInitiated" and t["stoppedReason"] == "chaos", t


# ---- 5. draining ----

def test_draining_instance_tasks_move(b):
    clu = cluster(b)
    ia = instance(b, clu)
    _, family = taskdef(b)
    name = create(b, clu, family, desired=2)["serviceName"]
    _, tasks = wait_settled(b, clu, name, 2)
    assert {t["containerInstanceArn"] for t in tasks} == {ia}
    ib = instance(b, clu)
    b.ecs.update_container_instances_state(cluster=clu, containerInstances=[ia], status="DRAINING")

    wait_settled(b, clu, name, 2, where=[ib, ib])
    for t in describe(b, clu, [t["taskArn"] for t in tasks]):
        assert t["lastStatus"] == "STOPPED" or t["desiredStatus"] == "STOPPED", t
    ci = b.ecs.describe_container_instances(cluster=clu, containerInstances=[ia])["containerInstances"][0]
    wait_until(lambda: b.ecs.describe_container_instances(cluster=clu, containerInstances=[ia])
               ["containerInstances"][0]["runningTasksCount"] == 0, what="drained instance empty")
    assert ci["status"] == "DRAINING", ci


# ---- 6. rolling deployments ----

def rolling(b, min_pct, max_pct, d=4):
    clu = cluster(b)
    instance(b, clu, cpu=100000, mem=100000)
    td1, family = taskdef(b)
    td2, _ = taskdef(b, family=family, cpu=11)
    s = create(b, clu, td1, desired=d, deploymentConfiguration={
        "minimumHealthyPercent": min_pct, "maximumPercent": max_pct})
    name, old = s["serviceName"], s["deployments"][0]["id"]
    dc = s["deploymentConfiguration"]
    assert dc["minimumHealthyPercent"] == min_pct and dc["maximumPercent"] == max_pct, dc
    _, tasks = wait_settled(b, clu, name, d)
    known = {t["taskArn"] for t in tasks}
    lo, hi = math.ceil(d * min_pct / 100), math.floor(d * max_pct / 100)
    up = b.ecs.update_service(cluster=clu, service=name, taskDefinition=td2)["service"]
    deps = {x["status"]: x for x in up["deployments"]}
    assert sorted(deps) == ["ACTIVE", "PRIMARY"], up["deployments"]
    assert deps["ACTIVE"]["id"] == old and deps["PRIMARY"]["taskDefinition"] == td2, up["deployments"]
    new = deps["PRIMARY"]["id"]
    assert new != old and deps["PRIMARY"]["rolloutState"] == "IN_PROGRESS", deps
    assert up["taskDefinition"] == td2, up
    lows, highs, polls, mixed = [], [], 0, 0
    deadline = time.time() + 20
    while time.time() < deadline:
        known |= set(task_arns(b, clu, name))
        snap = describe(b, clu, sorted(known))
        live = [t for t in snap if t["desiredStatus"] == "RUNNING" and t["lastStatus"] != "STOPPED"]
        healthy = [t for t in live if t["lastStatus"] == "RUNNING"]
        lows.append(len(healthy))
        highs.append(len(live))
        polls += 1
        mixed += len({t["taskDefinitionArn"] for t in live}) == 2
        assert len(healthy) >= lo, ("healthy below %d" % lo, [(short(t["taskArn"]), t["lastStatus"],
                                                                 t["taskDefinitionArn"]) for t in live])
        assert len(live) <= hi, ("running+pending above %d" % hi, [(short(t["taskArn"]), t["lastStatus"],
                                                                      t["taskDefinitionArn"]) for t in live])
        if (len(live) == d and all(t["taskDefinitionArn"] == td2 and t["lastStatus"] == "RUNNING" for t in live)
                and is_steady(svc(b, clu, name))):
            break
        time.sleep(0.005)
    s, tasks = wait_settled(b, clu, name, d, timeout=5)
    assert [x["id"] for x in s["deployments"]] == [new], s["deployments"]
    assert s["deployments"][0]["taskDefinition"] == td2 and s["deployments"][0]["rolloutState"] == "COMPLETED"
    assert all(t["taskDefinitionArn"] == td2 and t["startedBy"] == new for t in tasks), tasks
    olds = describe(b, clu, task_arns(b, clu, name, "STOPPED"))
    assert len(olds) == d, olds
    for t in olds:
        assert t["startedBy"] == old and t["stopCode"] == "ServiceSchedulerInitiated", t
        assert re.fullmatch(r"Scaling activity initiated by \(deployment ecs-svc/\d{19}\)", t["stoppedReason"]), t
    assert "(service %s) (deployment %s) deployment completed." % (name, new) in messages(s), messages(s)
    assert mixed, "no poll saw old and new tasks live together"
    return min(lows), max(highs), polls


# A slower sim step, for the polls to see the rollout's steps.
@berthd_args("--sim-step-ms", "100", "--healthy-grace-ms", "0")
def test_rolling_deployment_min50_max100(b):
    low, high, polls = rolling(b, 50, 100)
    assert low >= 2 and high <= 4 and polls > 10, (low, high, polls)


@berthd_args("--sim-step-ms", "100", "--healthy-grace-ms", "0")
def test_rolling_deployment_min100_max200(b):
    low, high, polls = rolling(b, 100, 200)
    assert low >= 4 and high > 4 and high <= 8 and polls > 10, (low, high, polls)


@berthd_args("--sim-step-ms", "20", "--healthy-grace-ms", "400")
def test_rolling_deployment_waits_for_the_healthy_grace(b):
    """minimumHealthyPercent 100: the k-th old task may stop only once k new
    ones have been RUNNING for the grace period."""
    clu = cluster(b)
    instance(b, clu, cpu=100000, mem=100000)
    td1, family = taskdef(b)
    td2, _ = taskdef(b, family=family, cpu=11)
    name = create(b, clu, td1, desired=3)["serviceName"]
    _, old = wait_settled(b, clu, name, 3)
    b.ecs.update_service(cluster=clu, service=name, taskDefinition=td2)
    _, new = wait_settled(b, clu, name, 3)
    old = describe(b, clu, [t["taskArn"] for t in old])
    assert all(t["taskDefinitionArn"] == td2 for t in new) and all(t["desiredStatus"] == "STOPPED" for t in old)
    healthy_at = sorted(t["startedAt"] + datetime.timedelta(milliseconds=400) for t in new)
    stops = sorted(t["stoppingAt"] for t in old)
    for k in range(3):
        assert stops[k] >= healthy_at[k], ("old task %d stopped before %d new ones were healthy" % (k + 1, k + 1),
                                           stops, healthy_at)


# ---- 7. circuit breaker ----

BAD = {"berth.sim.runtime": "0ms", "berth.sim.exit-code": "1"}


@berthd_args("--sim-step-ms", "20", "--healthy-grace-ms", "200")
def test_circuit_breaker_rolls_back(b):
    clu = cluster(b)
    instance(b, clu, cpu=100000, mem=100000)
    good, family = taskdef(b)
    bad, _ = taskdef(b, family=family, labels=BAD)
    s = create(b, clu, good, desired=2, deploymentConfiguration={
        "deploymentCircuitBreaker": {"enable": True, "rollback": True}})
    name, first = s["serviceName"], s["deployments"][0]["id"]
    assert s["deploymentConfiguration"]["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}, s
    _, before = wait_settled(b, clu, name, 2)
    up = b.ecs.update_service(cluster=clu, service=name, taskDefinition=bad)["service"]
    second = [x for x in up["deployments"] if x["status"] == "PRIMARY"][0]["id"]
    failed_msg = "(service %s) (deployment %s) deployment failed: tasks failed to start." % (name, second)
    back_msg = "(service %s) rolling back to deployment %s." % (name, first)
    seen_failed = []

    def rolled_back():
        s = svc(b, clu, name)
        dep = {x["id"]: x for x in s["deployments"]}
        if failed_msg in messages(s) and second in dep:
            x = dep[second]
            assert x["rolloutState"] == "FAILED" and x["status"] == "ACTIVE", x
            assert dep[first]["status"] == "PRIMARY", s["deployments"]
            seen_failed.append(x)
        return back_msg in messages(s) and s
    s = wait_until(rolled_back, timeout=20, interval=0.01, what="the rollback")
    msgs = messages(s)
    assert failed_msg in msgs, msgs
    assert msgs.index(back_msg) <= msgs.index(failed_msg), msgs
    s, tasks = wait_settled(b, clu, name, 2)
    assert [x["id"] for x in s["deployments"]] == [first], s["deployments"]
    assert s["deployments"][0]["taskDefinition"] == good and s["taskDefinition"] == good, s
    assert all(t["taskDefinitionArn"] == good for t in tasks), tasks
    failed = describe(b, clu, [a for a in task_arns(b, clu, name, "STOPPED")])
    bad_tasks = [t for t in failed if t["startedBy"] == second]
    assert len(bad_tasks) >= 10, len(bad_tasks)
    for x in seen_failed:
        assert x["failedTasks"] >= 10, x


@berthd_args("--sim-step-ms", "20", "--healthy-grace-ms", "200")
def test_circuit_breaker_without_rollback(b):
    clu = cluster(b)
    instance(b, clu, cpu=100000, mem=100000)
    good, family = taskdef(b)
    bad, _ = taskdef(b, family=family, labels=BAD)
    s = create(b, clu, good, desired=2, deploymentConfiguration={
        "deploymentCircuitBreaker": {"enable": True, "rollback": False}})
    name, first = s["serviceName"], s["deployments"][0]["id"]
    wait_settled(b, clu, name, 2)
    up = b.ecs.update_service(cluster=clu, service=name, taskDefinition=bad)["service"]
    second = [x for x in up["deployments"] if x["status"] == "PRIMARY"][0]["id"]

    def failed():
        s = svc(b, clu, name)
        p = [x for x in s["deployments"] if x["status"] == "PRIMARY"]
        return p and p[0]["rolloutState"] == "FAILED" and s
    s = wait_until(failed, timeout=20, what="the deployment to fail")
    p = [x for x in s["deployments"] if x["status"] == "PRIMARY"][0]
    assert p["id"] == second and p["taskDefinition"] == bad and p["failedTasks"] >= 10, p
    msgs = messages(s)
    assert "(service %s) (deployment %s) deployment failed: tasks failed to start." % (name, second) in msgs, msgs
    assert not any("rolling back" in m for m in msgs), msgs

    def bad_count():
        return len(b.ecs.list_tasks(cluster=clu, startedBy=second)["taskArns"]) + \
            len(b.ecs.list_tasks(cluster=clu, startedBy=second, desiredStatus="STOPPED")["taskArns"])
    n = bad_count()
    time.sleep(0.6)
    assert bad_count() == n, "a FAILED deployment launched more tasks"
    s = svc(b, clu, name)
    p = [x for x in s["deployments"] if x["status"] == "PRIMARY"][0]
    assert p["id"] == second and p["rolloutState"] == "FAILED", s["deployments"]
    assert s["runningCount"] == 2, s  # the old tasks stay (minimumHealthyPercent 100)


# ---- 8. DAEMON ----

def test_daemon_follows_instances(b):
    clu = cluster(b)
    ia, ib = instance(b, clu), instance(b, clu)
    _, family = taskdef(b)
    s = create(b, clu, family, desired=None, schedulingStrategy="DAEMON")
    assert s["schedulingStrategy"] == "DAEMON", s
    dc = s["deploymentConfiguration"]
    assert dc["maximumPercent"] == 100 and dc["minimumHealthyPercent"] == 0, dc
    name = s["serviceName"]

    def on(instances):
        return wait_settled(b, clu, name, len(instances), where=instances)
    s, _ = on([ia, ib])
    assert s["desiredCount"] == 2, s
    ic = instance(b, clu)
    s, _ = on([ia, ib, ic])
    assert s["desiredCount"] == 3
    b.ecs.deregister_container_instance(cluster=clu, containerInstance=ib, force=True)
    s, _ = on([ia, ic])
    assert s["desiredCount"] == 2
    b.ecs.update_container_instances_state(cluster=clu, containerInstances=[ia], status="DRAINING")
    s, _ = on([ic])
    assert s["desiredCount"] == 1
    expect_error("InvalidParameterException", create, b, clu, family, desired=None, schedulingStrategy="DAEMON",
                 launchType="FARGATE")


# ---- 9. UpdateService rules ----

def test_update_service_strategy_rules(b):
    cpa, _ = asg_provider(b)
    cpb, _ = asg_provider(b)
    clu = cluster(b, capacityProviders=[cpa, cpb, "FARGATE"])
    _, family = dual_td(b)
    s = create(b, clu, family, desired=0, networkConfiguration=NET,
               capacityProviderStrategy=[{"capacityProvider": cpa, "weight": 1}])
    name, first = s["serviceName"], s["deployments"][0]["id"]
    both = [{"capacityProvider": cpa, "weight": 1}, {"capacityProvider": cpb, "weight": 1}]
    expect_error("InvalidParameterException", b.ecs.update_service, cluster=clu, service=name,
                 capacityProviderStrategy=both, message=FORCE_NEEDED)
    up = b.ecs.update_service(cluster=clu, service=name, capacityProviderStrategy=both,
                              forceNewDeployment=True)["service"]
    want = [dict(x, base=0) for x in both]
    assert up["capacityProviderStrategy"] == want, up
    p = [x for x in up["deployments"] if x["status"] == "PRIMARY"][0]
    assert p["id"] != first and p["capacityProviderStrategy"] == want, up["deployments"]
    # ASG -> Fargate is refused by default, forced or not
    expect_error("InvalidParameterException", b.ecs.update_service, cluster=clu, service=name,
                 capacityProviderStrategy=[{"capacityProvider": "FARGATE", "weight": 1}], forceNewDeployment=True)
    assert svc(b, clu, name)["capacityProviderStrategy"] == want
    # launch type -> strategy needs a forced deployment too
    s2 = create(b, clu, family, desired=0, networkConfiguration=NET, launchType="EC2")
    expect_error("InvalidParameterException", b.ecs.update_service, cluster=clu, service=s2["serviceName"],
                 capacityProviderStrategy=[{"capacityProvider": cpa, "weight": 1}], message=FORCE_NEEDED)
    up = b.ecs.update_service(cluster=clu, service=s2["serviceName"], forceNewDeployment=True,
                              capacityProviderStrategy=[{"capacityProvider": cpa, "weight": 1}])["service"]
    assert up["capacityProviderStrategy"] == [{"capacityProvider": cpa, "weight": 1, "base": 0}], up
    assert "launchType" not in up, up
    # desiredCount alone makes no deployment
    up = b.ecs.update_service(cluster=clu, service=s2["serviceName"], desiredCount=0)["service"]
    assert len([x for x in up["deployments"] if x["status"] == "PRIMARY"]) == 1
    expect_error("ServiceNotFoundException", b.ecs.update_service, cluster=clu, service="no-such-service",
                 desiredCount=1, message="Service not found.")


@berthd_args("--allow-asg-fargate-switch", *FAST)
def test_update_service_asg_fargate_switch_allowed_by_flag(b):
    cpa, _ = asg_provider(b)
    clu = cluster(b, capacityProviders=[cpa, "FARGATE"])
    _, family = dual_td(b)
    s = create(b, clu, family, desired=0, networkConfiguration=NET,
               capacityProviderStrategy=[{"capacityProvider": cpa, "weight": 1}])
    name = s["serviceName"]
    fg = [{"capacityProvider": "FARGATE", "weight": 1, "base": 0}]
    expect_error("InvalidParameterException", b.ecs.update_service, cluster=clu, service=name,
                 capacityProviderStrategy=fg, message=FORCE_NEEDED)
    up = b.ecs.update_service(cluster=clu, service=name, capacityProviderStrategy=fg,
                              forceNewDeployment=True)["service"]
    assert up["capacityProviderStrategy"] == fg, up
    back = [{"capacityProvider": cpa, "weight": 1, "base": 0}]
    up = b.ecs.update_service(cluster=clu, service=name, capacityProviderStrategy=back,
                              forceNewDeployment=True)["service"]
    assert up["capacityProviderStrategy"] == back, up


# ---- 10. DeleteService ----

def test_delete_service_and_recreate(b):
    clu = cluster(b)
    instance(b, clu)
    _, family = taskdef(b)
    s = create(b, clu, family, name="gone", desired=2)
    first = s["deployments"][0]["id"]
    _, tasks = wait_settled(b, clu, "gone", 2)
    expect_error("InvalidParameterException", b.ecs.delete_service, cluster=clu, service="gone",
                 message=SCALED_ABOVE_0)
    d = b.ecs.delete_service(cluster=clu, service="gone", force=True)["service"]
    assert d["status"] == "DRAINING" and d["serviceArn"] == s["serviceArn"], d
    b.ecs.get_waiter("services_inactive").wait(cluster=clu, services=["gone"], WaiterConfig=FAST_WAIT)
    for t in describe(b, clu, [t["taskArn"] for t in tasks]):
        assert t["desiredStatus"] == "STOPPED", t
    wait_until(lambda: all(t["lastStatus"] == "STOPPED" for t in describe(b, clu, [t["taskArn"] for t in tasks])),
               what="the service's tasks stopped")
    assert b.ecs.list_services(cluster=clu)["serviceArns"] == []
    got = svc(b, clu, "gone")
    assert got["status"] == "INACTIVE", got
    assert b.ecs.describe_clusters(clusters=[clu])["clusters"][0]["activeServicesCount"] == 0
    expect_error("ServiceNotActiveException", b.ecs.update_service, cluster=clu, service="gone", desiredCount=1,
                 message="Service was not ACTIVE.")
    expect_error("ServiceNotFoundException", b.ecs.delete_service, cluster=clu, service="never-was")
    # the name is free again
    again = create(b, clu, family, name="gone", desired=1)
    assert again["status"] == "ACTIVE" and again["serviceArn"] == s["serviceArn"], again
    assert again["deployments"][0]["id"] != first, again
    assert b.ecs.list_services(cluster=clu)["serviceArns"] == [s["serviceArn"]]
    s, _ = wait_settled(b, clu, "gone", 1)
    assert s["status"] == "ACTIVE"
    assert b.ecs.describe_clusters(clusters=[clu])["clusters"][0]["activeServicesCount"] == 1


@berthd_args("--sim-step-ms", "300", "--healthy-grace-ms", "0")
def test_a_draining_service_name_is_not_free(b):
    """A slow sim step keeps the service DRAINING while its task stops: a
    deleted service is INACTIVE once all its tasks are STOPPING or STOPPED
    [M:DeleteService], and a stopped task is DEACTIVATING for a step first."""
    clu = cluster(b)
    instance(b, clu)
    _, family = taskdef(b)
    create(b, clu, family, name="slow", desired=1)
    _, tasks = wait_settled(b, clu, "slow", 1)
    d = b.ecs.delete_service(cluster=clu, service="slow", force=True)["service"]
    assert d["status"] == "DRAINING", d
    t = describe(b, clu, [tasks[0]["taskArn"]])[0]
    assert t["desiredStatus"] == "STOPPED" and t["lastStatus"] in ("RUNNING", "DEACTIVATING"), t
    got = svc(b, clu, "slow")
    assert got["status"] == "DRAINING", (got["status"], t["lastStatus"])
    expect_error("InvalidParameterException", create, b, clu, family, name="slow", desired=1,
                 message="Unable to Start a service that is still Draining.")
    expect_error("ServiceNotActiveException", b.ecs.update_service, cluster=clu, service="slow", desiredCount=1,
                 message="Service was not ACTIVE.")
    rc, _, err = b.cli("ecs", "wait", "services-stable", "--cluster", clu, "--services", "slow", check=False)
    assert rc != 0 and ("DRAINING" in err or "INACTIVE" in err), (rc, err)
    b.ecs.get_waiter("services_inactive").wait(cluster=clu, services=["slow"], WaiterConfig=FAST_WAIT)
    assert create(b, clu, family, name="slow", desired=0)["status"] == "ACTIVE"


@berthd_args("--service-retention-s", "1", *FAST)
def test_inactive_service_purged_after_retention(b):
    clu = cluster(b)
    _, family = taskdef(b)
    s = create(b, clu, family, desired=0)
    b.ecs.delete_service(cluster=clu, service=s["serviceName"])
    b.ecs.get_waiter("services_inactive").wait(cluster=clu, services=[s["serviceName"]], WaiterConfig=FAST_WAIT)
    wait_until(lambda: b.ecs.describe_services(cluster=clu, services=[s["serviceName"]])["failures"], timeout=10,
               what="the INACTIVE service purged")
    out = b.ecs.describe_services(cluster=clu, services=[s["serviceName"]])
    assert out["services"] == [] and out["failures"] == [{"arn": s["serviceArn"], "reason": "MISSING"}], out
    b.restart()
    assert b.ecs.describe_services(cluster=clu, services=[s["serviceName"]])["services"] == []


@berthd_args("--sim-step-ms", "0", "--healthy-grace-ms", "0")
def test_events_keep_the_newest_100(b):
    clu = cluster(b)
    instance(b, clu)
    _, family = taskdef(b)
    name = create(b, clu, family, desired=0)["serviceName"]
    first = None
    for i in range(60):
        b.ecs.update_service(cluster=clu, service=name, desiredCount=1)
        _, ts = wait_settled(b, clu, name, 1)
        first = first or short(ts[0]["taskArn"])
        b.ecs.update_service(cluster=clu, service=name, desiredCount=0)
        wait_settled(b, clu, name, 0)
    s = svc(b, clu, name)
    assert len(s["events"]) == 100, len(s["events"])
    times = [e["createdAt"] for e in s["events"]]
    assert times == sorted(times, reverse=True)
    assert re.match(r"^\(service %s\) has stopped 1 running tasks: \(task [0-9a-f]{32}\)\.$" % name,
                    messages(s)[0]) or messages(s)[0] == steady_msg(name), messages(s)[:3]
    assert not any(first in m for m in messages(s)), "the oldest events were not dropped"
    assert s["events"] == svc(b, clu, name)["events"]
    b.restart()
    assert [e["id"] for e in svc(b, clu, name)["events"]] == [e["id"] for e in s["events"]]


# ---- 11. describe and list ----

def test_describe_and_list_services(b):
    clu = cluster(b, serviceConnectDefaults={"namespace": uniq("shop")})
    ns = b.ecs.describe_clusters(clusters=[clu])["clusters"][0]["serviceConnectDefaults"]["namespace"]
    _, family = taskdef(b)
    fg = b.ecs.register_task_definition(
        family=uniq("fg"), networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256", memory="512",
        containerDefinitions=[{"name": "app", "image": "busybox", "essential": True}])["taskDefinition"]["family"]
    tagged = create(b, clu, family, desired=0, tags=[{"key": "team", "value": "infra"}])
    daemon = create(b, clu, family, desired=None, schedulingStrategy="DAEMON")
    fargate = create(b, clu, fg, desired=0, launchType="FARGATE", networkConfiguration=NET)
    connected = create(b, clu, family, desired=0, serviceConnectConfiguration={"enabled": True})
    plain = [create(b, clu, family, desired=0) for _ in range(7)]
    everyone = [tagged, daemon, fargate, connected] + plain
    arns = sorted(x["serviceArn"] for x in everyone)
    # DescribeServices
    out = b.ecs.describe_services(cluster=clu, services=[tagged["serviceName"], "nope"], include=["TAGS"])
    assert [x["serviceArn"] for x in out["services"]] == [tagged["serviceArn"]], out
    assert out["services"][0]["tags"] == [{"key": "team", "value": "infra"}], out
    assert out["failures"] == [{"arn": ARN + "service/%s/nope" % clu, "reason": "MISSING"}], out
    assert "tags" not in svc(b, clu, tagged["serviceName"])
    out = b.ecs.describe_services(cluster=clu, services=[x["serviceArn"] for x in everyone[:10]])
    assert len(out["services"]) == 10 and out["failures"] == [], out["failures"]
    expect_error("InvalidParameterException", b.ecs.describe_services, cluster=clu,
                 services=[x["serviceName"] for x in everyone])
    expect_error("ClusterNotFoundException", b.ecs.describe_services, cluster="no-such-cluster", services=["x"])
    # ListServices: default page 10, maxResults, filters
    first = b.ecs.list_services(cluster=clu)
    assert len(first["serviceArns"]) == 10 and first.get("nextToken"), first
    rest = b.ecs.list_services(cluster=clu, nextToken=first["nextToken"])
    assert len(rest["serviceArns"]) == 1 and not rest.get("nextToken"), rest
    assert sorted(first["serviceArns"] + rest["serviceArns"]) == arns
    pages = list(b.ecs.get_paginator("list_services").paginate(cluster=clu, PaginationConfig={"PageSize": 2}))
    assert len(pages) == 6 and sorted(a for p in pages for a in p["serviceArns"]) == arns, pages
    assert all(len(p["serviceArns"]) == 2 for p in pages[:5])
    assert b.ecs.list_services(cluster=clu, launchType="FARGATE")["serviceArns"] == [fargate["serviceArn"]]
    assert b.ecs.list_services(cluster=clu, schedulingStrategy="DAEMON")["serviceArns"] == [daemon["serviceArn"]]
    ec2 = b.ecs.list_services(cluster=clu, launchType="EC2", maxResults=100)["serviceArns"]
    assert sorted(ec2) == sorted(x["serviceArn"] for x in everyone if x is not fargate), ec2
    assert len(b.ecs.list_services(cluster=clu, schedulingStrategy="REPLICA", maxResults=100)["serviceArns"]) == 10
    expect_error("InvalidParameterException", b.ecs.list_services, cluster=clu, nextToken="zz")
    # ListServicesByNamespace: the cluster's default namespace
    out = b.ecs.list_services_by_namespace(namespace=ns)
    assert out["serviceArns"] == [connected["serviceArn"]], out
    got = svc(b, clu, connected["serviceName"])
    assert got["deployments"][0]["serviceConnectConfiguration"]["enabled"] is True, got["deployments"]


# ---- 12. task protection ----

def test_task_protection_and_scale_in(b):
    clu = cluster(b)
    instance(b, clu)
    _, family = taskdef(b)
    name = create(b, clu, family, desired=3)["serviceName"]
    _, tasks = wait_settled(b, clu, name, 3)
    t1, t2, t3 = [t["taskArn"] for t in tasks]
    t0 = time.time()
    out = b.ecs.update_task_protection(cluster=clu, tasks=[t1], protectionEnabled=True)
    assert out["failures"] == [] and len(out["protectedTasks"]) == 1, out
    p = out["protectedTasks"][0]
    assert p["taskArn"] == t1 and p["protectionEnabled"] is True, p
    assert abs(p["expirationDate"].timestamp() - (t0 + 120 * 60)) < 60, p
    out = b.ecs.update_task_protection(cluster=clu, tasks=[t2, "f" * 32], protectionEnabled=True,
                                       expiresInMinutes=5)
    assert [x["taskArn"] for x in out["protectedTasks"]] == [t2], out
    assert abs(out["protectedTasks"][0]["expirationDate"].timestamp() - (t0 + 300)) < 60, out
    assert len(out["failures"]) == 1 and out["failures"][0]["arn"].endswith("f" * 32), out
    out = b.ecs.get_task_protection(cluster=clu, tasks=[t1, t2, t3])
    got = {x["taskArn"]: x for x in out["protectedTasks"]}
    assert got[t1]["protectionEnabled"] and got[t2]["protectionEnabled"], got
    assert got[t3]["protectionEnabled"] is False and "expirationDate" not in got[t3], got
    # scale in: only the unprotected task may go
    b.ecs.update_service(cluster=clu, service=name, desiredCount=1)
    wait_until(lambda: describe(b, clu, [t3])[0]["lastStatus"] == "STOPPED", what="the unprotected task stopped")
    time.sleep(0.5)
    live = [t["taskArn"] for t in live_tasks(b, clu, name)]
    assert sorted(live) == sorted([t1, t2]), live
    # unprotect one: now it may go
    out = b.ecs.update_task_protection(cluster=clu, tasks=[t2], protectionEnabled=False)
    assert out["protectedTasks"] == [{"taskArn": t2, "protectionEnabled": False}], out
    _, left = wait_settled(b, clu, name, 1)
    assert [t["taskArn"] for t in left] == [t1], left
    expect_error("ClusterNotFoundException", b.ecs.get_task_protection, cluster="no-such-cluster", tasks=[t1])


# ---- 13. restart ----

@berthd_args(*FAST)
def test_services_survive_a_restart(b):
    clu = cluster(b)
    instance(b, clu)
    _, family = taskdef(b)
    name = create(b, clu, family, desired=2, tags=[{"key": "k", "value": "v"}], deploymentConfiguration={
        "minimumHealthyPercent": 50, "maximumPercent": 150})["serviceName"]
    before, tasks = wait_settled(b, clu, name, 2)
    before = wait_until(lambda: (lambda s: steady_msg(name) in messages(s) and s)(svc(b, clu, name)),
                        what="steady-state event")
    b.restart()
    after = svc(b, clu, name, include=["TAGS"])
    for k in ("serviceArn", "status", "desiredCount", "taskDefinition", "deploymentConfiguration", "createdAt",
              "launchType", "schedulingStrategy", "runningCount"):
        assert after[k] == before[k], (k, before[k], after[k])
    assert after["tags"] == [{"key": "k", "value": "v"}], after
    strip = lambda ds: [{k: d.get(k) for k in ("id", "status", "rolloutState", "taskDefinition", "createdAt",
                                                 "desiredCount")} for d in ds]
    assert strip(after["deployments"]) == strip(before["deployments"]), (before["deployments"], after["deployments"])
    ev = lambda s: [(e["id"], e["message"], e["createdAt"]) for e in s["events"]]
    assert ev(after)[-len(before["events"]):] == ev(before), (ev(before), ev(after))
    assert b.ecs.list_services(cluster=clu)["serviceArns"] == [before["serviceArn"]]
    # the scheduler carries on
    b.ecs.stop_task(cluster=clu, task=tasks[0]["taskArn"])

    _, now = wait_settled(b, clu, name, 2)
    assert tasks[0]["taskArn"] not in [t["taskArn"] for t in now], now
    b.restart()
    wait_settled(b, clu, name, 2)
    # a deployment acknowledged just before a crash carries on after it
    td2, _ = taskdef(b, family=family, cpu=11)
    new = [d["id"] for d in b.ecs.update_service(cluster=clu, service=name, taskDefinition=td2)["service"]
           ["deployments"] if d["status"] == "PRIMARY"][0]
    b.kill()
    b.start()
    s, now = wait_settled(b, clu, name, 2)
    assert [d["id"] for d in s["deployments"]] == [new], s["deployments"]
    assert all(t["taskDefinitionArn"] == td2 for t in now), now


# ---- 14. unschedulable ----

def test_unable_to_place_events(b):
    clu = cluster(b)
    small = instance(b, clu, cpu=128, mem=4096)
    _, cpu_hungry = taskdef(b, cpu=256, memory=128)
    name = create(b, clu, cpu_hungry, desired=1)["serviceName"]
    want = CLOSEST % (name, short(small), "CPU units")
    s = wait_until(lambda: (lambda s: want in messages(s) and s)(svc(b, clu, name)), timeout=10,
                   what="the CPU event")
    assert s["runningCount"] == 0 and s["pendingCount"] == 0, s
    assert b.ecs.list_tasks(cluster=clu, serviceName=name)["taskArns"] == []
    # the same event is not repeated on every pass
    time.sleep(0.5)
    assert messages(svc(b, clu, name)).count(want) == 1, messages(svc(b, clu, name))
    _, mem_hungry = taskdef(b, cpu=10, memory=8192)
    name2 = create(b, clu, mem_hungry, desired=1)["serviceName"]
    want2 = CLOSEST % (name2, short(small), "memory")
    wait_until(lambda: want2 in messages(svc(b, clu, name2)), timeout=10, what="the memory event")
    empty = cluster(b)
    name3 = create(b, empty, cpu_hungry, desired=1)["serviceName"]
    want3 = NO_INSTANCES % name3
    wait_until(lambda: want3 in messages(svc(b, empty, name3)), timeout=10, what="the no-instances event")
    # room arrives: the service places its task
    instance(b, clu)
    wait_settled(b, clu, name, 1)


def test_aws_cli_create_update_delete(b):
    clu = cluster(b)
    instance(b, clu)
    _, family = taskdef(b)
    name = uniq("cli")
    _, out, _ = b.cli("ecs", "create-service", "--cluster", clu, "--service-name", name, "--task-definition", family,
                      "--desired-count", "2", "--deployment-configuration",
                      "maximumPercent=150,minimumHealthyPercent=50")
    assert out["service"]["status"] == "ACTIVE" and out["service"]["deploymentConfiguration"]["maximumPercent"] == 150
    wait_settled(b, clu, name, 2)
    b.cli("ecs", "wait", "services-stable", "--cluster", clu, "--services", name)
    _, out, _ = b.cli("ecs", "update-service", "--cluster", clu, "--service", name, "--force-new-deployment")
    assert len(out["service"]["deployments"]) == 2, out["service"]["deployments"]
    s, _ = wait_settled(b, clu, name, 2)
    assert s["deployments"][0]["id"] != out["service"]["deployments"][1]["id"]
    _, out, _ = b.cli("ecs", "list-services", "--cluster", clu)
    assert out["serviceArns"] == [s["serviceArn"]], out
    rc, _, err = b.cli("ecs", "delete-service", "--cluster", clu, "--service", name, check=False)
    assert rc != 0 and "scaled above 0" in err, err
    _, out, _ = b.cli("ecs", "delete-service", "--cluster", clu, "--service", name, "--force")
    assert out["service"]["status"] == "DRAINING", out
    # the CLI's waiters poll every 15 s: they run once the state is there
    b.ecs.get_waiter("services_inactive").wait(cluster=clu, services=[name], WaiterConfig=FAST_WAIT)
    b.cli("ecs", "wait", "services-inactive", "--cluster", clu, "--services", name)


if __name__ == "__main__":
    main(globals(), shared_args=FAST)
