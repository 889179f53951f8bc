"""Terraform end to end for aws_ecs_service (hashicorp/aws 5.100.0, offline,
with the plumbing of test_terraform.py).

One `terraform apply` creates an aws_ecs_cluster, an aws_ecs_task_definition
and an aws_ecs_service of desired_count 2 with a deployment circuit breaker
and wait_for_steady_state = true, so the apply only returns once berthd's
scheduler has both tasks RUNNING (the provider polls DescribeServices until
there is one deployment and runningCount == desiredCount).  The container
instance the tasks run on is registered through boto3 as soon as the cluster
is ACTIVE, during the provider's fixed 10 s cluster wait, i.e. before the
provider sends CreateService.  Then: a second `terraform plan
-detailed-exitcode` must find no changes; desired_count 3 is applied (in
place, waiting for steady state again) and checked through boto3; `terraform
destroy` scales the service to 0, deletes it and waits for INACTIVE.  The
cluster cannot be deleted while an instance is registered (the provider
retries DeleteCluster on ClusterContainsContainerInstancesException), so
the test deregisters the instance once the service is INACTIVE and its
tasks STOPPED, and the destroy finishes (a service may go INACTIVE only
once every task of it is STOPPING or STOPPED, as in ECS: checked).

Two scenarios, side by side against one berthd (BERTH_TF_SERIAL=1: one
after the other):
  * launch_type = "EC2", circuit breaker with rollback;
  * a capacity provider strategy (base 1, weight 1) on an Auto Scaling group
    capacity provider made by Terraform (aws_ecs_capacity_provider and
    aws_ecs_cluster_capacity_providers) over a group made first with boto3
    (empty, MaxSize 0); the instance carries that group's
    name in its identity document and registers once the cluster has the
    provider (instances that pre-date the association are not linked).

berthd runs with --sim-step-ms 20 --healthy-grace-ms 0 so tasks reach RUNNING
and count healthy at once.  When a terraform command fails, the assertion
names the calls berthd answered with UnknownOperationException /
UnsupportedFeatureException (calls the provider makes that Berth lacks),
shows the service as berthd describes it (status, counts, deployments,
newest events) and the ECS traffic from TF_LOG.  Environment knobs are
test_terraform.py's (TERRAFORM, BERTH_TF_PLUGINS, BERTH_TF_KEEP,
BERTH_TF_VERBOSE, BERTH_TF_SERIAL, BERTH_TF_TRANSITION_MS)."""
import json
import os
import re
import signal
import subprocess
import threading
import time

from harness import main, wait_until, ACCOUNT, REGION
from test_terraform import ASG_ARN, TerraformSetup, Workspace, assert_counts, tags_of
from test_tasks import instance

ARN = "arn:aws:ecs:%s:%s:" % (REGION, ACCOUNT)
LACKING = ("UnknownOperationException", "UnsupportedFeatureException", "InvalidAction")
DEP_ID = re.compile(r"^ecs-svc/\d{19}$")


# --- plumbing ---------------------------------------------------------------

def _log_entries(log):
    try:
        with open(log, errors="replace") as f:
            txt = f.read()
    except OSError:
        return []
    return re.split(r"\n(?=\d{4}-\d\d-\d\dT)", txt)


def lacking_calls(log):
    """The ECS/Auto Scaling calls of one TF_LOG file that berthd answered
    with an unknown-operation or unsupported-feature error."""
    out = []
    for e in _log_entries(log):
        if "HTTP Response Received" not in e:
            continue
        code = next((c for c in LACKING if c in e), None)
        if code:
            op = re.search(r"rpc\.method=(\w+)", e)
            item = "%s (%s)" % (op.group(1) if op else "?", code)
            if item not in out:
                out.append(item)
    return out


def calls_made(log):
    """The operations the provider sent, in order (one entry per request)."""
    ops = []
    for e in _log_entries(log):
        if "HTTP Request Sent" in e:
            m = re.search(r"x_amz_target=\S*?\.(\w+)", e) or re.search(r"rpc\.method=(\w+)", e)
            ops.append(m.group(1) if m else "?")
    return ops


