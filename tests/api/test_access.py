"""Access control per action (issue 7): an IAM user whose policy confines
it to cluster A can do, in A, every ECS action the policy allows, and can
neither see, change nor run anything in cluster B: every ECS action aimed at
B is refused with AccessDeniedException in AWS's words.  Also: the ECS
developer guide's cluster example policy as written, explicit denies,
tag conditions (aws:ResourceTag, aws:RequestTag), batch calls naming one
forbidden resource, the Auto Scaling actions, and agents confined to their
own container instance."""
import json
import os

import boto3
import botocore.config

import harness
from harness import main, Berth, expect_error

ROOT_AK, ROOT_SK = "AKIDBERTHROOT0000001", "berth-root-secret"
ENV = dict(os.environ, BERTH_ROOT_ACCESS_KEY_ID=ROOT_AK, BERTH_ROOT_SECRET_ACCESS_KEY=ROOT_SK)
ACCT, REGION = harness.ACCOUNT, "us-east-1"
ARN = "arn:aws:ecs:%s:%s:" % (REGION, ACCT)


def client(b, service, ak=ROOT_AK, sk=ROOT_SK):
    return boto3.client(service, endpoint_url=b.endpoint, region_name=REGION, aws_access_key_id=ak,
                        aws_secret_access_key=sk, config=botocore.config.Config(retries={"max_attempts": 1}))


def make_user(b, name, *policies):
    iam = client(b, "iam")
    iam.create_user(UserName=name)
    for i, p in enumerate(policies):
        iam.put_user_policy(UserName=name, PolicyName="p%d" % i, PolicyDocument=json.dumps(p))
    k = iam.create_access_key(UserName=name)["AccessKey"]
    return k["AccessKeyId"], k["SecretAccessKey"]


# Cluster A only: everything in A (its own ARN, what lives under it, and
# the actions that name it through ecs:cluster), plus task definitions.
CLUSTER_A = {"Version": "2012-10-17", "Statement": [
    {"Sid": "InA", "Effect": "Allow", "Action": "ecs:*", "Resource": "*",
     "Condition": {"ArnEquals": {"ecs:cluster": ARN + "cluster/a"}}},
    {"Sid": "AItself", "Effect": "Allow", "Action": "ecs:*",
     "Resource": [ARN + "cluster/a", ARN + "*/a/*"]},
    {"Sid": "Definitions", "Effect": "Allow",
     "Action": ["ecs:RegisterTaskDefinition", "ecs:DescribeTaskDefinition", "ecs:ListTaskDefinitions"],
     "Resource": "*"}]}

VERSION = {"agentVersion": "1.90.0", "agentHash": "x", "dockerVersion": "25"}


def setup(root):
    td = root.register_task_definition(family="acc", containerDefinitions=[
        {"name": "main", "image": "none", "memory": 32}])["taskDefinition"]["taskDefinitionArn"]
    world = {"td": td}
    for x in ("a", "b"):
        root.create_cluster(clusterName=x, tags=[{"key": "team", "value": x}])
        ci = root.register_container_instance(cluster=x, versionInfo=VERSION, totalResources=[
            {"name": "CPU", "type": "INTEGER", "integerValue": 4096},
            {"name": "MEMORY", "type": "INTEGER", "integerValue": 8192}])["containerInstance"]
        root.create_service(cluster=x, serviceName="svc", taskDefinition=td, desiredCount=1,
                            launchType="EXTERNAL")
        task = root.run_task(cluster=x, taskDefinition=td, launchType="EXTERNAL")["tasks"][0]
        root.put_attributes(cluster=x, attributes=[{"name": "color", "value": x, "targetType": "container-instance",
                                                    "targetId": ci["containerInstanceArn"]}])
        world[x] = {"ci": ci["containerInstanceArn"], "task": task["taskArn"],
                    "svc": ARN + "service/%s/svc" % x, "cluster": ARN + "cluster/" + x}
    return world


