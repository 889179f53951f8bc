"""Task definitions end to end: RegisterTaskDefinition with ECS's defaults,
computed members and validation rules (ECS-SEMANTICS §5.6 for Fargate),
DescribeTaskDefinition by family, family:revision and ARN (with
include=TAGS), ListTaskDefinitions and ListTaskDefinitionFamilies with
their filters, sort orders and pagination, DeregisterTaskDefinition,
DeleteTaskDefinitions and the purge of deleted revisions, tags on task
definitions, container instances and tasks (§9), the use of revisions by
RunTask, and persistence across a restart.  Clients are boto3 (with its
paginators), the AWS CLI (input JSON files, auto-pagination) and raw HTTP
where boto3 would refuse a value before sending it."""
import itertools
import json
import os
import tempfile

from harness import main, expect_error, wait_until, fresh, berthd_args, ACCOUNT, REGION

ARN = "arn:aws:ecs:%s:%s:" % (REGION, ACCOUNT)
TD_ARN = ARN + "task-definition/"
NOT_FOUND = "Unable to describe task definition."
NO_MEMORY = ("Invalid setting for container '%s'. At least one of 'memory' or 'memoryReservation' "
             "must be specified.")

_seq = itertools.count(1)


def uniq(prefix="td"):
    """A name no other test of the shared daemon uses."""
    return "%s-%03d" % (prefix, next(_seq))


def container(name="app", image="busybox", **kw):
    c = {"name": name, "image": image}
    c.update(kw)
    return c


def register(b, family=None, containers=None, **kw):
    family = uniq() if family is None else family
    containers = containers if containers is not None else [container(memory=128)]
    return b.ecs.register_task_definition(family=family, containerDefinitions=containers, **kw)["taskDefinition"]


def describe(b, ref, **kw):
    return b.ecs.describe_task_definition(taskDefinition=ref, **kw)["taskDefinition"]


_UNSET = object()


def refused(b, code, message, family=_UNSET, containers=None, **kw):
    """Registration must fail with code and exactly message; nothing of the
    family appears."""
    family = uniq("bad") if family is _UNSET else family
    e = expect_error(code, register, b, family, containers, **kw)
    assert e.response["Error"]["Message"] == message, e.response["Error"]
    assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    if family and all(c.isalnum() or c in "-_" for c in family) and len(family) <= 255:
        assert b.ecs.list_task_definitions(familyPrefix=family)["taskDefinitionArns"] == []
    return e


def raw_error(b, target, body, code, contains=None, status=400):
    st, _, out = b.raw(target, json.dumps(body))
    assert st == status, (st, out)
    assert set(out) == {"__type", "message"} and out["__type"] == code, out
    if contains is not None:
        assert contains in out["message"], out
    return out


def arns(b, **kw):
    return b.ecs.list_task_definitions(**kw)["taskDefinitionArns"]


def all_arns(b, **kw):
    """Every page of ListTaskDefinitions (the shared daemon holds more than
    one page)."""
    pages = b.ecs.get_paginator("list_task_definitions").paginate(**kw)
    return sum((p["taskDefinitionArns"] for p in pages), [])


def all_families(b, **kw):
    pages = b.ecs.get_paginator("list_task_definition_families").paginate(**kw)
    return sum((p["families"] for p in pages), [])


def tags_of(lst):
    return {t["key"]: t["value"] for t in lst}


# ---- RegisterTaskDefinition: what comes back ----

def test_register_echoes_ecs_defaults(b):
    family = uniq()
    out = b.ecs.register_task_definition(family=family, containerDefinitions=[
        container(cpu=10, memory=10, command=["sleep", "360"], essential=True)])
    assert "tags" not in out  # none given
    td = out["taskDefinition"]
    assert td["taskDefinitionArn"] == TD_ARN + family + ":1" and td["family"] == family, td
    assert td["revision"] == 1 and td["status"] == "ACTIVE", td
    assert td["containerDefinitions"] == [{
        "name": "app", "image": "busybox", "cpu": 10, "memory": 10, "command": ["sleep", "360"],
        "essential": True, "portMappings": [], "environment": [], "mountPoints": [], "volumesFrom": []}], td
    assert td["volumes"] == [] and td["placementConstraints"] == [], td
    # ECS computes the launch types; a bridge-mode definition runs on EC2 and ECS Anywhere
    assert td["compatibilities"] == ["EXTERNAL", "EC2"], td
    # networkMode is echoed only when given (bridge is the default)
    for absent in ("networkMode", "requiresCompatibilities", "cpu", "memory", "deregisteredAt",
                   "deleteRequestedAt", "taskRoleArn", "requiresAttributes"):
        assert absent not in td, (absent, td)
    assert td["registeredBy"] == "arn:aws:iam::%s:root" % ACCOUNT
    assert abs(td["registeredAt"].timestamp() - describe(b, family)["registeredAt"].timestamp()) < 0.001
    # the container defaults: essential true and cpu 0 when left out
    td = register(b, containers=[container(memoryReservation=64)])
    c = td["containerDefinitions"][0]
    assert c["essential"] is True and c["cpu"] == 0 and c["memoryReservation"] == 64 and "memory" not in c, c
    assert td["requiresAttributes"] == [{"name": "com.amazonaws.ecs.capability.docker-remote-api.1.21"}], td


def test_register_keeps_what_was_given(b):
    family = uniq()
    given = container(
        cpu=128, memory=256, memoryReservation=128, links=["db"], entryPoint=["sh", "-c"], command=["run"],
        environment=[{"name": "B", "value": "2"}, {"name": "A", "value": "1"}],
        mountPoints=[{"sourceVolume": "data", "containerPath": "/data", "readOnly": False}],
        dockerLabels={"team": "blue"}, stopTimeout=30, essential=False, user="1000",
        logConfiguration={"logDriver": "awslogs", "options": {"awslogs-group": "g"}},
        healthCheck={"command": ["CMD", "true"], "interval": 10, "timeout": 5, "retries": 3},
        ulimits=[{"name": "nofile", "softLimit": 1024, "hardLimit": 2048}])
    db = container("db", "postgres", memory=512, dependsOn=[{"containerName": "app", "condition": "START"}])
    td = register(b, family, [given, db], taskRoleArn="arn:aws:iam::%s:role/t" % ACCOUNT,
                  executionRoleArn="arn:aws:iam::%s:role/x" % ACCOUNT, networkMode="bridge",
                  volumes=[{"name": "data", "host": {"sourcePath": "/srv"}}], pidMode="host", ipcMode="task",
                  runtimePlatform={"operatingSystemFamily": "LINUX", "cpuArchitecture": "ARM64"},
                  ephemeralStorage={"sizeInGiB": 30})
    c = td["containerDefinitions"][0]
    for k, v in given.items():
        assert c[k] == v, (k, c[k], v)
    assert c["volumesFrom"] == [] and c["portMappings"] == [], c
    assert td["containerDefinitions"][1]["dependsOn"] == db["dependsOn"]
    assert td["networkMode"] == "bridge" and td["pidMode"] == "host" and td["ipcMode"] == "task", td
    assert td["volumes"] == [{"name": "data", "host": {"sourcePath": "/srv"}}], td
    assert td["runtimePlatform"] == {"operatingSystemFamily": "LINUX", "cpuArchitecture": "ARM64"}
    assert td["ephemeralStorage"] == {"sizeInGiB": 30}
    assert td["taskRoleArn"].endswith(":role/t") and td["executionRoleArn"].endswith(":role/x")
    attrs = {a["name"] for a in td["requiresAttributes"]}
    assert attrs == {"com.amazonaws.ecs.capability.docker-remote-api.1.18",
                     "com.amazonaws.ecs.capability.docker-remote-api.1.21",
                     "com.amazonaws.ecs.capability.logging-driver.awslogs",
                     "com.amazonaws.ecs.capability.task-iam-role",
                     "ecs.capability.container-ordering"}, attrs
    # describe answers the same object
    assert describe(b, td["taskDefinitionArn"]) == td


