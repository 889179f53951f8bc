"""Terraform end to end: the hashicorp/aws provider (5.100.0, installed offline
from a filesystem mirror) drives berthd the way users do.

Every scenario applies a configuration, requires `terraform plan
-detailed-exitcode` to find no changes, destroys, and then checks berthd's
state through boto3.  `terraform init` runs once for the file; the
scenarios share its data directory (TF_DATA_DIR) and each gets its own
working directory and state.

Nothing is skipped: without terraform or the provider mirror the tests fail
and say what is missing.  Environment knobs:
  TERRAFORM           the terraform binary (default: `terraform` on PATH,
                      then /usr/local/bin/terraform)
  BERTH_TF_PLUGINS    the provider mirror (default /opt/tf-plugins)
  BERTH_TF_KEEP=1     keep the working directories (and TF_LOG=DEBUG logs)
  BERTH_TF_VERBOSE=1  print each terraform command's exit code and duration,
                      and the CPU terraform and the provider used
  BERTH_TF_SERIAL=1   run the scenarios one after another (default: side by
                      side, see scenario() below)
  BERTH_TF_TRANSITION_MS  berthd's --transition-ms (default 300, so the
                      provider's waiters really poll through *_IN_PROGRESS)

berthd's address reaches the provider through AWS_ENDPOINT_URL_ECS and
AWS_ENDPOINT_URL_AUTO_SCALING, except in the mixed-strategy scenario, which
uses the provider's `endpoints { ecs = ... autoscaling = ... }` block: the
provider spends ~3 s of CPU validating an endpoints block every time it
starts, and it starts 3-5 times per terraform command.

Each terraform command writes a TF_LOG=DEBUG log; when a command misbehaves
the assertion shows the ECS requests and responses from that log.

Provider facts these tests rely on (terraform-provider-aws 5.100.0):
  * aws_ecs_cluster create/update and aws_ecs_cluster_capacity_providers
    create/update/delete wait for the cluster to leave PROVISIONING with a
    fixed 10 s initial delay (waitClusterAvailable), so each of those costs
    at least 10 s whatever berthd does.
  * DescribeClusters is always sent with include [TAGS, CONFIGURATIONS,
    SETTINGS]; DescribeCapacityProviders with include [TAGS].
  * UpdateCapacityProvider is followed by a wait for updateStatus
    UPDATE_COMPLETE; DeleteCapacityProvider by a wait for status INACTIVE
    (pending ACTIVE/DEPROVISIONING) that, in 5.100.0, keeps polling through
    updateStatus DELETE_FAILED (every 10 s, for up to 20 minutes).
"""
import atexit
import json
import os
import re
import resource
import shutil
import subprocess
import tempfile
import threading
import time

from harness import main, wait_until

ASG_ARN = ("arn:aws:autoscaling:us-east-1:000000000000:autoScalingGroup:"
           "11111111-2222-3333-4444-%012d:autoScalingGroupName/%s")
NAMESPACE = "arn:aws:servicediscovery:us-east-1:000000000000:namespace/ns-abcdefgh12345678"
CLUSTER_ARN = "arn:aws:ecs:us-east-1:000000000000:cluster/%s"
CP_ARN = "arn:aws:ecs:us-east-1:000000000000:capacity-provider/%s"
PROVIDER_VERSION = "5.100.0"
MIX_ERROR = ("A capacity provider strategy cannot contain a mix of capacity providers "
             "using Auto Scaling groups and Fargate providers. Specify one or the other and try again.")


# --- Terraform plumbing -----------------------------------------------------

