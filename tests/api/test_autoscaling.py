"""Auto Scaling end to end through boto3's autoscaling client and the AWS
CLI (the Query protocol): launch configurations, groups with their
instances (zones balanced, the launch configuration's or the first
override's instance type), scale-out and scale-in with scale-in protection,
SetInstanceProtection, TerminateInstanceInAutoScalingGroup, activities
newest first, DescribePolicies, deletion with and without ForceDelete,
every action's error paths with Auto Scaling's codes, pagination
(MaxRecords / NextToken), and a restart that keeps it all.

Instances boot and terminate through the sim infrastructure driver; the
shared berthd runs with --instance-boot-ms 0, so Pending -> InService and
Terminating -> Terminated still take a loop turn or a few milliseconds.
describe() and instances() therefore wait for the group to settle (every
instance InService, none Pending or Terminating) before returning it."""
import itertools
import re

from harness import main, expect_error, berthd_args, wait_until, ACCOUNT, REGION

_seq = itertools.count(1)
ZONES = ["us-east-1a", "us-east-1b", "us-east-1c"]


def uniq(prefix):
    return "%s-%03d" % (prefix, next(_seq))


def asc(b):
    return b.client("autoscaling")


def lc(b, name=None, itype="m5.large", **kw):
    name = name or uniq("lc")
    asc(b).create_launch_configuration(LaunchConfigurationName=name, ImageId="ami-12345678",
                                       InstanceType=itype, **kw)
    return name


def group(b, name=None, desired=None, zones=ZONES[:2], min_size=0, max_size=10, **kw):
    name = name or uniq("asg")
    if "LaunchConfigurationName" not in kw and "MixedInstancesPolicy" not in kw:
        kw["LaunchConfigurationName"] = lc(b)
    if desired is not None:
        kw["DesiredCapacity"] = desired
    asc(b).create_auto_scaling_group(AutoScalingGroupName=name, MinSize=min_size, MaxSize=max_size,
                                     AvailabilityZones=zones, **kw)
    return name


def describe_now(b, name):
    gs = asc(b).describe_auto_scaling_groups(AutoScalingGroupNames=[name])["AutoScalingGroups"]
    assert len(gs) == 1, gs
    return gs[0]


def describe(b, name):
    """The group once every instance has finished its transition: the sim
    driver boots and terminates instances on a later loop turn."""
    def settled():
        g = describe_now(b, name)
        return g if all(i["LifecycleState"] == "InService" for i in g["Instances"]) else None
    return wait_until(settled, what="group %s settled" % name)


def instances(b, name):
    return describe(b, name)["Instances"]


def wait_gone(b, name):
    """A group being deleted stays (Status "Delete in progress") until its
    instances have terminated."""
    wait_until(lambda: asc(b).describe_auto_scaling_groups(
        AutoScalingGroupNames=[name])["AutoScalingGroups"] == [], what="group %s deleted" % name)


def zone_counts(insts):
    out = {}
    for i in insts:
        out[i["AvailabilityZone"]] = out.get(i["AvailabilityZone"], 0) + 1
    return out


# ---- launch configurations ----

def test_launch_configuration_create_describe_delete(b):
    c = asc(b)
    # boto3 base64-encodes UserData on the way in; AWS answers it encoded
    name = lc(b, itype="c5.xlarge", SecurityGroups=["sg-1"], KeyName="k", UserData="echo",
              InstanceMonitoring={"Enabled": False})
    got = c.describe_launch_configurations(LaunchConfigurationNames=[name])["LaunchConfigurations"]
    assert len(got) == 1
    g = got[0]
    assert g["LaunchConfigurationName"] == name
    assert re.match(r"arn:aws:autoscaling:%s:%s:launchConfiguration:[0-9a-f-]{36}:launchConfigurationName/%s$"
                    % (REGION, ACCOUNT, name), g["LaunchConfigurationARN"]), g["LaunchConfigurationARN"]
    assert g["InstanceType"] == "c5.xlarge" and g["ImageId"] == "ami-12345678"
    assert g["SecurityGroups"] == ["sg-1"] and g["KeyName"] == "k" and g["UserData"] == "ZWNobw=="
    assert g["InstanceMonitoring"] == {"Enabled": False}
    assert g["BlockDeviceMappings"] == [] and g["EbsOptimized"] is False
    assert g["CreatedTime"].year >= 2024
    c.delete_launch_configuration(LaunchConfigurationName=name)
    assert c.describe_launch_configurations(LaunchConfigurationNames=[name])["LaunchConfigurations"] == []


