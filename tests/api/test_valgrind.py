"""berthd under valgrind: every implemented action, its error paths and the
protocol's odd corners, a restart (the load path), retention purges (the
store's delete path) and a SIGTERM with a request still arriving; then
exit 0, no definitely or indirectly lost bytes and no memory errors.

valgrind's own exit code (--error-exitcode=99) and its log are both
checked, so that a report is never hidden behind a clean exit."""
import json
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import urllib.error
import urllib.request

import botocore.exceptions

import harness
from harness import ACCOUNT, REGION, Berth, expect_error, main, wait_until

PREFIX = "AmazonEC2ContainerServiceV20141113."
VALGRIND = shutil.which("valgrind")


def plain_berthd():
    """The binary to run under valgrind: BERTHD, unless that one is built
    with AddressSanitizer (make SANITIZE=1), which cannot run under valgrind;
    then the plain build beside it, or None if there is none."""
    def sanitized(path):
        with open(path, "rb") as f:
            return b"__asan_init" in f.read()
    if not sanitized(harness.BERTHD):
        return harness.BERTHD
    plain = os.path.join(harness.ROOT, "build", "berthd")
    return plain if os.path.exists(plain) and not sanitized(plain) else None
VG_ARGS = ["--leak-check=full", "--show-leak-kinds=definite,indirect",
           "--errors-for-leak-kinds=definite,indirect", "--error-exitcode=99",
           "--num-callers=30"]
# What valgrind says about a real bug; any of these in the log fails the test.
BAD = re.compile(r"Invalid (read|write|free)|uninitialised|Mismatched free|Syscall param|"
                 r"Source and destination overlap|definitely lost: [1-9]|indirectly lost: [1-9]|"
                 r"Process terminating")


def cluster_arn(name, region=REGION):
    return "arn:aws:ecs:%s:%s:cluster/%s" % (region, ACCOUNT, name)


def cp_arn(name):
    return "arn:aws:ecs:%s:%s:capacity-provider/%s" % (REGION, ACCOUNT, name)


def asg(name, **kw):
    p = {"autoScalingGroupArn": "arn:aws:autoscaling:%s:%s:autoScalingGroup:1:autoScalingGroupName/%s" % (REGION, ACCOUNT, name)}
    p.update(kw)
    return p


