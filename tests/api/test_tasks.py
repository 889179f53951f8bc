"""Tasks end to end (ECS-SEMANTICS §4.3, §5, §7): RunTask's choice of
capacity, its validations and per-task failures; placement with binpack,
spread and random, distinctInstance and memberOf; StartTask onto named
instances; the lifecycle in the sim driver with its timestamps, stop codes
and exit codes; resources held from placement until STOPPED; cluster and
instance counters; tasks that wait for capacity on a provider with managed
scaling; DescribeTasks, ListTasks filters and pagination; idempotency;
persistence across a restart; the cluster deletion guards.  Clients are
boto3 (with its waiters) and the AWS CLI."""
import itertools
import json
import os
import tempfile

from harness import main, expect_error, wait_until, fresh, berthd_args, ACCOUNT, REGION

ARN = "arn:aws:ecs:%s:%s:" % (REGION, ACCOUNT)
NO_INSTANCES = "No Container Instances were found in your cluster."

_seq = itertools.count(1)


def uniq(prefix):
    return "%s-%03d" % (prefix, next(_seq))


def cluster(b, **kw):
    name = uniq("tc")
    b.ecs.create_cluster(clusterName=name, **kw)
    return name


def taskdef(b, family=None, cpu=256, memory=512, ports=(), labels=None, **kw):
    family = family or uniq("td")
    c = {"name": "app", "image": "busybox", "cpu": cpu, "memory": memory, "essential": True}
    if ports:
        c["portMappings"] = [{"containerPort": p[0], "hostPort": p[1], "protocol": "tcp"} for p in ports]
    if labels:
        c["dockerLabels"] = labels
    out = b.ecs.register_task_definition(family=family, containerDefinitions=[c], **kw)
    return out["taskDefinition"]["taskDefinitionArn"], family


def fargate_td(b):
    family = uniq("fg")
    b.ecs.register_task_definition(
        family=family, networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256", memory="512",
        containerDefinitions=[{"name": "app", "image": "busybox", "essential": True}])
    return family


_inst = itertools.count(1)


def instance(b, clu, cpu=2048, mem=4096, itype="m5.large", zone="us-east-1a", attrs=None, asg=None):
    doc = {"instanceId": "i-%017x" % next(_inst), "instanceType": itype, "availabilityZone": zone,
           "region": REGION, "imageId": "ami-12345678"}
    if asg:
        doc["autoScalingGroupName"] = asg
    kw = {}
    if attrs:
        kw["attributes"] = [{"name": k, "value": v} if v is not None else {"name": k} for k, v in attrs.items()]
    out = b.ecs.register_container_instance(
        cluster=clu, instanceIdentityDocument=json.dumps(doc),
        totalResources=[{"name": "CPU", "type": "INTEGER", "integerValue": cpu},
                        {"name": "MEMORY", "type": "INTEGER", "integerValue": mem}], **kw)
    return out["containerInstance"]["containerInstanceArn"]


def describe(b, clu, arns, **kw):
    return b.ecs.describe_tasks(cluster=clu, tasks=arns, **kw)["tasks"]


def task(b, clu, arn):
    return describe(b, clu, [arn])[0]


def ci(b, clu, arn):
    return b.ecs.describe_container_instances(cluster=clu, containerInstances=[arn])["containerInstances"][0]


def remaining(b, clu, arn, name):
    for r in ci(b, clu, arn)["remainingResources"]:
        if r["name"] == name:
            return r.get("stringSetValue") if r["type"] == "STRINGSET" else r["integerValue"]
    return None


def counts(b, clu):
    c = b.ecs.describe_clusters(clusters=[clu])["clusters"][0]
    return c["runningTasksCount"], c["pendingTasksCount"], c["registeredContainerInstancesCount"]


def wait_status(b, clu, arn, status, timeout=10):
    return wait_until(lambda: task(b, clu, arn)["lastStatus"] == status and task(b, clu, arn),
                      timeout=timeout, what="task %s %s" % (arn, status))


FAST_WAIT = {"Delay": 1, "MaxAttempts": 30}