def test_launch_configuration_errors(b):
    c = asc(b)
    name = lc(b)
    expect_error("AlreadyExists", c.create_launch_configuration, LaunchConfigurationName=name,
                 ImageId="ami-1", InstanceType="m5.large",
                 message="Launch Configuration by this name already exists - A launch configuration already exists with the name %s" % name)
    expect_error("ValidationError", c.create_launch_configuration, LaunchConfigurationName=uniq("lc"),
                 ImageId="ami-1", message="both the ImageId and InstanceType parameters")
    expect_error("ValidationError", c.create_launch_configuration, LaunchConfigurationName=uniq("lc"),
                 ImageId="ami-1", InstanceType="m5.enormous", message="Invalid instance type: m5.enormous")
    expect_error("ValidationError", c.delete_launch_configuration, LaunchConfigurationName="nope-lc",
                 message="Launch configuration name not found - Launch configuration nope-lc not found")
    g = group(b, LaunchConfigurationName=name)
    expect_error("ResourceInUse", c.delete_launch_configuration, LaunchConfigurationName=name,
                 message="Cannot delete launch configuration %s because it is attached to AutoScalingGroup %s" % (name, g))
    # the validator's rules, in AWS's words
    expect_error("ValidationError", c.describe_launch_configurations, MaxRecords=101,
                 message="Member must have value less than or equal to 100")


def test_launch_configuration_pagination(b):
    c = asc(b)
    names = sorted(lc(b, name="pg-lc-%02d" % i) for i in range(5))
    seen, token, pages = [], None, 0
    while True:
        kw = {"LaunchConfigurationNames": names, "MaxRecords": 2}
        if token:
            kw["NextToken"] = token
        r = c.describe_launch_configurations(**kw)
        seen += [x["LaunchConfigurationName"] for x in r["LaunchConfigurations"]]
        pages += 1
        token = r.get("NextToken")
        if not token:
            break
    assert seen == names and pages == 3, (seen, pages)
    expect_error("InvalidNextToken", c.describe_launch_configurations, NextToken="zz-not-a-token")
    # the paginator follows the tokens too
    got = [x["LaunchConfigurationName"]
           for p in c.get_paginator("describe_launch_configurations").paginate(
               LaunchConfigurationNames=names, PaginationConfig={"PageSize": 2})
           for x in p["LaunchConfigurations"]]
    assert got == names


# ---- groups ----

def test_create_group_launches_balanced_instances(b):
    name = group(b, desired=5, zones=ZONES, Tags=[{"Key": "team", "Value": "blue", "PropagateAtLaunch": True}],
                 NewInstancesProtectedFromScaleIn=False)
    g = describe(b, name)
    assert re.match(r"arn:aws:autoscaling:%s:%s:autoScalingGroup:[0-9a-f-]{36}:autoScalingGroupName/%s$"
                    % (REGION, ACCOUNT, name), g["AutoScalingGroupARN"])
    assert (g["MinSize"], g["MaxSize"], g["DesiredCapacity"]) == (0, 10, 5)
    assert g["AvailabilityZones"] == ZONES and g["DefaultCooldown"] == 300 and g["HealthCheckType"] == "EC2"
    assert g["Tags"] == [{"ResourceId": name, "ResourceType": "auto-scaling-group", "Key": "team",
                          "Value": "blue", "PropagateAtLaunch": True}]
    assert g["TerminationPolicies"] == ["Default"] and g["NewInstancesProtectedFromScaleIn"] is False
    insts = g["Instances"]
    assert len(insts) == 5
    for i in insts:
        assert re.match(r"^i-[0-9a-f]{17}$", i["InstanceId"]), i
        assert i["LifecycleState"] == "InService" and i["HealthStatus"] == "Healthy"
        assert i["InstanceType"] == "m5.large" and i["ProtectedFromScaleIn"] is False
        assert i["LaunchConfigurationName"] == g["LaunchConfigurationName"]
    assert sorted(zone_counts(insts).values()) == [1, 2, 2], zone_counts(insts)
    assert len({i["InstanceId"] for i in insts}) == 5