def test_unknown_and_null_members_are_dropped(b):
    family = uniq()
    body = {"family": family, "madeUp": 1, "cpu": None, "networkMode": None,
            "containerDefinitions": [{"name": "a", "image": "i", "memory": 16, "invented": {"x": 1},
                                      "linuxParameters": {"initProcessEnabled": True, "zzz": 2},
                                      "user": None}]}
    st, _, out = b.raw("RegisterTaskDefinition", json.dumps(body))
    assert st == 200, out
    td = out["taskDefinition"]
    assert "madeUp" not in td and "cpu" not in td and "networkMode" not in td, td
    c = td["containerDefinitions"][0]
    assert "invented" not in c and "user" not in c, c
    assert c["linuxParameters"] == {"initProcessEnabled": True}, c
    # timestamps are epoch seconds with milliseconds
    assert isinstance(td["registeredAt"], float) or isinstance(td["registeredAt"], int), td


def test_port_mapping_defaults_by_network_mode(b):
    maps = [{"containerPort": 80}, {"containerPort": 53, "protocol": "udp"}]
    # bridge: an absent host port is dynamic (0)
    td = register(b, containers=[container(memory=64, portMappings=maps)])
    assert td["containerDefinitions"][0]["portMappings"] == [
        {"containerPort": 80, "hostPort": 0, "protocol": "tcp"},
        {"containerPort": 53, "hostPort": 0, "protocol": "udp"}], td
    # a fixed one is kept
    td = register(b, containers=[container(memory=64, portMappings=[{"containerPort": 80, "hostPort": 8080}])])
    assert td["containerDefinitions"][0]["portMappings"] == [{"containerPort": 80, "hostPort": 8080, "protocol": "tcp"}]
    # awsvpc and host: the host port is the container port
    for mode in ("awsvpc", "host"):
        td = register(b, containers=[container(memory=64, portMappings=maps + [{"containerPort": 81, "hostPort": 0},
                                                                              {"containerPort": 82, "hostPort": 82}])],
                      networkMode=mode)
        assert td["networkMode"] == mode
        assert [(m["containerPort"], m["hostPort"], m["protocol"]) for m in td["containerDefinitions"][0]["portMappings"]] \
            == [(80, 80, "tcp"), (53, 53, "udp"), (81, 81, "tcp"), (82, 82, "tcp")], td


def test_compatibilities_as_ecs_computes_them(b):
    fg = dict(networkMode="awsvpc", cpu="256", memory="512")
    td = register(b, containers=[container()], requiresCompatibilities=["FARGATE"], **fg)
    assert td["compatibilities"] == ["EC2", "FARGATE"] and td["requiresCompatibilities"] == ["FARGATE"], td
    assert td["cpu"] == "256" and td["memory"] == "512", td
    assert td["requiresAttributes"] == [{"name": "ecs.capability.task-eni"}], td
    # Fargate-compatible without asking for it
    assert register(b, containers=[container()], **fg)["compatibilities"] == ["EC2", "FARGATE"]
    # awsvpc without a Fargate size: EC2 only (no EXTERNAL with awsvpc)
    assert register(b, networkMode="awsvpc")["compatibilities"] == ["EC2"]
    assert register(b, networkMode="awsvpc", cpu="300", memory="512")["compatibilities"] == ["EC2"]
    # host and none: EC2 and EXTERNAL
    assert register(b, networkMode="host")["compatibilities"] == ["EXTERNAL", "EC2"]
    assert register(b, networkMode="none", requiresCompatibilities=["EXTERNAL"])["compatibilities"] == ["EXTERNAL", "EC2"]
    assert register(b, requiresCompatibilities=["EC2"])["compatibilities"] == ["EXTERNAL", "EC2"]
    mi = register(b, networkMode="awsvpc", requiresCompatibilities=["MANAGED_INSTANCES"])
    assert mi["compatibilities"] == ["EC2", "MANAGED_INSTANCES"], mi
    # a placement constraint keeps a definition off Fargate
    td = register(b, containers=[container()], placementConstraints=[
        {"type": "memberOf", "expression": "attribute:ecs.instance-type =~ t3.*"}], **fg)
    assert td["compatibilities"] == ["EC2"], td


def test_cpu_and_memory_units(b):
    cases = [("1024", "2048", "1024", "2048"), ("1 vCPU", "2 GB", "1024", "2048"), ("1vcpu", "2GB", "1024", "2048"),
             ("0.25 vCPU", "0.5GB", "256", "512"), (".5 VCPU", "1 gb", "512", "1024"), ("128", "6", "128", "6"),
             ("192 vCPU", "100GB", "196608", "102400")]
    for cpu, mem, want_cpu, want_mem in cases:
        td = register(b, containers=[container()], cpu=cpu, memory=mem)
        assert (td["cpu"], td["memory"]) == (want_cpu, want_mem), (cpu, mem, td)
    for cpu in ("abc", "", ".", ". vCPU", "1.5", "127", "196609", "193 vCPU", "0.1 vCPU", "1 GB", "-256",
                "1 vCPUs"):
        refused(b, "ClientException", "Invalid 'cpu' setting for task. For more information, see the "
                "Troubleshooting section of the Amazon ECS Developer Guide.", cpu=cpu)
    for mem in ("abc", "0", "1.5", "0.0001GB", "1 vCPU", "2 GiB"):
        refused(b, "ClientException", "Invalid 'memory' setting for task. For more information, see the "
                "Troubleshooting section of the Amazon ECS Developer Guide.", memory=mem)
    # task memory stands in for container memory
    td = register(b, containers=[container()], memory="1 GB")
    assert "memory" not in td["containerDefinitions"][0] and td["memory"] == "1024"