def test_run_task_lifecycle_resources_and_counters(b):
    clu = cluster(b)
    ia = instance(b, clu)
    td, family = taskdef(b, ports=[(80, 8080)])
    out = b.ecs.run_task(cluster=clu, taskDefinition=family, startedBy="tester")
    assert out["failures"] == [], out
    t = out["tasks"][0]
    assert t["lastStatus"] == "PENDING" and t["desiredStatus"] == "RUNNING", t
    assert t["taskDefinitionArn"] == td and t["launchType"] == "EC2", t
    assert t["containerInstanceArn"] == ia and t["group"] == "family:" + family, t
    assert t["taskArn"].startswith(ARN + "task/%s/" % clu) and len(t["taskArn"].split("/")[-1]) == 32
    assert t["cpu"] == "256" and t["memory"] == "512" and t["startedBy"] == "tester", t
    assert t["availabilityZone"] == "us-east-1a", t
    c0 = t["containers"][0]
    assert c0["name"] == "app" and c0["lastStatus"] == "PENDING", c0
    assert c0["containerArn"].startswith(ARN + "container/%s/%s/" % (clu, t["taskArn"].split("/")[-1])), c0
    # held from placement
    assert remaining(b, clu, ia, "CPU") == 2048 - 256
    assert remaining(b, clu, ia, "MEMORY") == 4096 - 512
    assert "8080" in remaining(b, clu, ia, "PORTS")
    b.ecs.get_waiter("tasks_running").wait(cluster=clu, tasks=[t["taskArn"]], WaiterConfig=FAST_WAIT)
    t = task(b, clu, t["taskArn"])
    for k in ("pullStartedAt", "pullStoppedAt", "startedAt", "connectivityAt", "createdAt"):
        assert k in t, (k, t)
    assert t["connectivity"] == "CONNECTED" and t["containers"][0]["lastStatus"] == "RUNNING", t
    nb = t["containers"][0]["networkBindings"]
    assert nb == [{"bindIP": "0.0.0.0", "containerPort": 80, "hostPort": 8080, "protocol": "tcp"}], nb
    assert counts(b, clu) == (1, 0, 1)
    inst = ci(b, clu, ia)
    assert inst["runningTasksCount"] == 1 and inst["pendingTasksCount"] == 0, inst
    assert t["version"] > 1
    stopped = b.ecs.stop_task(cluster=clu, task=t["taskArn"], reason="enough")["task"]
    assert stopped["desiredStatus"] == "STOPPED" and stopped["stoppedReason"] == "enough", stopped
    assert stopped["stopCode"] == "UserInitiated" and "stoppingAt" in stopped, stopped
    b.ecs.get_waiter("tasks_stopped").wait(cluster=clu, tasks=[t["taskArn"]], WaiterConfig=FAST_WAIT)
    t = task(b, clu, t["taskArn"])
    assert t["containers"][0]["exitCode"] == 143 and t["containers"][0]["lastStatus"] == "STOPPED", t
    assert "stoppedAt" in t and "executionStoppedAt" in t, t
    assert remaining(b, clu, ia, "CPU") == 2048 and remaining(b, clu, ia, "MEMORY") == 4096
    assert "8080" not in remaining(b, clu, ia, "PORTS")
    assert counts(b, clu) == (0, 0, 1)
    assert b.ecs.list_tasks(cluster=clu)["taskArns"] == []
    assert b.ecs.list_tasks(cluster=clu, desiredStatus="STOPPED")["taskArns"] == [t["taskArn"]]


def test_no_instances_is_an_exception(b):
    clu = cluster(b)
    _, family = taskdef(b)
    expect_error("InvalidParameterException", b.ecs.run_task, cluster=clu, taskDefinition=family,
                 message=NO_INSTANCES)
    assert b.ecs.list_tasks(cluster=clu)["taskArns"] == []


def test_resource_failures_name_the_closest_instance(b):
    clu = cluster(b)
    ia = instance(b, clu, cpu=512, mem=4096)
    _, family = taskdef(b, cpu=256, memory=256)
    out = b.ecs.run_task(cluster=clu, taskDefinition=family, count=3)
    assert len(out["tasks"]) == 2, out
    assert out["failures"] == [{"arn": ia, "reason": "RESOURCE:CPU"}], out["failures"]
    _, fam2 = taskdef(b, cpu=0, memory=8192)
    out = b.ecs.run_task(cluster=clu, taskDefinition=fam2)
    assert out["tasks"] == [] and out["failures"] == [{"arn": ia, "reason": "RESOURCE:MEMORY"}], out


def test_host_port_conflicts(b):
    clu = cluster(b)
    instance(b, clu, cpu=4096, mem=8192)
    _, family = taskdef(b, cpu=10, memory=10, ports=[(80, 8080)])
    out = b.ecs.run_task(cluster=clu, taskDefinition=family, count=2)
    assert len(out["tasks"]) == 1 and [f["reason"] for f in out["failures"]] == ["RESOURCE:PORTS"], out