def berthd_died(b):
    """A line saying berthd is gone (and how), or ''."""
    rc = b.proc.poll() if b.proc else None
    if rc is None:
        return ""
    how = "killed by signal %d%s" % (-rc, " (SIGSEGV)" if rc == -11 else "") if rc < 0 else "exit status %d" % rc
    return "berthd is no longer running: %s\n" % how


class ServiceWorkspace(Workspace):
    """A Workspace whose failures name the calls berthd lacks and show the
    service as berthd sees it."""

    def __init__(self, b, name, cluster, service):
        super().__init__(b, name)
        self.cluster, self.service = cluster, service
        self.lacking = []

    def service_view(self):
        try:
            out = self.b.ecs.describe_services(cluster=self.cluster, services=[self.service])
        except Exception as e:  # noqa: BLE001 - diagnostics only
            return "(DescribeServices failed: %s)" % e
        if not out.get("services"):
            return "(DescribeServices: %s)" % json.dumps(out.get("failures"), default=str)
        s = out["services"][0]
        deps = [{k: d.get(k) for k in ("id", "status", "rolloutState", "desiredCount", "runningCount",
                                       "pendingCount", "failedTasks")} for d in s.get("deployments", [])]
        events = [e.get("message") for e in s.get("events", [])[:8]]
        return json.dumps({"status": s.get("status"), "desiredCount": s.get("desiredCount"),
                           "runningCount": s.get("runningCount"), "pendingCount": s.get("pendingCount"),
                           "deployments": deps, "events (newest first)": events}, indent=1, default=str)

    def finish(self, p, ok=(0,), timeout=600):
        try:
            r = super().finish(p, ok=ok, timeout=timeout)
        except AssertionError as e:
            lack = lacking_calls(p.log)
            head = ("berthd lacks calls the provider made: %s\n" % ", ".join(lack)) if lack else \
                "(no call was answered UnknownOperationException / UnsupportedFeatureException)\n"
            raise AssertionError("%s%s--- service %s as berthd describes it ---\n%s\n%s"
                                 % (berthd_died(self.b), head, self.service, self.service_view(), e)) from None
        for item in lacking_calls(p.log):
            if item not in self.lacking:
                self.lacking.append(item)
                print("     note: terraform %s: berthd answered %s and the provider carried on"
                      % (p.label, item), flush=True)
        return r


def stop_terraform(p):
    """Stop a terraform command this test started and gave up on: SIGINT
    (twice: the second makes terraform stop its provider plugins without
    waiting for the operation in flight), then SIGKILL.  A bare SIGKILL
    would leave the provider plugins running."""
    for sig, wait in ((signal.SIGINT, 5), (signal.SIGINT, 15)):
        if p.poll() is not None:
            return
        p.send_signal(sig)
        try:
            p.wait(wait)
        except subprocess.TimeoutExpired:
            pass
    if p.poll() is None:
        p.kill()
        p.wait()


def cluster_tf(name):
    return """resource "aws_ecs_cluster" "c" {
  name = "%s"
}
""" % name


def taskdef_tf(family):
    containers = [{"name": "app", "image": "busybox", "cpu": 128, "memory": 128, "essential": True,
                   "command": ["sleep", "infinity"]}]
    return """resource "aws_ecs_task_definition" "td" {
  family                = "%s"
  container_definitions = jsonencode(%s)
}
""" % (family, json.dumps(containers))


def service_tf(name, count, placement, rollback, extra=""):
    return """resource "aws_ecs_service" "s" {
  name                  = "%(name)s"
  cluster               = aws_ecs_cluster.c.id
  task_definition       = aws_ecs_task_definition.td.arn
  desired_count         = %(count)d
  wait_for_steady_state = true
%(placement)s
  deployment_circuit_breaker {
    enable   = true
    rollback = %(rollback)s
  }
  tags = {
    env = "test"
  }
  timeouts {
    create = "3m"
    update = "3m"
    delete = "3m"
  }
%(extra)s}
""" % {"name": name, "count": count, "placement": placement, "rollback": "true" if rollback else "false",
       "extra": extra}