def test_fargate_rules(b):
    c = [container()]
    fg = dict(requiresCompatibilities=["FARGATE"])
    refused(b, "ClientException", "Fargate only supports network mode \u2018awsvpc\u2019.", containers=c,
            cpu="256", memory="512", **fg)
    refused(b, "ClientException", "Fargate only supports network mode \u2018awsvpc\u2019.", containers=c,
            networkMode="bridge", cpu="256", memory="512", **fg)
    refused(b, "ClientException", "Fargate requires that 'cpu' be defined at the task level.", containers=c,
            networkMode="awsvpc", memory="512", **fg)
    refused(b, "ClientException", "Fargate requires that 'memory' be defined at the task level.", containers=c,
            networkMode="awsvpc", cpu="256", **fg)
    for cpu, mem in (("256", "1536"), ("256", "4096"), ("512", "512"), ("1024", "9216"), ("4096", "31744"),
                     ("8192", "18432"), ("16384", "36864"), ("128", "512"), ("3072", "8192")):
        refused(b, "ClientException", "No Fargate configuration exists for given values: %s CPU, %s memory. "
                "See the Amazon ECS documentation for the valid values." % (cpu, mem), containers=c,
                networkMode="awsvpc", cpu=cpu, memory=mem, **fg)
    refused(b, "ClientException", "Tasks using the Fargate launch type do not support pidMode 'host'. "
            "The supported value for pidMode is 'task'.", containers=c, networkMode="awsvpc", cpu="256",
            memory="512", pidMode="host", **fg)
    refused(b, "ClientException", "Task definition placement constraints are not supported for the Fargate "
            "launch type.", containers=c, networkMode="awsvpc", cpu="256", memory="512",
            placementConstraints=[{"type": "memberOf", "expression": "agentConnected == true"}], **fg)
    # every valid size, units included
    for cpu, mem in (("256", "512"), ("256", "1024"), ("256", "2GB"), ("512", "1024"), ("512", "4096"),
                     ("1 vCPU", "2048"), ("1024", "8192"), ("2048", "4096"), ("2048", "16384"),
                     ("4096", "8192"), ("4 vcpu", "30 GB"), ("8192", "16384"), ("8192", "61440"),
                     ("16384", "32768"), ("16 vCPU", "120GB")):
        td = register(b, containers=c, networkMode="awsvpc", cpu=cpu, memory=mem, **fg)
        assert "FARGATE" in td["compatibilities"], (cpu, mem, td)
    # EXTERNAL has no awsvpc
    refused(b, "ClientException", "Tasks using the EXTERNAL launch type do not support network mode 'awsvpc'.",
            networkMode="awsvpc", requiresCompatibilities=["EXTERNAL"])


def test_container_rules(b):
    refused(b, "ClientException", "Container list cannot be empty.", containers=[])
    refused(b, "ClientException", "Too many containers.",
            containers=[container("c%d" % i, memory=16) for i in range(11)])
    assert len(register(b, containers=[container("c%d" % i, memory=16) for i in range(10)])["containerDefinitions"]) == 10
    refused(b, "ClientException", "Container.name should not be null or empty.", containers=[{"image": "x", "memory": 8}])
    refused(b, "ClientException", "Container.name should not be null or empty.", containers=[container("", memory=8)])
    for bad in ("has space", "dot.name", "x" * 256, "ü"):
        refused(b, "ClientException", "Container.name contains invalid characters.", containers=[container(bad, memory=8)])
    refused(b, "ClientException", "Container.image should not be null or empty.", containers=[{"name": "a", "memory": 8}])
    refused(b, "ClientException", "Container.image should not be null or empty.", containers=[container(image="", memory=8)])
    refused(b, "ClientException", "Container names must be unique within a Task Definition.",
            containers=[container(memory=8), container("b", memory=8), container(memory=8)])
    # memory
    refused(b, "ClientException", NO_MEMORY % "second", containers=[container(memory=8), container("second")])
    refused(b, "ClientException", "Invalid setting for container 'app'. 'memoryReservation' must be less than or "
            "equal to 'memory'.", containers=[container(memory=64, memoryReservation=65)])
    assert register(b, containers=[container(memory=64, memoryReservation=64)])
    refused(b, "ClientException", "Invalid 'memory' setting for container 'app'.", containers=[container(memory=0)])
    refused(b, "ClientException", "Invalid 'memoryReservation' setting for container 'app'.",
            containers=[container(memoryReservation=-1)])
    refused(b, "ClientException", "The 'memory' setting for container 'big' is greater than for the task.",
            containers=[container(memory=100), container("big", memory=600)], memory="512")
    refused(b, "ClientException", "The sum of all container 'memoryReservation' values cannot be greater than "
            "the value of the task 'memory'.",
            containers=[container(memoryReservation=300), container("b", memoryReservation=300)], memory="512")
    assert register(b, containers=[container(memoryReservation=256), container("b", memory=512)], memory="512")
    # cpu
    refused(b, "ClientException", "The sum of all container 'cpu' values cannot be greater than the value of the "
            "task 'cpu'.", containers=[container(cpu=200, memory=8), container("b", cpu=57, memory=8)], cpu="256")
    assert register(b, containers=[container(cpu=200, memory=8), container("b", cpu=56, memory=8)], cpu="256")
    refused(b, "ClientException", "Invalid 'cpu' setting for container 'app'.", containers=[container(cpu=-1, memory=8)])
    # dependsOn must name another container
    refused(b, "ClientException", "Invalid dependsOn for container 'app': 'ghost' is not another container of "
            "this task definition.",
            containers=[container(memory=8, dependsOn=[{"containerName": "ghost", "condition": "START"}])])
    refused(b, "ClientException", "Invalid dependsOn for container 'app': 'app' is not another container of "
            "this task definition.",
            containers=[container(memory=8, dependsOn=[{"containerName": "app", "condition": "START"}])])
    # at least one essential container
    refused(b, "ClientException", "A task definition must have at least one essential container.",
            containers=[container(memory=8, essential=False), container("b", memory=8, essential=False)])


def test_port_rules(b):
    def ports(*maps, **kw):
        return dict(containers=[container(memory=8, portMappings=list(maps))], **kw)

    for mode in ("awsvpc", "host"):
        refused(b, "ClientException", "When networkMode=%s, the host ports and container ports in port mappings "
                "must match." % mode, **ports({"containerPort": 80, "hostPort": 8080}, networkMode=mode))
    refused(b, "ClientException", "TCP host port '8080' is mapped multiple times in task.",
            containers=[container(memory=8, portMappings=[{"containerPort": 80, "hostPort": 8080}]),
                        container("b", memory=8, portMappings=[{"containerPort": 81, "hostPort": 8080}])])
    refused(b, "ClientException", "UDP host port '53' is mapped multiple times in task.",
            **ports({"containerPort": 53, "protocol": "udp"}, {"containerPort": 53, "protocol": "udp"},
                    networkMode="awsvpc"))
    refused(b, "ClientException", "TCP host port '80' is mapped multiple times in task.",
            containers=[container(memory=8, portMappings=[{"containerPort": 80}]),
                        container("b", memory=8, portMappings=[{"containerPort": 80}])], networkMode="host")
    # the same number over TCP and UDP, and dynamic ports, are fine
    assert register(b, **ports({"containerPort": 53, "hostPort": 53}, {"containerPort": 53, "hostPort": 53,
                                                                       "protocol": "udp"}))
    assert register(b, **ports({"containerPort": 80}, {"containerPort": 80, "hostPort": 0}))
    for cp in (0, 65536, -1):
        refused(b, "ClientException", "Invalid 'containerPort' setting for container 'app'.",
                **ports({"containerPort": cp}))
    refused(b, "ClientException", "Invalid 'containerPort' setting for container 'app'.", **ports({"hostPort": 80}))
    refused(b, "ClientException", "Invalid 'hostPort' setting for container 'app'.",
            **ports({"containerPort": 80, "hostPort": 70000}))
    refused(b, "ClientException", "Port mappings are not supported when networkMode=none (container 'app').",
            **ports({"containerPort": 80}, networkMode="none"))
    # a port range is kept as given
    td = register(b, **ports({"containerPortRange": "8000-8010"}, networkMode="awsvpc"))
    assert td["containerDefinitions"][0]["portMappings"] == [{"containerPortRange": "8000-8010", "protocol": "tcp"}]


