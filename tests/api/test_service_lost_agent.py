"""A host whose agent is lost (issue 4: services replace the tasks of a lost
agent).  Until berth-agent reports liveness itself, the extension action
BerthExtensions_v1.SetAgentConnected makes an instance's agent disconnected
or connected again: the instance answers agentConnected false, takes no new
task (RunTask's failure reason AGENT), and services replace their tasks on
it elsewhere.  Clients: boto3 and raw JSON 1.1 against a real berthd."""
import itertools
import json

from harness import main, wait_until, berthd_args

_seq = itertools.count(1)


def uniq(prefix):
    return "%s-%03d" % (prefix, next(_seq))


def instance(b, clu, zone):
    doc = {"instanceId": "i-%017x" % (0xa000 + next(_seq)), "instanceType": "m5.large", "availabilityZone": zone,
           "region": "us-east-1"}
    return b.ecs.register_container_instance(
        cluster=clu, instanceIdentityDocument=json.dumps(doc),
        totalResources=[{"name": "CPU", "type": "INTEGER", "integerValue": 1024},
                        {"name": "MEMORY", "type": "INTEGER", "integerValue": 2048}])["containerInstance"][
        "containerInstanceArn"]


def ext(b, body):
    return b.raw(None, body, headers={"X-Amz-Target": "BerthExtensions_v1.SetAgentConnected"})


def set_agent(b, clu, ci, connected):
    st, _, out = ext(b, json.dumps({"cluster": clu, "containerInstance": ci, "connected": connected}))
    assert st == 200, (st, out)
    return out["containerInstance"]


def running_on(b, clu, svc):
    arns = b.ecs.list_tasks(cluster=clu, serviceName=svc)["taskArns"]
    ts = b.ecs.describe_tasks(cluster=clu, tasks=arns)["tasks"] if arns else []
    return sorted(t["containerInstanceArn"] for t in ts if t["lastStatus"] == "RUNNING")


@berthd_args("--sim-step-ms", "20", "--healthy-grace-ms", "0")
def test_tasks_of_a_lost_agent_are_replaced(b):
    clu = uniq("lost")
    b.ecs.create_cluster(clusterName=clu)
    ia, ib = instance(b, clu, "us-east-1a"), instance(b, clu, "us-east-1b")
    b.ecs.register_task_definition(family="lostfam",
                                   containerDefinitions=[{"name": "a", "image": "x", "cpu": 128, "memory": 128}])
    b.ecs.create_service(cluster=clu, serviceName="web", taskDefinition="lostfam", desiredCount=2)
    wait_until(lambda: running_on(b, clu, "web") == sorted([ia, ib]), timeout=10, what="one task on each instance")
    before = {t for t in b.ecs.list_tasks(cluster=clu, serviceName="web")["taskArns"]}

    ci = set_agent(b, clu, ia, False)
    assert ci["agentConnected"] is False, ci
    wait_until(lambda: running_on(b, clu, "web") == [ib, ib], timeout=10, what="both tasks on the connected instance")
    gone = b.ecs.describe_tasks(cluster=clu, tasks=sorted(before))["tasks"]
    lost = [t for t in gone if t["containerInstanceArn"] == ia][0]
    assert lost["desiredStatus"] == "STOPPED" and lost["stopCode"] == "ServiceSchedulerInitiated", lost
    assert lost["stoppedReason"] == "Container instance agent disconnected", lost
    # a disconnected instance takes no new task: with both lost, RunTask's
    # failure says AGENT
    set_agent(b, clu, ib, False)
    run = b.ecs.run_task(cluster=clu, taskDefinition="lostfam", count=1)
    assert run["tasks"] == [] and run["failures"][0]["reason"] == "AGENT", run
    # back: they take tasks again, and the service is whole
    set_agent(b, clu, ia, True)
    assert set_agent(b, clu, ib, True)["agentConnected"] is True
    wait_until(lambda: len(running_on(b, clu, "web")) == 2, timeout=10, what="the service whole again")
    run = b.ecs.run_task(cluster=clu, taskDefinition="lostfam", count=1)
    assert run["failures"] == [] and run["tasks"], run


def test_set_agent_connected_refuses_bad_input(b):
    clu = uniq("lost")
    b.ecs.create_cluster(clusterName=clu)
    for body, code in ((json.dumps({"cluster": clu, "containerInstance": "0" * 32, "connected": False}),
                        "InvalidParameterException"),
                       (json.dumps({"cluster": clu, "containerInstance": "x", "connected": "no"}),
                        "SerializationException"),
                       (json.dumps({"cluster": "nope", "containerInstance": "x", "connected": True}),
                        "ClusterNotFoundException")):
        st, _, out = ext(b, body)
        assert st == 400 and out["__type"] == code, (body, st, out)


if __name__ == "__main__":
    main(globals())
