"""Cluster auto scaling end to end (issue 5, ECS-SEMANTICS §8, the rules in
src/scaling/cas.h): Auto Scaling groups made through boto3's autoscaling
client back capacity providers with managed scaling; tasks that cannot be
placed go PROVISIONING and drive scale-out; the simulated instances boot and
register as container instances of the cluster.  Covered: scale-out from
zero (one task brings the group to 2), minimum and maximum scaling step
sizes, instance warm-up blocking a stacked scale-out, targetCapacity below
100 keeping spare instances, scale-in after the low datapoints (at most half
the group a step, never below MinSize), managed termination protection,
managed draining, a FAILED cluster for a provider whose group does not exist,
the history extension and /metrics, and one scenario in both timings giving
the same sequence of desired capacities.

Every test runs its own berthd on the virtual clock (--clock virtual), moved
with BerthExtensions_v1.AdvanceClock, so minutes of scaling take
milliseconds and every run is the same.  With --timing fast there is one
evaluation a virtual second, scale-in after 3 low datapoints, a 300 s warm-up
lasts 5 s and a 60 s boot 1 s; with --timing ecs one evaluation a minute,
scale-in after 15 low datapoints, real-length warm-up and boots."""
import json
import re
import urllib.request

from harness import main, berthd_args, Berth, ACCOUNT, REGION

START = 1893456000  # 2030-01-01T00:00:00Z, on the period grid of both timings
COMMON = ("--clock", "virtual", "--clock-start", str(START), "--sim-step-ms", "20", "--healthy-grace-ms", "0",
          "--seed", "11")
FAST = ("--timing", "fast") + COMMON
ECS = ("--timing", "ecs") + COMMON
ZONES = ("us-east-1a", "us-east-1b")
# m5.large: 2 vCPU = 2048 CPU units, 8192 MiB
BIG = 2048    # a task that fills one m5.large's CPU
HALF = 1024   # two fit on one


# ---- the extension actions ----

def ext(b, action, **body):
    st, _, out = b.raw(None, json.dumps(body), headers={"X-Amz-Target": "BerthExtensions_v1." + action})
    return st, out


def advance(b, seconds):
    st, out = ext(b, "AdvanceClock", seconds=seconds)
    assert st == 200, (st, out)
    return out["now"]


def now(b):
    return advance(b, 0)


def history(b, clu, cp):
    """The evaluations, oldest first."""
    st, out = ext(b, "GetScalingHistory", cluster=clu, capacityProvider=cp)
    assert st == 200, (st, out)
    return out["samples"][::-1]


def metrics(b):
    with urllib.request.urlopen(b.endpoint + "/metrics", timeout=10) as r:
        assert r.status == 200
        return r.read().decode()


def run_until(b, pred, step=1, limit=600, what="condition"):
    """Move the virtual clock `step` seconds at a time until pred() is true
    (at most `limit` seconds); returns pred's value."""
    moved = 0
    last = pred()
    while not last:
        if moved >= limit:
            raise AssertionError("after %d virtual seconds, still waiting for %s (last: %r)" % (moved, what, last))
        advance(b, step)
        moved += step
        last = pred()
    return last


def squeeze(xs):
    """xs without consecutive repeats."""
    out = []
    for x in xs:
        if not out or out[-1] != x:
            out.append(x)
    return out


# ---- a cluster with one managed-scaling provider ----