def test_placement_constraints(b):
    pcs = [{"type": "memberOf", "expression": "attribute:ecs.instance-type =~ t3.* and attribute:stack == prod"},
           {"type": "memberOf", "expression": "agentConnected == true"}]
    td = register(b, placementConstraints=pcs)
    assert td["placementConstraints"] == pcs, td
    e = expect_error("InvalidParameterException", register, b, uniq(), None,
                     placementConstraints=[{"type": "memberOf", "expression": "attribute:stack prod"}])
    assert e.response["Error"]["Message"].startswith(
        "Invalid memberOf expression: position 17: expected an operator"), e.response["Error"]
    refused(b, "InvalidParameterException", "A memberOf placement constraint requires an expression.",
            placementConstraints=[{"type": "memberOf"}])
    refused(b, "InvalidParameterException", "A task definition can have at most 10 placement constraints.",
            placementConstraints=[{"type": "memberOf", "expression": "agentConnected == true"}] * 11)
    # a type other than memberOf is refused by the model's enum
    raw_error(b, "RegisterTaskDefinition", {"family": uniq(), "containerDefinitions": [container(memory=8)],
                                            "placementConstraints": [{"type": "distinctInstance"}]},
              "InvalidParameterException")


def test_family_and_tag_rules(b):
    msg = ("Family contains invalid characters. Up to 255 letters (uppercase and lowercase), numbers, "
           "underscores, and hyphens are allowed.")
    for bad in ("has space", "a:b", "a/b", "x" * 256, "ü"):
        refused(b, "ClientException", msg, family=bad)
    refused(b, "ClientException", msg, family="")
    assert register(b, "F" * 255)["family"] == "F" * 255
    refused(b, "ClientException", "Tags can not be empty.", tags=[])
    e = expect_error("InvalidParameterException", register, b, uniq(), None, tags=[{"key": "aws:x", "value": "1"}])
    assert "aws:" in e.response["Error"]["Message"]
    expect_error("InvalidParameterException", register, b, uniq(), None,
                 tags=[{"key": "k%d" % i, "value": "v"} for i in range(51)])


def test_sim_labels(b):
    for ok in ("30", "0.5", "500ms", "30s", "2m", "1h", "0s", "1.25s"):
        register(b, containers=[container(memory=8, dockerLabels={"berth.sim.runtime": ok,
                                                                  "berth.sim.exit-code": "3"})])
    for bad in ("", "abc", "30 s", "-1", "1d", "1.2345s", "s"):
        refused(b, "ClientException", "Invalid dockerLabels 'berth.sim.runtime' value '%s' for container 'app': "
                "a number of seconds or a duration such as 500ms, 30s, 2m or 1h is expected." % bad,
                containers=[container(memory=8, dockerLabels={"berth.sim.runtime": bad})])
    for bad in ("", "x", "256", "-1", "1.5"):
        refused(b, "ClientException", "Invalid dockerLabels 'berth.sim.exit-code' value '%s' for container "
                "'app': an exit code 0-255 is expected." % bad,
                containers=[container(memory=8, dockerLabels={"berth.sim.exit-code": bad})])


def test_revisions_count_up_per_family(b):
    fa, fb = uniq("rev"), uniq("rev")
    assert [register(b, fa)["revision"] for _ in range(3)] == [1, 2, 3]
    assert register(b, fb)["revision"] == 1
    assert describe(b, fa)["revision"] == 3
    # a failed registration takes no revision
    expect_error("ClientException", register, b, fa, [container()])
    assert register(b, fa)["taskDefinitionArn"] == TD_ARN + fa + ":4"


# ---- DescribeTaskDefinition ----

def test_describe_by_family_revision_and_arn(b):
    f = uniq()
    one, two = register(b, f), register(b, f)
    assert describe(b, f) == two
    assert describe(b, f + ":1") == one
    assert describe(b, TD_ARN + f + ":1") == one
    assert describe(b, TD_ARN + f) == two
    for ref in (f + ":3", uniq("nope"), f + ":0", f + ":99999999999", "bad name", TD_ARN.replace(REGION, "eu-west-1") + f + ":1",
                ARN.replace(ACCOUNT, "123456789012") + "task-definition/" + f + ":1", ARN + "cluster/" + f):
        expect_error("ClientException", describe, b, ref, message=NOT_FOUND)
    for ref in (f + ":x", f + ":-1", f + ":", f + ":1.0"):
        expect_error("InvalidParameterException", describe, b, ref, message="Invalid revision number. Number: ")
    # the family moves to its latest ACTIVE revision; none left: not found
    b.ecs.deregister_task_definition(taskDefinition=f + ":2")
    assert describe(b, f) == one
    b.ecs.deregister_task_definition(taskDefinition=f + ":1")
    expect_error("ClientException", describe, b, f, message=NOT_FOUND)
    # an INACTIVE revision stays describable by number
    d = describe(b, f + ":2")
    assert d["status"] == "INACTIVE" and "deregisteredAt" in d, d
    # exact error body and status
    st, hdrs, out = b.raw("DescribeTaskDefinition", json.dumps({"taskDefinition": f}))
    assert (st, out) == (400, {"__type": "ClientException", "message": NOT_FOUND}), out


def test_tags_beside_the_definition(b):
    f = uniq()
    tags = [{"key": "team", "value": "blue"}, {"key": "empty", "value": ""}]
    out = b.ecs.register_task_definition(family=f, containerDefinitions=[container(memory=8)], tags=tags)
    assert out["tags"] == tags and "tags" not in out["taskDefinition"]
    d = b.ecs.describe_task_definition(taskDefinition=f)
    assert "tags" not in d
    d = b.ecs.describe_task_definition(taskDefinition=f, include=["TAGS"])
    assert d["tags"] == tags
    # none: an empty list when asked for
    g = register(b)["family"]
    assert b.ecs.describe_task_definition(taskDefinition=g, include=["TAGS"])["tags"] == []