class Valgrind:
    """berthd started through a wrapper that execs valgrind, so the harness
    (which runs harness.BERTHD) manages the valgrind process itself: the
    SIGTERM reaches berthd and the exit code is valgrind's."""

    def __init__(self, work, berthd):
        self.work = work
        self.berthd = berthd
        self.wrapper = os.path.join(work, "berthd-under-valgrind")
        self.logs = os.path.join(work, "vg")
        os.makedirs(self.logs, exist_ok=True)
        with open(self.wrapper, "w") as f:
            f.write("#!/bin/sh\nexec %s %s --log-file=%s/valgrind.%%p.log %s \"$@\"\n" % (
                VALGRIND, " ".join(VG_ARGS), self.logs, berthd))
        os.chmod(self.wrapper, stat.S_IRWXU | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)

    def start(self, b):
        real = harness.BERTHD
        harness.BERTHD = self.wrapper
        try:
            return b.start(timeout=60)
        finally:
            harness.BERTHD = real

    def stop(self, b):
        """SIGTERM, wait, and check valgrind's verdict for that process."""
        pid = b.proc.pid
        b.proc.send_signal(signal.SIGTERM)
        try:
            rc = b.proc.wait(90)
        except subprocess.TimeoutExpired:
            b.proc.kill()
            b.proc.wait()
            raise AssertionError("berthd under valgrind did not stop on SIGTERM:\n" + b.log())
        self.verdict(pid, rc, 0, b.log())

    def verdict(self, pid, rc, want_rc, berthd_log):
        path = os.path.join(self.logs, "valgrind.%d.log" % pid)
        with open(path, errors="replace") as f:
            log = f.read()
        problems = sorted({m.group(0) for m in BAD.finditer(log)})
        summary = re.search(r"ERROR SUMMARY: (\d+) errors", log)
        assert summary, "no valgrind summary:\n" + log[-4000:]
        assert rc == want_rc and summary.group(1) == "0" and not problems, (
            "valgrind (exit %s, wanted %s; %s errors, %s):\n%s\n--- berthd log ---\n%s"
            % (rc, want_rc, summary.group(1), problems, log[-12000:], berthd_log))
        in_use = re.search(r"in use at exit: ([\d,]+ bytes in [\d,]+ blocks)", log)
        print("valgrind pid %d: exit %d, 0 errors, in use at exit: %s" % (
            pid, rc, in_use.group(1) if in_use else "?"), flush=True)

    def run_failing(self, *args):
        """A berthd that must refuse to start: exit 1, and clean."""
        p = subprocess.Popen([self.wrapper, *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            out, _ = p.communicate(timeout=90)
        except subprocess.TimeoutExpired:
            p.kill()
            p.communicate()
            raise AssertionError("berthd %s started instead of refusing" % (args,))
        out = out.decode(errors="replace")
        self.verdict(p.pid, p.returncode, 1, out)
        return out


def raw(b, target, body, headers=None, method="POST", path="/"):
    return b.raw(target, body, headers=headers, method=method, path=path)


def implemented_as_actions():
    with open(os.path.join(harness.ROOT, "src", "api", "as_actions.def")) as f:
        return set(re.findall(r'^X\("(\w+)"', f.read(), re.M))


IAM_ACTIONS = {"CreateUser", "GetUser", "ListUsers", "DeleteUser", "CreateAccessKey", "UpdateAccessKey",
               "DeleteAccessKey", "ListAccessKeys", "PutUserPolicy", "GetUserPolicy", "DeleteUserPolicy",
               "ListUserPolicies"}


def implemented_actions():
    with open(os.path.join(harness.ROOT, "src", "api", "actions.def")) as f:
        return set(re.findall(r'^X\("(\w+)"', f.read(), re.M))


def every_action(b, called):
    """Each implemented action at least once on its success path and on its
    error paths, through boto3 (signed, so the region comes from SigV4).
    called collects the operations boto3 sent."""
    ecs = b.ecs
    west = b.client("ecs", region="us-west-2")
    for c in (ecs, west):
        c.meta.events.register("before-call.ecs.*", lambda model, **kw: called.add(model.name))
    # the Auto Scaling actions; and the groups of the providers a cluster
    # associates (MaxSize 0: managed scaling launches nothing)
    autoscaling_actions(b, called)
    # CreateCapacityProvider
    ecs.create_capacity_provider(name="vg-ms", tags=[{"key": "t", "value": "1"}],
                                 autoScalingGroupProvider=asg("g-ms", managedScaling={
                                     "status": "ENABLED", "targetCapacity": 70, "minimumScalingStepSize": 2,
                                     "maximumScalingStepSize": 20, "instanceWarmupPeriod": 60},
                                     managedTerminationProtection="ENABLED"))
    ecs.create_capacity_provider(name="vg-plain", autoScalingGroupProvider={"autoScalingGroupArn": "plain-group"})
    ecs.create_capacity_provider(name="vg-free", autoScalingGroupProvider=asg("g-free"))
    expect_error("ClientException", ecs.create_capacity_provider, name="vg-plain",
                 autoScalingGroupProvider={"autoScalingGroupArn": "other"})
    expect_error("ClientException", ecs.create_capacity_provider, name="vg-again",
                 autoScalingGroupProvider={"autoScalingGroupArn": "plain-group"})
    expect_error("ClientException", ecs.create_capacity_provider, name="ecs-x",
                 autoScalingGroupProvider={"autoScalingGroupArn": "g"})
    expect_error("ClientException", ecs.create_capacity_provider, name="vg-bad",
                 autoScalingGroupProvider={"autoScalingGroupArn": "arn:aws:autoscaling:x"})
    expect_error("ClientException", ecs.create_capacity_provider, name="vg-steps",
                 autoScalingGroupProvider=asg("g-s", managedScaling={"status": "ENABLED", "minimumScalingStepSize": 9,
                                                                     "maximumScalingStepSize": 2}))
    expect_error("InvalidParameterException", ecs.create_capacity_provider, name="vg-noasg")
    # CreateCluster
    full = dict(clusterName="vg-full", tags=[{"key": "k", "value": "v"}],
                settings=[{"name": "containerInsights", "value": "enhanced"}],
                configuration={"executeCommandConfiguration": {"kmsKeyId": "k", "logging": "OVERRIDE",
                                                               "logConfiguration": {"s3BucketName": "b"}},
                               "managedStorageConfiguration": {"kmsKeyId": "k2"}},
                capacityProviders=["vg-ms", "vg-plain"],
                defaultCapacityProviderStrategy=[{"capacityProvider": "vg-ms", "weight": 1, "base": 1},
                                                 {"capacityProvider": "vg-plain", "weight": 2}],
                serviceConnectDefaults={"namespace": "vg-ns"})
    ecs.create_cluster(**full)
    ecs.create_cluster(**full)  # idempotent
    expect_error("InvalidParameterException", ecs.create_cluster, clusterName="vg-full")
    expect_error("InvalidParameterException", ecs.create_cluster, clusterName="bad name!")
    expect_error("InvalidParameterException", ecs.create_cluster, clusterName="vg-x",
                 settings=[{"name": "containerInsights", "value": "maybe"}])
    expect_error("InvalidParameterException", ecs.create_cluster, clusterName="vg-x", capacityProviders=["nope"])
    expect_error("InvalidParameterException", ecs.create_cluster, clusterName="vg-x", capacityProviders=["vg-ms"])
    expect_error("InvalidParameterException", ecs.create_cluster, clusterName="vg-x",
                 tags=[{"key": "aws:no", "value": "x"}])
    expect_error("InvalidParameterException", ecs.create_cluster, clusterName="vg-x",
                 capacityProviders=["FARGATE", "vg-plain"],
                 defaultCapacityProviderStrategy=[{"capacityProvider": "FARGATE", "weight": 1},
                                                  {"capacityProvider": "vg-plain", "weight": 1}])
    ecs.create_cluster(clusterName="vg-fargate", capacityProviders=["FARGATE", "FARGATE_SPOT"],
                       defaultCapacityProviderStrategy=[{"capacityProvider": "FARGATE", "weight": 1, "base": 3}])
    ecs.create_cluster()
    for i in range(5):
        ecs.create_cluster(clusterName="vg-list-%d" % i)
    west.create_cluster(clusterName="vg-west", tags=[{"key": "r", "value": "w"}])
    # DescribeClusters
    wait_until(lambda: ecs.describe_clusters(clusters=["vg-full"])["clusters"][0]["status"] == "ACTIVE",
               timeout=30, what="vg-full ACTIVE")
    d = ecs.describe_clusters(clusters=["vg-full", cluster_arn("vg-fargate"), "missing", cluster_arn("x", "eu-west-1")],
                              include=["ATTACHMENTS", "CONFIGURATIONS", "SETTINGS", "STATISTICS", "TAGS"])
    assert len(d["clusters"]) == 2 and len(d["failures"]) == 2, d
    ecs.describe_clusters()
    west.describe_clusters(clusters=["vg-west"], include=["TAGS"])
    expect_error("InvalidParameterException", ecs.describe_clusters, clusters=["c%d" % i for i in range(101)])
    # ListClusters
    token, seen = None, 0
    while True:
        page = ecs.list_clusters(maxResults=2, **({"nextToken": token} if token else {}))
        seen += len(page["clusterArns"])
        token = page.get("nextToken")
        if not token:
            break
    assert seen >= 8, seen
    expect_error("InvalidParameterException", ecs.list_clusters, nextToken="not-a-token")
    expect_error("InvalidParameterException", ecs.list_clusters, maxResults=101)
    # DescribeCapacityProviders
    page = ecs.describe_capacity_providers(maxResults=2, include=["TAGS"])
    ecs.describe_capacity_providers(nextToken=page["nextToken"], include=["TAGS"])
    ecs.describe_capacity_providers(capacityProviders=["vg-ms", cp_arn("vg-plain"), "FARGATE", cp_arn("FARGATE_SPOT"),
                                                       "missing", "arn:aws:ecs:eu-west-1:1:capacity-provider/x"],
                                    include=["TAGS"], maxResults=2)
    expect_error("InvalidParameterException", ecs.describe_capacity_providers, maxResults=11)
    expect_error("InvalidParameterException", ecs.describe_capacity_providers, nextToken="garbage")
    # PutClusterCapacityProviders
    ecs.create_cluster(clusterName="vg-put")
    ecs.put_cluster_capacity_providers(cluster="vg-put", capacityProviders=["vg-plain"],
                                       defaultCapacityProviderStrategy=[{"capacityProvider": "vg-plain", "weight": 3}])
    wait_until(lambda: ecs.describe_clusters(clusters=["vg-put"], include=["ATTACHMENTS"])["clusters"][0]
               .get("attachmentsStatus") == "UPDATE_COMPLETE", timeout=30, what="vg-put attachments")
    ecs.put_cluster_capacity_providers(cluster="vg-put", capacityProviders=[], defaultCapacityProviderStrategy=[])
    expect_error("InvalidParameterException", ecs.put_cluster_capacity_providers, cluster="vg-list-0",
                 capacityProviders=["vg-ms"], defaultCapacityProviderStrategy=[])
    expect_error("InvalidParameterException", ecs.put_cluster_capacity_providers, cluster="vg-list-0",
                 capacityProviders=["FARGATE"], defaultCapacityProviderStrategy=[{"capacityProvider": "vg-plain", "weight": 1}])
    expect_error("ClusterNotFoundException", ecs.put_cluster_capacity_providers, cluster="nope",
                 capacityProviders=[], defaultCapacityProviderStrategy=[])
    # TagResource / UntagResource / ListTagsForResource
    ecs.tag_resource(resourceArn=cluster_arn("vg-list-1"), tags=[{"key": "a", "value": "1"}, {"key": "b", "value": "2"}])
    ecs.tag_resource(resourceArn=cp_arn("vg-free"), tags=[{"key": "a", "value": "1"}])
    ecs.untag_resource(resourceArn=cluster_arn("vg-list-1"), tagKeys=["a", "zzz"])
    ecs.list_tags_for_resource(resourceArn=cluster_arn("vg-list-1"))
    ecs.list_tags_for_resource(resourceArn=cp_arn("vg-free"))
    ecs.list_tags_for_resource(resourceArn=cp_arn("FARGATE"))
    expect_error("InvalidParameterException", ecs.tag_resource, resourceArn=cluster_arn("vg-list-1"),
                 tags=[{"key": "k%d" % i, "value": "v"} for i in range(51)])
    expect_error("InvalidParameterException", ecs.tag_resource, resourceArn=cp_arn("FARGATE"), tags=[{"key": "a", "value": "b"}])
    expect_error("InvalidParameterException", ecs.untag_resource, resourceArn=cluster_arn("vg-list-1"), tagKeys=["aws:x"])
    expect_error("ClusterNotFoundException", ecs.tag_resource, resourceArn=cluster_arn("gone"), tags=[{"key": "a", "value": "b"}])
    expect_error("InvalidParameterException", ecs.list_tags_for_resource, resourceArn="not-an-arn")
    expect_error("InvalidParameterException", ecs.list_tags_for_resource, resourceArn=cluster_arn("x", "eu-west-1"))
    expect_error("ResourceNotFoundException", ecs.list_tags_for_resource,
                 resourceArn="arn:aws:ecs:%s:%s:service/c/s" % (REGION, ACCOUNT))
    # UpdateCluster / UpdateClusterSettings
    ecs.update_cluster(cluster="vg-list-2", settings=[{"name": "containerInsights", "value": "enabled"}],
                       configuration={"executeCommandConfiguration": {"logging": "NONE"}},
                       serviceConnectDefaults={"namespace": "vg-ns2"})
    ecs.update_cluster(cluster="vg-list-2", serviceConnectDefaults={"namespace": ""})
    ecs.update_cluster_settings(cluster="vg-list-3", settings=[{"name": "containerInsights", "value": "disabled"}])
    expect_error("InvalidParameterException", ecs.update_cluster_settings, cluster="vg-list-3",
                 settings=[{"name": "containerInsights", "value": "on"}])
    # UpdateCapacityProvider
    ecs.update_capacity_provider(name="vg-free", autoScalingGroupProvider={"managedDraining": "DISABLED"})
    wait_until(lambda: ecs.describe_capacity_providers(capacityProviders=["vg-free"])["capacityProviders"][0]
               .get("updateStatus") == "UPDATE_COMPLETE", timeout=30, what="vg-free updated")
    expect_error("ClientException", ecs.update_capacity_provider, name="FARGATE", autoScalingGroupProvider={})
    expect_error("ClientException", ecs.update_capacity_provider, name="nope", autoScalingGroupProvider={})
    expect_error("InvalidParameterException", ecs.update_capacity_provider, name="vg-free")
    # DeleteCapacityProvider: in use (DELETE_FAILED), free, reserved, missing
    failed = ecs.delete_capacity_provider(capacityProvider="vg-plain")["capacityProvider"]
    assert failed["updateStatus"] == "DELETE_FAILED", failed
    ecs.delete_capacity_provider(capacityProvider=cp_arn("vg-free"))
    expect_error("ClientException", ecs.delete_capacity_provider, capacityProvider="FARGATE")
    expect_error("ClientException", ecs.delete_capacity_provider, capacityProvider="nope")
    task_actions(ecs)
    service_actions(ecs)
    agent_actions(b, ecs)
    iam_actions(b, called)
    # DeleteCluster
    ecs.delete_cluster(cluster="vg-list-4")
    ecs.delete_cluster(cluster="vg-list-4")  # INACTIVE: answered again
    ecs.delete_cluster(cluster=cluster_arn("vg-fargate"))
    expect_error("ClusterNotFoundException", ecs.delete_cluster, cluster="nope")
    try:
        ecs.update_cluster(cluster="vg-list-4", settings=[{"name": "containerInsights", "value": "enabled"}])
        raise AssertionError("UpdateCluster of an INACTIVE cluster succeeded")
    except botocore.exceptions.ClientError:
        pass


def agent_actions(b, ecs):
    """The agent protocol: a berth-agent instance, a held poll answered by
    a placement, state reports, a mismatched version."""
    ecs.create_cluster(clusterName="vg-agent")
    ci = ecs.register_container_instance(cluster="vg-agent", versionInfo={
        "agentVersion": "berth-agent/0.1.0 (protocol 1)"}, totalResources=[
        {"name": "CPU", "type": "INTEGER", "integerValue": 1024},
        {"name": "MEMORY", "type": "INTEGER", "integerValue": 1024}])["containerInstance"]["containerInstanceArn"]
    td = ecs.register_task_definition(family="vg-agent", containerDefinitions=[
        {"name": "main", "image": "none", "memory": 32, "command": ["sleep", "1"],
         "environment": [{"name": "A", "value": "1"}]}])["taskDefinition"]["taskDefinitionArn"]

    def poll(wait, tasks=(), version=1):
        return raw(b, None, json.dumps({"protocolVersion": version, "cluster": "vg-agent", "containerInstance": ci,
                                        "waitSeconds": wait, "tasks": list(tasks)}),
                   headers={"X-Amz-Target": "BerthExtensions_v1.AgentPoll"})
    assert poll(1)[2]["tasks"] == []                       # held, then empty
    task = ecs.run_task(cluster="vg-agent", taskDefinition=td, launchType="EXTERNAL", overrides={
        "containerOverrides": [{"name": "main", "environment": [{"name": "A", "value": "2"}]}]})["tasks"][0]["taskArn"]
    assert poll(0)[2]["tasks"][0]["taskArn"] == task
    ecs.submit_container_state_change(cluster="vg-agent", task=task, containerName="main", status="RUNNING")
    ecs.submit_task_state_change(cluster="vg-agent", task=task, status="RUNNING", containers=[
        {"containerName": "main", "status": "RUNNING"}])
    poll(0, [{"taskArn": task, "lastStatus": "RUNNING",
              "containers": [{"name": "main", "lastStatus": "RUNNING", "healthStatus": "HEALTHY"}]}])
    ecs.stop_task(cluster="vg-agent", task=task)
    ecs.submit_task_state_change(cluster="vg-agent", task=task, status="STOPPED", containers=[
        {"containerName": "main", "status": "STOPPED", "exitCode": 143}])
    expect_error("InvalidParameterException", ecs.submit_task_state_change, cluster="vg-agent", task=task,
                 status="RUNNING")
    expect_error("InvalidParameterException", ecs.submit_container_state_change, cluster="vg-agent", task=task,
                 containerName="nope", status="RUNNING")
    assert poll(0, version=2)[0] == 400


def iam_actions(b, called):
    """Every IAM action, success and error paths (open mode: nothing is
    authorized, but users, sealed keys and parsed policies are made,
    stored and freed)."""
    iam = b.client("iam")
    iam.meta.events.register("before-call.iam.*", lambda model, **kw: called.add("IAM:" + model.name))
    iam.create_user(UserName="vg-user", Path="/vg/")
    expect_error("EntityAlreadyExists", iam.create_user, UserName="vg-user")
    iam.get_user(UserName="vg-user")
    expect_error("NoSuchEntity", iam.get_user, UserName="nope")
    iam.list_users(MaxItems=1)
    k = iam.create_access_key(UserName="vg-user")["AccessKey"]
    iam.create_access_key(UserName="vg-user")
    expect_error("LimitExceeded", iam.create_access_key, UserName="vg-user")
    iam.update_access_key(UserName="vg-user", AccessKeyId=k["AccessKeyId"], Status="Inactive")
    iam.list_access_keys(UserName="vg-user")
    iam.delete_access_key(UserName="vg-user", AccessKeyId=k["AccessKeyId"])
    doc = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "ecs:Describe*", "Resource": "*",
         "Condition": {"StringLike": {"aws:ResourceTag/team": "a*"}}}]})
    iam.put_user_policy(UserName="vg-user", PolicyName="p", PolicyDocument=doc)
    expect_error("MalformedPolicyDocument", iam.put_user_policy, UserName="vg-user", PolicyName="q",
                 PolicyDocument='{"Statement": 1}')
    iam.get_user_policy(UserName="vg-user", PolicyName="p")
    iam.list_user_policies(UserName="vg-user")
    expect_error("DeleteConflict", iam.delete_user, UserName="vg-user")
    iam.create_user(UserName="vg-gone")
    iam.put_user_policy(UserName="vg-gone", PolicyName="p", PolicyDocument=doc)
    iam.delete_user_policy(UserName="vg-gone", PolicyName="p")
    iam.delete_user(UserName="vg-gone")