def test_dynamic_host_ports(b):
    clu = cluster(b)
    instance(b, clu, cpu=4096, mem=8192)
    _, family = taskdef(b, cpu=10, memory=10, ports=[(80, 0)])
    out = b.ecs.run_task(cluster=clu, taskDefinition=family, count=3)
    assert len(out["tasks"]) == 3, out
    ports = {t["containers"][0]["networkBindings"][0]["hostPort"] for t in out["tasks"]}
    assert len(ports) == 3 and all(32768 <= p <= 60999 for p in ports), ports


def test_distinct_instance_and_member_of(b):
    clu = cluster(b)
    arns = [instance(b, clu, itype=t) for t in ("t3.large", "m5.large", "c5.large")]
    _, family = taskdef(b, cpu=10, memory=10)
    out = b.ecs.run_task(cluster=clu, taskDefinition=family, count=4,
                         placementConstraints=[{"type": "distinctInstance"}])
    assert sorted(t["containerInstanceArn"] for t in out["tasks"]) == sorted(arns), out
    assert [f["reason"] for f in out["failures"]] == ["DistinctInstance placement constraint unsatisfied."], out
    out = b.ecs.run_task(cluster=clu, taskDefinition=family, count=3, placementConstraints=[
        {"type": "memberOf", "expression": "attribute:ecs.instance-type == t3.*"}])
    assert {t["containerInstanceArn"] for t in out["tasks"]} == {arns[0]}, out
    out = b.ecs.run_task(cluster=clu, taskDefinition=family, placementConstraints=[
        {"type": "memberOf", "expression": "attribute:ecs.instance-type == x1.32xlarge"}])
    assert out["tasks"] == [] and out["failures"][0]["reason"] == "MemberOf placement constraint unsatisfied.", out
    expect_error("InvalidParameterException", b.ecs.run_task, cluster=clu, taskDefinition=family,
                 placementConstraints=[{"type": "memberOf", "expression": "attribute:x =="}])
    expect_error("InvalidParameterException", b.ecs.run_task, cluster=clu, taskDefinition=family,
                 placementConstraints=[{"type": "distinctInstance", "expression": "attribute:x == y"}])


def test_required_attributes(b):
    clu = cluster(b)
    plain = instance(b, clu)
    family = uniq("splunk")
    b.ecs.register_task_definition(family=family, containerDefinitions=[{
        "name": "app", "image": "busybox", "cpu": 10, "memory": 10,
        "logConfiguration": {"logDriver": "splunk", "options": {"splunk-url": "https://x"}}}])
    out = b.ecs.run_task(cluster=clu, taskDefinition=family)
    assert out["tasks"] == [] and out["failures"] == [{"arn": plain, "reason": "ATTRIBUTE"}], out
    # an agent that declares its capabilities is judged by its own list
    cap = "com.amazonaws.ecs.capability."
    splunk = instance(b, clu, attrs={cap + "logging-driver.splunk": None, cap + "docker-remote-api.1.21": None})
    out = b.ecs.run_task(cluster=clu, taskDefinition=family)
    assert [t["containerInstanceArn"] for t in out["tasks"]] == [splunk], out
    # dockerLabels need docker-remote-api.1.18, which a declaring instance may lack
    _, labelled = taskdef(b, cpu=10, memory=10, labels={"team": "x"})
    other = cluster(b)
    lacking = instance(b, other, attrs={cap + "docker-remote-api.1.17": None})
    out = b.ecs.run_task(cluster=other, taskDefinition=labelled, count=2)
    assert out["tasks"] == [] and out["failures"] == [{"arn": lacking, "reason": "ATTRIBUTE"}] * 2, out
    out = b.ecs.run_task(cluster=clu, taskDefinition=labelled, count=2)
    assert [t["containerInstanceArn"] for t in out["tasks"]] == [plain] * 2, out