def test_mixed_instances_policy_uses_first_override(b):
    mip = {"LaunchTemplate": {"LaunchTemplateSpecification": {"LaunchTemplateName": "lt-x", "Version": "$Latest"},
                              "Overrides": [{"InstanceType": "c6i.large"}, {"InstanceType": "m6i.large"}]}}
    name = group(b, desired=2, MixedInstancesPolicy=mip)
    g = describe(b, name)
    assert "LaunchConfigurationName" not in g
    assert g["MixedInstancesPolicy"]["LaunchTemplate"]["Overrides"][0]["InstanceType"] == "c6i.large"
    assert [i["InstanceType"] for i in g["Instances"]] == ["c6i.large", "c6i.large"]
    bad = {"LaunchTemplate": {"LaunchTemplateSpecification": {"LaunchTemplateName": "lt-x"},
                              "Overrides": [{"InstanceType": "q9.mega"}]}}
    expect_error("ValidationError", asc(b).create_auto_scaling_group, AutoScalingGroupName=uniq("asg"),
                 MinSize=0, MaxSize=1, AvailabilityZones=ZONES, MixedInstancesPolicy=bad,
                 message="Invalid instance type: q9.mega")
    none = {"LaunchTemplate": {"LaunchTemplateSpecification": {"LaunchTemplateName": "lt-x"}}}
    expect_error("ValidationError", asc(b).create_auto_scaling_group, AutoScalingGroupName=uniq("asg"),
                 MinSize=0, MaxSize=1, AvailabilityZones=ZONES, MixedInstancesPolicy=none)


def test_create_group_errors(b):
    c = asc(b)
    name = group(b)
    l = lc(b)
    base = dict(MinSize=0, MaxSize=2, AvailabilityZones=ZONES)
    expect_error("AlreadyExists", c.create_auto_scaling_group, AutoScalingGroupName=name,
                 LaunchConfigurationName=l, **base,
                 message="AutoScalingGroup by this name already exists - A group with the name %s already exists" % name)
    expect_error("ValidationError", c.create_auto_scaling_group, AutoScalingGroupName=uniq("asg"), **base,
                 message="Valid requests must contain either LaunchTemplate, LaunchConfigurationName, InstanceId or MixedInstancesPolicy parameter.")
    expect_error("ValidationError", c.create_auto_scaling_group, AutoScalingGroupName=uniq("asg"),
                 LaunchConfigurationName="missing-lc", **base,
                 message="Launch configuration name not found - Launch configuration missing-lc not found")
    expect_error("ValidationError", c.create_auto_scaling_group, AutoScalingGroupName=uniq("asg"),
                 LaunchConfigurationName=l, MinSize=3, MaxSize=2, AvailabilityZones=ZONES,
                 message="Max bound, 2, must be greater than or equal to min bound, 3")
    expect_error("ValidationError", c.create_auto_scaling_group, AutoScalingGroupName=uniq("asg"),
                 LaunchConfigurationName=l, DesiredCapacity=5, **base,
                 message="Desired capacity:5 must be between the specified min size:0 and max size:2")
    expect_error("ValidationError", c.create_auto_scaling_group, AutoScalingGroupName=uniq("asg"),
                 LaunchConfigurationName=l, MinSize=0, MaxSize=2,
                 message="At least one Availability Zone or VPC Subnet is required.")
    expect_error("ValidationError", c.create_auto_scaling_group, AutoScalingGroupName=uniq("asg"),
                 LaunchConfigurationName=l, MinSize=-1, MaxSize=2, AvailabilityZones=ZONES,
                 message="at 'minSize' failed to satisfy constraint: Member must have value greater than or equal to 0")
    expect_error("ValidationError", c.create_auto_scaling_group, AutoScalingGroupName=uniq("asg"),
                 LaunchConfigurationName=l, MinSize=0, MaxSize=2, AvailabilityZones=["eu-west-1a"])
    expect_error("ValidationError", c.create_auto_scaling_group, AutoScalingGroupName=uniq("asg"),
                 LaunchTemplate={"LaunchTemplateName": "lt-x"}, **base)
    # nothing of the failed requests exists
    names = [g["AutoScalingGroupName"] for g in c.describe_auto_scaling_groups()["AutoScalingGroups"]]
    assert len(names) == len(set(names))


def test_vpc_zone_identifier_gives_zones(b):
    name = uniq("asg")
    asc(b).create_auto_scaling_group(AutoScalingGroupName=name, MinSize=0, MaxSize=4, DesiredCapacity=4,
                                     LaunchConfigurationName=lc(b), VPCZoneIdentifier="subnet-1,subnet-2")
    g = describe(b, name)
    assert g["VPCZoneIdentifier"] == "subnet-1,subnet-2"
    assert g["AvailabilityZones"] == ["us-east-1a", "us-east-1b"]
    assert zone_counts(g["Instances"]) == {"us-east-1a": 2, "us-east-1b": 2}


