"""The virtual clock (issue 5: `--clock virtual`, moved by the extension
action BerthExtensions_v1.AdvanceClock): time stands still until told, then
every deadline on the way runs at its own time, so a long stretch of
activity takes milliseconds; with --seed and --clock-start two runs give the
same answers.  Clients: boto3 and raw JSON 1.1 against a real berthd."""
import json

from harness import main, Berth, wait_until, berthd_args

START = 1893456000  # 2030-01-01T00:00:00Z


def advance(b, **kw):
    st, _, out = b.raw(None, json.dumps(kw), headers={"X-Amz-Target": "BerthExtensions_v1.AdvanceClock"})
    return st, out


def setup(b, clu="vc"):
    b.ecs.create_cluster(clusterName=clu)
    doc = {"instanceId": "i-00000000000000001", "instanceType": "m5.large", "availabilityZone": "us-east-1a",
           "region": "us-east-1"}
    b.ecs.register_container_instance(
        cluster=clu, instanceIdentityDocument=json.dumps(doc),
        totalResources=[{"name": "CPU", "type": "INTEGER", "integerValue": 2048},
                        {"name": "MEMORY", "type": "INTEGER", "integerValue": 4096}])
    b.ecs.register_task_definition(family="vcfam", containerDefinitions=[
        {"name": "a", "image": "x", "cpu": 128, "memory": 128, "dockerLabels": {"berth.sim.runtime": "90s"}}])


@berthd_args("--clock", "virtual", "--clock-start", str(START))
def test_time_stands_still_then_an_hour_runs_at_once(b):
    setup(b)
    b.ecs.create_service(cluster="vc", serviceName="web", taskDefinition="vcfam", desiredCount=2)
    # the service's first pass runs now; the tasks' steps wait for the clock
    s = wait_until(lambda: b.ecs.describe_services(cluster="vc", services=["web"])["services"][0]["pendingCount"] == 2
                   and b.ecs.describe_services(cluster="vc", services=["web"])["services"][0], what="two pending")
    assert s["createdAt"].timestamp() == START, s["createdAt"]
    assert s["runningCount"] == 0
    st, out = advance(b, seconds=3600)
    assert st == 200 and out["now"] == START + 3600, out
    # the containers exit every 90 s and the service replaces them: an hour
    # of that ran in one call, each step at its own time
    s = b.ecs.describe_services(cluster="vc", services=["web"])["services"][0]
    assert s["runningCount"] == 2, s
    stopped = b.ecs.list_tasks(cluster="vc", serviceName="web", desiredStatus="STOPPED")["taskArns"]
    assert len(stopped) >= 2 * 35, len(stopped)   # 3600 s / (90 s + the lifecycle steps), two tasks
    t = b.ecs.describe_tasks(cluster="vc", tasks=stopped[:1])["tasks"][0]
    assert START < t["startedAt"].timestamp() < t["stoppedAt"].timestamp() <= START + 3600, t
    assert abs((t["executionStoppedAt"] - t["startedAt"]).total_seconds() - 90) < 3, t


def run_once(tmp_seed):
    b = Berth("--clock", "virtual", "--clock-start", str(START), "--seed", str(tmp_seed),
              "--sim-step-ms", "500").start()
    try:
        setup(b)
        b.ecs.create_service(cluster="vc", serviceName="web", taskDefinition="vcfam", desiredCount=3)
        advance(b, seconds=600)
        arns = sorted(b.ecs.list_tasks(cluster="vc", serviceName="web")["taskArns"])
        events = [e["message"] for e in b.ecs.describe_services(cluster="vc", services=["web"])["services"][0]["events"]]
        return arns, events
    finally:
        b.close()


def test_same_seed_same_run(_shared):
    a, b2, c = run_once(7), run_once(7), run_once(8)
    assert a == b2, (a, b2)
    assert a[0] != c[0], "another seed gives other ids"


def test_advance_clock_refusals(b):
    st, out = advance(b, seconds=1)
    assert st == 400 and out["__type"] == "InvalidParameterException" and "--clock virtual" in out["message"], out
    for body in ({}, {"seconds": "x"}):
        st, out = advance(b, **body)
        assert st == 400 and out["__type"] == "SerializationException", (body, out)
    st, out = advance(b, seconds=-5)
    assert st == 400 and out["__type"] == "InvalidParameterException", out


if __name__ == "__main__":
    main(globals())
