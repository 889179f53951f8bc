"""berthd's side of the berth-agent protocol (docs/agent-protocol.md), spoken
by hand: registration as berth-agent, the AgentPoll long poll (held until
work arrives, answered at once when there is news), the ECS agent actions
SubmitTaskStateChange / SubmitContainerStateChange as boto3 sends them,
heartbeats and the agent timeout, resynchronisation from the poll's report,
and the protocol version check.  The real agent is driven end to end in
test_agent.py."""
import json
import threading
import time

from harness import main, berthd_args, expect_error, fresh, wait_until

EXT = "BerthExtensions_v1."
VERSION = {"agentVersion": "berth-agent/0.1.0 (protocol 1)", "agentHash": "test", "dockerVersion": "none"}


def ext(b, action, body):
    import urllib.request
    req = urllib.request.Request(b.endpoint + "/", data=json.dumps(body).encode(), method="POST", headers={
        "X-Amz-Target": EXT + action, "Content-Type": "application/x-amz-json-1.1",
        "Authorization": "AWS4-HMAC-SHA256 Credential=test/20250101/us-east-1/ecs/aws4_request, "
                         "SignedHeaders=host, Signature=00"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def register(b, cluster, cpu=2048, mem=4096):
    ecs = b.ecs
    ecs.create_cluster(clusterName=cluster)
    ci = ecs.register_container_instance(
        cluster=cluster, versionInfo=VERSION,
        totalResources=[{"name": "CPU", "type": "INTEGER", "integerValue": cpu},
                        {"name": "MEMORY", "type": "INTEGER", "integerValue": mem}],
        attributes=[{"name": "ecs.os-type", "value": "linux"}])["containerInstance"]
    return ci["containerInstanceArn"]


def taskdef(b, family="agent-td"):
    return b.ecs.register_task_definition(family=family, containerDefinitions=[
        {"name": "main", "image": "none", "memory": 64, "essential": True,
         "command": ["sleep", "30"], "environment": [{"name": "A", "value": "1"}],
         "portMappings": [{"containerPort": 8080, "hostPort": 8080}]},
        {"name": "side", "image": "none", "memory": 32, "essential": False, "command": ["true"]}],
        networkMode="host")["taskDefinition"]["taskDefinitionArn"]


def poll(b, cluster, ci, tasks=(), wait=0, version=1):
    return ext(b, "AgentPoll", {"protocolVersion": version, "cluster": cluster, "containerInstance": ci,
                                "waitSeconds": wait, "tasks": list(tasks)})


@fresh
def test_poll_gives_placed_tasks_and_reports_move_them(b):
    ci = register(b, "ag")
    td = taskdef(b)
    st, out = poll(b, "ag", ci)
    assert st == 200 and out["tasks"] == [] and out["protocolVersion"] == 1, out
    task = b.ecs.run_task(cluster="ag", taskDefinition=td, launchType="EXTERNAL", overrides={"containerOverrides": [
        {"name": "main", "command": ["sleep", "60"], "environment": [{"name": "B", "value": "2"}]}]})["tasks"][0]
    arn = task["taskArn"]
    st, out = poll(b, "ag", ci)
    [t] = out["tasks"]
    assert t["taskArn"] == arn and t["desiredStatus"] == "RUNNING"
    main_c = t["spec"]["containers"][0]
    assert main_c["command"] == ["sleep", "60"]
    assert {e["name"]: e["value"] for e in main_c["environment"]} == {"A": "1", "B": "2"}
    assert main_c["portMappings"] == [{"containerPort": 8080, "hostPort": 8080, "protocol": "tcp"}]
    assert t["spec"]["containers"][1]["essential"] is False
    # the task waits for its agent: no simulated progress
    time.sleep(0.3)
    assert b.ecs.describe_tasks(cluster="ag", tasks=[arn])["tasks"][0]["lastStatus"] in ("PROVISIONING", "PENDING")
    # the ECS agent's calls, as boto3 sends them
    ack = b.ecs.submit_container_state_change(cluster="ag", task=arn, containerName="main", status="RUNNING",
                                              runtimeId="4242")
    assert ack["acknowledgment"] == "true"
    b.ecs.submit_task_state_change(cluster="ag", task=arn, status="RUNNING", containers=[
        {"containerName": "main", "status": "RUNNING"}, {"containerName": "side", "status": "RUNNING"}])
    d = b.ecs.describe_tasks(cluster="ag", tasks=[arn])["tasks"][0]
    assert d["lastStatus"] == "RUNNING", d
    # the non-essential container exits: the task runs on
    b.ecs.submit_container_state_change(cluster="ag", task=arn, containerName="side", status="STOPPED", exitCode=0)
    d = b.ecs.describe_tasks(cluster="ag", tasks=[arn])["tasks"][0]
    side = [c for c in d["containers"] if c["name"] == "side"][0]
    assert d["lastStatus"] == "RUNNING" and side["lastStatus"] == "STOPPED" and side["exitCode"] == 0
    # a held poll is answered as soon as the task is to stop
    got = {}

    def held():
        got["t0"] = time.time()
        got["r"] = poll(b, "ag", ci, [{"taskArn": arn, "lastStatus": "RUNNING"}], wait=10)
        got["t1"] = time.time()
    th = threading.Thread(target=held)
    th.start()
    time.sleep(0.5)
    assert "r" not in got, got          # nothing new: held
    b.ecs.stop_task(cluster="ag", task=arn, reason="done here")
    th.join(10)
    st, out = got["r"]
    assert st == 200 and out["tasks"][0]["desiredStatus"] == "STOPPED", out
    assert out["tasks"][0]["stopReason"] == "done here"
    assert got["t1"] - got["t0"] < 5
    # the agent reports the stop with the exit code
    b.ecs.submit_task_state_change(cluster="ag", task=arn, status="STOPPED", reason="stopped",
                                   containers=[{"containerName": "main", "status": "STOPPED", "exitCode": 143}])
    d = b.ecs.describe_tasks(cluster="ag", tasks=[arn])["tasks"][0]
    assert d["lastStatus"] == "STOPPED" and d["stoppedReason"] == "done here", d
    assert [c["exitCode"] for c in d["containers"] if c["name"] == "main"] == [143]
    st, out = poll(b, "ag", ci)
    assert out["tasks"] == []
    # STOPPED is final
    expect_error("InvalidParameterException", b.ecs.submit_task_state_change, cluster="ag", task=arn,
                 status="RUNNING")


@fresh
def test_a_held_poll_times_out_empty_and_reports_resync(b):
    ci = register(b, "rs")
    td = taskdef(b, "rs-td")
    t0 = time.time()
    st, out = poll(b, "rs", ci, wait=1)
    assert st == 200 and out["tasks"] == [] and 0.8 < time.time() - t0 < 5
    arn = b.ecs.run_task(cluster="rs", taskDefinition=td, launchType="EXTERNAL")["tasks"][0]["taskArn"]
    # the poll's report alone (its SubmitTaskStateChange lost) moves the task
    st, out = poll(b, "rs", ci, [{"taskArn": arn, "lastStatus": "RUNNING",
                                  "containers": [{"name": "main", "lastStatus": "RUNNING",
                                                  "healthStatus": "HEALTHY"}]}])
    assert b.ecs.describe_tasks(cluster="rs", tasks=[arn])["tasks"][0]["lastStatus"] == "RUNNING"
    # a task the agent runs that berthd does not list: answered at once so the agent stops it
    ghost = arn.rsplit("/", 1)[0] + "/" + "0" * 32
    t0 = time.time()
    st, out = poll(b, "rs", ci, [{"taskArn": arn, "lastStatus": "RUNNING"},
                                 {"taskArn": ghost, "lastStatus": "RUNNING"}], wait=10)
    assert time.time() - t0 < 5 and [t["taskArn"] for t in out["tasks"]] == [arn]
    # a stop the agent never saw (it does not report the task): STOPPED at the next poll
    b.ecs.stop_task(cluster="rs", task=arn)
    poll(b, "rs", ci, [])
    assert b.ecs.describe_tasks(cluster="rs", tasks=[arn])["tasks"][0]["lastStatus"] == "STOPPED"


@fresh
def test_version_mismatch_and_bad_polls_refused(b):
    ci = register(b, "vm")
    st, out = poll(b, "vm", ci, version=2)
    assert st == 400 and out["__type"] == "ClientException", out
    assert "protocol 2 is not spoken by this berthd (it speaks 1)" in out["message"]
    st, out = ext(b, "AgentPoll", {"cluster": "vm", "containerInstance": ci})
    assert st == 400 and out["__type"] == "SerializationException"
    st, out = poll(b, "vm", ci, wait=99)
    assert st == 400 and "waitSeconds" in out["message"]
    st, out = poll(b, "vm", "arn:aws:ecs:us-east-1:000000000000:container-instance/vm/" + "f" * 32)
    assert st == 400 and out["__type"] == "ClientException"
    b.ecs.deregister_container_instance(cluster="vm", containerInstance=ci)
    st, out = poll(b, "vm", ci)
    assert st == 400 and "inactive" in out["message"], out
    expect_error("InvalidParameterException", b.ecs.submit_task_state_change, cluster="vm",
                 task="arn:aws:ecs:us-east-1:000000000000:task/vm/" + "a" * 32, status="RUNNING")


@fresh
@berthd_args("--agent-timeout-ms", "500", "--lost-agent-grace-ms", "0")
def test_an_agent_that_stops_polling_is_disconnected_and_its_service_moves(b):
    ci1 = register(b, "lv")
    ci2 = register(b, "lv")
    td = b.ecs.register_task_definition(family="lv", containerDefinitions=[
        {"name": "main", "image": "none", "memory": 64, "command": ["sleep", "100"]}])["taskDefinition"]
    b.ecs.create_service(cluster="lv", serviceName="s", taskDefinition=td["taskDefinitionArn"], desiredCount=1,
                         launchType="EXTERNAL")

    def placed():
        ts = b.ecs.list_tasks(cluster="lv")["taskArns"]
        return b.ecs.describe_tasks(cluster="lv", tasks=ts)["tasks"] if ts else None
    [t] = wait_until(placed, what="service task placed")
    first_ci = t["containerInstanceArn"]
    other = ci2 if first_ci == ci1 else ci1
    # only the other instance's agent keeps polling
    stop = threading.Event()

    def keep_polling():
        while not stop.is_set():
            poll(b, "lv", other)
            time.sleep(0.1)
    th = threading.Thread(target=keep_polling)
    th.start()
    try:
        def lost():
            d = b.ecs.describe_container_instances(cluster="lv", containerInstances=[first_ci])
            return not d["containerInstances"][0]["agentConnected"]
        wait_until(lost, timeout=10, what="agentConnected false")

        def moved():
            tasks = placed() or []
            return [x for x in tasks if x["containerInstanceArn"] == other and x["desiredStatus"] == "RUNNING"]
        wait_until(moved, timeout=10, what="the service's task replaced on the live host")
        # polling again reconnects
        poll(b, "lv", first_ci)
        d = b.ecs.describe_container_instances(cluster="lv", containerInstances=[first_ci])
        assert d["containerInstances"][0]["agentConnected"]
    finally:
        stop.set()
        th.join()


@fresh
def test_shutdown_answers_held_polls(b):
    ci = register(b, "sd")
    got = {}

    def held():
        got["r"] = poll(b, "sd", ci, wait=20)
    th = threading.Thread(target=held)
    th.start()
    time.sleep(0.3)
    t0 = time.time()
    assert b.stop() == 0
    th.join(10)
    assert got["r"][0] == 200 and got["r"][1]["tasks"] == [] and time.time() - t0 < 5
    b.start()


if __name__ == "__main__":
    main(globals())