def test_describe_groups_pagination_and_filters(b):
    c = asc(b)
    names = ["pg-asg-%02d" % i for i in range(5)]
    for i, n in enumerate(names):
        group(b, name=n, Tags=[{"Key": "page", "Value": "yes" if i % 2 == 0 else "no"}])
    seen, token = [], None
    while True:
        kw = {"AutoScalingGroupNames": names, "MaxRecords": 2}
        if token:
            kw["NextToken"] = token
        r = c.describe_auto_scaling_groups(**kw)
        assert len(r["AutoScalingGroups"]) <= 2
        seen += [g["AutoScalingGroupName"] for g in r["AutoScalingGroups"]]
        token = r.get("NextToken")
        if not token:
            break
    assert seen == names
    got = [g["AutoScalingGroupName"]
           for p in c.get_paginator("describe_auto_scaling_groups").paginate(
               Filters=[{"Name": "tag:page", "Values": ["yes"]}], PaginationConfig={"PageSize": 1})
           for g in p["AutoScalingGroups"]]
    assert got == names[0::2], got
    got = c.describe_auto_scaling_groups(Filters=[{"Name": "tag-key", "Values": ["page"]}])["AutoScalingGroups"]
    assert [g["AutoScalingGroupName"] for g in got] == names
    expect_error("InvalidNextToken", c.describe_auto_scaling_groups, NextToken="bogus")
    expect_error("ValidationError", c.describe_auto_scaling_groups, MaxRecords=0)
    expect_error("ValidationError", c.describe_auto_scaling_groups, MaxRecords=101)
    expect_error("ValidationError", c.describe_auto_scaling_groups, Filters=[{"Name": "colour", "Values": ["x"]}])
    assert c.describe_auto_scaling_groups(AutoScalingGroupNames=["no-such-group"])["AutoScalingGroups"] == []
    g = c.describe_auto_scaling_groups(AutoScalingGroupNames=[names[0]], IncludeInstances=False)["AutoScalingGroups"][0]
    assert "Instances" not in g or g["Instances"] == []


def test_update_group(b):
    c = asc(b)
    name = group(b, desired=2, min_size=1, max_size=4)
    l2 = lc(b, itype="r5.large")
    # a higher MinSize carries the desired capacity up
    c.update_auto_scaling_group(AutoScalingGroupName=name, MinSize=3, LaunchConfigurationName=l2,
                                NewInstancesProtectedFromScaleIn=True, DefaultCooldown=60,
                                HealthCheckGracePeriod=30)
    g = describe(b, name)
    assert (g["MinSize"], g["MaxSize"], g["DesiredCapacity"]) == (3, 4, 3)
    assert g["LaunchConfigurationName"] == l2 and g["NewInstancesProtectedFromScaleIn"] is True
    assert g["DefaultCooldown"] == 60 and g["HealthCheckGracePeriod"] == 30
    new = [i for i in g["Instances"] if i["LaunchConfigurationName"] == l2]
    assert len(g["Instances"]) == 3 and len(new) == 1 and new[0]["InstanceType"] == "r5.large"
    assert new[0]["ProtectedFromScaleIn"] is True
    # a lower MaxSize carries it down; unprotected instances of the old
    # configuration go first
    c.update_auto_scaling_group(AutoScalingGroupName=name, MinSize=0, MaxSize=1)
    g = describe(b, name)
    assert (g["MinSize"], g["MaxSize"], g["DesiredCapacity"]) == (0, 1, 1)
    assert [i["InstanceId"] for i in g["Instances"]] == [new[0]["InstanceId"]]
    expect_error("ValidationError", c.update_auto_scaling_group, AutoScalingGroupName="no-such-group",
                 MaxSize=3, message="AutoScalingGroup name not found - null")
    expect_error("ValidationError", c.update_auto_scaling_group, AutoScalingGroupName=name, MinSize=5,
                 message="Max bound, 1, must be greater than or equal to min bound, 5")
    expect_error("ValidationError", c.update_auto_scaling_group, AutoScalingGroupName=name, DesiredCapacity=3,
                 message="Desired capacity:3 must be between the specified min size:0 and max size:1")
    expect_error("ValidationError", c.update_auto_scaling_group, AutoScalingGroupName=name,
                 LaunchConfigurationName="missing-lc")
    # a failed update changed nothing
    g = describe(b, name)
    assert (g["MinSize"], g["MaxSize"], g["DesiredCapacity"]) == (0, 1, 1) and g["LaunchConfigurationName"] == l2