def cluster_actions(u, w):
    """(action, call on cluster X) for every ECS action that names a cluster
    or something in one; destructive ones last."""
    td = w["td"]
    return [
        ("CreateCluster", lambda x: u.create_cluster(clusterName=x, tags=[{"key": "team", "value": x}])),
        ("DescribeClusters", lambda x: u.describe_clusters(clusters=[x])),
        ("ListContainerInstances", lambda x: u.list_container_instances(cluster=x)),
        ("DescribeContainerInstances", lambda x: u.describe_container_instances(cluster=x, containerInstances=[w[x]["ci"]])),
        ("ListServices", lambda x: u.list_services(cluster=x)),
        ("DescribeServices", lambda x: u.describe_services(cluster=x, services=["svc"])),
        ("ListTasks", lambda x: u.list_tasks(cluster=x)),
        ("DescribeTasks", lambda x: u.describe_tasks(cluster=x, tasks=[w[x]["task"]])),
        ("GetTaskProtection", lambda x: u.get_task_protection(cluster=x, tasks=[w[x]["task"]])),
        ("ListAttributes", lambda x: u.list_attributes(cluster=x, targetType="container-instance")),
        ("ListTagsForResource", lambda x: u.list_tags_for_resource(resourceArn=w[x]["cluster"])),
        ("TagResource", lambda x: u.tag_resource(resourceArn=w[x]["cluster"], tags=[{"key": "k", "value": "v"}])),
        ("UntagResource", lambda x: u.untag_resource(resourceArn=w[x]["cluster"], tagKeys=["k"])),
        ("PutAttributes", lambda x: u.put_attributes(cluster=x, attributes=[
            {"name": "tier", "value": "1", "targetType": "container-instance", "targetId": w[x]["ci"]}])),
        ("DeleteAttributes", lambda x: u.delete_attributes(cluster=x, attributes=[
            {"name": "tier", "targetType": "container-instance", "targetId": w[x]["ci"]}])),
        ("UpdateCluster", lambda x: u.update_cluster(cluster=x, settings=[{"name": "containerInsights", "value": "enabled"}])),
        ("UpdateClusterSettings", lambda x: u.update_cluster_settings(cluster=x, settings=[
            {"name": "containerInsights", "value": "disabled"}])),
        ("PutClusterCapacityProviders", lambda x: u.put_cluster_capacity_providers(
            cluster=x, capacityProviders=[], defaultCapacityProviderStrategy=[])),
        ("UpdateContainerInstancesState", lambda x: u.update_container_instances_state(
            cluster=x, containerInstances=[w[x]["ci"]], status="ACTIVE")),
        ("RegisterContainerInstance", lambda x: u.register_container_instance(cluster=x, versionInfo=VERSION, totalResources=[
            {"name": "CPU", "type": "INTEGER", "integerValue": 1024},
            {"name": "MEMORY", "type": "INTEGER", "integerValue": 1024}])),
        ("RunTask", lambda x: u.run_task(cluster=x, taskDefinition=td, launchType="EXTERNAL")),
        ("StartTask", lambda x: u.start_task(cluster=x, taskDefinition=td, containerInstances=[w[x]["ci"]])),
        ("UpdateTaskProtection", lambda x: u.update_task_protection(cluster=x, tasks=[w[x]["task"]],
                                                                    protectionEnabled=False)),
        ("SubmitContainerStateChange", lambda x: u.submit_container_state_change(
            cluster=x, task=w[x]["task"], containerName="main", status="RUNNING")),
        ("SubmitTaskStateChange", lambda x: u.submit_task_state_change(cluster=x, task=w[x]["task"], status="RUNNING")),
        ("CreateService", lambda x: u.create_service(cluster=x, serviceName="svc2", taskDefinition=td, desiredCount=0,
                                                     launchType="EXTERNAL")),
        ("UpdateService", lambda x: u.update_service(cluster=x, service="svc", desiredCount=2)),
        ("StopTask", lambda x: u.stop_task(cluster=x, task=w[x]["task"])),
        ("DeleteService", lambda x: u.delete_service(cluster=x, service="svc2", force=True)),
        ("DeregisterContainerInstance", lambda x: u.deregister_container_instance(
            cluster=x, containerInstance=w[x]["ci"], force=True)),
    ]