class Env:
    """A launch configuration, an Auto Scaling group, a capacity provider
    on it with managed scaling, and a cluster using that provider by
    default; names derive from `name`."""

    def __init__(self, b, name, itype="m5.large", min_size=0, max_size=10, desired=0, zones=ZONES, target=100,
                 min_step=1, max_step=10000, warmup=300, mtp=False, draining=False):
        self.b, self.clu, self.cp, self.asg = b, name, name + "-cp", name + "-asg"
        a = b.client("autoscaling")
        a.create_launch_configuration(LaunchConfigurationName=name + "-lc", ImageId="ami-12345678",
                                      InstanceType=itype)
        a.create_auto_scaling_group(AutoScalingGroupName=self.asg, LaunchConfigurationName=name + "-lc",
                                    MinSize=min_size, MaxSize=max_size, DesiredCapacity=desired,
                                    AvailabilityZones=list(zones), NewInstancesProtectedFromScaleIn=mtp)
        self.asg_arn = self.group()["AutoScalingGroupARN"]
        b.ecs.create_capacity_provider(name=self.cp, autoScalingGroupProvider={
            "autoScalingGroupArn": self.asg_arn,
            "managedScaling": {"status": "ENABLED", "targetCapacity": target, "minimumScalingStepSize": min_step,
                               "maximumScalingStepSize": max_step, "instanceWarmupPeriod": warmup},
            "managedTerminationProtection": "ENABLED" if mtp else "DISABLED",
            "managedDraining": "ENABLED" if draining else "DISABLED"})
        b.ecs.create_cluster(clusterName=self.clu, capacityProviders=[self.cp],
                             defaultCapacityProviderStrategy=[{"capacityProvider": self.cp, "weight": 1}])
        for fam, cpu in (("big", BIG), ("half", HALF)):
            b.ecs.register_task_definition(family="%s-%s" % (name, fam), containerDefinitions=[
                {"name": "app", "image": "busybox", "cpu": cpu, "memory": 512, "essential": True}])

    # the group
    def group(self):
        gs = self.b.client("autoscaling").describe_auto_scaling_groups(
            AutoScalingGroupNames=[self.asg])["AutoScalingGroups"]
        assert len(gs) == 1, gs
        return gs[0]

    def desired(self):
        return self.group()["DesiredCapacity"]

    def instances(self, state=None):
        return [i for i in self.group()["Instances"] if state is None or i["LifecycleState"] == state]

    def in_service(self):
        return {i["InstanceId"]: i for i in self.instances("InService")}

    # the scaling history
    def history(self):
        return history(self.b, self.clu, self.cp)

    def last(self):
        return self.history()[-1]

    # ECS
    def run(self, kind="big", count=1, waiting=True):
        """run_task; with `waiting`, every task must wait for capacity."""
        out = self.b.ecs.run_task(cluster=self.clu, taskDefinition="%s-%s" % (self.clu, kind), count=count)
        assert out["failures"] == [], out
        if waiting:
            assert all(t["lastStatus"] == "PROVISIONING" for t in out["tasks"]), out["tasks"]
        return [t["taskArn"] for t in out["tasks"]]

    def tasks(self, arns):
        out = []
        for i in range(0, len(arns), 100):
            out += self.b.ecs.describe_tasks(cluster=self.clu, tasks=arns[i:i + 100])["tasks"]
        return out

    def statuses(self, arns):
        return sorted(t["lastStatus"] for t in self.tasks(arns))

    def all_running(self, arns):
        return all(s == "RUNNING" for s in self.statuses(arns))

    def stop(self, arns):
        for a in arns:
            self.b.ecs.stop_task(cluster=self.clu, task=a, reason="test")

    def container_instances(self, status=None):
        kw = {"status": status} if status else {}
        arns = self.b.ecs.list_container_instances(cluster=self.clu, **kw)["containerInstanceArns"]
        if not arns:
            return []
        return self.b.ecs.describe_container_instances(cluster=self.clu, containerInstances=arns)["containerInstances"]

    def ci_by_ec2(self, status=None):
        return {c["ec2InstanceId"]: c for c in self.container_instances(status)}

    def ec2_of_tasks(self, arns):
        """The EC2 instance ids the (placed) tasks run on."""
        cis = {c["containerInstanceArn"]: c["ec2InstanceId"] for c in self.container_instances()}
        cis.update({c["containerInstanceArn"]: c["ec2InstanceId"] for c in self.container_instances("DRAINING")})
        return {cis[t["containerInstanceArn"]] for t in self.tasks(arns) if t.get("containerInstanceArn") in cis}


def desired_changes(samples):
    """(time, desired) at every evaluation that changed the desired capacity."""
    out, prev = [], None
    for s in samples:
        if s["desiredCapacity"] != prev:
            out.append((s["time"], s["desiredCapacity"]))
            prev = s["desiredCapacity"]
    return out


# ---- scale-out ----