def describe_service(b, cluster, name):
    out = b.ecs.describe_services(cluster=cluster, services=[name], include=["TAGS"])
    assert out["failures"] == [] and len(out["services"]) == 1, out
    return out["services"][0]


def service_tasks(b, cluster, name, status="RUNNING"):
    kw = {"serviceName": name} if name else {}
    arns = []
    tok = None
    while True:
        page = b.ecs.list_tasks(cluster=cluster, desiredStatus=status, **kw, **({"nextToken": tok} if tok else {}))
        arns += page["taskArns"]
        tok = page.get("nextToken")
        if not tok:
            break
    if not arns:
        return []
    out = []
    for i in range(0, len(arns), 100):
        out += b.ecs.describe_tasks(cluster=cluster, tasks=arns[i:i + 100])["tasks"]
    return out


def make_group(b, name):
    """The Auto Scaling group of the capacity provider, made with boto3
    before `terraform apply`: berthd fails a cluster's association with a
    provider (managed draining is on by default) whose group does not
    exist.  No instances and MaxSize 0, so nothing is launched; the test
    registers its own container instance naming the group."""
    asc = b.client("autoscaling")
    asc.create_launch_configuration(LaunchConfigurationName="lc-" + name, ImageId="ami-12345678",
                                    InstanceType="m5.large")
    asc.create_auto_scaling_group(AutoScalingGroupName=name, LaunchConfigurationName="lc-" + name,
                                  MinSize=0, MaxSize=0, DesiredCapacity=0, AvailabilityZones=["us-east-1a"])
    return name


def cluster_of(b, name):
    out = b.ecs.describe_clusters(clusters=[name])
    return out["clusters"][0] if out.get("clusters") else None


def register_when_cluster_active(b, ws, p, cluster, cp=None, **kw):
    """While `terraform apply` runs: wait for the cluster to be ACTIVE (and,
    given cp, to have that capacity provider: an instance is linked to a
    provider of its Auto Scaling group only if the cluster has the provider
    when it registers, as in ECS); the provider then waits 10 s before it
    goes on.  Register one instance.  Returns (instance ARN, whether the
    service already existed then)."""
    def active():
        if p.poll() is not None:
            raise AssertionError("terraform apply ended before the cluster was ready:\n%s"
                                 % ws.finish(p, ok=None).out[-4000:])
        c = cluster_of(b, cluster)
        return c is not None and c["status"] == "ACTIVE" and (cp is None or cp in c.get("capacityProviders", []))
    wait_until(active, timeout=180, interval=0.05, what="cluster %s ready during terraform apply" % cluster)
    arn = instance(b, cluster, **kw)
    try:
        existed = bool(b.ecs.describe_services(cluster=cluster, services=[ws.service])["services"])
    except Exception:  # noqa: BLE001 - only for a note; the apply says what failed
        existed = None
    return arn, existed


def check_steady(b, cluster, name, count, inst, td_arn, cp=None):
    """Steady through boto3: counts, one COMPLETED deployment, the tasks."""
    s = wait_until(lambda: (lambda s: s["deployments"] and s["deployments"][0].get("rolloutState") == "COMPLETED" and s)(
        describe_service(b, cluster, name)), timeout=15, what="deployment COMPLETED")
    assert s["status"] == "ACTIVE", s
    assert s["desiredCount"] == count and s["runningCount"] == count and s["pendingCount"] == 0, s
    assert s["serviceArn"] == ARN + "service/%s/%s" % (cluster, name), s
    assert s["clusterArn"] == ARN + "cluster/%s" % cluster, s
    assert s["taskDefinition"] == td_arn, s
    assert s.get("schedulingStrategy") == "REPLICA", s
    assert len(s["deployments"]) == 1, s["deployments"]
    d = s["deployments"][0]
    assert d["status"] == "PRIMARY" and DEP_ID.match(d["id"]), d
    assert d["desiredCount"] == count and d["runningCount"] == count and d["pendingCount"] == 0, d
    assert d.get("failedTasks", 0) == 0 and d["taskDefinition"] == td_arn, d
    tasks = service_tasks(b, cluster, name)
    assert len(tasks) == count, [t["taskArn"] for t in tasks]
    for t in tasks:
        assert t["lastStatus"] == "RUNNING" and t["desiredStatus"] == "RUNNING", t
        assert t["group"] == "service:" + name and t["startedBy"] == d["id"], t
        assert t["containerInstanceArn"] == inst and t["taskDefinitionArn"] == td_arn, t
        if cp:
            assert t.get("capacityProviderName") == cp, t
        else:
            assert t["launchType"] == "EC2", t
    c = cluster_of(b, cluster)
    assert c["runningTasksCount"] == count and c["pendingTasksCount"] == 0, c
    assert c["activeServicesCount"] == 1, c
    msgs = [e["message"] for e in s.get("events", [])]
    assert "(service %s) has reached a steady state." % name in msgs, msgs
    return s, tasks