def test_binpack_and_spread(b):
    clu = cluster(b)
    small = instance(b, clu, cpu=4096, mem=2048, zone="us-east-1a")
    big = instance(b, clu, cpu=4096, mem=8192, zone="us-east-1b")
    _, family = taskdef(b, cpu=10, memory=256)
    out = b.ecs.run_task(cluster=clu, taskDefinition=family, count=4,
                         placementStrategy=[{"type": "binpack", "field": "memory"}])
    assert {t["containerInstanceArn"] for t in out["tasks"]} == {small}, out
    c = instance(b, clu, cpu=4096, mem=8192, zone="us-east-1c")
    _, fam2 = taskdef(b, cpu=10, memory=10)
    out = b.ecs.run_task(cluster=clu, taskDefinition=fam2, count=3, placementStrategy=[
        {"type": "spread", "field": "attribute:ecs.availability-zone"}])
    assert sorted(t["availabilityZone"] for t in out["tasks"]) == ["us-east-1a", "us-east-1b", "us-east-1c"], out
    assert {t["containerInstanceArn"] for t in out["tasks"]} == {small, big, c}
    expect_error("InvalidParameterException", b.ecs.run_task, cluster=clu, taskDefinition=fam2,
                 placementStrategy=[{"type": "binpack", "field": "disk"}])


def test_fargate_strategy_split_and_rules(b):
    clu = cluster(b, capacityProviders=["FARGATE", "FARGATE_SPOT"])
    family = fargate_td(b)
    net = {"awsvpcConfiguration": {"subnets": ["subnet-12345678"], "assignPublicIp": "ENABLED"}}
    expect_error("InvalidParameterException", b.ecs.run_task, cluster=clu, taskDefinition=family,
                 launchType="FARGATE",
                 message="Network Configuration must be provided when networkMode 'awsvpc' is specified.")
    out = b.ecs.run_task(cluster=clu, taskDefinition=family, launchType="FARGATE", networkConfiguration=net)
    t = out["tasks"][0]
    assert t["launchType"] == "FARGATE" and t["lastStatus"] == "PROVISIONING" and "capacityProviderName" not in t, t
    assert t["attachments"][0]["type"] == "ElasticNetworkInterface", t
    assert t["availabilityZone"].startswith(REGION), t
    strategy = [{"capacityProvider": "FARGATE", "base": 1, "weight": 1},
                {"capacityProvider": "FARGATE_SPOT", "weight": 4}]
    out = b.ecs.run_task(cluster=clu, taskDefinition=family, count=10, capacityProviderStrategy=strategy,
                         networkConfiguration=net)
    got = [t["capacityProviderName"] for t in out["tasks"]]
    assert got.count("FARGATE") == 3 and got.count("FARGATE_SPOT") == 7, got
    assert all(t["launchType"] == "FARGATE" for t in out["tasks"])
    expect_error("InvalidParameterException", b.ecs.run_task, cluster=clu, taskDefinition=family,
                 launchType="FARGATE", capacityProviderStrategy=strategy, networkConfiguration=net,
                 message="Specifying both a launch type and capacity provider strategy is not supported.")
    _, ec2_family = taskdef(b)
    expect_error("InvalidParameterException", b.ecs.run_task, cluster=clu, taskDefinition=ec2_family,
                 launchType="FARGATE", message="Task definition does not support launch_type FARGATE.")
    expect_error("InvalidParameterException", b.ecs.run_task, cluster=clu, taskDefinition=family,
                 launchType="FARGATE", networkConfiguration=net,
                 placementStrategy=[{"type": "random"}])
    b.ecs.get_waiter("tasks_running").wait(cluster=clu, tasks=[t["taskArn"] for t in out["tasks"]],
                                           WaiterConfig=FAST_WAIT)
    c = b.ecs.describe_clusters(clusters=[clu], include=["STATISTICS"])["clusters"][0]
    assert c["runningTasksCount"] == 11, c
    stats = {s["name"]: s["value"] for s in c["statistics"]}
    assert stats["runningFargateTasksCount"] == "11", stats


def test_cluster_default_strategy_is_used(b):
    clu = cluster(b, capacityProviders=["FARGATE_SPOT"],
                  defaultCapacityProviderStrategy=[{"capacityProvider": "FARGATE_SPOT", "weight": 1}])
    family = fargate_td(b)
    out = b.ecs.run_task(cluster=clu, taskDefinition=family,
                         networkConfiguration={"awsvpcConfiguration": {"subnets": ["subnet-1"]}})
    assert out["tasks"][0]["capacityProviderName"] == "FARGATE_SPOT", out


