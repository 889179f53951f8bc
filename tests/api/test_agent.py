"""berth-agent end to end (issue 6): real berthd, real berth-agent processes,
tasks that are real processes on this host, driven with boto3.

A service of a tiny HTTP server on a host port reaches steady state and
answers; StopTask ends a task and its exit code is reported; an essential
container's failure stops its task; dependsOn and health checks order
startup; killing an agent moves its service's tasks (and the agent that
comes back stops the ones it left); killing berthd, or the agent, loses no
running task and starts none twice; a protocol version mismatch is
refused on both sides."""
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request

import harness
from harness import main, Berth, wait_until

AGENT = os.environ.get("BERTH_AGENT", os.path.join(harness.ROOT, "build", "berth-agent"))


class Agent:
    def __init__(self, b, cluster, *args):
        self.b, self.cluster, self.args = b, cluster, list(args)
        self.dir = tempfile.mkdtemp(prefix="berth-agent-")
        self.proc = None

    def start(self):
        self.log = open(os.path.join(self.dir, "agent.log"), "ab")
        self.proc = subprocess.Popen([AGENT, "--endpoint", self.b.endpoint, "--cluster", self.cluster,
                                      "--data-dir", os.path.join(self.dir, "data"), "--no-cgroups"] + self.args,
                                     stdout=self.log, stderr=self.log)
        wait_until(lambda: "registered" in self.text() or self.proc.poll() is not None, what="agent registered")
        return self

    def text(self):
        with open(os.path.join(self.dir, "agent.log"), "rb") as f:
            return f.read().decode(errors="replace")

    def arn(self):
        for line in self.text().splitlines():
            if "registered arn:" in line:
                return line.split("registered ")[1].split(" ")[0]
        return None

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(10)

    def close(self):
        self.kill()
        # the tasks' processes outlive the agent by design: end them
        subprocess.run(["pkill", "-KILL", "-f", os.path.join(self.dir, "data")], capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def taskdef(ecs, family, containers):
    return ecs.register_task_definition(family=family, networkMode="host", requiresCompatibilities=["EXTERNAL"],
                                        containerDefinitions=containers)["taskDefinition"]["taskDefinitionArn"]


def describe(ecs, cluster, arn):
    return ecs.describe_tasks(cluster=cluster, tasks=[arn])["tasks"][0]


def status_is(ecs, cluster, arn, status):
    return lambda: describe(ecs, cluster, arn)["lastStatus"] == status


def run(ecs, cluster, td, **kw):
    r = ecs.run_task(cluster=cluster, taskDefinition=td, launchType="EXTERNAL", **kw)
    assert not r["failures"], r
    return r["tasks"][0]["taskArn"]


def test_http_service_steady_answers_and_stop_reports_exit(b):
    ecs = b.ecs
    ecs.create_cluster(clusterName="web")
    a = Agent(b, "web").start()
    try:
        port = free_port()
        td = taskdef(ecs, "web", [{"name": "http", "image": "python", "memory": 64, "stopTimeout": 5,
                                  "command": ["python3", "-m", "http.server", str(port), "--bind", "127.0.0.1"],
                                  "portMappings": [{"containerPort": port, "hostPort": port}]}])
        ecs.create_service(cluster="web", serviceName="site", taskDefinition=td, desiredCount=1, launchType="EXTERNAL")

        def steady():
            s = ecs.describe_services(cluster="web", services=["site"])["services"][0]
            return s["runningCount"] == 1 and s["pendingCount"] == 0
        wait_until(steady, timeout=20, what="the service steady")

        def answers():
            try:
                return urllib.request.urlopen("http://127.0.0.1:%d/" % port, timeout=2).status == 200
            except OSError:
                return False
        wait_until(answers, timeout=10, what="the HTTP server answering")
        [arn] = ecs.list_tasks(cluster="web")["taskArns"]
        ecs.stop_task(cluster="web", task=arn, reason="by the test")
        wait_until(status_is(ecs, "web", arn, "STOPPED"), timeout=15, what="the task STOPPED")
        d = describe(ecs, "web", arn)
        assert d["stoppedReason"] == "by the test" and d["stopCode"] == "UserInitiated", d
        c = d["containers"][0]
        assert c["exitCode"] == 143 and "SIGTERM" in c.get("reason", ""), c
        # the service replaces it on the same host port, once the old one let go
        wait_until(lambda: steady() and ecs.list_tasks(cluster="web")["taskArns"] not in ([], [arn]),
                   timeout=20, what="the replacement")
        wait_until(answers, timeout=10, what="the replacement answering")
        ecs.update_service(cluster="web", service="site", desiredCount=0)
        wait_until(lambda: not ecs.list_tasks(cluster="web")["taskArns"], timeout=15, what="scaled to 0")
        wait_until(lambda: not answers(), timeout=10, what="the server gone")
    finally:
        a.close()


def test_essential_exit_stops_the_task_with_its_code(b):
    ecs = b.ecs
    ecs.create_cluster(clusterName="ess")
    a = Agent(b, "ess").start()
    try:
        td = taskdef(ecs, "ess", [
            {"name": "main", "image": "sh", "memory": 16, "essential": True,
             "command": ["sh", "-c", "sleep 0.5; exit 3"]},
            {"name": "side", "image": "sh", "memory": 16, "essential": False, "command": ["sleep", "300"],
             "stopTimeout": 2}])
        arn = run(ecs, "ess", td)
        wait_until(status_is(ecs, "ess", arn, "STOPPED"), timeout=15, what="the task stopped")
        d = describe(ecs, "ess", arn)
        assert d["stoppedReason"] == "Essential container in task exited", d
        codes = {c["name"]: c.get("exitCode") for c in d["containers"]}
        assert codes["main"] == 3 and codes["side"] == 143, codes
        # a non-essential exit does not stop the task
        td2 = taskdef(ecs, "ess2", [
            {"name": "main", "image": "sh", "memory": 16, "command": ["sleep", "300"], "stopTimeout": 2},
            {"name": "once", "image": "sh", "memory": 16, "essential": False, "command": ["sh", "-c", "exit 0"]}])
        arn2 = run(ecs, "ess", td2)

        def once_done():
            d = describe(ecs, "ess", arn2)
            once = [c for c in d["containers"] if c["name"] == "once"][0]
            return d["lastStatus"] == "RUNNING" and once["lastStatus"] == "STOPPED" and once.get("exitCode") == 0
        wait_until(once_done, timeout=15, what="the non-essential container done, the task running")
        ecs.stop_task(cluster="ess", task=arn2)
        wait_until(status_is(ecs, "ess", arn2, "STOPPED"), timeout=15, what="stopped")
        # a command that cannot start: the task fails to start, with the reason
        td3 = taskdef(ecs, "ess3", [{"name": "main", "image": "x", "memory": 16,
                                     "command": ["/nonexistent/program"]}])
        arn3 = run(ecs, "ess", td3)
        wait_until(status_is(ecs, "ess", arn3, "STOPPED"), timeout=15, what="the failed start")
        d = describe(ecs, "ess", arn3)
        assert "CannotStartContainerError" in (d["containers"][0].get("reason", "") + d["stoppedReason"]), d
    finally:
        a.close()


def test_depends_on_and_health_checks_order_startup(b):
    ecs = b.ecs
    ecs.create_cluster(clusterName="dep")
    a = Agent(b, "dep").start()
    work = tempfile.mkdtemp(prefix="berth-dep-")
    try:
        ready, order = os.path.join(work, "ready"), os.path.join(work, "order")
        td = taskdef(ecs, "dep", [
            {"name": "db", "image": "sh", "memory": 16, "stopTimeout": 2,
             "command": ["sh", "-c", "echo db >> %s; sleep 1; touch %s; exec sleep 300" % (order, ready)],
             "healthCheck": {"command": ["CMD-SHELL", "test -f %s" % ready], "interval": 5, "timeout": 2,
                             "retries": 3, "startPeriod": 0}},
            {"name": "init", "image": "sh", "memory": 16, "essential": False,
             "command": ["sh", "-c", "echo init >> %s" % order]},
            {"name": "app", "image": "sh", "memory": 16, "stopTimeout": 2,
             "dependsOn": [{"containerName": "db", "condition": "HEALTHY"},
                           {"containerName": "init", "condition": "SUCCESS"}],
             "command": ["sh", "-c", "test -f %s && echo app >> %s && exec sleep 300" % (ready, order)]}])
        arn = run(ecs, "dep", td)
        wait_until(status_is(ecs, "dep", arn, "RUNNING"), timeout=30, what="the task running")

        def app_running():
            d = describe(ecs, "dep", arn)
            app = [c for c in d["containers"] if c["name"] == "app"][0]
            return app["lastStatus"] == "RUNNING" and os.path.exists(order) and "app" in open(order).read()
        wait_until(app_running, timeout=30, what="app started after db turned HEALTHY")
        lines = open(order).read().split()
        assert lines.index("app") > lines.index("db") and lines.index("app") > lines.index("init"), lines
        d = describe(ecs, "dep", arn)
        db = [c for c in d["containers"] if c["name"] == "db"][0]
        assert db.get("healthStatus") == "HEALTHY", db
        ecs.stop_task(cluster="dep", task=arn)
        wait_until(status_is(ecs, "dep", arn, "STOPPED"), timeout=15, what="stopped")
    finally:
        a.close()
        shutil.rmtree(work, ignore_errors=True)


def starts_of(path):
    return open(path).read().split() if os.path.exists(path) else []


def test_restarts_of_berthd_and_agent_lose_nothing_and_start_nothing_twice(_):
    work = tempfile.mkdtemp(prefix="berth-rs-")
    b = Berth().start()
    a = Agent(b, "rs")
    try:
        ecs = b.ecs
        ecs.create_cluster(clusterName="rs")
        a.start()
        starts = os.path.join(work, "starts")
        td = taskdef(ecs, "rs", [{"name": "main", "image": "sh", "memory": 16, "stopTimeout": 2,
                                  "command": ["sh", "-c", "echo $$ >> %s; exec sleep 300" % starts]}])
        arns = [run(ecs, "rs", td) for _ in range(3)]
        for arn in arns:
            wait_until(status_is(ecs, "rs", arn, "RUNNING"), timeout=15, what="running")
        wait_until(lambda: len(starts_of(starts)) == 3, what="three starts")
        pids = sorted(starts_of(starts))
        # berthd killed and started again on its port
        port = b.port
        b.kill()
        time.sleep(0.5)
        b.start(port=port)
        ecs = b.ecs
        time.sleep(1.5)  # a poll or two
        for arn in arns:
            assert describe(ecs, "rs", arn)["lastStatus"] == "RUNNING"
        assert sorted(starts_of(starts)) == pids
        for p in pids:
            os.kill(int(p), 0)  # still the same processes
        # the agent killed and started again: it adopts its tasks
        a.kill()
        a.start()
        time.sleep(1.5)
        for arn in arns:
            assert describe(ecs, "rs", arn)["lastStatus"] == "RUNNING"
        assert sorted(starts_of(starts)) == pids
        assert "adopted 3 tasks" in a.text()
        # and still controls them
        ecs.stop_task(cluster="rs", task=arns[0])
        wait_until(status_is(ecs, "rs", arns[0], "STOPPED"), timeout=15, what="stopped after the adoption")
        assert describe(ecs, "rs", arns[0])["containers"][0]["exitCode"] == 143
    finally:
        a.close()
        b.close()
        shutil.rmtree(work, ignore_errors=True)


def test_a_killed_agent_moves_its_service_and_stops_the_leftovers_when_back(_):
    b = Berth("--agent-timeout-ms", "1500", "--lost-agent-grace-ms", "500").start()
    a1, a2 = Agent(b, "mv"), Agent(b, "mv")
    try:
        ecs = b.ecs
        ecs.create_cluster(clusterName="mv")
        a1.start()
        td = taskdef(ecs, "mv", [{"name": "main", "image": "sh", "memory": 16, "stopTimeout": 2,
                                  "command": ["sleep", "300"]}])
        ecs.create_service(cluster="mv", serviceName="s", taskDefinition=td, desiredCount=2, launchType="EXTERNAL")

        def running_on(ci):
            ts = ecs.list_tasks(cluster="mv", desiredStatus="RUNNING")["taskArns"]
            tasks = ecs.describe_tasks(cluster="mv", tasks=ts)["tasks"] if ts else []
            return [t for t in tasks if t["containerInstanceArn"] == ci and t["lastStatus"] == "RUNNING"]
        wait_until(lambda: len(running_on(a1.arn())) == 2, timeout=20, what="two tasks on agent 1")
        old = [t["taskArn"] for t in running_on(a1.arn())]
        a2.start()
        a1.kill()

        def disconnected():
            d = ecs.describe_container_instances(cluster="mv", containerInstances=[a1.arn()])
            return not d["containerInstances"][0]["agentConnected"]
        wait_until(disconnected, timeout=10, what="agent 1 disconnected")
        wait_until(lambda: len(running_on(a2.arn())) == 2, timeout=20, what="the service moved to agent 2")
        # agent 1 comes back: the tasks it left are stopped there
        a1.start()
        for arn in old:
            wait_until(status_is(ecs, "mv", arn, "STOPPED"), timeout=20, what="a left-over task stopped")
        s = ecs.describe_services(cluster="mv", services=["s"])["services"][0]
        assert s["runningCount"] == 2, s
    finally:
        a1.close()
        a2.close()
        b.close()


def test_protocol_mismatch_refused_on_both_sides(b):
    b.ecs.create_cluster(clusterName="pv")
    a = Agent(b, "pv", "--protocol-version", "2")
    try:
        a.start()
        a.proc.wait(10)
        assert a.proc.returncode == 2, a.text()
        assert "protocol 2 is not spoken by this berthd (it speaks 1)" in a.text(), a.text()
    finally:
        a.close()


def test_an_agent_signs_with_its_own_iam_user(_):
    """--auth sigv4: the agent signs with an IAM user's key whose policy is
    the ECS instance role's; it runs what it is given; a wrong key is
    refused at registration."""
    import json
    import boto3
    env = dict(os.environ, BERTH_ROOT_ACCESS_KEY_ID="AKIDROOT000000000001", BERTH_ROOT_SECRET_ACCESS_KEY="root-secret")
    b = Berth("--auth", "sigv4", env=env).start()
    a = bad = None
    try:
        def client(service):
            return boto3.client(service, endpoint_url=b.endpoint, region_name="us-east-1",
                                aws_access_key_id="AKIDROOT000000000001", aws_secret_access_key="root-secret")
        ecs, iam = client("ecs"), client("iam")
        ecs.create_cluster(clusterName="signed")
        iam.create_user(UserName="host")
        iam.put_user_policy(UserName="host", PolicyName="role", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Resource": "*", "Action": [
                "ecs:RegisterContainerInstance", "ecs:SubmitTaskStateChange", "ecs:SubmitContainerStateChange",
                "ecs:Poll"]}]}))
        k = iam.create_access_key(UserName="host")["AccessKey"]
        a = Agent(b, "signed", "--access-key-id", k["AccessKeyId"], "--secret-access-key", k["SecretAccessKey"])
        a.start()
        assert a.arn(), a.text()
        td = taskdef(ecs, "signed", [{"name": "main", "image": "sh", "memory": 16, "stopTimeout": 2,
                                      "command": ["sleep", "300"]}])
        arn = run(ecs, "signed", td)
        wait_until(status_is(ecs, "signed", arn, "RUNNING"), timeout=15, what="running, reported by the signed agent")
        ecs.stop_task(cluster="signed", task=arn)
        wait_until(status_is(ecs, "signed", arn, "STOPPED"), timeout=15, what="stopped")
        assert k["SecretAccessKey"] not in a.text()
        bad = Agent(b, "signed", "--access-key-id", k["AccessKeyId"], "--secret-access-key", "wrong")
        bad.start()
        bad.proc.wait(10)
        assert bad.proc.returncode != 0 and "InvalidSignatureException" in bad.text(), bad.text()
    finally:
        for x in (a, bad):
            if x:
                x.close()
        b.close()