def destroy_with_instance(b, ws, cluster, name, inst, n_resources):
    """terraform destroy; once the service is INACTIVE (and gone from
    ListServices) and its tasks STOPPED, deregister the instance so that
    DeleteCluster can succeed.  ECS moves a deleted service from DRAINING
    to INACTIVE only once all its tasks are STOPPING or STOPPED: checked
    on the tasks as they were when INACTIVE was first seen."""
    task_arns = [t["taskArn"] for t in service_tasks(b, cluster, name)]
    assert task_arns, "no RUNNING task of the service before destroy"
    seen = {}

    def task_states():
        return [t["lastStatus"] for t in b.ecs.describe_tasks(cluster=cluster, tasks=task_arns)["tasks"]]

    p = ws.start("destroy", "-auto-approve")
    try:
        def inactive():
            if p.poll() is not None:
                return True  # destroy ended: the assertions below say how
            out = b.ecs.describe_services(cluster=cluster, services=[name])
            if out["services"]:
                seen.setdefault("statuses", [])
                if out["services"][0]["status"] not in seen["statuses"]:
                    seen["statuses"].append(out["services"][0]["status"])
            if out["services"] and out["services"][0]["status"] == "INACTIVE":
                seen["service"] = out["services"][0]
                seen["tasks_at_inactive"] = task_states()
                seen["listed"] = b.ecs.list_services(cluster=cluster)["serviceArns"]
                seen["cluster"] = cluster_of(b, cluster)
                return True
            return False
        wait_until(inactive, timeout=300, interval=0.05, what="service %s INACTIVE during terraform destroy" % name)
        if "service" in seen:
            wait_until(lambda: set(task_states()) == {"STOPPED"}, timeout=30, what="the service's tasks STOPPED")
            seen["stopped"] = b.ecs.describe_tasks(cluster=cluster, tasks=task_arns)["tasks"]
            b.ecs.deregister_container_instance(cluster=cluster, containerInstance=inst)
        r = ws.finish(p, timeout=300)
    finally:
        stop_terraform(p)
    assert "service" in seen, "terraform destroy ended before the service was seen INACTIVE:\n" + r.out[-4000:]
    assert "Destroy complete! Resources: %d destroyed." % n_resources in r.out, r.out
    s = seen["service"]
    assert s["desiredCount"] == 0 and s["runningCount"] == 0 and s["pendingCount"] == 0, s
    assert s["serviceArn"] not in seen["listed"], seen["listed"]
    assert seen["cluster"]["activeServicesCount"] == 0, seen["cluster"]
    # every task the service started was stopped by the scheduler
    for t in seen["stopped"]:
        assert t["lastStatus"] == "STOPPED" and t["stopCode"] == "ServiceSchedulerInitiated", t
    # the provider scaled to 0 (UpdateService) before DeleteService
    ops = calls_made(r.log)
    assert "UpdateService" in ops and "DeleteService" in ops and \
        ops.index("UpdateService") < ops.index("DeleteService"), ops
    early = [st for st in seen["tasks_at_inactive"] if st not in ("STOPPING", "DEPROVISIONING", "STOPPED")]
    assert not early, ("service INACTIVE (statuses seen: %s) while its tasks were %s; ECS keeps a deleted "
                       "service DRAINING until every task is STOPPING or STOPPED" % (seen["statuses"], seen["tasks_at_inactive"]))
    return s