def test_set_desired_capacity_scales_out_and_in(b):
    c = asc(b)
    name = group(b, desired=1, zones=ZONES)
    c.set_desired_capacity(AutoScalingGroupName=name, DesiredCapacity=6)
    insts = instances(b, name)
    assert len(insts) == 6 and zone_counts(insts) == {z: 2 for z in ZONES}
    first = insts[0]["InstanceId"]
    c.set_desired_capacity(AutoScalingGroupName=name, DesiredCapacity=4)
    insts = instances(b, name)
    assert len(insts) == 4
    assert sorted(zone_counts(insts).values()) == [1, 1, 2], zone_counts(insts)
    # zone balance, then the oldest: the first instance went first
    assert first not in [i["InstanceId"] for i in insts]
    c.set_desired_capacity(AutoScalingGroupName=name, DesiredCapacity=0)
    assert instances(b, name) == []
    expect_error("ValidationError", c.set_desired_capacity, AutoScalingGroupName=name, DesiredCapacity=11,
                 message="New SetDesiredCapacity value 11 is above max value 10 for the AutoScalingGroup.")
    c.update_auto_scaling_group(AutoScalingGroupName=name, MinSize=1)
    expect_error("ValidationError", c.set_desired_capacity, AutoScalingGroupName=name, DesiredCapacity=0,
                 message="New SetDesiredCapacity value 0 is below min value 1 for the AutoScalingGroup.")
    expect_error("ValidationError", c.set_desired_capacity, AutoScalingGroupName="no-such-group",
                 DesiredCapacity=1, message="AutoScalingGroup name not found")


def test_protection_holds_instances_on_scale_in(b):
    c = asc(b)
    name = group(b, desired=3, NewInstancesProtectedFromScaleIn=True)
    insts = instances(b, name)
    assert all(i["ProtectedFromScaleIn"] for i in insts)
    # only protected instances: the group stays above its desired capacity
    c.set_desired_capacity(AutoScalingGroupName=name, DesiredCapacity=1)
    g = describe(b, name)
    assert g["DesiredCapacity"] == 1 and len(g["Instances"]) == 3
    # clearing one instance's protection lets it go
    ids = [i["InstanceId"] for i in insts]
    c.set_instance_protection(AutoScalingGroupName=name, InstanceIds=[ids[1]], ProtectedFromScaleIn=False)
    assert sorted(i["InstanceId"] for i in instances(b, name)) == sorted([ids[0], ids[2]])
    # protecting and unprotecting through the API is visible
    c.set_instance_protection(AutoScalingGroupName=name, InstanceIds=[ids[0]], ProtectedFromScaleIn=False)
    left = instances(b, name)
    assert [i["InstanceId"] for i in left] == [ids[2]] and left[0]["ProtectedFromScaleIn"] is True
    c.set_instance_protection(AutoScalingGroupName=name, InstanceIds=[ids[2]], ProtectedFromScaleIn=False)
    c.set_desired_capacity(AutoScalingGroupName=name, DesiredCapacity=2)
    new = [i for i in instances(b, name) if i["InstanceId"] != ids[2]]
    assert len(new) == 1 and new[0]["ProtectedFromScaleIn"] is True
    c.set_instance_protection(AutoScalingGroupName=name, InstanceIds=[ids[2]], ProtectedFromScaleIn=True)
    c.set_desired_capacity(AutoScalingGroupName=name, DesiredCapacity=0)
    assert len(instances(b, name)) == 2
    expect_error("ValidationError", c.set_instance_protection, AutoScalingGroupName=name,
                 InstanceIds=["i-00000000000000000"], ProtectedFromScaleIn=True,
                 message="The instance i-00000000000000000 is not part of Auto Scaling group %s." % name)
    expect_error("ValidationError", c.set_instance_protection, AutoScalingGroupName="no-such-group",
                 InstanceIds=[ids[2]], ProtectedFromScaleIn=True, message="AutoScalingGroup name not found")
    other = group(b, desired=1)
    oid = instances(b, other)[0]["InstanceId"]
    expect_error("ValidationError", c.set_instance_protection, AutoScalingGroupName=name,
                 InstanceIds=[ids[2], oid], ProtectedFromScaleIn=False,
                 message="The instance %s is not part of Auto Scaling group %s." % (oid, name))
    # the failed request changed nothing: ids[2] is still protected
    assert any(i["InstanceId"] == ids[2] and i["ProtectedFromScaleIn"] for i in instances(b, name))