def test_fargate_tasks_run_under_agents_of_their_own(_):
    """--fargate process: each Fargate task is a process under a berth-agent
    berthd starts for it; the task keeps Fargate's shape; the agent ends
    with its task; an essential exit is reported as on any host."""
    work = tempfile.mkdtemp(prefix="berth-fg-")
    b = Berth("--fargate", "process").start()
    try:
        ecs = b.ecs
        ecs.create_cluster(clusterName="fg", capacityProviders=["FARGATE", "FARGATE_SPOT"])
        marker = os.path.join(work, "ran")
        td = ecs.register_task_definition(
            family="fg", networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256", memory="512",
            containerDefinitions=[{"name": "main", "image": "sh", "stopTimeout": 2,
                                   "command": ["sh", "-c", "echo $$ >> %s; exec sleep 300" % marker]}]
        )["taskDefinition"]["taskDefinitionArn"]
        net = {"awsvpcConfiguration": {"subnets": ["subnet-1"]}}
        r = ecs.run_task(cluster="fg", taskDefinition=td, count=2, networkConfiguration=net,
                         capacityProviderStrategy=[{"capacityProvider": "FARGATE", "weight": 1},
                                                   {"capacityProvider": "FARGATE_SPOT", "weight": 1}])
        arns = [t["taskArn"] for t in r["tasks"]]
        for arn in arns:
            wait_until(status_is(ecs, "fg", arn, "RUNNING"), timeout=20, what="a Fargate task running")
        wait_until(lambda: len(starts_of(marker)) == 2, what="two processes")
        for d in ecs.describe_tasks(cluster="fg", tasks=arns)["tasks"]:
            assert d["launchType"] == "FARGATE" and "containerInstanceArn" not in d, d
        pids = [int(p) for p in starts_of(marker)]
        for arn in arns:
            ecs.stop_task(cluster="fg", task=arn)
        for arn in arns:
            wait_until(status_is(ecs, "fg", arn, "STOPPED"), timeout=20, what="stopped")
            assert describe(ecs, "fg", arn)["containers"][0]["exitCode"] == 143

        def gone(p):
            try:
                os.kill(p, 0)
                return False
            except ProcessLookupError:
                return True
        for p in pids:
            wait_until(lambda: gone(p), timeout=10, what="the task's process ended")
        wait_until(lambda: subprocess.run(["pgrep", "-f", "--task-arn .*%s" % arns[0].split("/")[-1]],
                                          capture_output=True).returncode != 0, timeout=10, what="its agent ended")
        # an essential container's exit
        td2 = ecs.register_task_definition(
            family="fg2", networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256", memory="512",
            containerDefinitions=[{"name": "main", "image": "sh", "command": ["sh", "-c", "exit 4"]}]
        )["taskDefinition"]["taskDefinitionArn"]
        arn = ecs.run_task(cluster="fg", taskDefinition=td2, launchType="FARGATE",
                           networkConfiguration=net)["tasks"][0]["taskArn"]
        wait_until(status_is(ecs, "fg", arn, "STOPPED"), timeout=20, what="the failed task stopped")
        d = describe(ecs, "fg", arn)
        assert d["containers"][0]["exitCode"] == 4 and d["stoppedReason"] == "Essential container in task exited", d
    finally:
        b.close()
        subprocess.run(["pkill", "-KILL", "-f", os.path.join(b.data_dir, "fargate")], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)


