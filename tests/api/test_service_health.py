"""Service tasks and health checks (ECS-SEMANTICS §6.2; issue 4): a task
whose definition has health checks counts as healthy when its checks pass,
not after the grace period; a task that fails them is replaced, with ECS's
event and stoppedReason, and counts for the deployment circuit breaker.
The sim driver reports each checked container's result (dockerLabels
berth.sim.health, HEALTHY by default) one lifecycle step after the task
runs.  Clients: boto3 and the AWS CLI against a real berthd."""
import itertools
import json

from harness import main, expect_error, wait_until, berthd_args

_seq = itertools.count(1)
CHECK = {"command": ["CMD-SHELL", "true"], "interval": 5, "timeout": 2, "retries": 1}


def uniq(prefix):
    return "%s-%03d" % (prefix, next(_seq))


def cluster_with_instance(b):
    name = uniq("hc")
    b.ecs.create_cluster(clusterName=name)
    doc = {"instanceId": "i-%017x" % next(_seq), "instanceType": "m5.large", "availabilityZone": "us-east-1a",
           "region": "us-east-1"}
    b.ecs.register_container_instance(
        cluster=name, instanceIdentityDocument=json.dumps(doc),
        totalResources=[{"name": "CPU", "type": "INTEGER", "integerValue": 4096},
                        {"name": "MEMORY", "type": "INTEGER", "integerValue": 8192}])
    return name


def taskdef(b, health=None, check=True):
    family = uniq("hfam")
    c = {"name": "app", "image": "busybox", "cpu": 16, "memory": 16, "essential": True}
    if check:
        c["healthCheck"] = CHECK
    if health:
        c["dockerLabels"] = {"berth.sim.health": health}
    b.ecs.register_task_definition(family=family, containerDefinitions=[c])
    return family


def service(b, clu, name):
    return b.ecs.describe_services(cluster=clu, services=[name])["services"][0]


def tasks(b, clu, name, status="RUNNING"):
    arns = b.ecs.list_tasks(cluster=clu, serviceName=name, desiredStatus=status)["taskArns"]
    return b.ecs.describe_tasks(cluster=clu, tasks=arns)["tasks"] if arns else []


@berthd_args("--sim-step-ms", "20", "--healthy-grace-ms", "600000")
def test_passing_checks_make_a_task_healthy_without_the_grace_period(b):
    clu = cluster_with_instance(b)
    checked, plain = taskdef(b), taskdef(b, check=False)
    b.ecs.create_service(cluster=clu, serviceName="checked", taskDefinition=checked, desiredCount=2)
    b.ecs.create_service(cluster=clu, serviceName="plain", taskDefinition=plain, desiredCount=2)
    wait_until(lambda: service(b, clu, "checked")["deployments"][0]["rolloutState"] == "COMPLETED",
               timeout=15, what="the checked service's deployment to complete")
    s = service(b, clu, "checked")
    assert any(e["message"] == "(service checked) has reached a steady state." for e in s["events"]), s["events"]
    ts = tasks(b, clu, "checked")
    assert len(ts) == 2 and all(t["healthStatus"] == "HEALTHY" for t in ts), ts
    assert all(t["containers"][0]["healthStatus"] == "HEALTHY" for t in ts), ts
    # without checks the 10-minute grace period has not passed: running,
    # not yet healthy, so not steady and the deployment goes on
    p = wait_until(lambda: service(b, clu, "plain")["runningCount"] == 2 and service(b, clu, "plain"),
                   timeout=10, what="the plain service running")
    assert p["runningCount"] == 2 and p["deployments"][0]["rolloutState"] == "IN_PROGRESS", p
    assert not any("steady state" in e["message"] for e in p["events"]), p["events"]
    assert all(t["healthStatus"] == "UNKNOWN" for t in tasks(b, clu, "plain"))


@berthd_args("--sim-step-ms", "20", "--healthy-grace-ms", "0")
def test_failing_checks_replace_the_task(b):
    clu = cluster_with_instance(b)
    bad = taskdef(b, health="UNHEALTHY")
    b.ecs.create_service(cluster=clu, serviceName="sick", taskDefinition=bad, desiredCount=1)

    def replaced():
        stopped = tasks(b, clu, "sick", status="STOPPED")
        return stopped and stopped[0]
    t = wait_until(replaced, timeout=15, what="an unhealthy task to be stopped")
    assert t["stopCode"] == "ServiceSchedulerInitiated", t
    assert t["stoppedReason"] == "Task failed container health checks", t
    assert t["healthStatus"] == "UNHEALTHY", t
    events = [e["message"] for e in service(b, clu, "sick")["events"]]
    assert "(service sick) (task %s) failed container health checks." % t["taskArn"].split("/")[-1] in events, events
    # and a new one took its place
    wait_until(lambda: len(b.ecs.list_tasks(cluster=clu, serviceName="sick")["taskArns"]) >= 1, timeout=10,
               what="a replacement")


@berthd_args("--sim-step-ms", "10", "--healthy-grace-ms", "0")
def test_failing_checks_trip_the_circuit_breaker_and_roll_back(b):
    clu = cluster_with_instance(b)
    good, bad = taskdef(b), taskdef(b, health="UNHEALTHY")
    cfg = {"deploymentCircuitBreaker": {"enable": True, "rollback": True}, "maximumPercent": 200,
           "minimumHealthyPercent": 100}
    b.ecs.create_service(cluster=clu, serviceName="web", taskDefinition=good, desiredCount=2,
                         deploymentConfiguration=cfg)
    wait_until(lambda: service(b, clu, "web")["deployments"][0]["rolloutState"] == "COMPLETED", timeout=15,
               what="the first deployment")
    first = service(b, clu, "web")["deployments"][0]["id"]
    b.cli("ecs", "update-service", "--cluster", clu, "--service", "web", "--task-definition", bad)

    def rolled_back():
        s = service(b, clu, "web")
        return s["deployments"][0]["id"] == first and s
    s = wait_until(rolled_back, timeout=30, what="the rollback")
    failed = [d for d in s["deployments"] if d["id"] != first]
    msgs = [e["message"] for e in s["events"]]
    assert any("deployment failed: tasks failed to start." in m for m in msgs), msgs
    assert "(service web) rolling back to deployment %s." % first in msgs, msgs
    assert s["taskDefinition"].endswith(good + ":1"), s
    if failed:  # the failed deployment goes once its tasks are gone
        assert failed[0]["rolloutState"] == "FAILED" and failed[0]["failedTasks"] >= 10, failed
    # the service never dropped its healthy tasks of the good deployment
    wait_until(lambda: len(s["deployments"]) == 1 or len(service(b, clu, "web")["deployments"]) == 1,
               timeout=15, what="the failed deployment to be removed")
    s = service(b, clu, "web")
    assert s["runningCount"] == 2 and s["deployments"][0]["taskDefinition"].endswith(good + ":1"), s


@berthd_args("--sim-step-ms", "20")
def test_health_label_is_checked_at_registration(b):
    expect_error("ClientException", b.ecs.register_task_definition, family=uniq("hbad"),
                 containerDefinitions=[{"name": "a", "image": "x", "memory": 16,
                                        "dockerLabels": {"berth.sim.health": "MAYBE"}}],
                 message="berth.sim.health")


if __name__ == "__main__":
    main(globals())