def test_describe_auto_scaling_instances(b):
    c = asc(b)
    name = group(b, desired=3)
    ids = sorted(i["InstanceId"] for i in instances(b, name))
    got = c.describe_auto_scaling_instances(InstanceIds=ids)["AutoScalingInstances"]
    assert [i["InstanceId"] for i in got] == ids
    for i in got:
        assert i["AutoScalingGroupName"] == name and i["LifecycleState"] == "InService"
        assert i["HealthStatus"] == "HEALTHY" and i["InstanceType"] == "m5.large"
        assert i["AvailabilityZone"] in ZONES and i["ProtectedFromScaleIn"] is False
    pages = list(c.get_paginator("describe_auto_scaling_instances").paginate(
        InstanceIds=ids, PaginationConfig={"PageSize": 1}))
    assert [p["AutoScalingInstances"][0]["InstanceId"] for p in pages] == ids
    r = c.describe_auto_scaling_instances(MaxRecords=1)
    assert len(r["AutoScalingInstances"]) == 1 and r["NextToken"]
    assert c.describe_auto_scaling_instances(InstanceIds=["i-00000000000000000"])["AutoScalingInstances"] == []
    expect_error("ValidationError", c.describe_auto_scaling_instances, MaxRecords=51,
                 message="Member must have value less than or equal to 50")
    expect_error("InvalidNextToken", c.describe_auto_scaling_instances, NextToken="00")


def test_terminate_instance(b):
    c = asc(b)
    name = group(b, desired=3, min_size=2)
    ids = [i["InstanceId"] for i in instances(b, name)]
    # without the decrement a replacement is launched
    act = c.terminate_instance_in_auto_scaling_group(InstanceId=ids[0],
                                                     ShouldDecrementDesiredCapacity=False)["Activity"]
    assert act["Description"] == "Terminating EC2 instance: %s" % ids[0]
    assert act["AutoScalingGroupName"] == name and act["ActivityId"]
    assert "in response to a user request" in act["Cause"]
    now = [i["InstanceId"] for i in instances(b, name)]
    assert len(now) == 3 and ids[0] not in now
    assert describe(b, name)["DesiredCapacity"] == 3
    # with it, the desired capacity goes down
    c.terminate_instance_in_auto_scaling_group(InstanceId=ids[1], ShouldDecrementDesiredCapacity=True)
    g = describe(b, name)
    assert g["DesiredCapacity"] == 2 and len(g["Instances"]) == 2
    left = g["Instances"][0]["InstanceId"]
    expect_error("ValidationError", c.terminate_instance_in_auto_scaling_group, InstanceId=left,
                 ShouldDecrementDesiredCapacity=True,
                 message="Currently, desiredSize equals minSize (2). Terminating instance without replacement will violate group's min size constraint. Either set shouldDecrementDesiredCapacity flag to false or lower group's min size.")
    expect_error("ValidationError", c.terminate_instance_in_auto_scaling_group, InstanceId=ids[0],
                 ShouldDecrementDesiredCapacity=False,
                 message="Instance Id not found - No managed instance found for instance ID: %s" % ids[0])
    # a protected instance can still be terminated by hand
    c.set_instance_protection(AutoScalingGroupName=name, InstanceIds=[left], ProtectedFromScaleIn=True)
    c.terminate_instance_in_auto_scaling_group(InstanceId=left, ShouldDecrementDesiredCapacity=False)
    assert left not in [i["InstanceId"] for i in instances(b, name)]