class TerraformSetup:
    """Finds terraform and the mirror, writes the CLI config and runs
    `terraform init` once; shared by every scenario of the file."""

    _instance = None

    @classmethod
    def get(cls):
        if cls._instance is None:
            cls._instance = cls()
        if cls._instance.error:
            raise AssertionError(cls._instance.error)
        return cls._instance

    def __init__(self):
        self.error = None
        self.root = tempfile.mkdtemp(prefix="berth-tf-")
        self.keep = os.environ.get("BERTH_TF_KEEP") == "1"
        atexit.register(self.close)
        self.tf = os.environ.get("TERRAFORM") or shutil.which("terraform")
        if not self.tf and os.access("/usr/local/bin/terraform", os.X_OK):
            self.tf = "/usr/local/bin/terraform"
        if self.tf and not os.access(self.tf, os.X_OK):
            self.error = "TERRAFORM=%s is not an executable file; these tests never skip" % self.tf
            return
        if not self.tf:
            self.error = ("terraform not found: install Terraform (>= 1.5) on PATH or set "
                          "TERRAFORM=/path/to/terraform; these tests never skip")
            return
        mirror = os.environ.get("BERTH_TF_PLUGINS", "/opt/tf-plugins")
        pdir = os.path.join(mirror, "registry.terraform.io", "hashicorp", "aws", PROVIDER_VERSION)
        if not os.path.isdir(pdir):
            self.error = ("the hashicorp/aws %s provider is not in the filesystem mirror %s "
                          "(expected %s); install it there or set BERTH_TF_PLUGINS"
                          % (PROVIDER_VERSION, mirror, pdir))
            return
        self.cli_config = os.path.join(self.root, "cli.tfrc")
        with open(self.cli_config, "w") as f:
            f.write("""provider_installation {
  filesystem_mirror {
    path    = "%s"
    include = ["registry.terraform.io/hashicorp/aws"]
  }
  direct {
    exclude = ["registry.terraform.io/*/*"]
  }
}
""" % mirror)
        self.data_dir = os.path.join(self.root, "tf-data")
        self.env = dict(os.environ)
        for k in list(self.env):
            if k.startswith(("TF_", "AWS_ENDPOINT_URL")) or k in ("AWS_PROFILE", "AWS_CONFIG_FILE",
                                                                  "AWS_SHARED_CREDENTIALS_FILE"):
                del self.env[k]
        self.env.update({
            "TF_CLI_CONFIG_FILE": self.cli_config,
            "TF_DATA_DIR": self.data_dir,
            "TF_IN_AUTOMATION": "1",
            "TF_INPUT": "0",
            "CHECKPOINT_DISABLE": "1",
        })
        init_dir = os.path.join(self.root, "init")
        os.makedirs(init_dir)
        with open(os.path.join(init_dir, "versions.tf"), "w") as f:
            f.write(VERSIONS_TF)
        p = subprocess.run([self.tf, "init", "-input=false", "-no-color"], cwd=init_dir,
                           env=self.env, capture_output=True, text=True, timeout=300)
        if p.returncode != 0:
            self.error = "terraform init from the mirror failed (%d):\n%s\n%s" % (
                p.returncode, p.stdout[-3000:], p.stderr[-3000:])
            return
        self.lock_file = os.path.join(init_dir, ".terraform.lock.hcl")

    def close(self):
        if os.environ.get("BERTH_TF_VERBOSE") == "1":
            ru = resource.getrusage(resource.RUSAGE_CHILDREN)
            print("terraform and provider CPU: %.1f s user, %.1f s system" % (ru.ru_utime, ru.ru_stime), flush=True)
        if not self.keep:
            shutil.rmtree(self.root, ignore_errors=True)
        else:
            print("terraform working directories kept in %s" % self.root, flush=True)


VERSIONS_TF = """terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "= %s"
    }
  }
}
""" % PROVIDER_VERSION

PROVIDER_TF = """provider "aws" {
  region                      = "us-east-1"
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
%(endpoints)s}
"""

ENDPOINTS_BLOCK = """  endpoints {
    ecs         = "%(endpoint)s"
    autoscaling = "%(endpoint)s"
  }
"""


class Result:
    def __init__(self, cmd, rc, stdout, stderr, log):
        self.cmd, self.rc, self.stdout, self.log = cmd, rc, stdout, log
        self.out = stdout + stderr