def test_process_driver_starts_and_stops_real_agents_with_the_group(_):
    """--infra process: each Auto Scaling instance is a berth-agent process;
    tasks on it are real processes; terminating the instance ends both."""
    work = tempfile.mkdtemp(prefix="berth-proc-")
    b = Berth("--infra", "process", "--instance-boot-ms", "0").start()
    try:
        asg, ecs = b.client("autoscaling"), b.ecs
        asg.create_launch_configuration(LaunchConfigurationName="lc", ImageId="ami-1", InstanceType="t3.small")
        asg.create_auto_scaling_group(AutoScalingGroupName="hosts", LaunchConfigurationName="lc", MinSize=0,
                                      MaxSize=2, DesiredCapacity=0, AvailabilityZones=["us-east-1a"])
        ecs.create_capacity_provider(name="hosts-cp", autoScalingGroupProvider={
            "autoScalingGroupArn": asg.describe_auto_scaling_groups()["AutoScalingGroups"][0]["AutoScalingGroupARN"],
            "managedScaling": {"status": "DISABLED"}, "managedTerminationProtection": "DISABLED"})
        ecs.create_cluster(clusterName="proc", capacityProviders=["hosts-cp"])
        asg.set_desired_capacity(AutoScalingGroupName="hosts", DesiredCapacity=1)

        def registered():
            arns = ecs.list_container_instances(cluster="proc")["containerInstanceArns"]
            return arns and ecs.describe_container_instances(cluster="proc", containerInstances=arns)[
                "containerInstances"]
        [ci] = wait_until(registered, timeout=20, what="the instance's agent registered")
        assert ci["capacityProviderName"] == "hosts-cp" and ci["ec2InstanceId"].startswith("i-"), ci
        assert ci["versionInfo"]["agentVersion"].startswith("berth-agent/"), ci
        cpu = [r for r in ci["registeredResources"] if r["name"] == "CPU"][0]["integerValue"]
        assert cpu == 2048, ci                       # t3.small: 2 vCPUs, its slice of this host
        pidfile = os.path.join(work, "pid")
        td = ecs.register_task_definition(family="p", containerDefinitions=[
            {"name": "main", "image": "sh", "memory": 16, "stopTimeout": 2,
             "command": ["sh", "-c", "echo $$ > %s; exec sleep 300" % pidfile]}])["taskDefinition"]["taskDefinitionArn"]
        r = ecs.run_task(cluster="proc", taskDefinition=td, capacityProviderStrategy=[{"capacityProvider": "hosts-cp", "weight": 1}])
        assert not r["failures"], r
        arn = r["tasks"][0]["taskArn"]
        wait_until(status_is(ecs, "proc", arn, "RUNNING"), timeout=20, what="the task running as a process")
        wait_until(lambda: os.path.exists(pidfile) and open(pidfile).read().strip(), what="the pid file")
        pid = int(open(pidfile).read())
        os.kill(pid, 0)
        agent_pid = int(open(os.path.join(b.data_dir, "instances", ci["ec2InstanceId"], "agent.pid")).read())
        # the group shrinks: the instance leaves the cluster, its agent and its task end
        asg.set_desired_capacity(AutoScalingGroupName="hosts", DesiredCapacity=0)

        def gone(p):
            try:
                os.kill(p, 0)
                return False
            except ProcessLookupError:
                return True
        wait_until(lambda: gone(pid), timeout=20, what="the task's process ended")
        wait_until(lambda: gone(agent_pid), timeout=20, what="the agent ended")
        assert describe(ecs, "proc", arn)["lastStatus"] == "STOPPED"
        wait_until(lambda: not asg.describe_auto_scaling_groups()["AutoScalingGroups"][0]["Instances"], timeout=20,
                   what="the instance Terminated")
    finally:
        b.close()
        subprocess.run(["pkill", "-KILL", "-f", os.path.join(b.data_dir, "instances")], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main(globals())