def test_scaling_activities(b):
    c = asc(b)
    name = group(b, desired=2)
    describe(b, name)
    c.set_desired_capacity(AutoScalingGroupName=name, DesiredCapacity=1)
    describe(b, name)  # the termination's activity ends with the instance
    acts = c.describe_scaling_activities(AutoScalingGroupName=name)["Activities"]
    assert len(acts) == 3
    assert acts[0]["Description"].startswith("Terminating EC2 instance: i-")
    assert "explicitly set group desired capacity changing the desired capacity from 2 to 1" in acts[0]["Cause"]
    assert "was selected for termination" in acts[0]["Cause"]
    for a in acts[1:]:
        assert a["Description"].startswith("Launching a new EC2 instance: i-")
        assert "a user request created an AutoScalingGroup changing the desired capacity from 0 to 2" in a["Cause"]
    for a in acts:
        assert a["StatusCode"] == "Successful" and a["Progress"] == 100 and a["EndTime"] >= a["StartTime"]
        assert a["AutoScalingGroupName"] == name
    # pagination, newest first throughout
    pages = list(c.get_paginator("describe_scaling_activities").paginate(
        AutoScalingGroupName=name, PaginationConfig={"PageSize": 1}))
    assert [p["Activities"][0]["ActivityId"] for p in pages] == [a["ActivityId"] for a in acts]
    one = c.describe_scaling_activities(ActivityIds=[acts[1]["ActivityId"]])["Activities"]
    assert [a["ActivityId"] for a in one] == [acts[1]["ActivityId"]]
    everyone = c.describe_scaling_activities(MaxRecords=100)["Activities"]
    assert {a["ActivityId"] for a in acts} <= {a["ActivityId"] for a in everyone}
    starts = [a["StartTime"] for a in everyone]
    assert starts == sorted(starts, reverse=True)
    assert c.describe_scaling_activities(AutoScalingGroupName="no-such-group")["Activities"] == []
    expect_error("InvalidNextToken", c.describe_scaling_activities, NextToken="not-ours")
    expect_error("ValidationError", c.describe_scaling_activities, MaxRecords=101)


def test_describe_policies(b):
    c = asc(b)
    name = group(b)
    r = c.describe_policies(AutoScalingGroupName=name)
    assert r["ScalingPolicies"] == [] and "NextToken" not in r
    assert c.describe_policies(PolicyTypes=["TargetTrackingScaling"], MaxRecords=5)["ScalingPolicies"] is not None
    expect_error("InvalidNextToken", c.describe_policies, NextToken="bogus")
    expect_error("ValidationError", c.describe_policies, MaxRecords=101)


def test_delete_group(b):
    c = asc(b)
    name = group(b, desired=2)
    l = describe(b, name)["LaunchConfigurationName"]
    expect_error("ResourceInUse", c.delete_auto_scaling_group, AutoScalingGroupName=name,
                 message="You cannot delete an AutoScalingGroup while there are instances or pending Spot instance request(s) still in the group.")
    ids = [i["InstanceId"] for i in instances(b, name)]
    c.delete_auto_scaling_group(AutoScalingGroupName=name, ForceDelete=True)
    wait_gone(b, name)
    assert c.describe_auto_scaling_instances(InstanceIds=ids)["AutoScalingInstances"] == []
    c.delete_launch_configuration(LaunchConfigurationName=l)
    empty = group(b)
    c.delete_auto_scaling_group(AutoScalingGroupName=empty)
    wait_gone(b, empty)
    expect_error("ValidationError", c.delete_auto_scaling_group, AutoScalingGroupName=empty,
                 message="AutoScalingGroup name not found")
    # the name can be used again
    group(b, name=empty, desired=1)
    assert len(instances(b, empty)) == 1


def test_unimplemented_action_and_protocol(b):
    c = asc(b)
    expect_error("InvalidAction", c.put_scaling_policy, AutoScalingGroupName="x", PolicyName="p",
                 PolicyType="SimpleScaling", AdjustmentType="ChangeInCapacity", ScalingAdjustment=1)
    # an out-of-range value boto3 lets through reaches the validator
    expect_error("ValidationError", c.describe_auto_scaling_groups, MaxRecords=-5,
                 message="Member must have value greater than or equal to 1")


def test_aws_cli(b):
    l, name = uniq("cli-lc"), uniq("cli-asg")
    b.cli("autoscaling", "create-launch-configuration", "--launch-configuration-name", l,
          "--image-id", "ami-1", "--instance-type", "t3.medium")
    b.cli("autoscaling", "create-auto-scaling-group", "--auto-scaling-group-name", name,
          "--launch-configuration-name", l, "--min-size", "0", "--max-size", "4", "--desired-capacity", "2",
          "--availability-zones", "us-east-1a", "us-east-1b",
          "--tags", "Key=env,Value=test,PropagateAtLaunch=true")
    _, out, _ = b.cli("autoscaling", "describe-auto-scaling-groups", "--auto-scaling-group-names", name)
    g = out["AutoScalingGroups"][0]
    assert g["DesiredCapacity"] == 2 and len(g["Instances"]) == 2
    assert g["Tags"][0]["Key"] == "env" and g["Tags"][0]["PropagateAtLaunch"] is True
    b.cli("autoscaling", "set-desired-capacity", "--auto-scaling-group-name", name, "--desired-capacity", "3")
    _, out, _ = b.cli("autoscaling", "describe-auto-scaling-instances")
    mine = [i for i in out["AutoScalingInstances"] if i["AutoScalingGroupName"] == name]
    assert len(mine) == 3 and all(i["InstanceType"] == "t3.medium" for i in mine)
    _, out, _ = b.cli("autoscaling", "describe-scaling-activities", "--auto-scaling-group-name", name)
    assert len(out["Activities"]) == 3
    rc, _, err = b.cli("autoscaling", "delete-auto-scaling-group", "--auto-scaling-group-name", name, check=False)
    assert rc != 0 and "ResourceInUse" in err, err
    b.cli("autoscaling", "delete-auto-scaling-group", "--auto-scaling-group-name", name, "--force-delete")
    wait_gone(b, name)
    _, out, _ = b.cli("autoscaling", "describe-auto-scaling-groups", "--auto-scaling-group-names", name)
    assert out["AutoScalingGroups"] == []
    b.cli("autoscaling", "delete-launch-configuration", "--launch-configuration-name", l)
    rc, _, err = b.cli("autoscaling", "delete-launch-configuration", "--launch-configuration-name", l, check=False)
    assert rc != 0 and "ValidationError" in err and "Launch configuration name not found" in err, err