@berthd_args(*FAST)
def test_scale_out_from_zero_one_task_brings_two(b):
    e = Env(b, "zero", mtp=True)
    first = e.last()
    assert (first["m"], first["n"], first["capacityProviderReservation"], first["decision"]) == (0, 0, 100, "steady"), first
    (arn,) = e.run("half")
    advance(b, 1)
    # within one tick: N = 0, M > 0 gives 200, and target tracking at 100 doubles "1"
    s = e.last()
    assert s["time"] == START + 1, s
    assert (s["m"], s["n"], s["capacityProviderReservation"], s["decision"]) == (1, 0, 200, "scale-out"), s
    assert s["desiredCapacity"] == 2 and e.desired() == 2, s
    insts = e.instances()
    assert len(insts) == 2 and all(i["LifecycleState"] == "Pending" for i in insts), insts
    assert sorted(i["AvailabilityZone"] for i in insts) == list(ZONES), insts
    # the instances boot (60 s / 60), register with their type's resources, the task runs on one
    run_until(b, lambda: e.all_running([arn]), what="the task RUNNING")
    cis = e.ci_by_ec2()
    assert sorted(cis) == sorted(i["InstanceId"] for i in insts), (cis, insts)
    for c in cis.values():
        res = {r["name"]: r["integerValue"] for r in c["registeredResources"] if r["name"] in ("CPU", "MEMORY")}
        assert res == {"CPU": 2048, "MEMORY": 8192}, c
        attrs = {a["name"]: a.get("value") for a in c["attributes"]}
        assert attrs.get("ecs.instance-type") == "m5.large", attrs
        assert c["capacityProviderName"] == e.cp, c
    t = e.tasks([arn])[0]
    assert t["capacityProviderName"] == e.cp, t
    (home,) = e.ec2_of_tasks([arn])
    # one busy instance of two: 50 %, and after the quiet period the spare goes
    run_until(b, lambda: e.desired() == 1 and len(e.instances()) == 1, what="back to one instance")
    run_until(b, lambda: e.last()["capacityProviderReservation"] == 100, what="CPR 100")
    s = e.last()
    assert (s["m"], s["n"], s["desiredCapacity"], s["inServiceCount"]) == (1, 1, 1, 1), s
    assert list(e.in_service()) == [home], (e.in_service(), home)
    assert e.all_running([arn]), e.tasks([arn])
    cprs = squeeze(x["capacityProviderReservation"] for x in e.history())
    assert cprs[:2] == [100, 200] and cprs[-1] == 100 and 50 in cprs, cprs
    # and it stays there
    advance(b, 30)
    assert e.desired() == 1 and e.last()["decision"] == "steady", e.last()


@berthd_args(*FAST)
def test_scale_out_from_zero_without_warmup_does_not_overshoot(b):
    """With instanceWarmupPeriod 0 nothing holds a second scale-out back: the
    one task must still bring the group to 2, not more (the evaluation when
    the instances register must not count the task, which fits on them, as
    still needing an instance).  The same happens in ecs timing with any
    warm-up up to the 60 s boot."""
    e = Env(b, "nowarm", warmup=0, mtp=True)
    (arn,) = e.run("half")
    run_until(b, lambda: e.all_running([arn]), what="the task RUNNING")
    advance(b, 2)
    peak = max(s["desiredCapacity"] for s in e.history())
    assert peak == 2, [(s["time"] - START, s["m"], s["n"], s["capacityProviderReservation"], s["desiredCapacity"],
                        s["decision"]) for s in e.history()]


@berthd_args(*FAST)
def test_step_limits_clamp_extra_instances(b):
    # maximumScalingStepSize 3: ten tasks that need an instance each add 3 a step
    mx = Env(b, "maxstep", min_size=1, desired=1, max_size=12, max_step=3, warmup=120, mtp=True)
    # minimumScalingStepSize 3: one task that needs one instance adds 3
    mn = Env(b, "minstep", min_size=1, desired=1, max_size=12, min_step=3, max_step=10, warmup=120, mtp=True)
    run_until(b, lambda: len(mx.ci_by_ec2()) == 1 and len(mn.ci_by_ec2()) == 1, what="the first instances")
    advance(b, 3)   # past their warm-up (120 s / 60)
    first = {e: e.run("big", waiting=False) for e in (mx, mn)}
    run_until(b, lambda: all(e.all_running(first[e]) for e in (mx, mn)), what="the first tasks RUNNING")
    advance(b, 2)
    assert mx.desired() == 1 and mn.desired() == 1, (mx.history(), mn.history())
    t0 = now(b)
    more = mx.run("big", count=10)
    one = mn.run("big")
    advance(b, 1)
    s = mx.last()
    # M = N + min(10, 3) = 4 of N = 1: 400 %, desired 4
    assert (s["time"], s["m"], s["n"], s["capacityProviderReservation"], s["decision"]) == (t0 + 1, 4, 1, 400, "scale-out"), s
    assert s["desiredCapacity"] == 4 and mx.desired() == 4, s
    s = mn.last()
    # M = N + max(1, 3) = 4 of N = 1: desired 4
    assert (s["m"], s["n"], s["capacityProviderReservation"], s["decision"]) == (4, 1, 400, "scale-out"), s
    assert mn.desired() == 4, s
    # the big steps go on, 3 at a time, each once the last ones are warm, up to what the tasks need
    run_until(b, lambda: mx.all_running(more), limit=120, what="ten tasks RUNNING")
    advance(b, 5)
    steps = [d for _, d in desired_changes(mx.history())]
    assert steps == [1, 4, 7, 10, 11], (steps, [(x["time"] - t0, x["m"], x["n"], x["desiredCapacity"], x["decision"])
                                                for x in mx.history() if x["time"] > t0])
    assert mx.desired() == 11 and len(mx.in_service()) == 11
    # the minimum step's spare instances were not needed: they go again, never the busy two
    assert mn.all_running(one)
    run_until(b, lambda: mn.desired() == 2 and len(mn.instances()) == 2, limit=60, what="minstep back to 2")
    busy = mn.ec2_of_tasks(first[mn] + one)
    assert sorted(mn.in_service()) == sorted(busy), (mn.in_service(), busy)