def task_actions(ecs):
    """Task definitions, container instances, attributes and tasks: success
    and error paths, with tasks left running, stopped and waiting so that
    the restart below loads every kind."""
    ecs.create_cluster(clusterName="vg-tasks", capacityProviders=["FARGATE", "FARGATE_SPOT"])
    c = {"name": "app", "image": "busybox", "cpu": 64, "memory": 64, "essential": True,
         "portMappings": [{"containerPort": 80, "hostPort": 0}, {"containerPort": 81, "hostPort": 8081}],
         "dockerLabels": {"berth.sim.runtime": "1h"}}
    ecs.register_task_definition(family="vg-web", containerDefinitions=[c], tags=[{"key": "t", "value": "d"}],
                                 placementConstraints=[{"type": "memberOf", "expression": "attribute:ecs.os-type == linux"}])
    ecs.register_task_definition(family="vg-web", containerDefinitions=[dict(c, cpu=32)])
    ecs.register_task_definition(family="vg-fg", networkMode="awsvpc", requiresCompatibilities=["FARGATE"],
                                 cpu="256", memory="512", containerDefinitions=[{"name": "a", "image": "x"}])
    expect_error("ClientException", ecs.register_task_definition, family="vg-bad",
                 containerDefinitions=[{"name": "a", "image": "x"}])
    ecs.describe_task_definition(taskDefinition="vg-web", include=["TAGS"])
    expect_error("ClientException", ecs.describe_task_definition, taskDefinition="vg-none")
    ecs.list_task_definitions(familyPrefix="vg-", sort="DESC", maxResults=1)
    ecs.list_task_definition_families(familyPrefix="vg", status="ALL")
    doc = json.dumps({"instanceId": "i-0123456789abcdef0", "instanceType": "m5.large",
                      "availabilityZone": "us-east-1a", "region": REGION})
    res = [{"name": "CPU", "type": "INTEGER", "integerValue": 2048},
           {"name": "MEMORY", "type": "INTEGER", "integerValue": 4096},
           {"name": "PORTS", "type": "STRINGSET", "stringSetValue": ["22"]}]
    ci = ecs.register_container_instance(cluster="vg-tasks", instanceIdentityDocument=doc, totalResources=res,
                                         attributes=[{"name": "stack", "value": "prod"}],
                                         tags=[{"key": "i", "value": "1"}])["containerInstance"]["containerInstanceArn"]
    expect_error("InvalidParameterException", ecs.register_container_instance, cluster="vg-tasks",
                 instanceIdentityDocument=doc, totalResources=[])
    ecs.describe_container_instances(cluster="vg-tasks", containerInstances=[ci, "0" * 32],
                                     include=["TAGS", "CONTAINER_INSTANCE_HEALTH"])
    ecs.list_container_instances(cluster="vg-tasks", filter="attribute:stack == prod and runningTasksCount < 5")
    expect_error("InvalidParameterException", ecs.list_container_instances, cluster="vg-tasks", filter="attribute:x ==")
    ecs.put_attributes(cluster="vg-tasks", attributes=[{"name": "color", "value": "red", "targetId": ci}])
    ecs.list_attributes(cluster="vg-tasks", targetType="container-instance", attributeName="color")
    ecs.delete_attributes(cluster="vg-tasks", attributes=[{"name": "color", "targetId": ci}])
    expect_error("TargetNotFoundException", ecs.put_attributes, cluster="vg-tasks",
                 attributes=[{"name": "a", "value": "b", "targetId": "0" * 32, "targetType": "container-instance"}])
    run = ecs.run_task(cluster="vg-tasks", taskDefinition="vg-web:1", count=3, startedBy="vg", clientToken="vg-1",
                       overrides={"containerOverrides": [{"name": "app", "command": ["x"]}]},
                       tags=[{"key": "r", "value": "1"}], propagateTags="TASK_DEFINITION",
                       placementStrategy=[{"type": "spread", "field": "attribute:ecs.availability-zone"},
                                          {"type": "binpack", "field": "memory"}])
    assert run["tasks"] and run["failures"], run  # the static port fits once
    ecs.run_task(cluster="vg-tasks", taskDefinition="vg-web:1", count=3, clientToken="vg-1")
    net = {"awsvpcConfiguration": {"subnets": ["subnet-1"]}}
    ecs.run_task(cluster="vg-tasks", taskDefinition="vg-fg", count=4, networkConfiguration=net,
                 capacityProviderStrategy=[{"capacityProvider": "FARGATE", "base": 1, "weight": 1},
                                           {"capacityProvider": "FARGATE_SPOT", "weight": 1}])
    expect_error("InvalidParameterException", ecs.run_task, cluster="vg-tasks", taskDefinition="vg-fg",
                 launchType="FARGATE")
    expect_error("InvalidParameterException", ecs.run_task, cluster="vg-tasks", taskDefinition="vg-web",
                 placementConstraints=[{"type": "memberOf", "expression": "(("}])
    started = ecs.start_task(cluster="vg-tasks", taskDefinition="vg-web:2", containerInstances=[ci, "f" * 32])
    ecs.update_container_instances_state(cluster="vg-tasks", containerInstances=[ci], status="DRAINING")
    ecs.update_container_instances_state(cluster="vg-tasks", containerInstances=[ci], status="ACTIVE")
    arns = [t["taskArn"] for t in run["tasks"] + started["tasks"]]
    ecs.describe_tasks(cluster="vg-tasks", tasks=arns + ["0" * 32], include=["TAGS"])
    ecs.list_tasks(cluster="vg-tasks", maxResults=1)
    ecs.list_tasks(cluster="vg-tasks", family="vg-web", containerInstance=ci, launchType="EC2")
    ecs.list_tags_for_resource(resourceArn=arns[0])
    ecs.tag_resource(resourceArn=ci, tags=[{"key": "x", "value": "y"}])
    ecs.stop_task(cluster="vg-tasks", task=arns[0], reason="valgrind")
    expect_error("InvalidParameterException", ecs.stop_task, cluster="vg-tasks", task="0" * 32)
    # a provider with managed scaling and no instance: the task waits
    # (vg-full's default strategy gives its base task to vg-ms)
    waiting = ecs.run_task(cluster="vg-full", taskDefinition="vg-web:2")["tasks"]
    assert waiting and waiting[0]["lastStatus"] == "PROVISIONING", waiting
    # a second instance, deregistered with its task
    doc2 = json.dumps({"instanceId": "i-0123456789abcdef1", "instanceType": "m5.large",
                       "availabilityZone": "us-east-1b", "region": REGION})
    ci2 = ecs.register_container_instance(cluster="vg-tasks", instanceIdentityDocument=doc2,
                                          totalResources=res)["containerInstance"]["containerInstanceArn"]
    ecs.start_task(cluster="vg-tasks", taskDefinition="vg-web:2", containerInstances=[ci2])
    expect_error("InvalidParameterException", ecs.deregister_container_instance, cluster="vg-tasks",
                 containerInstance=ci2)
    ecs.deregister_container_instance(cluster="vg-tasks", containerInstance=ci2, force=True)
    ecs.register_task_definition(family="vg-gone", containerDefinitions=[c])
    ecs.deregister_task_definition(taskDefinition="vg-gone:1")
    ecs.delete_task_definitions(taskDefinitions=["vg-gone:1", "vg-web:1"])