@berthd_args("--instance-boot-ms", "0")
def test_restart_keeps_everything(b):
    c = asc(b)
    l = lc(b, itype="m6g.large", SecurityGroups=["sg-9"])
    name = group(b, desired=4, zones=ZONES, LaunchConfigurationName=l,
                 Tags=[{"Key": "a", "Value": "1", "PropagateAtLaunch": False}],
                 TargetGroupARNs=["arn:aws:elasticloadbalancing:us-east-1:%s:targetgroup/t/1" % ACCOUNT])
    ids = [i["InstanceId"] for i in instances(b, name)]
    c.set_instance_protection(AutoScalingGroupName=name, InstanceIds=ids[:2], ProtectedFromScaleIn=True)
    c.set_desired_capacity(AutoScalingGroupName=name, DesiredCapacity=3)
    mixed = group(b, desired=1, MixedInstancesPolicy={"LaunchTemplate": {
        "LaunchTemplateSpecification": {"LaunchTemplateName": "lt-r"}, "Overrides": [{"InstanceType": "t3.small"}]}})
    describe(b, name)
    describe(b, mixed)
    before = {
        "groups": c.describe_auto_scaling_groups()["AutoScalingGroups"],
        "lcs": c.describe_launch_configurations()["LaunchConfigurations"],
        "instances": c.describe_auto_scaling_instances()["AutoScalingInstances"],
        "acts": c.describe_scaling_activities()["Activities"],
        "policies": c.describe_policies()["ScalingPolicies"],
    }
    for k in before:
        before[k] = [dict(x) for x in before[k]]
        for x in before[k]:
            x.pop("ResponseMetadata", None)
    b.restart()
    c = asc(b)
    after = {
        "groups": c.describe_auto_scaling_groups()["AutoScalingGroups"],
        "lcs": c.describe_launch_configurations()["LaunchConfigurations"],
        "instances": c.describe_auto_scaling_instances()["AutoScalingInstances"],
        "acts": c.describe_scaling_activities()["Activities"],
        "policies": c.describe_policies()["ScalingPolicies"],
    }
    for k in before:
        assert before[k] == after[k], "%s changed across a restart:\n%r\n%r" % (k, before[k], after[k])
    g = describe(b, name)
    assert len(g["Instances"]) == 3 and g["TargetGroupARNs"]
    assert {i["InstanceId"] for i in g["Instances"] if i["ProtectedFromScaleIn"]} == set(ids[:2])
    # the group logic goes on where it was: ids and launch order survive
    c.set_desired_capacity(AutoScalingGroupName=name, DesiredCapacity=2)
    left = [i["InstanceId"] for i in instances(b, name)]
    assert sorted(left) == sorted(ids[:2])
    c.set_desired_capacity(AutoScalingGroupName=name, DesiredCapacity=5)
    assert len(instances(b, name)) == 5
    assert instances(b, mixed)[0]["InstanceType"] == "t3.small"
    # deletions survive too
    c.delete_auto_scaling_group(AutoScalingGroupName=mixed, ForceDelete=True)
    wait_gone(b, mixed)
    b.restart()
    c = asc(b)
    assert c.describe_auto_scaling_groups(AutoScalingGroupNames=[mixed])["AutoScalingGroups"] == []
    assert len(instances(b, name)) == 5


if __name__ == "__main__":
    main(globals(), shared_args=("--instance-boot-ms", "0"))