@berthd_args(*FAST)
def test_warmup_blocks_stacked_scale_out(b):
    e = Env(b, "warm", min_size=1, desired=1, warmup=300, mtp=True)   # 300 s warm-up: 5 s in fast timing
    base = e.run("big")
    run_until(b, lambda: e.all_running(base), what="the first task RUNNING")
    advance(b, 6)
    t0 = now(b)
    burst1 = e.run("big", count=2)
    advance(b, 1)
    assert e.desired() == 3 and e.last()["decision"] == "scale-out", e.last()
    launched = t0 + 1
    # the new instances boot in a second; the second burst comes while they warm up
    run_until(b, lambda: e.all_running(burst1), what="first burst RUNNING")
    burst2 = e.run("big", count=2)
    t1 = now(b)
    assert t1 < launched + 5, (t1, launched)
    advance(b, 1)
    s = e.last()
    assert (s["m"], s["n"], s["capacityProviderReservation"]) == (5, 3, 5 * 100 / 3), s
    assert s["decision"] == "warm-up" and e.desired() == 3, s
    run_until(b, lambda: e.desired() == 5, what="the second scale-out")
    out = [x for x in e.history() if x["decision"] == "scale-out"]
    assert [x["desiredCapacity"] for x in out] == [3, 5], out
    # not before the warm-up (300 s / 60) of the instances launched at `launched` has passed
    assert out[1]["time"] == launched + 5, (out[1], launched)
    blocked = [x for x in e.history() if t1 < x["time"] < out[1]["time"]]
    assert blocked and all(x["decision"] == "warm-up" and x["desiredCapacity"] == 3 for x in blocked), blocked
    run_until(b, lambda: e.all_running(burst2), what="second burst RUNNING")


@berthd_args(*FAST)
def test_target_below_100_keeps_spare_instances(b):
    e = Env(b, "half", target=50, mtp=True, max_size=20)
    arns = e.run("big", count=3)
    advance(b, 1)
    # from zero: ceil(200 / 50) = 4
    assert e.desired() == 4 and e.last()["capacityProviderReservation"] == 200, e.last()
    run_until(b, lambda: e.all_running(arns), what="three tasks RUNNING")
    # three busy of four is 75 % > 50: after the warm-up, ceil(100 * 3 / 50) = 6
    run_until(b, lambda: e.desired() == 6 and len(e.in_service()) == 6, what="six instances")
    advance(b, 30)
    s = e.last()
    assert (s["m"], s["n"], s["capacityProviderReservation"], s["desiredCapacity"]) == (3, 6, 50, 6), s
    assert s["decision"] == "steady", s
    # twice the busy instances: three empty spares kept
    busy = e.ec2_of_tasks(arns)
    assert len(busy) == 3 and len(set(e.in_service()) - busy) == 3, (busy, e.in_service())
    assert [d for _, d in desired_changes(e.history())] == [0, 4, 6], desired_changes(e.history())
    # one more task lands on a spare; 4 of 6 is 66 %: the group grows to 8
    more = e.run("big", waiting=False)
    run_until(b, lambda: e.all_running(more) and e.desired() == 8, what="eight instances")
    advance(b, 30)
    assert (e.last()["m"], e.last()["n"], e.last()["capacityProviderReservation"]) == (4, 8, 50), e.last()


# ---- scale-in ----

@berthd_args(*FAST)
def test_scale_in_after_quiet_period_half_a_step_not_below_min(b):
    e = Env(b, "quiet", min_size=1, max_size=10, desired=8, mtp=True)
    arns = e.run("big", count=8)
    run_until(b, lambda: e.all_running(arns), what="eight tasks RUNNING")
    advance(b, 10)
    assert e.desired() == 8 and e.last()["capacityProviderReservation"] == 100, e.last()
    assert all(x["desiredCapacity"] == 8 for x in e.history()), desired_changes(e.history())
    t0 = now(b)
    e.stop(arns)
    run_until(b, lambda: e.desired() == 1 and len(e.instances()) == 1, limit=60, what="down to MinSize")
    advance(b, 20)
    after = [x for x in e.history() if x["time"] > t0]
    # three low datapoints (fast timing) before the first step; then at most half a step
    assert [x["decision"] for x in after[:3]] == ["wait-datapoints", "wait-datapoints", "scale-in"], after[:4]
    assert all(x["capacityProviderReservation"] == 0 for x in after[:3]), after[:3]
    ds = squeeze(x["desiredCapacity"] for x in after)
    assert ds == [8, 4, 2, 1], ds
    assert e.desired() == 1 and e.last()["decision"] == "at-min", e.last()
    assert len(e.ci_by_ec2()) == 1, e.container_instances()