def test_essential_container_exit(b):
    clu = cluster(b)
    instance(b, clu)
    _, family = taskdef(b, cpu=10, memory=10, labels={"berth.sim.runtime": "300ms", "berth.sim.exit-code": "3"})
    arn = b.ecs.run_task(cluster=clu, taskDefinition=family)["tasks"][0]["taskArn"]
    t = wait_status(b, clu, arn, "STOPPED")
    assert t["stopCode"] == "EssentialContainerExited", t
    assert t["stoppedReason"] == "Essential container in task exited", t
    assert t["containers"][0]["exitCode"] == 3, t


def test_start_task_on_named_instances(b):
    clu = cluster(b)
    a = instance(b, clu)
    small = instance(b, clu, cpu=100)
    _, family = taskdef(b, cpu=256, memory=256)
    out = b.ecs.start_task(cluster=clu, taskDefinition=family, containerInstances=[a, small, "0" * 32])
    assert [t["containerInstanceArn"] for t in out["tasks"]] == [a], out
    reasons = sorted(f["reason"] for f in out["failures"])
    assert reasons == ["MISSING", "RESOURCE:CPU"], out


def test_describe_and_list(b):
    clu = cluster(b)
    a = instance(b, clu, cpu=100000, mem=100000)
    other = instance(b, clu, cpu=100000, mem=100000)
    _, family = taskdef(b, cpu=1, memory=1)
    _, fam2 = taskdef(b, cpu=1, memory=1)
    arns = []
    for i in range(3):
        out = b.ecs.start_task(cluster=clu, taskDefinition=family, containerInstances=[a], startedBy="s1")
        arns += [t["taskArn"] for t in out["tasks"]]
    for i in range(2):
        out = b.ecs.run_task(cluster=clu, taskDefinition=fam2, count=10,
                             placementConstraints=[{"type": "memberOf", "expression": "ec2InstanceId == %s" %
                                                    ci(b, clu, other)["ec2InstanceId"]}])
        arns += [t["taskArn"] for t in out["tasks"]]
    assert len(arns) == 23
    pages = list(b.ecs.get_paginator("list_tasks").paginate(cluster=clu, PaginationConfig={"PageSize": 10}))
    listed = [x for p in pages for x in p["taskArns"]]
    assert len(pages) == 3 and sorted(listed) == sorted(arns), (len(pages), len(listed))
    assert len(b.ecs.list_tasks(cluster=clu, family=family)["taskArns"]) == 3
    assert len(b.ecs.list_tasks(cluster=clu, startedBy="s1")["taskArns"]) == 3
    assert len(b.ecs.list_tasks(cluster=clu, containerInstance=other)["taskArns"]) == 20
    assert len(b.ecs.list_tasks(cluster=clu, launchType="EC2")["taskArns"]) == 23
    assert b.ecs.list_tasks(cluster=clu, launchType="FARGATE")["taskArns"] == []
    assert b.ecs.list_tasks(cluster=clu, desiredStatus="PENDING")["taskArns"] == []
    expect_error("ServiceNotFoundException", b.ecs.list_tasks, cluster=clu, serviceName="nope")
    expect_error("InvalidParameterException", b.ecs.list_tasks, cluster=clu, nextToken="zz")
    expect_error("ClusterNotFoundException", b.ecs.list_tasks, cluster="no-such-cluster")
    out = b.ecs.describe_tasks(cluster=clu, tasks=[arns[0], "f" * 32])
    assert [t["taskArn"] for t in out["tasks"]] == [arns[0]]
    assert out["failures"] == [{"arn": ARN + "task/%s/%s" % (clu, "f" * 32), "reason": "MISSING"}], out
    # the short id works as well as the ARN
    assert describe(b, clu, [arns[0].split("/")[-1]])[0]["taskArn"] == arns[0]
    expect_error("InvalidParameterException", b.ecs.describe_tasks, cluster=clu, tasks=["x"] * 101,
                 message="taskIds can have at most 100 items.")
    expect_error("InvalidParameterException", b.ecs.stop_task, cluster=clu, task="f" * 32)