class Workspace:
    """One scenario's working directory and state."""

    def __init__(self, b, name, endpoints="env"):
        """endpoints: "block" puts berthd in the provider's endpoints block;
        "env" passes it as AWS_ENDPOINT_URL_ECS / AWS_ENDPOINT_URL_AUTO_SCALING
        (same requests; the provider validates an endpoints block for ~3 s
        of CPU at every one of its many launches per command)."""
        self.setup = TerraformSetup.get()
        self.b = b
        self.endpoints = endpoints
        self.dir = os.path.join(self.setup.root, name)
        os.makedirs(self.dir)
        shutil.copy(self.setup.lock_file, self.dir)
        self.n = 0
        self.history = []

    def write(self, config):
        with open(os.path.join(self.dir, "versions.tf"), "w") as f:
            f.write(VERSIONS_TF)
        with open(os.path.join(self.dir, "provider.tf"), "w") as f:
            block = ENDPOINTS_BLOCK % {"endpoint": self.b.endpoint} if self.endpoints == "block" else ""
            f.write(PROVIDER_TF % {"endpoints": block})
        with open(os.path.join(self.dir, "main.tf"), "w") as f:
            f.write(config)

    def start(self, *args):
        """Start a terraform command; finish() collects it."""
        self.n += 1
        log = os.path.join(self.dir, "%02d-%s.log" % (self.n, args[0]))
        env = dict(self.setup.env, TF_LOG="DEBUG", TF_LOG_PATH=log)
        if self.endpoints == "env":
            env["AWS_ENDPOINT_URL_ECS"] = env["AWS_ENDPOINT_URL_AUTO_SCALING"] = self.b.endpoint
        cmd = [self.setup.tf] + list(args) + ["-input=false", "-no-color"]
        p = subprocess.Popen(cmd, cwd=self.dir, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        p.log, p.label, p.t0 = log, " ".join(args), time.time()
        return p

    def finish(self, p, ok=(0,), timeout=600):
        try:
            stdout, stderr = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            stdout, stderr = p.communicate()
            raise AssertionError("terraform %s did not finish in %d s\n--- output ---\n%s\n"
                                 "--- ECS traffic (from TF_LOG) ---\n%s"
                                 % (p.label, timeout, (stdout + stderr)[-6000:], api_traffic(p.log)))
        r = Result(p.label, p.returncode, stdout, stderr, p.log)
        self.history.append("%s: rc %d in %.1fs" % (r.cmd, r.rc, time.time() - p.t0))
        if os.environ.get("BERTH_TF_VERBOSE") == "1":
            print("     [%s] terraform %s" % (os.path.basename(self.dir), self.history[-1]), flush=True)
        if ok is not None and r.rc not in ok:
            raise AssertionError("terraform %s exited %d (expected %s)\n--- output ---\n%s\n"
                                 "--- ECS traffic (from TF_LOG) ---\n%s"
                                 % (r.cmd, r.rc, ok, r.out[-6000:], api_traffic(r.log)))
        return r

    def run(self, *args, ok=(0,)):
        return self.finish(self.start(*args), ok=ok)

    def apply(self, config=None):
        if config is not None:
            self.write(config)
        return self.run("apply", "-auto-approve")

    def plan_clean(self):
        """terraform plan -detailed-exitcode must say: no changes (0)."""
        r = self.run("plan", "-detailed-exitcode", ok=(0, 2))
        if r.rc == 2:
            raise AssertionError("plan after apply is not clean (perpetual diff):\n%s\n"
                                 "--- ECS traffic (from TF_LOG) ---\n%s"
                                 % (r.out[-6000:], api_traffic(r.log)))
        return r

    def destroy(self):
        return self.run("destroy", "-auto-approve")

    def state(self):
        """The resources terraform's state holds: {address: attributes}."""
        path = os.path.join(self.dir, "terraform.tfstate")
        if not os.path.exists(path):
            return {}
        with open(path) as f:
            doc = json.load(f)
        return {"%s.%s" % (r["type"], r["name"]): r["instances"][0]["attributes"]
                for r in doc.get("resources", []) if r.get("mode") == "managed" and r.get("instances")}


def api_traffic(log, limit=60):
    """The ECS requests and responses of one TF_LOG=DEBUG file, one line each."""
    try:
        with open(log, errors="replace") as f:
            txt = f.read()
    except OSError:
        return "(no log)"
    lines = []
    for e in re.split(r"\n(?=\d{4}-\d\d-\d\dT)", txt):
        if "HTTP Request Sent" in e:
            op = re.search(r"x_amz_target=\S*?\.(\w+)", e)
            body = re.search(r"http\.request\.body=\n\s*\| (.*)", e)
            lines.append("%s -> %s %s" % (e[11:23], op.group(1) if op else "?", body.group(1) if body else ""))
        elif "HTTP Response Received" in e:
            op = re.search(r"rpc\.method=(\w+)", e)
            st = re.search(r"http\.status_code=(\d+)", e)
            body = re.search(r"http\.response\.body=\n\s*\| (.*)", e)
            lines.append("%s <- %s %s %s" % (e[11:23], op.group(1) if op else "?",
                                             st.group(1) if st else "", body.group(1) if body else ""))
    if len(lines) > limit:
        lines = ["... %d earlier lines" % (len(lines) - limit)] + lines[-limit:]
    return "\n".join(l[:1500] for l in lines) or "(no ECS requests)"


def assert_counts(r, add, change, destroy):
    want = "%d added, %d changed, %d destroyed" % (add, change, destroy)
    if want not in r.out:
        raise AssertionError("expected %r in terraform output:\n%s" % (want, r.out[-4000:]))


def tags_of(obj):
    return {t["key"]: t["value"] for t in obj.get("tags", [])}


def make_group(b, name):
    """The Auto Scaling group of a provider a cluster associates, made with
    boto3 before `terraform apply` (without it the association fails and
    the cluster ends FAILED); no instances, and MaxSize 0 so managed scaling
    launches none."""
    asc = b.client("autoscaling")
    asc.create_launch_configuration(LaunchConfigurationName="lc-" + name, ImageId="ami-12345678",
                                    InstanceType="m5.large")
    asc.create_auto_scaling_group(AutoScalingGroupName=name, LaunchConfigurationName="lc-" + name,
                                  MinSize=0, MaxSize=0, DesiredCapacity=0, AvailabilityZones=["us-east-1a"])
    return name


def describe_cluster(b, name):
    out = b.ecs.describe_clusters(clusters=[name], include=["TAGS", "SETTINGS", "CONFIGURATIONS"])
    assert len(out["clusters"]) == 1, out
    return out["clusters"][0]


def describe_cp(b, name):
    out = b.ecs.describe_capacity_providers(capacityProviders=[name], include=["TAGS"])
    assert len(out["capacityProviders"]) == 1, out
    return out["capacityProviders"][0]


def cluster_tf(name, tags, insights, logging="DEFAULT"):
    tag_lines = "\n".join('    %s = "%s"' % kv for kv in sorted(tags.items()))
    return """resource "aws_ecs_cluster" "c" {
  name = "%s"
  tags = {
%s
  }
  setting {
    name  = "containerInsights"
    value = "%s"
  }
  configuration {
    execute_command_configuration {
      logging = "%s"
    }
  }
  service_connect_defaults {
    namespace = "%s"
  }
}
""" % (name, tag_lines, insights, logging, NAMESPACE)


def capacity_provider_tf(name, asg, target, tags, label="cp"):
    tag_lines = "\n".join('    %s = "%s"' % kv for kv in sorted(tags.items()))
    return """resource "aws_ecs_capacity_provider" "%s" {
  name = "%s"
  auto_scaling_group_provider {
    auto_scaling_group_arn         = "%s"
    managed_termination_protection = "ENABLED"
    managed_draining               = "ENABLED"
    managed_scaling {
      status                    = "ENABLED"
      target_capacity           = %d
      minimum_scaling_step_size = 2
      maximum_scaling_step_size = 50
      instance_warmup_period    = 120
    }
  }
  tags = {
%s
  }
}
""" % (label, name, asg, target, tag_lines)


def strategy_tf(items):
    return "".join("""  default_capacity_provider_strategy {
    capacity_provider = %s
    base              = %d
    weight            = %d
  }
""" % it for it in items)


# --- Running the scenarios side by side ----------------------------------
#
# Most of a scenario's time is the provider starting (several times per
# terraform command) and the provider's fixed 10 s cluster waits, so the
# scenarios run concurrently against the shared berthd: the first test
# starts every scenario in a thread, and each test waits for its own and
# reports its own result.  BERTH_TF_SERIAL=1 runs them one after another.

_SCENARIOS = []
_THREADS = {}


def scenario(fn):
    _SCENARIOS.append(fn)

    def test(b):
        if os.environ.get("BERTH_TF_SERIAL") == "1" or os.environ.get("BERTH_TEST_ONLY"):
            return fn(b)
        if not _THREADS:
            TerraformSetup.get()  # init once, before the threads race for it
            b.ecs  # boto3 client creation is not thread-safe; make it here
            for f in _SCENARIOS:
                box = {}

                def body(f=f, box=box):
                    t0 = time.time()
                    try:
                        f(b)
                    except BaseException as e:  # re-raised in the test's own thread
                        box["error"] = e
                    box["seconds"] = time.time() - t0

                t = threading.Thread(target=body, name=f.__name__, daemon=True)
                _THREADS[f.__name__] = (t, box)
                t.start()
        t, box = _THREADS[fn.__name__]
        t.join(900)
        if t.is_alive():
            raise AssertionError("%s still running after 15 minutes" % fn.__name__)
        if "error" in box:
            raise box["error"]

    test.__name__ = fn.__name__
    test.__doc__ = fn.__doc__
    test.__code__ = test.__code__.replace(co_firstlineno=fn.__code__.co_firstlineno)
    return test


# --- Scenarios --------------------------------------------------------------

@scenario
def test_cluster_create_update_destroy(b):
    """aws_ecs_cluster with tags, settings, configuration and Service Connect
    defaults; an in-place update of tags and settings; drift is noticed."""
    ws = Workspace(b, "cluster")
    name = "tf-cluster"
    r = ws.apply(cluster_tf(name, {"env": "test", "team": "berth"}, "enabled"))
    assert_counts(r, 1, 0, 0)
    c = describe_cluster(b, name)
    assert c["status"] == "ACTIVE", c
    assert tags_of(c) == {"env": "test", "team": "berth"}, c
    assert c["settings"] == [{"name": "containerInsights", "value": "enabled"}], c
    assert c["configuration"]["executeCommandConfiguration"]["logging"] == "DEFAULT", c
    assert c["serviceConnectDefaults"]["namespace"] == NAMESPACE, c
    st = ws.state()["aws_ecs_cluster.c"]
    assert st["arn"] == CLUSTER_ARN % name, st
    ws.plan_clean()

    # In place: one tag changed, one removed, one added; the setting flipped.
    r = ws.apply(cluster_tf(name, {"team": "ops", "tier": "gold"}, "disabled"))
    assert_counts(r, 0, 1, 0)
    c = describe_cluster(b, name)
    assert tags_of(c) == {"team": "ops", "tier": "gold"}, c
    assert c["settings"] == [{"name": "containerInsights", "value": "disabled"}], c
    assert c["serviceConnectDefaults"]["namespace"] == NAMESPACE, c
    ws.plan_clean()

    # Drift made outside Terraform shows up in the next plan.
    b.ecs.tag_resource(resourceArn=CLUSTER_ARN % name, tags=[{"key": "drift", "value": "yes"}])
    r = ws.run("plan", "-detailed-exitcode", ok=(2,))
    assert '"drift" = "yes"' in r.out, r.out
    assert "1 to change" in r.out, r.out

    r = ws.destroy()
    assert "Destroy complete! Resources: 1 destroyed." in r.out, r.out
    c = describe_cluster(b, name)
    assert c["status"] == "INACTIVE", c
    assert CLUSTER_ARN % name not in b.ecs.list_clusters()["clusterArns"]


@scenario
def test_capacity_provider_create_update_destroy(b):
    """aws_ecs_capacity_provider for an Auto Scaling group (literal ARN) with
    managed scaling, termination protection and draining; an in-place update
    of target_capacity waits for UPDATE_COMPLETE."""
    ws = Workspace(b, "capacity-provider")
    name = "tf-cp"
    asg = ASG_ARN % (1, "tf-asg-1")
    r = ws.apply(capacity_provider_tf(name, asg, 90, {"env": "test"}))
    assert_counts(r, 1, 0, 0)
    cp = describe_cp(b, name)
    assert cp["status"] == "ACTIVE", cp
    asgp = cp["autoScalingGroupProvider"]
    assert asgp["autoScalingGroupArn"] == asg, cp
    assert asgp["managedScaling"] == {"status": "ENABLED", "targetCapacity": 90, "minimumScalingStepSize": 2,
                                      "maximumScalingStepSize": 50, "instanceWarmupPeriod": 120}, cp
    assert asgp["managedTerminationProtection"] == "ENABLED", cp
    assert asgp["managedDraining"] == "ENABLED", cp
    assert tags_of(cp) == {"env": "test"}, cp
    assert ws.state()["aws_ecs_capacity_provider.cp"]["arn"] == CP_ARN % name
    ws.plan_clean()

    r = ws.apply(capacity_provider_tf(name, asg, 75, {"env": "test", "owner": "berth"}))
    assert_counts(r, 0, 1, 0)
    cp = describe_cp(b, name)
    assert cp["autoScalingGroupProvider"]["managedScaling"]["targetCapacity"] == 75, cp
    assert cp["updateStatus"] == "UPDATE_COMPLETE", cp
    assert tags_of(cp) == {"env": "test", "owner": "berth"}, cp
    ws.plan_clean()

    r = ws.destroy()
    assert "Destroy complete! Resources: 1 destroyed." in r.out, r.out
    out = b.ecs.describe_capacity_providers(capacityProviders=[name])
    for cp in out["capacityProviders"]:
        assert cp["status"] == "INACTIVE", out
    names = [x["name"] for x in b.ecs.describe_capacity_providers()["capacityProviders"]
             if x.get("status") == "ACTIVE"]
    assert name not in names, names


@scenario
def test_cluster_capacity_providers(b):
    """aws_ecs_cluster_capacity_providers links a cluster to an ASG provider
    plus FARGATE and FARGATE_SPOT with a base/weight default strategy; the
    strategy is then switched in place; destroy runs in dependency order
    (association removed before DeleteCapacityProvider)."""
    ws = Workspace(b, "cluster-capacity-providers")
    cluster, cpname = "tf-ccp-cluster", "tf-ccp-cp"
    asg = ASG_ARN % (3, make_group(b, "tf-asg-3"))

    def config(strategy):
        return (cluster_tf(cluster, {"env": "test"}, "enabled")
                + capacity_provider_tf(cpname, asg, 100, {"env": "test"})
                + """resource "aws_ecs_cluster_capacity_providers" "l" {
  cluster_name       = aws_ecs_cluster.c.name
  capacity_providers = [aws_ecs_capacity_provider.cp.name, "FARGATE", "FARGATE_SPOT"]
%s}
""" % strategy_tf(strategy))

    r = ws.apply(config([('"FARGATE"', 1, 1), ('"FARGATE_SPOT"', 0, 4)]))
    assert_counts(r, 3, 0, 0)
    c = describe_cluster(b, cluster)
    assert c["status"] == "ACTIVE", c
    assert sorted(c["capacityProviders"]) == sorted([cpname, "FARGATE", "FARGATE_SPOT"]), c
    strat = sorted((s["capacityProvider"], s.get("base", 0), s.get("weight", 0))
                   for s in c["defaultCapacityProviderStrategy"])
    assert strat == [("FARGATE", 1, 1), ("FARGATE_SPOT", 0, 4)], c
    ws.plan_clean()

    # The default strategy switches to the Auto Scaling group provider.
    r = ws.apply(config([("aws_ecs_capacity_provider.cp.name", 2, 1)]))
    assert_counts(r, 0, 1, 0)
    c = describe_cluster(b, cluster)
    strat = [(s["capacityProvider"], s.get("base", 0), s.get("weight", 0))
             for s in c["defaultCapacityProviderStrategy"]]
    assert strat == [(cpname, 2, 1)], c
    ws.plan_clean()

    r = ws.destroy()
    assert "Destroy complete! Resources: 3 destroyed." in r.out, r.out
    c = describe_cluster(b, cluster)
    assert c["status"] == "INACTIVE", c
    for cp in b.ecs.describe_capacity_providers(capacityProviders=[cpname])["capacityProviders"]:
        assert cp["status"] == "INACTIVE", cp


@scenario
def test_minimal_configs_use_defaults(b):
    """The configurations most users start from: a cluster with only a name,
    capacity providers with only an ASG ARN (and managed scaling with only a
    status), an association without a strategy.  berthd fills in ECS's
    defaults and the next plan must still be clean (defaults are where
    perpetual diffs come from)."""
    ws = Workspace(b, "minimal")
    cluster, cp1, cp2 = "tf-min-cluster", "tf-min-cp", "tf-min-cp-scaling"
    r = ws.apply("""resource "aws_ecs_cluster" "c" {
  name = "%s"
}
resource "aws_ecs_capacity_provider" "plain" {
  name = "%s"
  auto_scaling_group_provider {
    auto_scaling_group_arn = "%s"
  }
}
resource "aws_ecs_capacity_provider" "scaling" {
  name = "%s"
  auto_scaling_group_provider {
    auto_scaling_group_arn = "%s"
    managed_scaling {
      status = "ENABLED"
    }
  }
}
resource "aws_ecs_cluster_capacity_providers" "l" {
  cluster_name       = aws_ecs_cluster.c.name
  capacity_providers = ["FARGATE"]
}
""" % (cluster, cp1, ASG_ARN % (5, "tf-asg-5"), cp2, ASG_ARN % (6, "tf-asg-6")))
    assert_counts(r, 4, 0, 0)
    c = describe_cluster(b, cluster)
    assert c["capacityProviders"] == ["FARGATE"] and c["defaultCapacityProviderStrategy"] == [], c
    plain = describe_cp(b, cp1)["autoScalingGroupProvider"]
    assert plain["managedScaling"]["status"] == "DISABLED", plain
    assert plain["managedTerminationProtection"] == "DISABLED", plain
    assert plain["managedDraining"] == "ENABLED", plain
    st = ws.state()
    sp = st["aws_ecs_capacity_provider.plain"]["auto_scaling_group_provider"][0]
    assert sp["managed_draining"] == "ENABLED", sp
    assert sp["managed_scaling"][0]["target_capacity"] == 100, sp
    # The provider sends instanceWarmupPeriod 0 when it is not configured.
    scaling = describe_cp(b, cp2)["autoScalingGroupProvider"]["managedScaling"]
    assert scaling["status"] == "ENABLED" and scaling["targetCapacity"] == 100, scaling
    ws.plan_clean()

    r = ws.destroy()
    assert "Destroy complete! Resources: 4 destroyed." in r.out, r.out
    assert describe_cluster(b, cluster)["status"] == "INACTIVE"
    for name in (cp1, cp2):
        for cp in b.ecs.describe_capacity_providers(capacityProviders=[name])["capacityProviders"]:
            assert cp["status"] == "INACTIVE", cp


@scenario
def test_mixed_strategy_fails_apply(b):
    """A default strategy mixing an Auto Scaling group provider with FARGATE
    fails `terraform apply` with ECS's own error text and leaves the cluster
    without providers.  Then a destroy while the provider is associated with
    a cluster behind Terraform's back meets DELETE_FAILED (with ECS's
    reason); Terraform keeps waiting, and finishes once the association is
    removed and the delete repeated.  (The cluster is
    made with boto3 to spare the provider's fixed 10 s cluster wait; this
    scenario configures berthd through the provider's endpoints block.)"""
    ws = Workspace(b, "mixed-strategy", endpoints="block")
    cluster, cpname = "tf-mix-cluster", "tf-mix-cp"
    b.ecs.create_cluster(clusterName=cluster)
    config = (capacity_provider_tf(cpname, ASG_ARN % (4, make_group(b, "tf-asg-4")), 100, {"env": "test"})
              + """resource "aws_ecs_cluster_capacity_providers" "l" {
  cluster_name       = "%s"
  capacity_providers = [aws_ecs_capacity_provider.cp.name, "FARGATE"]
%s}
""" % (cluster, strategy_tf([("aws_ecs_capacity_provider.cp.name", 0, 1), ('"FARGATE"', 0, 1)])))
    ws.write(config)
    r = ws.run("apply", "-auto-approve", ok=(1,))
    flat = " ".join(r.out.split())
    assert "InvalidParameterException" in flat, r.out
    assert MIX_ERROR in flat, r.out
    c = describe_cluster(b, cluster)
    assert c["capacityProviders"] == [] and c["defaultCapacityProviderStrategy"] == [], c
    assert list(ws.state()) == ["aws_ecs_capacity_provider.cp"], ws.state()

    # Associated outside Terraform: DeleteCapacityProvider answers 200 with
    # updateStatus DELETE_FAILED and the provider (5.100.0) keeps polling for
    # INACTIVE (every 10 s, up to 20 min).  Disassociating and deleting again
    # lets the waiting destroy finish.
    b.ecs.put_cluster_capacity_providers(cluster=cluster, capacityProviders=[cpname],
                                         defaultCapacityProviderStrategy=[])
    p = ws.start("destroy", "-auto-approve")
    try:
        wait_until(lambda: describe_cp(b, cpname).get("updateStatus") == "DELETE_FAILED",
                   timeout=300, interval=0.5, what="DeleteCapacityProvider from terraform destroy")
        cp = describe_cp(b, cpname)
        assert cp["status"] == "ACTIVE", cp
        assert cp["updateStatusReason"] == (
            "The capacity provider cannot be deleted because it is associated with cluster: %s. "
            "Remove the capacity provider from the cluster and try again." % cluster), cp
        # terraform is still waiting (not failed) after it has seen DELETE_FAILED twice
        wait_until(lambda: p.poll() is not None or api_traffic(p.log).count('"updateStatus":"DELETE_FAILED"') >= 3,
                   timeout=120, interval=0.5, what="terraform polling through DELETE_FAILED")
        assert p.poll() is None, ws.finish(p, ok=None).out
        b.ecs.put_cluster_capacity_providers(cluster=cluster, capacityProviders=[],
                                             defaultCapacityProviderStrategy=[])
        b.ecs.delete_capacity_provider(capacityProvider=cpname)
        r = ws.finish(p, timeout=120)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert "Destroy complete! Resources: 1 destroyed." in r.out, r.out
    cp = describe_cp(b, cpname)
    assert cp["status"] == "INACTIVE" and cp["updateStatus"] == "DELETE_COMPLETE", cp
    b.ecs.delete_cluster(cluster=cluster)


if __name__ == "__main__":
    # A short, non-zero transition so Terraform's waiters really poll
    # through UPDATE_IN_PROGRESS / DELETE_IN_PROGRESS (BERTH_TF_TRANSITION_MS).
    main(globals(), shared_args=("--transition-ms", os.environ.get("BERTH_TF_TRANSITION_MS", "300")))