@berthd_args(*FAST)
def test_scale_in_needs_consecutive_low_datapoints(b):
    """A busy datapoint in between starts the count again."""
    e = Env(b, "streak", min_size=0, max_size=10, desired=2, mtp=True)
    arns = e.run("big", count=2)
    run_until(b, lambda: e.all_running(arns), what="two tasks RUNNING")
    advance(b, 10)
    e.stop(arns[:1])
    advance(b, 2)                       # two low datapoints
    assert e.desired() == 2, e.history()[-3:]
    again = e.run("big", waiting=False)  # busy again: a high/level datapoint breaks the streak
    run_until(b, lambda: e.all_running(again), what="the new task RUNNING")
    advance(b, 10)
    assert e.desired() == 2 and all(x["decision"] != "scale-in" for x in e.history()), e.history()[-12:]
    # quiet again: the count starts from zero, the third low datapoint scales in
    t0 = now(b)
    e.stop(again)
    run_until(b, lambda: e.desired() == 1, limit=30, what="scale-in to 1")
    after = [x for x in e.history() if x["time"] > t0]
    assert [x["decision"] for x in after] == ["wait-datapoints", "wait-datapoints", "scale-in"], after
    assert all(x["capacityProviderReservation"] == 50 for x in after), after


# ---- managed termination protection ----

@berthd_args(*FAST)
def test_managed_termination_protection(b):
    # MinSize 4 holds the empty instances until the protection is checked
    e = Env(b, "prot", min_size=4, max_size=10, desired=4, mtp=True)
    arns = e.run("big", count=2)
    run_until(b, lambda: e.all_running(arns), what="two tasks RUNNING")
    advance(b, 1)
    busy = e.ec2_of_tasks(arns)
    assert len(busy) == 2
    insts = e.in_service()
    assert len(insts) == 4, insts
    # busy ones protected, empty ones not (NewInstancesProtectedFromScaleIn made all protected at launch)
    assert {i for i, x in insts.items() if x["ProtectedFromScaleIn"]} == busy, insts
    ai = b.client("autoscaling").describe_auto_scaling_instances(InstanceIds=list(insts))["AutoScalingInstances"]
    assert {x["InstanceId"] for x in ai if x["ProtectedFromScaleIn"]} == busy, ai
    # the empty two go after the quiet period; the busy two stay, their tasks untouched
    b.client("autoscaling").update_auto_scaling_group(AutoScalingGroupName=e.asg, MinSize=0)
    run_until(b, lambda: e.desired() == 2 and len(e.instances()) == 2, limit=30, what="scale-in to 2")
    assert set(e.in_service()) == busy, (e.in_service(), busy)
    assert e.all_running(arns)
    # a task stops: its instance loses protection, then goes
    e.stop(arns[:1])
    (gone,) = e.ec2_of_tasks(arns[:1])
    advance(b, 1)
    assert e.in_service()[gone]["ProtectedFromScaleIn"] is False, e.in_service()
    run_until(b, lambda: gone not in {i["InstanceId"] for i in e.instances()}, limit=30, what="the emptied instance gone")
    assert set(e.in_service()) == busy - {gone} and e.all_running(arns[1:])
    # a user asking for fewer cannot take the protected busy one either
    b.client("autoscaling").set_desired_capacity(AutoScalingGroupName=e.asg, DesiredCapacity=0)
    advance(b, 2)
    assert set(e.in_service()) == busy - {gone} and e.all_running(arns[1:]), e.instances()
    stopped = [t for t in e.tasks(arns[1:]) if t["lastStatus"] == "STOPPED"]
    assert not stopped, stopped