def test_tags_overrides_and_propagation(b):
    clu = cluster(b)
    instance(b, clu)
    _, family = taskdef(b, cpu=10, memory=10, tags=[{"key": "team", "value": "infra"}])
    out = b.ecs.run_task(cluster=clu, taskDefinition=family, tags=[{"key": "run", "value": "1"}],
                         propagateTags="TASK_DEFINITION",
                         overrides={"containerOverrides": [{"name": "app", "command": ["echo", "hi"]}],
                                    "cpu": "512", "memory": "1024"})
    t = out["tasks"][0]
    assert t["cpu"] == "512" and t["memory"] == "1024", t
    assert t["overrides"]["containerOverrides"][0]["command"] == ["echo", "hi"], t
    tags = {x["key"]: x["value"] for x in describe(b, clu, [t["taskArn"]], include=["TAGS"])[0]["tags"]}
    assert tags == {"team": "infra", "run": "1"}, tags
    assert "tags" not in describe(b, clu, [t["taskArn"]])[0]
    expect_error("InvalidParameterException", b.ecs.run_task, cluster=clu, taskDefinition=family,
                 overrides={"containerOverrides": [{"name": "nope"}]},
                 message="Override for container named nope is not a container in the TaskDefinition.")
    expect_error("InvalidParameterException", b.ecs.run_task, cluster=clu, taskDefinition=family,
                 propagateTags="SERVICE")
    expect_error("InvalidParameterException", b.ecs.run_task, cluster=clu, taskDefinition=family, count=11)
    expect_error("ClientException", b.ecs.run_task, cluster=clu, taskDefinition="no-such-family")


def test_client_token_idempotency(b):
    clu = cluster(b)
    instance(b, clu, cpu=100000, mem=100000)
    _, family = taskdef(b, cpu=1, memory=1)
    one = b.ecs.run_task(cluster=clu, taskDefinition=family, count=3, clientToken="tok-1")
    two = b.ecs.run_task(cluster=clu, taskDefinition=family, count=3, clientToken="tok-1")
    assert [t["taskArn"] for t in one["tasks"]] == [t["taskArn"] for t in two["tasks"]]
    assert len(b.ecs.list_tasks(cluster=clu)["taskArns"]) == 3


@berthd_args("--capacity-wait-s", "2", "--sim-step-ms", "50")
def test_managed_scaling_tasks_wait_for_capacity(b):
    group = "asg-wait"
    # the provider's group must exist for the association; MaxSize 0 so
    # managed scaling launches nothing of its own (the test registers the
    # instance by hand)
    asc = b.client("autoscaling")
    asc.create_launch_configuration(LaunchConfigurationName="lc-wait", ImageId="ami-12345678",
                                    InstanceType="m5.large")
    asc.create_auto_scaling_group(AutoScalingGroupName=group, LaunchConfigurationName="lc-wait",
                                  MinSize=0, MaxSize=0, DesiredCapacity=0, AvailabilityZones=["us-east-1a"])
    b.ecs.create_capacity_provider(name="cp-wait", autoScalingGroupProvider={
        "autoScalingGroupArn": "arn:aws:autoscaling:%s:%s:autoScalingGroup:1:autoScalingGroupName/%s" % (REGION, ACCOUNT, group),
        "managedScaling": {"status": "ENABLED", "targetCapacity": 100}})
    b.ecs.create_cluster(clusterName="cw", capacityProviders=["cp-wait"],
                         defaultCapacityProviderStrategy=[{"capacityProvider": "cp-wait", "weight": 1}])
    wait_until(lambda: b.ecs.describe_clusters(clusters=["cw"])["clusters"][0]["status"] == "ACTIVE")
    _, family = taskdef(b, cpu=256, memory=256)
    out = b.ecs.run_task(cluster="cw", taskDefinition=family, count=2)
    assert out["failures"] == [] and len(out["tasks"]) == 2, out
    waiting = [t["taskArn"] for t in out["tasks"]]
    assert all(t["lastStatus"] == "PROVISIONING" and t["capacityProviderName"] == "cp-wait"
               and "containerInstanceArn" not in t for t in out["tasks"]), out
    # an instance of the provider's group arrives: the tasks are placed and run
    arn = instance(b, "cw", asg=group)
    assert ci(b, "cw", arn).get("capacityProviderName") == "cp-wait", ci(b, "cw", arn)
    for w in waiting:
        t = wait_status(b, "cw", w, "RUNNING")
        assert t["containerInstanceArn"] == arn, t
    # with no room, a task waits, then gives up
    _, big = taskdef(b, cpu=100000, memory=256)
    t = b.ecs.run_task(cluster="cw", taskDefinition=big)["tasks"][0]
    assert t["lastStatus"] == "PROVISIONING", t
    t = wait_status(b, "cw", t["taskArn"], "STOPPED", timeout=15)
    assert t["stopCode"] == "TaskFailedToStart" and t["stoppedReason"] == "EMPTY CAPACITY PROVIDER", t