def test_a_user_confined_to_cluster_a(_):
    b = Berth("--auth", "sigv4", env=ENV).start()
    try:
        root = client(b, "ecs")
        w = setup(root)
        ak, sk = make_user(b, "dev", CLUSTER_A)
        u = client(b, "ecs", ak, sk)
        user_arn = "arn:aws:iam::%s:user/dev" % ACCT
        actions = cluster_actions(u, w)
        assert len({a for a, _ in actions}) == len(actions)
        for action, call in actions:
            e = expect_error("AccessDeniedException", call, "b")
            msg = e.response["Error"]["Message"]
            assert msg.startswith("User: %s is not authorized to perform: ecs:%s on resource: " % (user_arn, action)), msg
            assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 400
            try:
                call("a")
            except root.exceptions.ClientError as err:
                raise AssertionError("%s in cluster a: %s" % (action, err))
        # B is untouched by all of it
        bd = root.describe_clusters(clusters=["b"], include=["TAGS"])["clusters"][0]
        assert bd["status"] == "ACTIVE" and bd["tags"] == [{"key": "team", "value": "b"}]
        assert root.describe_services(cluster="b", services=["svc"])["services"][0]["desiredCount"] == 1
        assert root.describe_tasks(cluster="b", tasks=[w["b"]["task"]])["tasks"][0]["desiredStatus"] == "RUNNING"
        assert root.describe_container_instances(cluster="b", containerInstances=[w["b"]["ci"]])[
            "containerInstances"][0]["status"] == "ACTIVE"
        # a batch naming A and B is refused whole, on B
        e = expect_error("AccessDeniedException", u.describe_clusters, clusters=["a", "b"])
        assert "on resource: %scluster/b " % ARN in e.response["Error"]["Message"]
        # the account-level actions: as the policy says
        assert u.describe_task_definition(taskDefinition=w["td"])["taskDefinition"]["family"] == "acc"
        assert u.list_task_definitions()["taskDefinitionArns"]
        u.register_task_definition(family="mine", containerDefinitions=[{"name": "c", "image": "i", "memory": 8}])
        for call in (u.list_clusters, u.describe_capacity_providers, u.list_task_definition_families):
            expect_error("AccessDeniedException", call)
        expect_error("AccessDeniedException", u.create_capacity_provider, name="cp", autoScalingGroupProvider={
            "autoScalingGroupArn": "arn:aws:autoscaling:us-east-1:%s:autoScalingGroup:x:autoScalingGroupName/g" % ACCT})
        expect_error("AccessDeniedException", u.deregister_task_definition, taskDefinition=w["td"])
        expect_error("AccessDeniedException", u.delete_task_definitions, taskDefinitions=[w["td"]])
        expect_error("AccessDeniedException", u.list_services_by_namespace, namespace="ns")
        expect_error("AccessDeniedException", u.delete_cluster, cluster="b")
        # the root still sees everything
        assert len(root.list_clusters()["clusterArns"]) == 2
    finally:
        b.close()