def test_tag_resource_on_a_task_definition(b):
    f = uniq()
    arn = register(b, f, tags=[{"key": "a", "value": "1"}])["taskDefinitionArn"]
    b.ecs.tag_resource(resourceArn=arn, tags=[{"key": "b", "value": "2"}, {"key": "a", "value": "10"}])
    assert tags_of(b.ecs.list_tags_for_resource(resourceArn=arn)["tags"]) == {"a": "10", "b": "2"}
    b.ecs.untag_resource(resourceArn=arn, tagKeys=["a", "missing"])
    assert b.ecs.list_tags_for_resource(resourceArn=arn)["tags"] == [{"key": "b", "value": "2"}]
    assert b.ecs.describe_task_definition(taskDefinition=arn, include=["TAGS"])["tags"] == [{"key": "b", "value": "2"}]
    # the limit counts what is there already
    expect_error("InvalidParameterException", b.ecs.tag_resource, resourceArn=arn,
                 tags=[{"key": "k%d" % i, "value": "v"} for i in range(50)])
    # an INACTIVE revision keeps and takes tags
    b.ecs.deregister_task_definition(taskDefinition=arn)
    b.ecs.tag_resource(resourceArn=arn, tags=[{"key": "c", "value": "3"}])
    assert tags_of(b.ecs.list_tags_for_resource(resourceArn=arn)["tags"]) == {"b": "2", "c": "3"}
    # missing revisions and families; malformed ARNs
    for missing in (TD_ARN + f + ":9", TD_ARN + uniq("none") + ":1"):
        expect_error("ResourceNotFoundException", b.ecs.list_tags_for_resource, resourceArn=missing)
        expect_error("ResourceNotFoundException", b.ecs.tag_resource, resourceArn=missing,
                     tags=[{"key": "k", "value": "v"}])
    for bad in (TD_ARN + f, TD_ARN + f + ":x", TD_ARN + ":1", TD_ARN + f + ":1:2"):
        expect_error("InvalidParameterException", b.ecs.list_tags_for_resource, resourceArn=bad)


# ---- DeregisterTaskDefinition ----

def test_deregister(b):
    f = uniq()
    register(b, f)
    td = b.ecs.deregister_task_definition(taskDefinition=f + ":1")["taskDefinition"]
    assert td["status"] == "INACTIVE" and td["revision"] == 1 and "deregisteredAt" in td, td
    assert td["deregisteredAt"] >= td["registeredAt"]
    # again: the same answer, the first deregisteredAt kept
    again = b.ecs.deregister_task_definition(taskDefinition=TD_ARN + f + ":1")["taskDefinition"]
    assert again == td
    expect_error("ClientException", b.ecs.deregister_task_definition, taskDefinition=f, message="Revision is missing.")
    expect_error("ClientException", b.ecs.deregister_task_definition, taskDefinition=f + ":2", message=NOT_FOUND)
    expect_error("ClientException", b.ecs.deregister_task_definition, taskDefinition=uniq() + ":1", message=NOT_FOUND)
    expect_error("InvalidParameterException", b.ecs.deregister_task_definition, taskDefinition=f + ":one")
    # a new registration is the family's ACTIVE revision again
    assert register(b, f)["revision"] == 2
    assert describe(b, f)["revision"] == 2


# ---- DeleteTaskDefinitions ----

@berthd_args("--transition-ms", "600000")
def test_delete_marks_delete_in_progress(b):
    f = uniq()
    for _ in range(3):
        register(b, f)
    b.ecs.deregister_task_definition(taskDefinition=f + ":1")
    b.ecs.deregister_task_definition(taskDefinition=f + ":2")
    out = b.ecs.delete_task_definitions(taskDefinitions=[f + ":1", TD_ARN + f + ":2", f + ":3", f + ":7", f,
                                                          "bad name:1", f + ":1"])
    done = out["taskDefinitions"]
    assert [d["revision"] for d in done] == [1, 2], done
    for d in done:
        assert d["status"] == "DELETE_IN_PROGRESS" and "deleteRequestedAt" in d and "deregisteredAt" in d, d
    assert out["failures"] == [
        {"arn": TD_ARN + f + ":3", "reason": "The specified task definition is still in ACTIVE status. Please "
                                            "deregister the target and try again."},
        {"arn": TD_ARN + f + ":7", "reason": "The specified task definition does not exist. Specify a valid "
                                            "account, family, revision and try again."},
        {"arn": f, "reason": "The specified task definition identifier is invalid. Specify a valid name or ARN "
                            "and try again."},
        {"arn": "bad name:1", "reason": "The specified task definition identifier is invalid. Specify a valid "
                                       "name or ARN and try again."}], out["failures"]
    # still describable (by number) while the deletion is in progress
    d = describe(b, f + ":1")
    assert d["status"] == "DELETE_IN_PROGRESS" and d["deleteRequestedAt"] == done[0]["deleteRequestedAt"], d
    assert arns(b, familyPrefix=f, status="DELETE_IN_PROGRESS") == [TD_ARN + f + ":1", TD_ARN + f + ":2"]
    assert arns(b, familyPrefix=f, status="INACTIVE") == []
    # asked again: the same answer, the first request's time kept
    again = b.ecs.delete_task_definitions(taskDefinitions=[f + ":1"])
    assert again["taskDefinitions"] == [d] and again["failures"] == []
    # deregistering it changes nothing; tags and RunTask no longer reach it
    assert b.ecs.deregister_task_definition(taskDefinition=f + ":1")["taskDefinition"] == d
    expect_error("ResourceNotFoundException", b.ecs.list_tags_for_resource, resourceArn=TD_ARN + f + ":1")
    # a family with only revisions being deleted is INACTIVE
    b.ecs.deregister_task_definition(taskDefinition=f + ":3")
    b.ecs.delete_task_definitions(taskDefinitions=[f + ":3"])
    assert f in b.ecs.list_task_definition_families(familyPrefix=f, status="INACTIVE")["families"]
    # limits on the list itself
    expect_error("InvalidParameterException", b.ecs.delete_task_definitions,
                 taskDefinitions=["%s:%d" % (f, i) for i in range(1, 12)],
                 message="taskDefinitions can have at most 10 items.")
    raw_error(b, "DeleteTaskDefinitions", {"taskDefinitions": []}, "InvalidParameterException",
              "at least 1 item")


def test_deleted_revisions_are_purged_and_never_reused(b):
    f = uniq()
    register(b, f)
    register(b, f)
    for rev in ("1", "2"):
        b.ecs.deregister_task_definition(taskDefinition=f + ":" + rev)
    b.ecs.delete_task_definitions(taskDefinitions=[f + ":1", f + ":2"])
    wait_until(lambda: not arns(b, familyPrefix=f, status="DELETE_IN_PROGRESS"), what="purge")
    expect_error("ClientException", describe, b, f + ":2", message=NOT_FOUND)
    out = b.ecs.delete_task_definitions(taskDefinitions=[f + ":2"])
    assert out["taskDefinitions"] == [] and "does not exist" in out["failures"][0]["reason"]
    # an emptied family is listed under no status
    for status in ("ALL", "ACTIVE", "INACTIVE"):
        assert f not in b.ecs.list_task_definition_families(familyPrefix=f, status=status)["families"]
    assert register(b, f)["revision"] == 3


# ---- ListTaskDefinitions ----

