"""A cluster's scaling resources (issue 5, ECS-SEMANTICS §2.3, §8.1):
associating a capacity provider with managed scaling puts an ECS-managed
target-tracking policy on its Auto Scaling group; disassociating it and
deleting the cluster pass through DEPROVISIONING while the policy is
removed.  Clients: boto3 (ecs and autoscaling) against a real berthd."""
import itertools

from harness import main, wait_until, berthd_args

_seq = itertools.count(1)


def uniq(prefix):
    return "%s-%03d" % (prefix, next(_seq))


def group(b):
    name = uniq("rg")
    b.client("autoscaling").create_launch_configuration(LaunchConfigurationName=name, ImageId="ami-1",
                                                        InstanceType="m5.large")
    b.client("autoscaling").create_auto_scaling_group(AutoScalingGroupName=name, LaunchConfigurationName=name,
                                                      MinSize=0, MaxSize=4, DesiredCapacity=0,
                                                      AvailabilityZones=["us-east-1a"])
    g = b.client("autoscaling").describe_auto_scaling_groups(AutoScalingGroupNames=[name])["AutoScalingGroups"][0]
    return name, g["AutoScalingGroupARN"]


def provider(b, arn, target=100):
    name = uniq("rcp")
    b.ecs.create_capacity_provider(name=name, autoScalingGroupProvider={
        "autoScalingGroupArn": arn, "managedScaling": {"status": "ENABLED", "targetCapacity": target}})
    return name


def policies(b, g):
    return b.client("autoscaling").describe_policies(AutoScalingGroupName=g)["ScalingPolicies"]


def cluster(b, name):
    return b.ecs.describe_clusters(clusters=[name], include=["ATTACHMENTS"])["clusters"][0]


@berthd_args("--transition-ms", "300")
def test_disassociation_and_deletion_pass_through_deprovisioning(b):
    g, arn = group(b)
    cp = provider(b, arn, target=80)
    clu = uniq("rc")
    b.ecs.create_cluster(clusterName=clu, capacityProviders=[cp])
    c = wait_until(lambda: cluster(b, clu)["status"] == "ACTIVE" and cluster(b, clu), what="ACTIVE")
    assert c["attachmentsStatus"] == "UPDATE_COMPLETE", c
    att = [a for a in c["attachments"] if a["type"] == "as_policy"][0]
    assert att["status"] == "CREATED", att
    name = {d["name"]: d["value"] for d in att["details"]}["scalingPolicyName"]
    ps = policies(b, g)
    assert [p["PolicyName"] for p in ps] == [name] and name.startswith("ECSManagedAutoScalingPolicy-"), ps
    assert ps[0]["PolicyType"] == "TargetTrackingScaling", ps
    assert ps[0]["TargetTrackingConfiguration"]["TargetValue"] == 80, ps

    # the provider's target follows into the policy
    b.ecs.update_capacity_provider(name=cp, autoScalingGroupProvider={"managedScaling": {
        "status": "ENABLED", "targetCapacity": 60}})
    wait_until(lambda: policies(b, g)[0]["TargetTrackingConfiguration"]["TargetValue"] == 60, timeout=10,
               what="the policy's new target")

    # disassociate: DEPROVISIONING while the policy goes, then ACTIVE
    b.ecs.put_cluster_capacity_providers(cluster=clu, capacityProviders=[], defaultCapacityProviderStrategy=[])
    assert cluster(b, clu)["status"] == "DEPROVISIONING"
    wait_until(lambda: cluster(b, clu)["status"] == "ACTIVE", what="ACTIVE again")
    assert policies(b, g) == [] and cluster(b, clu)["attachments"] == []

    # associate again, then delete the cluster: DEPROVISIONING, then INACTIVE
    b.ecs.put_cluster_capacity_providers(cluster=clu, capacityProviders=[cp], defaultCapacityProviderStrategy=[])
    wait_until(lambda: cluster(b, clu)["attachmentsStatus"] == "UPDATE_COMPLETE" and len(policies(b, g)) == 1,
               what="the policy back")
    d = b.ecs.delete_cluster(cluster=clu)["cluster"]
    assert d["status"] == "DEPROVISIONING", d
    wait_until(lambda: cluster(b, clu)["status"] == "INACTIVE", what="INACTIVE")
    assert policies(b, g) == []


def test_a_cluster_without_scaling_resources_is_deleted_at_once(b):
    clu = uniq("rc")
    b.ecs.create_cluster(clusterName=clu)
    assert b.ecs.delete_cluster(cluster=clu)["cluster"]["status"] == "INACTIVE"


if __name__ == "__main__":
    main(globals())