def test_developer_guide_cluster_examples_and_conditions(_):
    b = Berth("--auth", "sigv4", env=ENV).start()
    try:
        root = client(b, "ecs")
        w = setup(root)
        # "Describe clusters and run tasks only in named clusters", as the guide writes it
        guide = {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["ecs:DescribeClusters"], "Resource": [ARN + "cluster/a"]},
            {"Effect": "Allow", "Action": ["ecs:RunTask"], "Resource": "*",
             "Condition": {"ArnEquals": {"ecs:cluster": ARN + "cluster/a"}}}]}
        u = client(b, "ecs", *make_user(b, "guide", guide))
        assert u.describe_clusters(clusters=["a"])["clusters"][0]["clusterName"] == "a"
        expect_error("AccessDeniedException", u.describe_clusters, clusters=["b"])
        assert u.run_task(cluster="a", taskDefinition=w["td"], launchType="EXTERNAL")["tasks"]
        expect_error("AccessDeniedException", u.run_task, cluster="b", taskDefinition=w["td"], launchType="EXTERNAL")
        expect_error("AccessDeniedException", u.stop_task, cluster="a", task=w["a"]["task"])
        # tags: clusters tagged team=a only; creating needs the tag
        tags = {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "ecs:DescribeClusters", "Resource": "*",
             "Condition": {"StringEquals": {"aws:ResourceTag/team": "a"}}},
            {"Effect": "Allow", "Action": ["ecs:CreateCluster", "ecs:TagResource"], "Resource": "*",
             "Condition": {"StringEquals": {"aws:RequestTag/team": "a"}}}]}
        t = client(b, "ecs", *make_user(b, "tagger", tags))
        assert t.describe_clusters(clusters=["a"])["clusters"]
        expect_error("AccessDeniedException", t.describe_clusters, clusters=["b"])
        assert t.create_cluster(clusterName="a2", tags=[{"key": "team", "value": "a"}])["cluster"]
        expect_error("AccessDeniedException", t.create_cluster, clusterName="b2", tags=[{"key": "team", "value": "b"}])
        expect_error("AccessDeniedException", t.create_cluster, clusterName="c2")
        assert ARN + "cluster/b2" not in root.list_clusters()["clusterArns"]
        # an explicit deny wins over ecs:*
        deny = {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "ecs:*", "Resource": "*"},
            {"Effect": "Deny", "Action": "ecs:Delete*", "Resource": ARN + "cluster/b"}]}
        d = client(b, "ecs", *make_user(b, "almost", deny))
        e = expect_error("AccessDeniedException", d.delete_cluster, cluster="b")
        assert "with an explicit deny in an identity-based policy" in e.response["Error"]["Message"]
        assert d.list_clusters()["clusterArns"]
        # NotAction: everything but the Delete actions
        na = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "NotAction": "ecs:Delete*", "Resource": "*"}]}
        n = client(b, "ecs", *make_user(b, "nodelete", na))
        assert n.list_clusters()["clusterArns"]
        expect_error("AccessDeniedException", n.delete_cluster, cluster="a2")
    finally:
        b.close()


def test_auto_scaling_actions_are_authorized(_):
    b = Berth("--auth", "sigv4", env=ENV).start()
    try:
        asg = client(b, "autoscaling")
        asg.create_launch_configuration(LaunchConfigurationName="lc", ImageId="ami-1", InstanceType="t3.micro")
        for g in ("ga", "gb"):
            asg.create_auto_scaling_group(AutoScalingGroupName=g, LaunchConfigurationName="lc", MinSize=0,
                                          MaxSize=2, AvailabilityZones=["us-east-1a"])
        pol = {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "autoscaling:Describe*", "Resource": "*"},
            {"Effect": "Allow", "Action": "autoscaling:SetDesiredCapacity",
             "Resource": "arn:aws:autoscaling:*:*:autoScalingGroup:*:autoScalingGroupName/ga"}]}
        u = client(b, "autoscaling", *make_user(b, "scaler", pol))
        assert len(u.describe_auto_scaling_groups()["AutoScalingGroups"]) == 2
        u.set_desired_capacity(AutoScalingGroupName="ga", DesiredCapacity=1)
        e = expect_error("AccessDenied", u.set_desired_capacity, AutoScalingGroupName="gb", DesiredCapacity=1)
        assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 403
        assert "autoscaling:SetDesiredCapacity on resource: arn:aws:autoscaling:" in e.response["Error"]["Message"]
        expect_error("AccessDenied", u.delete_auto_scaling_group, AutoScalingGroupName="ga")
        g = asg.describe_auto_scaling_groups(AutoScalingGroupNames=["gb"])["AutoScalingGroups"][0]
        assert g["DesiredCapacity"] == 0
    finally:
        b.close()