# --- running the scenarios side by side --------------------------------------

_SCENARIOS = []
_THREADS = {}


def _run(fn, b):
    """fn(b); a failure after berthd died says so first."""
    try:
        return fn(b)
    except Exception as e:
        died = berthd_died(b)
        if died and not str(e).startswith("berthd is no longer running"):
            raise AssertionError(died + str(e)) from e
        raise


def scenario(fn):
    _SCENARIOS.append(fn)

    def test(b):
        if os.environ.get("BERTH_TF_SERIAL") == "1" or os.environ.get("BERTH_TEST_ONLY"):
            return _run(fn, b)
        if not _THREADS:
            TerraformSetup.get()
            b.ecs
            for f in _SCENARIOS:
                box = {}

                def body(f=f, box=box):
                    try:
                        _run(f, b)
                    except BaseException as e:  # re-raised in the test's own thread
                        box["error"] = e
                t = threading.Thread(target=body, name=f.__name__, daemon=True)
                _THREADS[f.__name__] = (t, box)
                t.start()
        t, box = _THREADS[fn.__name__]
        t.join(1200)
        if t.is_alive():
            raise AssertionError("%s still running after 20 minutes" % fn.__name__)
        if "error" in box:
            raise box["error"]

    test.__name__ = fn.__name__
    test.__doc__ = fn.__doc__
    test.__code__ = test.__code__.replace(co_firstlineno=fn.__code__.co_firstlineno)
    return test


# --- scenarios ------------------------------------------------------------------