def autoscaling_actions(b, called):
    """Each Auto Scaling action on its success and error paths; leaves the
    groups g-ms and plain-group (no instances, MaxSize 0) for the providers
    vg-ms and vg-plain, and a group with an instance for the restart."""
    asc = b.client("autoscaling")
    asc.meta.events.register("before-call.autoscaling.*", lambda model, **kw: called.add("AS:" + model.name))
    asc.create_launch_configuration(LaunchConfigurationName="vg-lc", ImageId="ami-12345678", InstanceType="m5.large",
                                    SecurityGroups=["sg-1"], UserData="#!/bin/sh\necho ECS_CLUSTER=vg-none")
    expect_error("AlreadyExists", asc.create_launch_configuration, LaunchConfigurationName="vg-lc",
                 ImageId="ami-1", InstanceType="m5.large")
    expect_error("ValidationError", asc.create_launch_configuration, LaunchConfigurationName="vg-lc2",
                 ImageId="ami-1", InstanceType="m5.enormous")
    asc.describe_launch_configurations(LaunchConfigurationNames=["vg-lc", "nope"], MaxRecords=1)
    expect_error("InvalidNextToken", asc.describe_launch_configurations, NextToken="zz")
    for g in ("g-ms", "plain-group"):
        asc.create_auto_scaling_group(AutoScalingGroupName=g, LaunchConfigurationName="vg-lc", MinSize=0,
                                      MaxSize=0, DesiredCapacity=0, AvailabilityZones=["us-east-1a"])
    asc.create_auto_scaling_group(AutoScalingGroupName="vg-asg", LaunchConfigurationName="vg-lc", MinSize=0,
                                  MaxSize=4, DesiredCapacity=2, AvailabilityZones=["us-east-1a", "us-east-1b"],
                                  Tags=[{"Key": "t", "Value": "1", "PropagateAtLaunch": True}],
                                  NewInstancesProtectedFromScaleIn=True)
    asc.create_auto_scaling_group(AutoScalingGroupName="vg-mixed", MinSize=0, MaxSize=2, DesiredCapacity=1,
                                  VPCZoneIdentifier="subnet-1,subnet-2", MixedInstancesPolicy={"LaunchTemplate": {
                                      "LaunchTemplateSpecification": {"LaunchTemplateName": "vg-lt"},
                                      "Overrides": [{"InstanceType": "c5.large"}]}})
    expect_error("AlreadyExists", asc.create_auto_scaling_group, AutoScalingGroupName="vg-asg",
                 LaunchConfigurationName="vg-lc", MinSize=0, MaxSize=1, AvailabilityZones=["us-east-1a"])
    expect_error("ValidationError", asc.create_auto_scaling_group, AutoScalingGroupName="vg-bad",
                 LaunchConfigurationName="nope", MinSize=0, MaxSize=1, AvailabilityZones=["us-east-1a"])
    expect_error("ResourceInUse", asc.delete_launch_configuration, LaunchConfigurationName="vg-lc")
    expect_error("ValidationError", asc.delete_launch_configuration, LaunchConfigurationName="nope")
    asc.describe_auto_scaling_groups(AutoScalingGroupNames=["vg-asg", "vg-mixed", "nope"], MaxRecords=1)
    asc.describe_auto_scaling_groups(Filters=[{"Name": "tag:t", "Values": ["1"]}])
    expect_error("InvalidNextToken", asc.describe_auto_scaling_groups, NextToken="zz")
    asc.update_auto_scaling_group(AutoScalingGroupName="vg-asg", MaxSize=5, DefaultCooldown=60)
    expect_error("ValidationError", asc.update_auto_scaling_group, AutoScalingGroupName="vg-asg", MinSize=9)
    asc.set_desired_capacity(AutoScalingGroupName="vg-asg", DesiredCapacity=3)
    expect_error("ValidationError", asc.set_desired_capacity, AutoScalingGroupName="vg-asg", DesiredCapacity=9)
    ids = [i["InstanceId"] for i in asc.describe_auto_scaling_groups(
        AutoScalingGroupNames=["vg-asg"])["AutoScalingGroups"][0]["Instances"]]
    assert len(ids) == 3, ids
    asc.set_instance_protection(AutoScalingGroupName="vg-asg", InstanceIds=ids[:1], ProtectedFromScaleIn=False)
    expect_error("ValidationError", asc.set_instance_protection, AutoScalingGroupName="vg-asg",
                 InstanceIds=["i-00000000000000000"], ProtectedFromScaleIn=True)
    asc.set_desired_capacity(AutoScalingGroupName="vg-asg", DesiredCapacity=1)  # only ids[0] may go
    asc.describe_auto_scaling_instances(InstanceIds=ids + ["i-00000000000000000"], MaxRecords=1)
    expect_error("InvalidNextToken", asc.describe_auto_scaling_instances, NextToken="00")
    asc.terminate_instance_in_auto_scaling_group(InstanceId=ids[1], ShouldDecrementDesiredCapacity=False)
    expect_error("ValidationError", asc.terminate_instance_in_auto_scaling_group, InstanceId="i-00000000000000000",
                 ShouldDecrementDesiredCapacity=False)
    asc.describe_policies(AutoScalingGroupName="vg-asg")
    expect_error("InvalidNextToken", asc.describe_policies, NextToken="bogus")
    asc.describe_scaling_activities(AutoScalingGroupName="vg-asg", MaxRecords=2)
    expect_error("ValidationError", asc.describe_scaling_activities, MaxRecords=101)
    expect_error("InvalidAction", asc.put_scaling_policy, AutoScalingGroupName="vg-asg", PolicyName="p",
                 PolicyType="SimpleScaling", AdjustmentType="ChangeInCapacity", ScalingAdjustment=1)
    expect_error("ResourceInUse", asc.delete_auto_scaling_group, AutoScalingGroupName="vg-mixed")
    asc.delete_auto_scaling_group(AutoScalingGroupName="vg-mixed", ForceDelete=True)
    expect_error("ValidationError", asc.delete_auto_scaling_group, AutoScalingGroupName="nope")
    asc.create_launch_configuration(LaunchConfigurationName="vg-lc-gone", ImageId="ami-1", InstanceType="t3.small")
    asc.delete_launch_configuration(LaunchConfigurationName="vg-lc-gone")
    # the Query protocol's own error paths
    st, _, _ = b.raw(None, "Action=DescribeAutoScalingGroups&Version=2011-01-01&MaxRecords=x",
                     headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert st == 400, st


def service_actions(ecs):
    """Services: every action, a deployment, a rollback-enabled circuit
    breaker, DAEMON, deletion and task protection; services are left
    ACTIVE, DRAINING and INACTIVE for the restart."""
    ecs.create_cluster(clusterName="vg-svc", serviceConnectDefaults={"namespace": "vg-ns"})
    doc = json.dumps({"instanceId": "i-0123456789abcdef9", "instanceType": "m5.large",
                      "availabilityZone": "us-east-1c", "region": REGION})
    res = [{"name": "CPU", "type": "INTEGER", "integerValue": 4096},
           {"name": "MEMORY", "type": "INTEGER", "integerValue": 8192}]
    ecs.register_container_instance(cluster="vg-svc", instanceIdentityDocument=doc, totalResources=res)
    c = {"name": "app", "image": "busybox", "cpu": 64, "memory": 64, "essential": True}
    ecs.register_task_definition(family="vg-svc", containerDefinitions=[c])
    ecs.register_task_definition(family="vg-svc", containerDefinitions=[dict(c, cpu=32)])
    cb = {"deploymentCircuitBreaker": {"enable": True, "rollback": True}, "maximumPercent": 150,
          "minimumHealthyPercent": 50}
    svc = ecs.create_service(cluster="vg-svc", serviceName="web", taskDefinition="vg-svc:1", desiredCount=3,
                             deploymentConfiguration=cb, clientToken="vg-svc-1", tags=[{"key": "s", "value": "1"}],
                             propagateTags="SERVICE", serviceConnectConfiguration={"enabled": True},
                             placementStrategy=[{"type": "spread", "field": "instanceId"}])["service"]
    ecs.create_service(cluster="vg-svc", serviceName="web", taskDefinition="vg-svc:1", desiredCount=3,
                       deploymentConfiguration=cb, clientToken="vg-svc-1")
    expect_error("InvalidParameterException", ecs.create_service, cluster="vg-svc", serviceName="web",
                 taskDefinition="vg-svc:1", desiredCount=1)
    expect_error("InvalidParameterException", ecs.create_service, cluster="vg-svc", serviceName="bad",
                 taskDefinition="vg-svc:1", desiredCount=1, launchType="EC2",
                 capacityProviderStrategy=[{"capacityProvider": "FARGATE", "weight": 1}])
    ecs.create_service(cluster="vg-svc", serviceName="daemon", taskDefinition="vg-svc:2",
                       schedulingStrategy="DAEMON")
    ecs.create_service(cluster="vg-svc", serviceName="idle", taskDefinition="vg-svc:2", desiredCount=0)
    wait_until(lambda: ecs.describe_services(cluster="vg-svc", services=["web"])["services"][0]["runningCount"] == 3,
               timeout=60, what="web running")
    ecs.update_service(cluster="vg-svc", service="web", taskDefinition="vg-svc:2", desiredCount=2)
    expect_error("InvalidParameterException", ecs.update_service, cluster="vg-svc", service="web",
                 capacityProviderStrategy=[{"capacityProvider": "FARGATE", "weight": 1}])
    expect_error("ServiceNotFoundException", ecs.update_service, cluster="vg-svc", service="nope")
    ecs.describe_services(cluster="vg-svc", services=[svc["serviceArn"], "nope"], include=["TAGS"])
    ecs.list_services(cluster="vg-svc", maxResults=1, schedulingStrategy="REPLICA")
    ecs.list_services_by_namespace(namespace="vg-ns")
    arns = ecs.list_tasks(cluster="vg-svc", serviceName="web")["taskArns"]
    ecs.update_task_protection(cluster="vg-svc", tasks=arns[:1] + ["0" * 32], protectionEnabled=True,
                               expiresInMinutes=5)
    ecs.get_task_protection(cluster="vg-svc", tasks=arns[:1])
    expect_error("InvalidParameterException", ecs.delete_service, cluster="vg-svc", service="web")
    ecs.delete_service(cluster="vg-svc", service="idle")
    ecs.list_tags_for_resource(resourceArn=svc["serviceArn"])


def protocol_corners(b):
    """The protocol layer's error paths, through raw HTTP."""
    assert raw(b, "CreateTaskSet", "{}")[0] == 400                 # in the model, not implemented
    st, _, _ = b.raw(None, '{"cluster": "vg-tasks", "count": 1}',
                     headers={"X-Amz-Target": "BerthExtensions_v1.InterruptSpotTasks"})
    assert st == 200
    assert raw(b, "DescribeEverything", "{}")[0] == 400            # not an ECS operation
    st, _, _ = b.raw(None, "{}", headers={"X-Amz-Target": "DynamoDB_20120810.ListTables"})
    assert st == 400
    assert raw(b, None, "{}")[0] == 400                            # no target
    assert raw(b, "ListClusters", "{not json")[0] == 400
    assert raw(b, "ListClusters", "[1,2]")[0] == 400
    assert raw(b, "ListClusters", b"{\"nextToken\":\"\xff\xfe\"}")[0] == 400
    assert raw(b, "ListClusters", "")[0] == 200                    # empty body is {}
    assert raw(b, "CreateCluster", '{"clusterName": 5}')[0] == 400
    assert raw(b, "CreateCluster", '{"clusterName": "x", "tags": "no"}')[0] == 400
    assert raw(b, "DescribeClusters", '{"clusters": [1, null]}')[0] == 400
    assert raw(b, "ListClusters", '{"maxResults": 1e300}')[0] == 400
    assert raw(b, "ListClusters", '{"maxResults": 12345678901234567890}')[0] == 400
    # The Query protocol (Auto Scaling): an answer and an error.
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    assert raw(b, None, "Action=DescribeAutoScalingGroups&Version=2011-01-01", headers=form)[0] == 200
    assert raw(b, None, "Action=DescribeAutoScalingGroups&MaxRecords=x", headers=form)[0] == 400
    for path in ("/", "/health", "/metrics"):
        assert raw(b, None, None, method="GET", path=path)[0] == 200
    assert raw(b, None, None, method="GET", path="/nope")[0] == 404
    assert raw(b, None, b"x", method="PUT", path="/")[0] == 405
    # Too large: refused from Content-Length, and while streaming (chunked).
    big = b"{" + b" " * (2 * 1024 * 1024) + b"}"
    try:
        st = raw(b, "ListClusters", big)[0]
    except (ConnectionError, urllib.error.URLError):
        st = 413  # refused before the body was read: the client may see the close first
    assert st == 413, st
    s = socket.create_connection(("127.0.0.1", b.port), timeout=30)
    s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: " + (PREFIX + "ListClusters").encode() +
              b"\r\nTransfer-Encoding: chunked\r\n\r\n")
    try:
        chunk = b"{" + b" " * 65536
        for _ in range(20):
            s.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            chunk = b" " * 65536
        s.sendall(b"1\r\n}\r\n0\r\n\r\n")
        reply = s.recv(4096)
        assert reply.startswith(b"HTTP/1.1 413"), reply[:200]
    except ConnectionError:
        pass  # closed after the 413 while we were still sending
    s.close()