def test_agents_act_only_on_their_own_instance(_):
    """Two agents with the same policy (the ECS instance role's actions):
    each may register and report for itself, never for the other."""
    b = Berth("--auth", "sigv4", env=ENV).start()
    try:
        root = client(b, "ecs")
        root.create_cluster(clusterName="hosts")
        td = root.register_task_definition(family="h", containerDefinitions=[
            {"name": "main", "image": "none", "memory": 32}])["taskDefinition"]["taskDefinitionArn"]
        role = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": [
            "ecs:RegisterContainerInstance", "ecs:DeregisterContainerInstance", "ecs:SubmitTaskStateChange",
            "ecs:SubmitContainerStateChange", "ecs:Poll", "ecs:DiscoverPollEndpoint"], "Resource": "*"}]}
        k1, k2 = make_user(b, "host1", role), make_user(b, "host2", role)
        a1, a2 = client(b, "ecs", *k1), client(b, "ecs", *k2)
        res = [{"name": "CPU", "type": "INTEGER", "integerValue": 1024},
               {"name": "MEMORY", "type": "INTEGER", "integerValue": 1024}]
        ci1 = a1.register_container_instance(cluster="hosts", versionInfo=VERSION, totalResources=res)[
            "containerInstance"]["containerInstanceArn"]
        task = root.start_task(cluster="hosts", taskDefinition=td, containerInstances=[ci1])["tasks"][0]["taskArn"]
        a1.submit_task_state_change(cluster="hosts", task=task, status="RUNNING")
        e = expect_error("AccessDeniedException", a2.submit_task_state_change, cluster="hosts", task=task,
                         status="STOPPED")
        assert "registered by another principal" in e.response["Error"]["Message"]
        expect_error("AccessDeniedException", a2.submit_container_state_change, cluster="hosts", task=task,
                     containerName="main", status="STOPPED", exitCode=1)
        expect_error("AccessDeniedException", a2.register_container_instance, cluster="hosts", versionInfo=VERSION,
                     totalResources=res, containerInstanceArn=ci1)
        d = root.describe_tasks(cluster="hosts", tasks=[task])["tasks"][0]
        assert d["lastStatus"] == "RUNNING" and d["desiredStatus"] == "RUNNING", d
        # host2 cannot poll host1's work either (the raw extension call, signed by host2)
        import botocore.auth
        import botocore.awsrequest
        import botocore.credentials
        import urllib.request
        body = json.dumps({"protocolVersion": 1, "cluster": "hosts", "containerInstance": ci1, "waitSeconds": 0,
                           "tasks": []})
        req = botocore.awsrequest.AWSRequest(method="POST", url=b.endpoint + "/", data=body, headers={
            "X-Amz-Target": "BerthExtensions_v1.AgentPoll", "Content-Type": "application/x-amz-json-1.1"})
        botocore.auth.SigV4Auth(botocore.credentials.Credentials(*k2), "ecs", REGION).add_auth(req)
        r = urllib.request.Request(req.url, data=req.body, method="POST", headers=dict(req.headers.items()))
        try:
            urllib.request.urlopen(r, timeout=10)
            raise AssertionError("host2 polled host1's instance")
        except urllib.error.HTTPError as err:
            out = json.loads(err.read())
            assert out["__type"] == "AccessDeniedException" and "ecs:Poll" in out["message"], out
    finally:
        b.close()


if __name__ == "__main__":
    main(globals())