@scenario
def test_service_launch_type_ec2(b):
    """launch_type EC2, circuit breaker with rollback: create and wait for
    steady state, clean plan, desired_count 2 -> 3 in place, destroy."""
    cluster, family, name = "tf-svc-ec2", "tf-svc-ec2", "tf-svc-web"
    ws = ServiceWorkspace(b, "service-ec2", cluster, name)
    td_arn = ARN + "task-definition/%s:1" % family

    def config(count):
        return cluster_tf(cluster) + taskdef_tf(family) + service_tf(name, count, '  launch_type           = "EC2"', True)

    ws.write(config(2))
    p = ws.start("apply", "-auto-approve")
    try:
        inst, existed = register_when_cluster_active(b, ws, p, cluster, cpu=2048, mem=4096)
        r = ws.finish(p)
    finally:
        stop_terraform(p)
    assert_counts(r, 3, 0, 0)
    if existed:
        print("     note: the service existed before the instance was registered", flush=True)
    ops = calls_made(r.log)
    assert ops.count("CreateService") == 1, ops
    s, tasks = check_steady(b, cluster, name, 2, inst, td_arn)
    assert s["launchType"] == "EC2" and not s.get("capacityProviderStrategy"), s
    assert s["deployments"][0]["launchType"] == "EC2", s["deployments"]
    dc = s["deploymentConfiguration"]
    assert dc["maximumPercent"] == 200 and dc["minimumHealthyPercent"] == 100, dc
    assert dc["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}, dc
    assert tags_of(s) == {"env": "test"}, s
    dep = s["deployments"][0]["id"]
    st = ws.state()["aws_ecs_service.s"]
    assert st["id"] == s["serviceArn"] and st["desired_count"] == 2 and st["launch_type"] == "EC2", st
    assert st["cluster"] == s["clusterArn"] and st["task_definition"] == td_arn, st
    assert st["deployment_circuit_breaker"] == [{"enable": True, "rollback": True}], st
    ws.plan_clean()

    # desired_count 2 -> 3: UpdateService in place, steady again, same deployment
    before = {t["taskArn"] for t in tasks}
    r = ws.apply(config(3))
    assert_counts(r, 0, 1, 0)
    s, tasks = check_steady(b, cluster, name, 3, inst, td_arn)
    assert s["deployments"][0]["id"] == dep, s["deployments"]
    new = [t["taskArn"].split("/")[-1] for t in tasks if t["taskArn"] not in before]
    assert len(new) == 1 and before <= {t["taskArn"] for t in tasks}, (before, tasks)
    msgs = [e["message"] for e in s["events"]]
    assert "(service %s) has started 1 tasks: (task %s)." % (name, new[0]) in msgs, msgs
    assert ws.state()["aws_ecs_service.s"]["desired_count"] == 3
    ws.plan_clean()

    destroy_with_instance(b, ws, cluster, name, inst, 3)
    assert cluster_of(b, cluster)["status"] == "INACTIVE"
    assert b.ecs.describe_task_definition(taskDefinition=td_arn)["taskDefinition"]["status"] == "INACTIVE"


@scenario
def test_service_capacity_provider_strategy(b):
    """A capacity provider strategy (base 1, weight 1) on an Auto Scaling
    group provider associated with the cluster by Terraform; circuit
    breaker without rollback: create and wait for steady state, clean plan,
    desired_count 2 -> 3, destroy."""
    cluster, family, name = "tf-svc-cp", "tf-svc-cp", "tf-svc-api"
    cpname, group = "tf-svc-cp-asg", "tf-svc-asg"
    ws = ServiceWorkspace(b, "service-cp", cluster, name)
    td_arn = ARN + "task-definition/%s:1" % family
    placement = """  capacity_provider_strategy {
    capacity_provider = aws_ecs_capacity_provider.cp.name
    base              = 1
    weight            = 1
  }"""

    def config(count):
        return (cluster_tf(cluster) + taskdef_tf(family) + """resource "aws_ecs_capacity_provider" "cp" {
  name = "%s"
  auto_scaling_group_provider {
    auto_scaling_group_arn = "%s"
  }
}
resource "aws_ecs_cluster_capacity_providers" "l" {
  cluster_name       = aws_ecs_cluster.c.name
  capacity_providers = [aws_ecs_capacity_provider.cp.name]
}
""" % (cpname, ASG_ARN % (71, group))
                + service_tf(name, count, placement, False,
                             "  depends_on = [aws_ecs_cluster_capacity_providers.l]\n"))

    make_group(b, group)
    ws.write(config(2))
    p = ws.start("apply", "-auto-approve")
    try:
        inst, existed = register_when_cluster_active(b, ws, p, cluster, cp=cpname, cpu=2048, mem=4096, asg=group)
        r = ws.finish(p)
    finally:
        stop_terraform(p)
    assert_counts(r, 5, 0, 0)
    if existed:
        print("     note: the service existed before the instance was registered", flush=True)
    s, tasks = check_steady(b, cluster, name, 2, inst, td_arn, cp=cpname)
    strat = [{"capacityProvider": cpname, "base": 1, "weight": 1}]
    assert s["capacityProviderStrategy"] == strat and not s.get("launchType"), s
    assert s["deployments"][0]["capacityProviderStrategy"] == strat, s["deployments"]
    assert s["deploymentConfiguration"]["deploymentCircuitBreaker"] == {"enable": True, "rollback": False}, s
    st = ws.state()["aws_ecs_service.s"]
    assert st["capacity_provider_strategy"] == [{"capacity_provider": cpname, "base": 1, "weight": 1}], st
    assert st["launch_type"] == "", st
    ws.plan_clean()

    r = ws.apply(config(3))
    assert_counts(r, 0, 1, 0)
    s, _ = check_steady(b, cluster, name, 3, inst, td_arn, cp=cpname)
    assert s["capacityProviderStrategy"] == strat, s
    ws.plan_clean()

    destroy_with_instance(b, ws, cluster, name, inst, 5)
    assert cluster_of(b, cluster)["status"] == "INACTIVE"
    for cp in b.ecs.describe_capacity_providers(capacityProviders=[cpname])["capacityProviders"]:
        assert cp["status"] == "INACTIVE", cp


if __name__ == "__main__":
    main(globals(), shared_args=("--transition-ms", os.environ.get("BERTH_TF_TRANSITION_MS", "300"),
                                 "--sim-step-ms", "20", "--healthy-grace-ms", "0"))