@fresh
def test_tasks_survive_a_restart(b):
    clu = cluster(b)
    ia = instance(b, clu)
    _, family = taskdef(b, cpu=300, memory=400, ports=[(80, 8081)])
    arns = [t["taskArn"] for t in b.ecs.run_task(cluster=clu, taskDefinition=family, count=2,
                                                 tags=[{"key": "k", "value": "v"}], startedBy="me",
                                                 overrides={"containerOverrides": [
                                                     {"name": "app", "command": ["a \"quoted\"\n arg"]}]})["tasks"]]
    assert len(arns) == 1  # the second one conflicts on host port 8081
    b.ecs.get_waiter("tasks_running").wait(cluster=clu, tasks=arns, WaiterConfig=FAST_WAIT)
    before = task(b, clu, arns[0])
    b.restart()
    after = describe(b, clu, arns, include=["TAGS"])[0]
    assert after["lastStatus"] == "RUNNING" and after["tags"] == [{"key": "k", "value": "v"}], after
    for k in ("taskArn", "containerInstanceArn", "startedAt", "createdAt", "version", "group", "overrides",
              "startedBy"):
        assert after[k] == before[k], (k, before[k], after[k])
    assert after["containers"][0]["containerArn"] == before["containers"][0]["containerArn"]
    assert counts(b, clu) == (1, 0, 1)
    assert remaining(b, clu, ia, "CPU") == 2048 - 300 and "8081" in remaining(b, clu, ia, "PORTS")
    b.ecs.stop_task(cluster=clu, task=arns[0])
    b.ecs.get_waiter("tasks_stopped").wait(cluster=clu, tasks=arns, WaiterConfig=FAST_WAIT)
    b.restart()
    assert task(b, clu, arns[0])["lastStatus"] == "STOPPED"
    assert remaining(b, clu, ia, "CPU") == 2048


@berthd_args("--sim-step-ms", "0")
def test_stopped_tasks_page_in_stop_order_across_restarts(b):
    clu = cluster(b)
    instance(b, clu, cpu=100000, mem=100000)
    _, family = taskdef(b, cpu=1, memory=1)
    arns = []
    for _ in range(2):
        arns += [t["taskArn"] for t in b.ecs.run_task(cluster=clu, taskDefinition=family, count=6)["tasks"]]
    for arn in reversed(arns):  # stopped in the opposite order of creation
        b.ecs.stop_task(cluster=clu, task=arn)

    def stopped_pages():
        pages = b.ecs.get_paginator("list_tasks").paginate(cluster=clu, desiredStatus="STOPPED",
                                                           PaginationConfig={"PageSize": 5})
        return [a for p in pages for a in p["taskArns"]]
    assert stopped_pages() == list(reversed(arns))
    b.restart()
    assert stopped_pages() == list(reversed(arns))
    more = [t["taskArn"] for t in b.ecs.run_task(cluster=clu, taskDefinition=family, count=3)["tasks"]]
    b.ecs.stop_task(cluster=clu, task=more[1])
    assert stopped_pages() == list(reversed(arns)) + [more[1]]
    assert sorted(b.ecs.list_tasks(cluster=clu)["taskArns"]) == sorted([more[0], more[2]])


@berthd_args("--task-retention-s", "1", "--sim-step-ms", "0")
def test_stopped_tasks_are_purged_after_retention(b):
    clu = cluster(b)
    instance(b, clu)
    _, family = taskdef(b, cpu=10, memory=10)
    arn = b.ecs.run_task(cluster=clu, taskDefinition=family)["tasks"][0]["taskArn"]
    b.ecs.stop_task(cluster=clu, task=arn)
    wait_until(lambda: b.ecs.describe_tasks(cluster=clu, tasks=[arn])["failures"], timeout=10,
               what="the stopped task to be purged")