@berthd_args(*FAST)
def test_scale_in_without_protection_spares_busy_instances(b):
    """cas.h ("Terminations"): a scale-in terminates only empty, unprotected
    InService instances, with or without managed termination protection;
    when fewer qualify, desired is raised so that the group never has to
    take another.  Here the busy instance is the group's oldest, the one the
    Auto Scaling default termination policy would pick."""
    e = Env(b, "noprot", min_size=1, max_size=10, desired=1, mtp=False)
    run_until(b, lambda: len(e.ci_by_ec2()) == 1, what="the first instance")
    (old,) = e.in_service()
    advance(b, 6)
    (keep,) = e.run("big", waiting=False)     # on the only instance
    run_until(b, lambda: e.all_running([keep]), what="the first task RUNNING")
    (extra,) = e.run("big")                   # needs a second instance
    run_until(b, lambda: e.all_running([extra]), what="the second task RUNNING")
    assert e.desired() == 2 and e.ec2_of_tasks([keep]) == {old}, (e.desired(), e.ec2_of_tasks([keep]))
    advance(b, 6)
    e.stop([extra])
    run_until(b, lambda: len(e.instances()) == 1, limit=30, what="scale-in to one instance")
    advance(b, 2)
    t = e.tasks([keep])[0]
    assert t["lastStatus"] == "RUNNING", (t["lastStatus"], t.get("stoppedReason"), t.get("stopCode"))
    assert list(e.in_service()) == [old], (e.instances(), old)


# ---- managed draining ----

@berthd_args(*FAST)
def test_managed_draining_replaces_service_tasks_before_termination(b):
    e = Env(b, "drain", min_size=0, max_size=10, desired=3, mtp=False, draining=True)
    run_until(b, lambda: len(e.ci_by_ec2()) == 3, what="three instances registered")
    b.ecs.create_service(cluster=e.clu, serviceName="web", taskDefinition="drain-half", desiredCount=2,
                         placementConstraints=[{"type": "distinctInstance"}])

    def svc_tasks():
        arns = b.ecs.list_tasks(cluster=e.clu, serviceName="web")["taskArns"]
        return e.tasks(arns) if arns else []
    run_until(b, lambda: len(svc_tasks()) == 2 and all(t["lastStatus"] == "RUNNING" for t in svc_tasks()),
              what="two service tasks RUNNING")
    old = {t["taskArn"] for t in svc_tasks()}
    ci_arn = {c["containerInstanceArn"]: c for c in e.container_instances()}
    victim_ci = ci_arn[sorted(t["containerInstanceArn"] for t in svc_tasks())[0]]
    victim = victim_ci["ec2InstanceId"]
    victim_task = [t["taskArn"] for t in svc_tasks() if t["containerInstanceArn"] == victim_ci["containerInstanceArn"]]
    b.client("autoscaling").terminate_instance_in_auto_scaling_group(InstanceId=victim,
                                                                     ShouldDecrementDesiredCapacity=True)
    # the instance goes DRAINING first, and stays registered while its service task runs
    ci = b.ecs.describe_container_instances(cluster=e.clu, containerInstances=[victim_ci["containerInstanceArn"]])
    ci = ci["containerInstances"][0]
    assert ci["status"] == "DRAINING", ci["status"]
    seen = []

    def watch():
        c = b.ecs.describe_container_instances(cluster=e.clu, containerInstances=[victim_ci["containerInstanceArn"]])
        c = c["containerInstances"][0]
        vt = e.tasks(victim_task)[0]
        live = [t for t in svc_tasks() if t["lastStatus"] == "RUNNING" and t["taskArn"] not in old]
        inst = [i for i in e.group()["Instances"] if i["InstanceId"] == victim]
        seen.append((c["status"], vt["lastStatus"], len(live), inst[0]["LifecycleState"] if inst else "gone"))
        return c["status"] == "INACTIVE" and not inst
    run_until(b, watch, step=0.02, limit=60, what="the instance terminated")
    seq = squeeze(seen)
    # DRAINING at once, with its task still RUNNING and no replacement yet
    assert seq[0] == ("DRAINING", "RUNNING", 0, "Terminating"), seq
    # a replacement RUNNING elsewhere while the old task still runs
    assert ("DRAINING", "RUNNING", 1, "Terminating") in seq, seq
    # the old task STOPPED while the instance is still registered (DRAINING) ...
    stopped_at = seq.index(("DRAINING", "STOPPED", 1, "Terminating"))
    # ... then it deregisters, then it is gone from the group
    inactive_at = next(i for i, x in enumerate(seq) if x[0] == "INACTIVE")
    assert stopped_at < inactive_at, seq
    assert all(x[1] == "STOPPED" and x[2] >= 1 for x in seq[inactive_at:]), seq
    assert seq[-1] == ("INACTIVE", "STOPPED", 1, "gone"), seq
    assert e.tasks(victim_task)[0]["lastStatus"] == "STOPPED"
    now_tasks = svc_tasks()
    assert len(now_tasks) == 2 and all(t["lastStatus"] == "RUNNING" for t in now_tasks), now_tasks
    homes = e.ec2_of_tasks([t["taskArn"] for t in now_tasks])
    assert victim not in homes and len(homes) == 2, homes
    assert victim not in e.ci_by_ec2()