def test_list_filters_and_sort(b):
    base = uniq("ls")
    fa, fb = base + "-a", base + "-b"
    for _ in range(3):
        register(b, fa)
    for _ in range(2):
        register(b, fb)
    b.ecs.deregister_task_definition(taskDefinition=fa + ":2")
    every = all_arns(b)
    ours = [a for a in every if a.startswith(TD_ARN + base)]
    assert ours == [TD_ARN + fa + ":1", TD_ARN + fa + ":3", TD_ARN + fb + ":1", TD_ARN + fb + ":2"], ours
    # family order, then revision order, across all families
    keys = [(a.split("/")[-1].split(":")[0], int(a.split(":")[-1])) for a in every]
    assert keys == sorted(keys)
    assert all_arns(b, sort="DESC") == every[::-1]
    # familyPrefix is a full family name
    assert arns(b, familyPrefix=fa) == [TD_ARN + fa + ":1", TD_ARN + fa + ":3"]
    assert arns(b, familyPrefix=fa, sort="DESC") == [TD_ARN + fa + ":3", TD_ARN + fa + ":1"]
    assert arns(b, familyPrefix=base) == []
    assert arns(b, familyPrefix=fa, status="INACTIVE") == [TD_ARN + fa + ":2"]
    assert arns(b, familyPrefix=fa, status="DELETE_IN_PROGRESS") == []
    assert arns(b, familyPrefix=uniq("none")) == []
    # values the model refuses
    raw_error(b, "ListTaskDefinitions", {"status": "ALL"}, "InvalidParameterException")
    raw_error(b, "ListTaskDefinitions", {"sort": "UP"}, "InvalidParameterException")


def test_list_pagination(b):
    f = uniq("pg")
    for _ in range(7):
        register(b, f)
    b.ecs.deregister_task_definition(taskDefinition=f + ":4")
    want = [TD_ARN + f + ":%d" % r for r in (1, 2, 3, 5, 6, 7)]
    for sort, expect in (("ASC", want), ("DESC", want[::-1])):
        got, token, pages = [], None, 0
        while True:
            kw = {"nextToken": token} if token else {}
            out = b.ecs.list_task_definitions(familyPrefix=f, sort=sort, maxResults=2, **kw)
            assert len(out["taskDefinitionArns"]) <= 2
            got += out["taskDefinitionArns"]
            pages += 1
            token = out.get("nextToken")
            if not token:
                break
        assert got == expect and pages == 3, (sort, got, pages)
    # a page that ends exactly at the last item has no nextToken
    out = b.ecs.list_task_definitions(familyPrefix=f, maxResults=6)
    assert out["taskDefinitionArns"] == want and "nextToken" not in out
    # boto3's paginator follows the tokens
    pages = list(b.ecs.get_paginator("list_task_definitions").paginate(
        familyPrefix=f, sort="DESC", PaginationConfig={"PageSize": 4}))
    assert [len(p["taskDefinitionArns"]) for p in pages] == [4, 2]
    assert sum((p["taskDefinitionArns"] for p in pages), []) == want[::-1]
    # across families, resuming inside a family
    every = all_arns(b)
    got, token = [], None
    while True:
        out = b.ecs.list_task_definitions(maxResults=3, **({"nextToken": token} if token else {}))
        got += out["taskDefinitionArns"]
        token = out.get("nextToken")
        if not token:
            break
    assert got == every
    # a revision registered after the first page still comes later in ASC order
    first = b.ecs.list_task_definitions(familyPrefix=f, maxResults=2)
    register(b, f)
    rest = b.ecs.list_task_definitions(familyPrefix=f, nextToken=first["nextToken"])["taskDefinitionArns"]
    assert first["taskDefinitionArns"] + rest == want + [TD_ARN + f + ":8"]
    # bad values
    for body in ({"maxResults": 0}, {"maxResults": 101}, {"nextToken": "not-a-token"},
                 {"nextToken": "zz"}):
        raw_error(b, "ListTaskDefinitions", body, "InvalidParameterException")
    expect_error("InvalidParameterException", b.ecs.list_task_definitions, maxResults=101)


# ---- ListTaskDefinitionFamilies ----

def test_list_families(b):
    base = uniq("fam")
    active, inactive, mixed = base + "-active", base + "-inactive", base + "-mixed"
    register(b, active)
    register(b, inactive)
    b.ecs.deregister_task_definition(taskDefinition=inactive + ":1")
    register(b, mixed)
    register(b, mixed)
    b.ecs.deregister_task_definition(taskDefinition=mixed + ":2")

    def fams(**kw):
        return b.ecs.list_task_definition_families(familyPrefix=base, **kw)["families"]

    assert fams() == [active, inactive, mixed]
    assert fams(status="ALL") == [active, inactive, mixed]
    assert fams(status="ACTIVE") == [active, mixed]
    assert fams(status="INACTIVE") == [inactive]
    b.ecs.deregister_task_definition(taskDefinition=mixed + ":1")
    assert fams(status="INACTIVE") == [inactive, mixed]
    # a prefix is a prefix here
    assert b.ecs.list_task_definition_families(familyPrefix=base + "-a")["families"] == [active]
    assert b.ecs.list_task_definition_families(familyPrefix=uniq("zzz"))["families"] == []
    # every family without a prefix, in order
    every = all_families(b)
    assert every == sorted(every) and {active, inactive, mixed} <= set(every)
    # pagination by hand and by paginator
    got, token = [], None
    while True:
        out = b.ecs.list_task_definition_families(familyPrefix=base, maxResults=1,
                                                  **({"nextToken": token} if token else {}))
        assert len(out["families"]) <= 1
        got += out["families"]
        token = out.get("nextToken")
        if not token:
            break
    assert got == [active, inactive, mixed]
    pages = list(b.ecs.get_paginator("list_task_definition_families").paginate(
        familyPrefix=base, status="INACTIVE", PaginationConfig={"PageSize": 1}))
    assert [p["families"] for p in pages] == [[inactive], [mixed]]
    out = b.ecs.list_task_definition_families(familyPrefix=base, maxResults=3)
    assert "nextToken" not in out
    raw_error(b, "ListTaskDefinitionFamilies", {"status": "DELETE_IN_PROGRESS"}, "InvalidParameterException")
    raw_error(b, "ListTaskDefinitionFamilies", {"maxResults": 0}, "InvalidParameterException")
    raw_error(b, "ListTaskDefinitionFamilies", {"nextToken": "abc"}, "InvalidParameterException")
    # another region has its own families
    eu = b.client("ecs", region="eu-west-1")
    assert eu.list_task_definition_families(familyPrefix=base)["families"] == []
    eu.register_task_definition(family=active, containerDefinitions=[container(memory=8)])
    assert eu.describe_task_definition(taskDefinition=active)["taskDefinition"]["taskDefinitionArn"] == \
        "arn:aws:ecs:eu-west-1:%s:task-definition/%s:1" % (ACCOUNT, active)
    assert describe(b, active)["revision"] == 1


# ---- the AWS CLI ----

