"""Terraform end to end for aws_ecs_task_definition (hashicorp/aws 5.100.0,
offline, with the plumbing of test_terraform.py): apply, a second plan that
must find no changes, an in-place tag update, a replacement that registers
a new revision and deregisters the old one, and destroy (which deregisters:
the provider's Read drops an INACTIVE revision from its state).

A clean second plan depends on berthd echoing what the provider expects:
the provider normalises container_definitions (essential true, protocol
tcp, hostPort 0 or, in awsvpc mode, the container port, empty lists) and
compares cpu, memory, network_mode, requires_compatibilities, volumes and
placement constraints with what it sent.  When a plan is not clean the
assertion shows the ECS requests and responses from TF_LOG."""
import json

from harness import main
from test_terraform import Workspace, assert_counts

TD_ARN = "arn:aws:ecs:us-east-1:000000000000:task-definition/%s:%d"


def describe(b, ref):
    return b.ecs.describe_task_definition(taskDefinition=ref, include=["TAGS"])


def tags_of(out):
    return {t["key"]: t["value"] for t in out.get("tags", [])}


def fargate_tf(family, tags, image="nginx:1.25"):
    containers = [{
        "name": "web", "image": image, "essential": True,
        "portMappings": [{"containerPort": 80, "protocol": "tcp"}, {"containerPort": 53, "protocol": "udp"}],
        "environment": [{"name": "B", "value": "2"}, {"name": "A", "value": "1"}],
        "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/web",
                                                                 "awslogs-region": "us-east-1",
                                                                 "awslogs-stream-prefix": "web"}},
    }, {
        "name": "sidecar", "image": "busybox", "essential": False, "cpu": 64, "memoryReservation": 64,
        "command": ["sleep", "infinity"], "dependsOn": [{"containerName": "web", "condition": "START"}],
    }]
    tag_lines = "\n".join('    %s = "%s"' % kv for kv in sorted(tags.items()))
    return """resource "aws_ecs_task_definition" "fg" {
  family                   = "%s"
  network_mode             = "awsvpc"
  requires_compatibilities = ["FARGATE"]
  cpu                      = "512"
  memory                   = "1024"
  execution_role_arn       = "arn:aws:iam::000000000000:role/ecsTaskExecutionRole"
  container_definitions    = jsonencode(%s)
  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "X86_64"
  }
  tags = {
%s
  }
}
""" % (family, json.dumps(containers), tag_lines)


def ec2_tf(family, image):
    containers = [{"name": "app", "image": image, "memory": 256, "cpu": 128,
                   "portMappings": [{"containerPort": 8080}],
                   "mountPoints": [{"sourceVolume": "data", "containerPath": "/data"}],
                   "dockerLabels": {"berth.sim.runtime": "30s"}}]
    return """resource "aws_ecs_task_definition" "ec2" {
  family                = "%s"
  container_definitions = jsonencode(%s)
  volume {
    name      = "data"
    host_path = "/srv/data"
  }
  placement_constraints {
    type       = "memberOf"
    expression = "attribute:ecs.instance-type =~ t3.*"
  }
}
""" % (family, json.dumps(containers))


def test_fargate_task_definition(b):
    """An awsvpc/Fargate definition with two containers, environment,
    logging, dependsOn, a runtime platform and tags; tags change in place."""
    ws = Workspace(b, "taskdef-fargate")
    family = "tf-td-fargate"
    r = ws.apply(fargate_tf(family, {"env": "test", "team": "berth"}))
    assert_counts(r, 1, 0, 0)
    out = describe(b, family)
    td = out["taskDefinition"]
    assert td["taskDefinitionArn"] == TD_ARN % (family, 1) and td["status"] == "ACTIVE", td
    assert td["compatibilities"] == ["EC2", "FARGATE"] and td["cpu"] == "512" and td["memory"] == "1024", td
    web = td["containerDefinitions"][0]
    assert [(m["containerPort"], m["hostPort"], m["protocol"]) for m in web["portMappings"]] == \
        [(80, 80, "tcp"), (53, 53, "udp")], web
    assert tags_of(out) == {"env": "test", "team": "berth"}, out
    st = ws.state()["aws_ecs_task_definition.fg"]
    assert st["arn"] == TD_ARN % (family, 1) and st["revision"] == 1, st
    ws.plan_clean()

    r = ws.apply(fargate_tf(family, {"team": "ops", "tier": "gold"}))
    assert_counts(r, 0, 1, 0)
    out = describe(b, family)
    assert out["taskDefinition"]["revision"] == 1 and tags_of(out) == {"team": "ops", "tier": "gold"}, out
    ws.plan_clean()

    r = ws.destroy()
    assert "Destroy complete! Resources: 1 destroyed." in r.out, r.out
    assert describe(b, family + ":1")["taskDefinition"]["status"] == "INACTIVE"
    assert b.ecs.list_task_definitions(familyPrefix=family)["taskDefinitionArns"] == []


def test_ec2_task_definition_replaced(b):
    """A bridge-mode definition with a dynamic host port, a host volume and a
    memberOf constraint; a new image replaces it (revision 2, revision 1
    deregistered)."""
    ws = Workspace(b, "taskdef-ec2")
    family = "tf-td-ec2"
    r = ws.apply(ec2_tf(family, "busybox:1"))
    assert_counts(r, 1, 0, 0)
    td = describe(b, family)["taskDefinition"]
    assert td["containerDefinitions"][0]["portMappings"] == [{"containerPort": 8080, "hostPort": 0,
                                                              "protocol": "tcp"}], td
    assert td["placementConstraints"] == [{"type": "memberOf",
                                           "expression": "attribute:ecs.instance-type =~ t3.*"}], td
    # as the provider sent it (5.100.0 adds configuredAtLaunch false)
    assert [(v["name"], v["host"]) for v in td["volumes"]] == [("data", {"sourcePath": "/srv/data"})], td
    ws.plan_clean()

    r = ws.apply(ec2_tf(family, "busybox:2"))
    assert_counts(r, 1, 0, 1)
    assert describe(b, family)["taskDefinition"]["revision"] == 2
    assert describe(b, family + ":1")["taskDefinition"]["status"] == "INACTIVE"
    assert ws.state()["aws_ecs_task_definition.ec2"]["revision"] == 2
    ws.plan_clean()

    r = ws.destroy()
    assert "Destroy complete! Resources: 1 destroyed." in r.out, r.out
    assert describe(b, family + ":2")["taskDefinition"]["status"] == "INACTIVE"
    fams = b.ecs.list_task_definition_families(familyPrefix=family, status="INACTIVE")["families"]
    assert fams == [family], fams


if __name__ == "__main__":
    main(globals())