def test_cluster_deletion_guards(b):
    clu = cluster(b)
    ia = instance(b, clu)
    expect_error("ClusterContainsContainerInstancesException", b.ecs.delete_cluster, cluster=clu,
                 message="The Cluster cannot be deleted while Container Instances are active or draining.")
    fclu = cluster(b)
    family = fargate_td(b)
    arn = b.ecs.run_task(cluster=fclu, taskDefinition=family, launchType="FARGATE", networkConfiguration={
        "awsvpcConfiguration": {"subnets": ["subnet-1"]}})["tasks"][0]["taskArn"]
    expect_error("ClusterContainsTasksException", b.ecs.delete_cluster, cluster=fclu,
                 message="The Cluster cannot be deleted while Tasks are active.")
    b.ecs.stop_task(cluster=fclu, task=arn)
    b.ecs.get_waiter("tasks_stopped").wait(cluster=fclu, tasks=[arn], WaiterConfig=FAST_WAIT)
    assert b.ecs.delete_cluster(cluster=fclu)["cluster"]["status"] == "INACTIVE"
    # a forced deregistration stops the instance's tasks
    _, fam = taskdef(b, cpu=10, memory=10)
    t = b.ecs.run_task(cluster=clu, taskDefinition=fam)["tasks"][0]["taskArn"]
    b.ecs.deregister_container_instance(cluster=clu, containerInstance=ia, force=True)
    assert task(b, clu, t)["lastStatus"] == "STOPPED"
    assert b.ecs.delete_cluster(cluster=clu)["cluster"]["status"] == "INACTIVE"


@berthd_args("--spot-warning-s", "1", "--sim-step-ms", "20", "--fargate-capacity", "3")
def test_spot_interruption_and_fargate_capacity(b):
    b.ecs.create_cluster(clusterName="spot", capacityProviders=["FARGATE", "FARGATE_SPOT"])
    family = fargate_td(b)
    net = {"awsvpcConfiguration": {"subnets": ["subnet-1"]}}
    out = b.ecs.run_task(cluster="spot", taskDefinition=family, count=4, networkConfiguration=net,
                         capacityProviderStrategy=[{"capacityProvider": "FARGATE_SPOT", "weight": 1}])
    assert len(out["tasks"]) == 3, out
    assert out["failures"] == [{"reason": "Capacity is unavailable at this time. Please try again later or in a different availability zone"}], out
    arns = [t["taskArn"] for t in out["tasks"]]
    b.ecs.get_waiter("tasks_running").wait(cluster="spot", tasks=arns, WaiterConfig=FAST_WAIT)
    status, _, ans = b.raw(None, json.dumps({"cluster": "spot", "tasks": [arns[0]]}),
                           headers={"X-Amz-Target": "BerthExtensions_v1.InterruptSpotTasks"})
    assert status == 200 and [t["taskArn"] for t in ans["tasks"]] == [arns[0]], (status, ans)
    t = task(b, "spot", arns[0])
    # the two-minute warning (here one second): still RUNNING, desired STOPPED
    assert t["lastStatus"] == "RUNNING" and t["desiredStatus"] == "STOPPED", t
    assert t["stopCode"] == "TerminationNotice" and t["stoppedReason"] == "Your Spot Task was interrupted.", t
    t = wait_status(b, "spot", arns[0], "STOPPED")
    assert t["stopCode"] == "SpotInterruption", t
    # the capacity it held is free again
    out = b.ecs.run_task(cluster="spot", taskDefinition=family, networkConfiguration=net, launchType="FARGATE")
    assert len(out["tasks"]) == 1, out
    status, _, ans = b.raw(None, "{}", headers={"X-Amz-Target": "BerthExtensions_v1.NoSuchThing"})
    assert status == 400 and ans["__type"] == "UnknownOperationException", ans


def test_aws_cli_run_wait_stop(b):
    clu = cluster(b)
    instance(b, clu)
    _, family = taskdef(b, cpu=10, memory=10)
    _, out, _ = b.cli("ecs", "run-task", "--cluster", clu, "--task-definition", family, "--count", "2")
    arns = [t["taskArn"] for t in out["tasks"]]
    assert len(arns) == 2
    b.cli("ecs", "wait", "tasks-running", "--cluster", clu, "--tasks", *arns)
    _, out, _ = b.cli("ecs", "list-tasks", "--cluster", clu)
    assert sorted(out["taskArns"]) == sorted(arns)
    b.cli("ecs", "stop-task", "--cluster", clu, "--task", arns[0], "--reason", "cli")
    b.cli("ecs", "wait", "tasks-stopped", "--cluster", clu, "--tasks", arns[0])
    _, out, _ = b.cli("ecs", "describe-tasks", "--cluster", clu, "--tasks", arns[0])
    assert out["tasks"][0]["stoppedReason"] == "cli"
    rc, _, err = b.cli("ecs", "run-task", "--cluster", clu, "--task-definition", family, "--count", "0",
                       check=False)
    assert rc != 0 and "InvalidParameterException" in err, err


if __name__ == "__main__":
    main(globals(), shared_args=("--sim-step-ms", "50"))