def test_cli_register_describe_list_deregister_delete(b):
    f = uniq("cli")
    doc = {"family": f, "networkMode": "awsvpc", "requiresCompatibilities": ["FARGATE"], "cpu": "0.5 vCPU",
           "memory": "1GB", "containerDefinitions": [
               {"name": "web", "image": "nginx", "portMappings": [{"containerPort": 80}],
                "environment": [{"name": "MODE", "value": "x"}]}],
           "tags": [{"key": "via", "value": "cli"}]}
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump(doc, fh)
        path = fh.name
    try:
        _, out, _ = b.cli("ecs", "register-task-definition", "--cli-input-json", "file://" + path)
        for _ in range(4):
            b.cli("ecs", "register-task-definition", "--cli-input-json", "file://" + path)
    finally:
        os.unlink(path)
    td = out["taskDefinition"]
    assert td["taskDefinitionArn"] == TD_ARN + f + ":1" and td["cpu"] == "512" and td["memory"] == "1024", td
    assert td["containerDefinitions"][0]["portMappings"] == [{"containerPort": 80, "hostPort": 80, "protocol": "tcp"}]
    assert td["compatibilities"] == ["EC2", "FARGATE"] and out["tags"] == [{"key": "via", "value": "cli"}]
    # registeredAt: epoch seconds (CLI v1) or an ISO time (CLI v2)
    assert isinstance(td["registeredAt"], (int, float)) or "T" in td["registeredAt"], td
    _, out, _ = b.cli("ecs", "describe-task-definition", "--task-definition", f, "--include", "TAGS")
    assert out["taskDefinition"]["revision"] == 5 and out["tags"] == [{"key": "via", "value": "cli"}]
    # the CLI follows nextToken by itself (--page-size is maxResults)
    _, out, _ = b.cli("ecs", "list-task-definitions", "--family-prefix", f, "--page-size", "2")
    assert out["taskDefinitionArns"] == [TD_ARN + f + ":%d" % r for r in range(1, 6)], out
    _, out, _ = b.cli("ecs", "list-task-definitions", "--family-prefix", f, "--sort", "DESC",
                      "--max-items", "3", "--page-size", "2")
    assert out["taskDefinitionArns"] == [TD_ARN + f + ":%d" % r for r in (5, 4, 3)] and out["NextToken"], out
    _, out2, _ = b.cli("ecs", "list-task-definitions", "--family-prefix", f, "--sort", "DESC",
                       "--starting-token", out["NextToken"], "--page-size", "2")
    assert out2["taskDefinitionArns"] == [TD_ARN + f + ":2", TD_ARN + f + ":1"], out2
    _, out, _ = b.cli("ecs", "list-task-definition-families", "--family-prefix", f, "--page-size", "1")
    assert out["families"] == [f]
    _, out, _ = b.cli("ecs", "deregister-task-definition", "--task-definition", f + ":1")
    assert out["taskDefinition"]["status"] == "INACTIVE"
    _, out, _ = b.cli("ecs", "delete-task-definitions", "--task-definitions", f + ":1", f + ":2")
    assert [d["status"] for d in out["taskDefinitions"]] == ["DELETE_IN_PROGRESS"], out
    assert out["failures"][0]["arn"] == TD_ARN + f + ":2" and "ACTIVE" in out["failures"][0]["reason"], out
    # errors as the CLI prints them
    rc, _, err = b.cli("ecs", "describe-task-definition", "--task-definition", uniq("none"), check=False)
    assert rc != 0 and ("An error occurred (ClientException) when calling the DescribeTaskDefinition operation: "
                        + NOT_FOUND) in err, err
    rc, _, err = b.cli("ecs", "register-task-definition", "--family", uniq(), "--container-definitions",
                       '[{"name":"a","image":"b"}]', check=False)
    assert rc != 0 and (NO_MEMORY % "a") in err, err


def test_cli_skeleton_registers(b):
    # what `register-task-definition --generate-cli-skeleton` gives, filled in
    _, skel, _ = b.cli("ecs", "register-task-definition", "--generate-cli-skeleton")
    assert "containerDefinitions" in skel and "family" in skel
    f = uniq("skel")
    doc = {"family": f, "containerDefinitions": [{"name": "a", "image": "b", "memory": 32}]}
    _, out, _ = b.cli("ecs", "register-task-definition", "--cli-input-json", json.dumps(doc))
    assert out["taskDefinition"]["family"] == f


# ---- tags on container instances and tasks ----

def _instance(b, cl):
    doc = {"instanceId": "i-%017x" % (0xfeed000000000 + next(_seq)), "instanceType": "m5.large",
           "availabilityZone": "us-east-1a", "region": REGION, "imageId": "ami-12345678"}
    return b.ecs.register_container_instance(
        cluster=cl, instanceIdentityDocument=json.dumps(doc),
        totalResources=[{"name": "CPU", "type": "INTEGER", "integerValue": 2048},
                        {"name": "MEMORY", "type": "INTEGER", "integerValue": 4096}])["containerInstance"]


def test_tags_on_container_instances_and_tasks(b):
    cl = uniq("tagcl")
    b.ecs.create_cluster(clusterName=cl)
    ci = _instance(b, cl)["containerInstanceArn"]
    b.ecs.tag_resource(resourceArn=ci, tags=[{"key": "rack", "value": "r1"}])
    assert b.ecs.list_tags_for_resource(resourceArn=ci)["tags"] == [{"key": "rack", "value": "r1"}]
    d = b.ecs.describe_container_instances(cluster=cl, containerInstances=[ci], include=["TAGS"])
    assert d["containerInstances"][0]["tags"] == [{"key": "rack", "value": "r1"}]
    b.ecs.untag_resource(resourceArn=ci, tagKeys=["rack"])
    assert b.ecs.list_tags_for_resource(resourceArn=ci)["tags"] == []

    f = register(b, containers=[container(memory=64)])["family"]
    task = b.ecs.run_task(cluster=cl, taskDefinition=f, tags=[{"key": "job", "value": "a"}])["tasks"][0]["taskArn"]
    assert b.ecs.list_tags_for_resource(resourceArn=task)["tags"] == [{"key": "job", "value": "a"}]
    b.ecs.tag_resource(resourceArn=task, tags=[{"key": "owner", "value": "me"}])
    assert tags_of(b.ecs.list_tags_for_resource(resourceArn=task)["tags"]) == {"job": "a", "owner": "me"}
    d = b.ecs.describe_tasks(cluster=cl, tasks=[task], include=["TAGS"])["tasks"][0]
    assert tags_of(d["tags"]) == {"job": "a", "owner": "me"}, d
    b.ecs.untag_resource(resourceArn=task, tagKeys=["job"])
    assert b.ecs.list_tags_for_resource(resourceArn=task)["tags"] == [{"key": "owner", "value": "me"}]

    # wrong cluster in the ARN, unknown IDs, short (legacy) forms: not found
    other = uniq("tagcl")
    b.ecs.create_cluster(clusterName=other)
    tid, cid = task.split("/")[-1], ci.split("/")[-1]
    for arn in (ARN + "task/%s/%s" % (other, tid), ARN + "task/%s/%s" % (cl, "0" * 32), ARN + "task/" + tid,
                ARN + "container-instance/%s/%s" % (other, cid), ARN + "container-instance/" + cid,
                ARN + "container-instance/nocluster/" + cid, ARN + "task/%s/%s/x" % (cl, tid)):
        expect_error("ResourceNotFoundException", b.ecs.list_tags_for_resource, resourceArn=arn)
        expect_error("ResourceNotFoundException", b.ecs.tag_resource, resourceArn=arn, tags=[{"key": "k", "value": "v"}])
        expect_error("ResourceNotFoundException", b.ecs.untag_resource, resourceArn=arn, tagKeys=["k"])
    # clusters and capacity providers as before
    expect_error("ClusterNotFoundException", b.ecs.list_tags_for_resource, resourceArn=ARN + "cluster/" + uniq("x"))
    assert b.ecs.list_tags_for_resource(resourceArn=ARN + "capacity-provider/FARGATE")["tags"] == []