@berthd_args(*FAST)
def test_without_managed_draining_termination_does_not_wait(b):
    e = Env(b, "nodrain", min_size=0, max_size=10, desired=2, mtp=False, draining=False)
    run_until(b, lambda: len(e.ci_by_ec2()) == 2, what="two instances registered")
    b.ecs.create_service(cluster=e.clu, serviceName="web", taskDefinition="nodrain-half", desiredCount=1)
    arns = run_until(b, lambda: (lambda a: a if a and e.all_running(a) else None)(
        b.ecs.list_tasks(cluster=e.clu, serviceName="web")["taskArns"]), what="the service task RUNNING")
    (victim,) = e.ec2_of_tasks(arns)
    b.client("autoscaling").terminate_instance_in_auto_scaling_group(InstanceId=victim,
                                                                     ShouldDecrementDesiredCapacity=True)
    # deregistered at once: the task stops with the instance, the service starts another later
    assert victim not in e.ci_by_ec2() and victim not in e.ci_by_ec2("DRAINING")
    assert e.tasks(arns)[0]["desiredStatus"] == "STOPPED", e.tasks(arns)[0]


# ---- cluster statuses ----

@berthd_args(*FAST)
def test_failed_cluster_for_a_missing_group(b):
    missing = "arn:aws:autoscaling:%s:%s:autoScalingGroup:00000000-0000-0000-0000-000000000000:autoScalingGroupName/nope" % (
        REGION, ACCOUNT)
    b.ecs.create_capacity_provider(name="ghost-cp", autoScalingGroupProvider={
        "autoScalingGroupArn": missing, "managedScaling": {"status": "ENABLED", "targetCapacity": 100}})
    b.ecs.create_cluster(clusterName="ghost", capacityProviders=["ghost-cp"],
                         defaultCapacityProviderStrategy=[{"capacityProvider": "ghost-cp", "weight": 1}])
    advance(b, 1)
    c = b.ecs.describe_clusters(clusters=["ghost"], include=["ATTACHMENTS"])["clusters"][0]
    assert c["status"] == "FAILED" and c["attachmentsStatus"] == "UPDATE_FAILED", c
    pol = [a for a in c["attachments"] if a["type"] == "as_policy"]
    assert len(pol) == 1 and pol[0]["status"] == "FAILED", c["attachments"]
    details = {d["name"]: d["value"] for d in pol[0]["details"]}
    assert details["capacityProviderName"] == "ghost-cp" and details.get("statusReason"), details
    # no evaluation runs for it: a task there stays PROVISIONING, nothing is recorded
    b.ecs.register_task_definition(family="ghost-td", containerDefinitions=[
        {"name": "app", "image": "busybox", "cpu": 256, "memory": 256}])
    out = b.ecs.run_task(cluster="ghost", taskDefinition="ghost-td")
    assert out["failures"] == [] and len(out["tasks"]) == 1, out
    advance(b, 5)
    t = b.ecs.describe_tasks(cluster="ghost", tasks=[out["tasks"][0]["taskArn"]])["tasks"][0]
    assert t["lastStatus"] == "PROVISIONING", t
    assert history(b, "ghost", "ghost-cp") == []
    # a good provider's cluster next to it is ACTIVE with its policy created
    e = Env(b, "good")
    advance(b, 1)
    c = b.ecs.describe_clusters(clusters=[e.clu], include=["ATTACHMENTS"])["clusters"][0]
    assert c["status"] == "ACTIVE" and c["attachmentsStatus"] == "UPDATE_COMPLETE", c
    pol = [a for a in c["attachments"] if a["type"] == "as_policy"]
    assert len(pol) == 1 and pol[0]["status"] == "CREATED", c["attachments"]
    name = {d["name"]: d["value"] for d in pol[0]["details"]}["scalingPolicyName"]
    assert re.match(r"^ECSManagedAutoScalingPolicy-[0-9a-f-]{36}$", name), name
    ps = b.client("autoscaling").describe_policies(AutoScalingGroupName=e.asg)["ScalingPolicies"]
    assert [p["PolicyName"] for p in ps] == [name], ps
    assert ps[0]["PolicyType"] == "TargetTrackingScaling", ps[0]


# ---- seeing it ----