def binary_or_skip():
    assert VALGRIND, "valgrind is not installed (apt-get install valgrind)"
    berthd = plain_berthd()
    if berthd is None:
        print("skip: %s is built with AddressSanitizer and there is no plain build/berthd to run under valgrind"
              % harness.BERTHD, flush=True)
    elif berthd != harness.BERTHD:
        print("%s is built with AddressSanitizer: valgrind runs %s" % (harness.BERTHD, berthd), flush=True)
    return berthd


def test_valgrind_every_action_clean(_shared):
    berthd = binary_or_skip()
    if not berthd:
        return
    work = tempfile.mkdtemp(prefix="berth-vg-")
    data = os.path.join(work, "data")
    os.makedirs(data)
    vg = Valgrind(work, berthd)
    b = Berth(data_dir=data)
    b2 = None
    try:
        vg.start(b)
        called = set()
        every_action(b, called)
        missing = (implemented_actions() | {"AS:" + a for a in implemented_as_actions()} |
                   {"IAM:" + a for a in IAM_ACTIONS}) - called
        assert not missing, "actions not exercised under valgrind (add them to every_action): %s" % sorted(missing)
        protocol_corners(b)
        vg.stop(b)
        # Restart on the same store (the load path), with retention 0 so the
        # INACTIVE resources are purged (the store's delete path).
        os.remove(b.log_path)  # the new Berth must not read the old start line
        b2 = Berth("--cluster-retention-s", "0", "--cp-retention-s", "0", "--service-retention-s", "0",
                   "--transition-ms", "10", data_dir=data)
        vg.start(b2)
        ecs = b2.ecs
        kept = ecs.describe_services(cluster="vg-svc", services=["web", "daemon", "idle"])
        assert [s["serviceName"] for s in kept["services"]] == ["web", "daemon"], kept
        # IAM users come back with their sealed keys and parsed policies
        assert b2.client("iam").list_user_policies(UserName="vg-user")["PolicyNames"] == ["p"]
        assert len(b2.client("iam").list_access_keys(UserName="vg-user")["AccessKeyMetadata"]) == 1
        ecs.delete_service(cluster="vg-svc", service="daemon")
        wait_until(lambda: ecs.describe_clusters(clusters=["vg-list-4"])["failures"], timeout=30,
                   what="the INACTIVE cluster to be purged")
        ecs.delete_capacity_provider(capacityProvider="vg-ms")  # in use: DELETE_FAILED again
        ecs.create_capacity_provider(name="vg-short", autoScalingGroupProvider=asg("g-short"))
        ecs.delete_capacity_provider(capacityProvider="vg-short")
        wait_until(lambda: ecs.describe_capacity_providers(capacityProviders=["vg-short"])["failures"], timeout=30,
                   what="the deleted capacity provider to be purged")
        ecs.create_cluster(clusterName="vg-list-4", tags=[{"key": "again", "value": "1"}])
        # Shutdown with a keep-alive connection idle and a request whose
        # body is still arriving: it is answered 503 (or the connection is
        # closed), and nothing leaks either way.
        idle = socket.create_connection(("127.0.0.1", b2.port), timeout=30)
        idle.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        assert idle.recv(4096).startswith(b"HTTP/1.1 200")
        slow = socket.create_connection(("127.0.0.1", b2.port), timeout=30)
        body = b'{"clusterName": "vg-late"}'
        slow.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: " + (PREFIX + "CreateCluster").encode() +
                     b"\r\nContent-Length: %d\r\n\r\n" % len(body) + body[:4])
        b2.proc.send_signal(signal.SIGTERM)
        wait_until(lambda: "stopping" in b2.log(), timeout=30, what="berthd to begin stopping")
        try:
            slow.sendall(body[4:])
            reply = slow.recv(4096)
            assert reply == b"" or reply.startswith(b"HTTP/1.1 503") or reply.startswith(b"HTTP/1.1 200"), reply
        except ConnectionError:
            pass
        vg.stop(b2)
        idle.close()
        slow.close()
    finally:
        b.kill()
        if b2:
            b2.kill()
        shutil.rmtree(work, ignore_errors=True)


def test_valgrind_refused_starts_clean(shared):
    """The start-up failure paths free what they made: a store held by
    another berthd, a port in use, a data directory that is a file."""
    berthd = binary_or_skip()
    if not berthd:
        return
    work = tempfile.mkdtemp(prefix="berth-vg-")
    try:
        vg = Valgrind(work, berthd)
        out = vg.run_failing("--listen", "127.0.0.1:0", "--data-dir", shared.data_dir)
        assert "in use by another berthd" in out, out
        out = vg.run_failing("--listen", "127.0.0.1:%d" % shared.port, "--data-dir", os.path.join(work, "d"))
        assert "cannot listen" in out, out
        afile = os.path.join(work, "afile")
        open(afile, "w").close()
        out = vg.run_failing("--listen", "127.0.0.1:0", "--data-dir", afile)
        assert "cannot open the store" in out, out
        out = vg.run_failing("--listen", "127.0.0.1:0", "--data-dir", os.path.join(work, "d2"), "--store-sync", "sometimes")
        assert "--store-sync" in out, out
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main(globals())