# ---- RunTask and revisions ----

@berthd_args("--transition-ms", "0", "--task-retention-s", "0", "--sim-step-ms", "20")
def test_run_task_uses_revisions_by_status(b):
    cl = uniq("runcl")
    b.ecs.create_cluster(clusterName=cl)
    _instance(b, cl)
    f = uniq("run")
    register(b, f, [container(memory=64)])
    register(b, f, [container(memory=64)])
    b.ecs.deregister_task_definition(taskDefinition=f + ":2")
    # a family alone is its latest ACTIVE revision
    t = b.ecs.run_task(cluster=cl, taskDefinition=f)["tasks"][0]
    assert t["taskDefinitionArn"] == TD_ARN + f + ":1", t
    # an INACTIVE revision named explicitly still runs
    t2 = b.ecs.run_task(cluster=cl, taskDefinition=f + ":2")["tasks"][0]
    assert t2["taskDefinitionArn"] == TD_ARN + f + ":2", t2
    # nothing ACTIVE left: the family alone is unknown
    b.ecs.deregister_task_definition(taskDefinition=f + ":1")
    expect_error("ClientException", b.ecs.run_task, cluster=cl, taskDefinition=f, message=NOT_FOUND)
    # a revision being deleted waits for its tasks, and cannot be run
    b.ecs.delete_task_definitions(taskDefinitions=[f + ":2"])
    e = expect_error("ClientException", b.ecs.run_task, cluster=cl, taskDefinition=f + ":2")
    assert "being deleted" in e.response["Error"]["Message"], e.response
    assert describe(b, f + ":2")["status"] == "DELETE_IN_PROGRESS"
    b.ecs.stop_task(cluster=cl, task=t2["taskArn"])
    wait_until(lambda: not arns(b, familyPrefix=f, status="DELETE_IN_PROGRESS"), what="purge after the task")
    expect_error("ClientException", describe, b, f + ":2", message=NOT_FOUND)
    assert describe(b, f + ":1")["status"] == "INACTIVE"


@berthd_args("--transition-ms", "0", "--sim-step-ms", "20")
def test_sim_labels_drive_the_task(b):
    cl = uniq("simcl")
    b.ecs.create_cluster(clusterName=cl)
    _instance(b, cl)
    f = register(b, containers=[container(memory=64, dockerLabels={"berth.sim.runtime": "200ms",
                                                                    "berth.sim.exit-code": "7"})])["family"]
    arn = b.ecs.run_task(cluster=cl, taskDefinition=f)["tasks"][0]["taskArn"]
    t = wait_until(lambda: [x for x in b.ecs.describe_tasks(cluster=cl, tasks=[arn])["tasks"]
                            if x["lastStatus"] == "STOPPED"], what="task stops by itself")[0]
    assert t["containers"][0]["exitCode"] == 7, t


# ---- persistence ----

@berthd_args("--transition-ms", "600000")
def test_definitions_survive_a_restart(b):
    f, g = uniq("keep"), uniq("keep")
    register(b, f, [container(memory=64, portMappings=[{"containerPort": 80}],
                              dockerLabels={"berth.sim.runtime": "1s"})], tags=[{"key": "a", "value": "1"}])
    register(b, f, networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="1 vCPU", memory="2 GB",
             containers=[container(portMappings=[{"containerPort": 443}])],
             placementConstraints=[])
    register(b, f, placementConstraints=[{"type": "memberOf", "expression": "attribute:x == y"}])
    register(b, g)
    b.ecs.deregister_task_definition(taskDefinition=f + ":1")
    b.ecs.deregister_task_definition(taskDefinition=g + ":1")
    b.ecs.delete_task_definitions(taskDefinitions=[g + ":1"])
    b.ecs.tag_resource(resourceArn=TD_ARN + f + ":2", tags=[{"key": "b", "value": "2"}])
    refs = [f + ":1", f + ":2", f + ":3", g + ":1"]
    before = {r: b.ecs.describe_task_definition(taskDefinition=r, include=["TAGS"]) for r in refs}
    lists = (arns(b), arns(b, status="INACTIVE"), arns(b, status="DELETE_IN_PROGRESS"),
             b.ecs.list_task_definition_families(status="INACTIVE")["families"])
    b.restart()
    after = {r: b.ecs.describe_task_definition(taskDefinition=r, include=["TAGS"]) for r in refs}
    for r in refs:
        before[r].pop("ResponseMetadata")
        after[r].pop("ResponseMetadata")
        assert after[r] == before[r], (r, before[r], after[r])
    assert after[g + ":1"]["taskDefinition"]["status"] == "DELETE_IN_PROGRESS"
    assert (arns(b), arns(b, status="INACTIVE"), arns(b, status="DELETE_IN_PROGRESS"),
            b.ecs.list_task_definition_families(status="INACTIVE")["families"]) == lists
    assert describe(b, f)["revision"] == 3
    # numbering goes on where it was
    assert register(b, f)["revision"] == 4
    assert register(b, g)["revision"] == 2
    assert b.ecs.list_tags_for_resource(resourceArn=TD_ARN + f + ":1")["tags"] == [{"key": "a", "value": "1"}]


@berthd_args("--transition-ms", "0")
def test_revision_numbers_are_never_reused_after_a_restart(b):
    fa = uniq()
    assert [register(b, fa)["revision"] for _ in range(2)] == [1, 2]
    arn = describe(b, fa + ":2")["taskDefinitionArn"]
    b.ecs.deregister_task_definition(taskDefinition=arn)
    b.ecs.delete_task_definitions(taskDefinitions=[arn])
    wait_until(lambda: not b.ecs.list_task_definitions(familyPrefix=fa, status="DELETE_IN_PROGRESS")["taskDefinitionArns"],
               what="revision 2 purged")
    b.restart()
    assert register(b, fa)["revision"] == 3


@fresh
def test_deletions_finish_after_a_restart(b):
    f = uniq("later")
    register(b, f)
    b.ecs.deregister_task_definition(taskDefinition=f + ":1")
    b.stop()
    # restart with a long transition; the request was made under the short one
    b.args = ["--transition-ms", "600000"]
    b.start()
    b.ecs.delete_task_definitions(taskDefinitions=[f + ":1"])
    assert describe(b, f + ":1")["status"] == "DELETE_IN_PROGRESS"
    b.stop()
    b.args = ["--transition-ms", "0"]
    b.start()
    wait_until(lambda: not arns(b, familyPrefix=f, status="DELETE_IN_PROGRESS"), what="purge at start")
    expect_error("ClientException", describe, b, f + ":1", message=NOT_FOUND)


if __name__ == "__main__":
    main(globals())