@berthd_args(*FAST)
def test_history_extension_and_metrics(b):
    e = Env(b, "seen", mtp=True)
    arn = e.run("half")
    advance(b, 3)
    st, out = ext(b, "GetScalingHistory", cluster=e.clu, capacityProvider=e.cp)
    assert st == 200, out
    samples = out["samples"]
    times = [s["time"] for s in samples]
    assert times == sorted(times, reverse=True) and times[0] == START + 3, times   # newest first
    assert set(times) >= {START + 1, START + 2, START + 3}, times
    for s in samples:
        assert set(s) == {"time", "capacityProviderReservation", "m", "n", "desiredCapacity", "inServiceCount",
                          "decision"}, s
    by_t = {s["time"]: s for s in samples}
    assert by_t[START + 1]["decision"] == "scale-out" and by_t[START + 1]["inServiceCount"] == 0, by_t[START + 1]
    st, out = ext(b, "GetScalingHistory", cluster=e.clu, capacityProvider=e.cp, maxResults=2)
    assert st == 200 and out["samples"] == samples[:2], out
    # /metrics has the newest evaluation
    text = metrics(b)
    lab = '{region="%s",cluster="%s",capacity_provider="%s"}' % (REGION, e.clu, e.cp)
    got = {}
    for name in ("berth_capacity_provider_reservation", "berth_capacity_provider_desired_capacity",
                 "berth_capacity_provider_in_service"):
        assert "# TYPE %s gauge" % name in text, text
        m = re.search(r"^%s%s (\S+)$" % (re.escape(name), re.escape(lab)), text, re.M)
        assert m, (name, text)
        got[name] = float(m.group(1))
    newest = samples[0]
    assert got == {"berth_capacity_provider_reservation": newest["capacityProviderReservation"],
                   "berth_capacity_provider_desired_capacity": newest["desiredCapacity"],
                   "berth_capacity_provider_in_service": newest["inServiceCount"]}, (got, newest)
    # it follows the next evaluations
    run_until(b, lambda: e.desired() == 1, what="scale-in to 1")
    advance(b, 1)
    assert re.search(r"^berth_capacity_provider_desired_capacity%s 1$" % re.escape(lab), metrics(b), re.M)
    assert re.search(r"^berth_capacity_provider_reservation%s 100$" % re.escape(lab), metrics(b), re.M)
    # the refusals
    st, out = ext(b, "GetScalingHistory", cluster=e.clu)
    assert st == 400 and out["__type"] == "SerializationException", out
    st, out = ext(b, "GetScalingHistory", cluster=e.clu, capacityProvider="FARGATE")
    assert st == 400 and out["__type"] == "InvalidParameterException", out
    st, out = ext(b, "GetScalingHistory", cluster="nope", capacityProvider=e.cp)
    assert st == 400 and out["__type"] == "ClusterNotFoundException", out
    st, out = ext(b, "GetScalingHistory", cluster=e.clu, capacityProvider=e.cp, maxResults=0)
    assert st == 400 and out["__type"] == "InvalidParameterException", out


# ---- both timings ----

def scenario(timing):
    """From zero: three tasks that need an instance each, then all stopped.
    Returns (the desired capacities in order, the history, the period)."""
    period = 1 if timing == "fast" else 60
    b = Berth(*(FAST if timing == "fast" else ECS)).start()
    try:
        e = Env(b, "both", mtp=True)
        arns = e.run("big", count=3)
        run_until(b, lambda: e.all_running(arns) and e.desired() == 3, step=period, limit=30 * period,
                  what="three tasks RUNNING on three instances")
        advance(b, 5 * period)
        e.stop(arns)
        run_until(b, lambda: e.desired() == 0 and not e.instances(), step=period, limit=60 * period,
                  what="back to zero")
        advance(b, 5 * period)
        h = e.history()
        return [d for _, d in desired_changes(h)], h, period
    finally:
        b.close()


def test_same_scenario_in_both_timings(_shared):
    fast, hf, pf = scenario("fast")
    ecs, he, pe = scenario("ecs")
    assert fast == ecs == [0, 2, 3, 2, 1, 0], (fast, ecs)
    # the evaluations are one period apart, on the period's grid
    for h, p in ((hf, pf), (he, pe)):
        ts = [s["time"] for s in h]
        assert all(b_ - a == p for a, b_ in zip(ts, ts[1:])), ts
        assert all((t - START) % p == 0 for t in ts), ts
    # the low datapoints before the first scale-in: 3 in fast timing, 15 in ecs timing

    def lows_before_scale_in(h):
        first_in = next(i for i, s in enumerate(h) if s["decision"] == "scale-in")
        k = first_in
        while k > 0 and h[k - 1]["capacityProviderReservation"] < 100:
            k -= 1
        return first_in - k + 1
    assert lows_before_scale_in(hf) == 3, hf
    assert lows_before_scale_in(he) == 15, he
    # the second scale-out waited for the warm-up: 300 s in ecs timing, 5 s in fast
    for h, warm in ((hf, 5), (he, 300)):
        outs = [s for s in h if s["decision"] == "scale-out"]
        assert [s["desiredCapacity"] for s in outs] == [2, 3], outs
        assert outs[1]["time"] - outs[0]["time"] == warm, outs


if __name__ == "__main__":
    main(globals())
