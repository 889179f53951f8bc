"""Capacity providers end to end (ECS-SEMANTICS §3): the built-in FARGATE
providers, CreateCapacityProvider validation and defaults, describe with
pagination, the update and delete state machines of §3.9, the association
rules of §3.8, and persistence across a restart.  Clients are boto3, the AWS
CLI, and raw HTTP where boto3 would refuse a value before sending it."""
import itertools
import json

from harness import main, expect_error, wait_until, fresh, berthd_args, ACCOUNT, REGION

ARN = "arn:aws:ecs:%s:%s:" % (REGION, ACCOUNT)
CP_ARN = ARN + "capacity-provider/"

INVALID_NAME = ("The specified capacity provider name is invalid. Up to 255 characters are allowed, "
                "including letters (upper and lowercase), numbers, underscores, and hyphens. The name "
                "cannot be prefixed with \"aws\", \"ecs\", or \"fargate\". Specify a valid name and try again.")
ALREADY_EXISTS = ("The specified capacity provider already exists. To change the configuration of an "
                  "existing capacity provider, update the capacity provider.")
ASG_IN_USE = ("The specified Auto Scaling group ARN is already being used by another capacity provider. "
              "Specify a unique Auto Scaling group ARN and try again.")
NOT_EXIST = "The specified capacity provider does not exist. Specify a valid name or ARN and try again."
ASSOCIATED = ("The capacity provider cannot be deleted because it is associated with cluster: %s. "
              "Remove the capacity provider from the cluster and try again.")

DEFAULT_SCALING = {"status": "DISABLED", "targetCapacity": 100, "minimumScalingStepSize": 1,
                   "maximumScalingStepSize": 10000, "instanceWarmupPeriod": 300}

_seq = itertools.count(1)


def uniq(prefix="cp"):
    """A name no other test of the shared daemon uses."""
    return "%s-%03d" % (prefix, next(_seq))


def asg_arn(group, uuid="5f4b3c2a-1111-2222-3333-444455556666"):
    return "arn:aws:autoscaling:%s:%s:autoScalingGroup:%s:autoScalingGroupName/%s" % (REGION, ACCOUNT, uuid, group)


def make_group(b, name):
    """An Auto Scaling group without instances (DesiredCapacity 0): a cluster
    that associates a provider with managed scaling or managed draining
    needs its group, or the association fails."""
    asc = b.client("autoscaling")
    if asc.describe_auto_scaling_groups(AutoScalingGroupNames=[name])["AutoScalingGroups"]:
        return name
    asc.create_launch_configuration(LaunchConfigurationName="lc-" + name, ImageId="ami-12345678",
                                    InstanceType="m5.large")
    asc.create_auto_scaling_group(AutoScalingGroupName=name, LaunchConfigurationName="lc-" + name,
                                  MinSize=0, MaxSize=10, DesiredCapacity=0, AvailabilityZones=[REGION + "a"])
    return name


def create(b, name, group=None, **asg):
    asg["autoScalingGroupArn"] = group or asg_arn("asg-" + name)
    return b.ecs.create_capacity_provider(name=name, autoScalingGroupProvider=asg)["capacityProvider"]


def create_real(b, name, **asg):
    """A provider over asg-<name>, a group made first: for providers a
    cluster associates."""
    make_group(b, "asg-" + name)
    return create(b, name, **asg)


def describe(b, ref, include=None):
    kw = {"include": include} if include else {}
    out = b.ecs.describe_capacity_providers(capacityProviders=[ref], **kw)
    assert len(out["capacityProviders"]) == 1, out
    return out["capacityProviders"][0]


def missing(b, ref):
    out = b.ecs.describe_capacity_providers(capacityProviders=[ref])
    return not out["capacityProviders"] and [f["reason"] for f in out["failures"]] == ["MISSING"]


def raw_ok(b, target, body):
    status, _, out = b.raw(target, json.dumps(body))
    assert status == 200, (status, out)
    return out


def raw_error(b, target, body, code, contains=None):
    status, _, out = b.raw(target, json.dumps(body))
    assert status == 400, (status, out)
    assert out["__type"] == code, out
    if contains is not None:
        assert contains in out["message"], out
    return out


def _settled(b, cl):
    """The cluster, once no association change is in progress; else None."""
    c = b.ecs.describe_clusters(clusters=[cl], include=["ATTACHMENTS"])["clusters"][0]
    return c if c["status"] == "ACTIVE" and c.get("attachmentsStatus") != "UPDATE_IN_PROGRESS" else None


def put(b, cl, cps, strategy=()):
    """PutClusterCapacityProviders once the cluster accepts changes again
    (a previous change is UPDATE_IN_PROGRESS until its transition ran)."""
    wait_until(lambda: _settled(b, cl), what="cluster %s settled" % cl)
    return b.ecs.put_cluster_capacity_providers(cluster=cl, capacityProviders=list(cps),
                                                defaultCapacityProviderStrategy=list(strategy))


# ---- FARGATE and FARGATE_SPOT ----

@fresh
def test_fargate_providers_exist_without_being_created(b):
    out = b.ecs.describe_capacity_providers()
    cps = out["capacityProviders"]
    assert [c["name"] for c in cps] == ["FARGATE", "FARGATE_SPOT"], cps
    assert out.get("failures", []) == [] and "nextToken" not in out
    for c in cps:
        assert c["capacityProviderArn"] == CP_ARN + c["name"]
        assert c["status"] == "ACTIVE" and c["type"] == c["name"]
        assert "autoScalingGroupProvider" not in c and "updateStatus" not in c
        assert "tags" not in c
    # by name and by ARN, with tags asked for: always none
    for ref in ("FARGATE", CP_ARN + "FARGATE", "FARGATE_SPOT", CP_ARN + "FARGATE_SPOT"):
        c = describe(b, ref, include=["TAGS"])
        assert c["capacityProviderArn"] == CP_ARN + c["name"] and ref.endswith(c["name"])
        assert c["tags"] == [] and c["status"] == "ACTIVE"
    # still first once user providers exist, even ones sorting before them
    create(b, "AAA")
    create(b, "A0")
    names = [c["name"] for c in b.ecs.describe_capacity_providers()["capacityProviders"]]
    assert names == ["FARGATE", "FARGATE_SPOT", "A0", "AAA"], names


def test_reserved_and_invalid_names_refused(b):
    bad = ["FARGATE", "FARGATE_SPOT", "fargateX", "Fargate-1", "ECSfoo", "ecs", "aws-x", "AwS_y",
           "has space", "dot.name", "slash/name", "x" * 256]
    for name in bad:
        expect_error("ClientException", b.ecs.create_capacity_provider, name=name,
                     autoScalingGroupProvider={"autoScalingGroupArn": asg_arn(uniq("g"))}, message=INVALID_NAME)
    # exact text, not merely contained
    status, _, out = b.raw("CreateCapacityProvider", json.dumps(
        {"name": "ecs-1", "autoScalingGroupProvider": {"autoScalingGroupArn": "g-ecs-1"}}))
    assert (status, out) == (400, {"__type": "ClientException", "message": INVALID_NAME}), out
    # the prefix rule is about prefixes only; 255 characters is the limit
    for name in ("my-fargate", "x_aws", "E", "z" * 255):
        assert create(b, name)["name"] == name
    for name in bad:
        assert missing(b, name) or name.startswith("FARGATE"), name


def test_fargate_cannot_be_updated_or_deleted(b):
    for ref in ("FARGATE", "FARGATE_SPOT", CP_ARN + "FARGATE"):
        expect_error("ClientException", b.ecs.update_capacity_provider, name=ref,
                     autoScalingGroupProvider={"managedDraining": "DISABLED"})
        expect_error("ClientException", b.ecs.delete_capacity_provider, capacityProvider=ref)
    assert describe(b, "FARGATE_SPOT")["status"] == "ACTIVE"


# ---- CreateCapacityProvider ----

def test_create_fills_in_defaults(b):
    name = uniq()
    group = asg_arn("asg-" + name)
    tags = [{"key": "team", "value": "blue"}, {"key": "empty", "value": ""}]
    cp = b.ecs.create_capacity_provider(name=name, autoScalingGroupProvider={"autoScalingGroupArn": group},
                                        tags=tags)["capacityProvider"]
    assert cp["capacityProviderArn"] == CP_ARN + name and cp["name"] == name
    assert cp["status"] == "ACTIVE" and cp["type"] == "EC2_AUTOSCALING"
    assert "updateStatus" not in cp and "updateStatusReason" not in cp
    assert cp["autoScalingGroupProvider"] == {
        "autoScalingGroupArn": group, "managedScaling": DEFAULT_SCALING,
        "managedTerminationProtection": "DISABLED", "managedDraining": "ENABLED"}, cp
    assert cp["tags"] == tags
    d = describe(b, name)
    assert d["autoScalingGroupProvider"] == cp["autoScalingGroupProvider"] and "tags" not in d
    # a partial managedScaling block through the CLI: the rest is filled in
    name2 = uniq()
    _, out, _ = b.cli("ecs", "create-capacity-provider", "--name", name2, "--auto-scaling-group-provider",
                      "autoScalingGroupArn=plain-group-%s,managedScaling={status=ENABLED,targetCapacity=80}" % name2)
    asg = out["capacityProvider"]["autoScalingGroupProvider"]
    assert asg["autoScalingGroupArn"] == "plain-group-" + name2
    assert asg["managedScaling"] == dict(DEFAULT_SCALING, status="ENABLED", targetCapacity=80), asg
    assert out["capacityProvider"]["tags"] == []


def test_create_value_ranges(b):
    ms = "autoScalingGroupProvider.managedScaling."
    # boto3 sends values above the model maximum; the server must refuse them
    for member, value in (("targetCapacity", 101), ("minimumScalingStepSize", 10001),
                          ("maximumScalingStepSize", 10001), ("instanceWarmupPeriod", 10001)):
        name = uniq()
        expect_error("InvalidParameterException", create, b, name, managedScaling={member: value},
                     message=ms + member)
        assert missing(b, name)
    # values below the model minimum never leave boto3: send them raw
    for member, value in (("targetCapacity", 0), ("minimumScalingStepSize", 0),
                          ("maximumScalingStepSize", 0), ("instanceWarmupPeriod", -1)):
        name = uniq()
        raw_error(b, "CreateCapacityProvider",
                  {"name": name, "autoScalingGroupProvider": {"autoScalingGroupArn": "g-" + name,
                                                              "managedScaling": {member: value}}},
                  "InvalidParameterException", ms + member)
        assert missing(b, name)
    # the bounds themselves are fine
    for scaling in ({"targetCapacity": 1, "minimumScalingStepSize": 1, "maximumScalingStepSize": 1,
                     "instanceWarmupPeriod": 0},
                    {"targetCapacity": 100, "minimumScalingStepSize": 10000, "maximumScalingStepSize": 10000,
                     "instanceWarmupPeriod": 10000}):
        cp = create(b, uniq(), managedScaling=dict(scaling, status="ENABLED"))
        assert cp["autoScalingGroupProvider"]["managedScaling"] == dict(scaling, status="ENABLED")


def test_create_consistency_rules(b):
    name = uniq()
    e = expect_error("ClientException", create, b, name,
                     managedScaling={"minimumScalingStepSize": 20, "maximumScalingStepSize": 10})
    assert "minimum scaling step size" in e.response["Error"]["Message"]
    # against the default maximum too
    expect_error("ClientException", create, b, name, managedScaling={"maximumScalingStepSize": 5,
                                                                     "minimumScalingStepSize": 6})
    # termination protection needs managed scaling, given DISABLED or left out
    for scaling in ({"status": "DISABLED"}, None):
        kw = {"managedTerminationProtection": "ENABLED"}
        if scaling:
            kw["managedScaling"] = scaling
        e = expect_error("ClientException", create, b, name, **kw)
        assert "managed termination protection" in e.response["Error"]["Message"], e
    assert missing(b, name)
    cp = create(b, name, managedScaling={"status": "ENABLED", "minimumScalingStepSize": 7,
                                         "maximumScalingStepSize": 7},
                managedTerminationProtection="ENABLED", managedDraining="DISABLED")
    asg = cp["autoScalingGroupProvider"]
    assert asg["managedTerminationProtection"] == "ENABLED" and asg["managedDraining"] == "DISABLED"
    assert asg["managedScaling"]["minimumScalingStepSize"] == 7


def test_create_duplicate_name(b):
    name = uniq()
    create(b, name)
    for group in (asg_arn("asg-" + name), asg_arn(uniq("other"))):
        expect_error("ClientException", create, b, name, group=group, message=ALREADY_EXISTS)
    # the original is untouched
    assert describe(b, name)["autoScalingGroupProvider"]["autoScalingGroupArn"] == asg_arn("asg-" + name)


def test_one_provider_per_auto_scaling_group(b):
    group = uniq("grp")
    # a plain group name is accepted and echoed as given
    first = create(b, uniq(), group=group)
    assert first["autoScalingGroupProvider"]["autoScalingGroupArn"] == group
    # the same group as an ARN (any ARN id) or again as a name is taken
    for ref in (group, asg_arn(group), asg_arn(group, uuid="0000aaaa-0000-0000-0000-000000000000")):
        expect_error("ClientException", create, b, uniq(), group=ref, message=ASG_IN_USE)
    # and the other way round: ARN first, then the plain name
    group2 = uniq("grp")
    create(b, uniq(), group=asg_arn(group2))
    expect_error("ClientException", create, b, uniq(), group=group2, message=ASG_IN_USE)
    expect_error("ClientException", create, b, uniq(), group=asg_arn(group2, uuid="1-2-3"), message=ASG_IN_USE)
    # a group whose name merely starts the same is another group
    create(b, uniq(), group=group + "-b")


# ---- DescribeCapacityProviders ----

def test_describe_names_arns_and_missing(b):
    a, c = uniq(), uniq()
    create(b, a)
    create(b, c)
    gone_name, gone_arn = uniq("nope"), CP_ARN + uniq("nope")
    other_region = "arn:aws:ecs:eu-west-1:%s:capacity-provider/%s" % (ACCOUNT, a)
    deeper = CP_ARN + "x/" + a
    out = b.ecs.describe_capacity_providers(
        capacityProviders=[a, CP_ARN + c, gone_name, "FARGATE", gone_arn, other_region, deeper])
    assert [x["name"] for x in out["capacityProviders"]] == [a, c, "FARGATE"], out
    assert out["failures"] == [
        {"arn": CP_ARN + gone_name, "reason": "MISSING"},
        {"arn": gone_arn, "reason": "MISSING"},
        {"arn": other_region, "reason": "MISSING"},
        {"arn": deeper, "reason": "MISSING"}], out["failures"]
    assert "nextToken" not in out


def test_describe_include_tags(b):
    name = uniq()
    tags = [{"key": "k1", "value": "v1"}, {"key": "k2", "value": ""}]
    b.ecs.create_capacity_provider(name=name, autoScalingGroupProvider={"autoScalingGroupArn": "g-" + name},
                                   tags=tags)
    bare = uniq()
    create(b, bare)
    assert "tags" not in describe(b, name)
    assert describe(b, name, include=["TAGS"])["tags"] == tags
    assert describe(b, bare, include=["TAGS"])["tags"] == []
    # with no names too
    out = b.ecs.describe_capacity_providers(include=["TAGS"], maxResults=10)
    assert all("tags" in x for x in out["capacityProviders"])
    out = b.ecs.describe_capacity_providers(maxResults=10)
    assert all("tags" not in x for x in out["capacityProviders"])


@fresh
def test_describe_pagination(b):
    names = ["cp-%02d" % i for i in (7, 3, 12, 1, 9, 0, 11, 5, 2, 10, 4, 8, 6)]
    for n in names:
        create(b, n)
    expected = ["FARGATE", "FARGATE_SPOT"] + sorted(names)
    assert len(expected) == 15
    for size in range(1, 11):
        seen, token, pages = [], None, 0
        while True:
            kw = {"maxResults": size}
            if token:
                kw["nextToken"] = token
            out = b.ecs.describe_capacity_providers(**kw)
            page = [c["name"] for c in out["capacityProviders"]]
            pages += 1
            token = out.get("nextToken")
            if token:
                assert len(page) == size, (size, page)
            else:
                assert 1 <= len(page) <= size, (size, page)
            seen += page
            assert pages <= 15
            if not token:
                break
        assert seen == expected, (size, seen)
        assert pages == -(-15 // size), (size, pages)
    # without maxResults: pages of 10
    out = b.ecs.describe_capacity_providers()
    assert len(out["capacityProviders"]) == 10 and out.get("nextToken")
    rest = b.ecs.describe_capacity_providers(nextToken=out["nextToken"])
    assert [c["name"] for c in rest["capacityProviders"]] == expected[10:] and "nextToken" not in rest
    # maxResults bounds, bad tokens
    for bad in (0, 11, -1):
        expect_error("InvalidParameterException", b.ecs.describe_capacity_providers, maxResults=bad)
    for tok in ("garbage", "00", "zz" * 8, out["nextToken"][:-1]):
        expect_error("InvalidParameterException", b.ecs.describe_capacity_providers, nextToken=tok,
                     maxResults=5)
    # a list of names is paged too when maxResults is given
    ask = ["cp-05", "FARGATE_SPOT", "nope", CP_ARN + "cp-01", "cp-09"]
    got, failed, token, pages = [], [], None, 0
    while True:
        kw = {"capacityProviders": ask, "maxResults": 2}
        if token:
            kw["nextToken"] = token
        out = b.ecs.describe_capacity_providers(**kw)
        assert len(out["capacityProviders"]) + len(out["failures"]) <= 2, out
        got += [c["name"] for c in out["capacityProviders"]]
        failed += [f["arn"] for f in out["failures"]]
        pages += 1
        token = out.get("nextToken")
        if not token:
            break
    assert got == ["cp-05", "FARGATE_SPOT", "cp-01", "cp-09"] and failed == [CP_ARN + "nope"], (got, failed)
    assert pages == 3


def test_describe_many_names(b):
    many = ["n%d" % i for i in range(101)]
    expect_error("InvalidParameterException", b.ecs.describe_capacity_providers, capacityProviders=many)
    out = b.ecs.describe_capacity_providers(capacityProviders=many[:100])
    assert len(out["failures"]) == 100 and out["capacityProviders"] == []


# ---- UpdateCapacityProvider ----

@berthd_args("--transition-ms", "2000")
def test_update_answers_old_values_then_applies(b):
    name = "upd"
    before = create(b, name, managedScaling={"status": "ENABLED", "targetCapacity": 90},
                    managedTerminationProtection="ENABLED")["autoScalingGroupProvider"]
    ans = b.ecs.update_capacity_provider(name=name, autoScalingGroupProvider={
        "managedScaling": {"targetCapacity": 50, "instanceWarmupPeriod": 60},
        "managedDraining": "DISABLED"})["capacityProvider"]
    assert ans["updateStatus"] == "UPDATE_IN_PROGRESS" and ans["status"] == "ACTIVE", ans
    assert ans["autoScalingGroupProvider"] == before, ans
    now = describe(b, name)
    assert now["updateStatus"] == "UPDATE_IN_PROGRESS" and now["autoScalingGroupProvider"] == before
    # a second update while the first runs
    expect_error("UpdateInProgressException", b.ecs.update_capacity_provider, name=CP_ARN + name,
                 autoScalingGroupProvider={"managedDraining": "ENABLED"})
    done = wait_until(lambda: (lambda c: c if c.get("updateStatus") == "UPDATE_COMPLETE" else None)(
        describe(b, name)), timeout=10, what="UPDATE_COMPLETE")
    after = done["autoScalingGroupProvider"]
    assert after == dict(before, managedDraining="DISABLED",
                         managedScaling=dict(before["managedScaling"], targetCapacity=50,
                                             instanceWarmupPeriod=60)), after
    assert done["status"] == "ACTIVE" and "updateStatusReason" not in done
    # and now a new update is accepted
    ans = b.ecs.update_capacity_provider(name=name, autoScalingGroupProvider={"managedDraining": "ENABLED"})
    assert ans["capacityProvider"]["autoScalingGroupProvider"]["managedDraining"] == "DISABLED"


def test_update_omitted_fields_keep_values(b):
    name = uniq()
    create(b, name, managedScaling={"status": "ENABLED", "targetCapacity": 70, "minimumScalingStepSize": 2,
                                    "maximumScalingStepSize": 20, "instanceWarmupPeriod": 30},
           managedTerminationProtection="ENABLED", managedDraining="DISABLED")
    start = describe(b, name)["autoScalingGroupProvider"]

    def settle():
        return wait_until(lambda: describe(b, name).get("updateStatus") == "UPDATE_COMPLETE" and describe(b, name),
                          what="UPDATE_COMPLETE")["autoScalingGroupProvider"]

    b.ecs.update_capacity_provider(name=name, autoScalingGroupProvider={"managedScaling": {"targetCapacity": 40}})
    cur = settle()
    assert cur == dict(start, managedScaling=dict(start["managedScaling"], targetCapacity=40)), cur
    # an update naming nothing changes nothing
    b.ecs.update_capacity_provider(name=name, autoScalingGroupProvider={})
    assert settle() == cur
    b.cli("ecs", "update-capacity-provider", "--name", CP_ARN + name, "--auto-scaling-group-provider",
          "managedDraining=ENABLED")
    cur2 = settle()
    assert cur2 == dict(cur, managedDraining="ENABLED"), cur2


def test_update_refusals(b):
    expect_error("ClientException", b.ecs.update_capacity_provider, name=uniq("nope"),
                 autoScalingGroupProvider={"managedDraining": "DISABLED"}, message=NOT_EXIST)
    expect_error("ClientException", b.ecs.update_capacity_provider, name=CP_ARN + uniq("nope"),
                 autoScalingGroupProvider={"managedDraining": "DISABLED"}, message=NOT_EXIST)
    name = uniq()
    create(b, name, managedScaling={"status": "ENABLED", "maximumScalingStepSize": 10},
           managedTerminationProtection="ENABLED")
    before = describe(b, name)
    expect_error("InvalidParameterException", b.ecs.update_capacity_provider, name=name,
                 autoScalingGroupProvider={"managedScaling": {"targetCapacity": 101}}, message="targetCapacity")
    raw_error(b, "UpdateCapacityProvider",
              {"name": name, "autoScalingGroupProvider": {"managedScaling": {"minimumScalingStepSize": 0}}},
              "InvalidParameterException", "minimumScalingStepSize")
    # the minimum against the stored maximum
    expect_error("ClientException", b.ecs.update_capacity_provider, name=name,
                 autoScalingGroupProvider={"managedScaling": {"minimumScalingStepSize": 11}})
    # turning managed scaling off while termination protection stays on
    expect_error("ClientException", b.ecs.update_capacity_provider, name=name,
                 autoScalingGroupProvider={"managedScaling": {"status": "DISABLED"}})
    assert describe(b, name) == before, "a refused update changed the provider"
    # both together is fine
    b.ecs.update_capacity_provider(name=name, autoScalingGroupProvider={
        "managedScaling": {"status": "DISABLED"}, "managedTerminationProtection": "DISABLED"})
    wait_until(lambda: describe(b, name)["autoScalingGroupProvider"]["managedScaling"]["status"] == "DISABLED",
               what="managed scaling off")


# ---- DeleteCapacityProvider ----

@berthd_args("--transition-ms", "2000")
def test_delete_free_provider_lifecycle(b):
    name = "gone"
    create(b, name, group="grp-gone")
    b.ecs.create_cluster(clusterName="c1")
    ans = b.ecs.delete_capacity_provider(capacityProvider=CP_ARN + name)["capacityProvider"]
    assert ans["status"] == "ACTIVE" and ans["updateStatus"] == "DELETE_IN_PROGRESS", ans
    assert "updateStatusReason" not in ans
    # while it is going it cannot be associated or updated (checked at once:
    # the transition takes 2 s)
    expect_error("InvalidParameterException", b.ecs.put_cluster_capacity_providers, cluster="c1",
                 capacityProviders=[name], defaultCapacityProviderStrategy=[],
                 message="The specified capacity provider '%s' is not in an ACTIVE state." % name)
    expect_error("ClientException", b.ecs.update_capacity_provider, name=name,
                 autoScalingGroupProvider={"managedDraining": "DISABLED"})
    assert describe(b, name)["updateStatus"] == "DELETE_IN_PROGRESS"
    # it goes straight from ACTIVE to INACTIVE (Terraform's deletion waiter
    # knows no other state)
    seen = wait_until(lambda: describe(b, name)["status"] != "ACTIVE" and describe(b, name), timeout=10,
                      what="leaving ACTIVE")
    assert seen["status"] == "INACTIVE", seen
    # its name and group stay taken
    expect_error("ClientException", create, b, name, group="grp-other", message=ALREADY_EXISTS)
    expect_error("ClientException", create, b, "other", group="grp-gone", message=ASG_IN_USE)
    end = describe(b, name)
    assert end["updateStatus"] == "DELETE_COMPLETE", end
    assert end["autoScalingGroupProvider"]["autoScalingGroupArn"] == "grp-gone"
    # still listed, deleting again answers it unchanged, updating it says it does not exist
    assert name in [c["name"] for c in b.ecs.describe_capacity_providers()["capacityProviders"]]
    again = b.ecs.delete_capacity_provider(capacityProvider=name)["capacityProvider"]
    assert again["status"] == "INACTIVE" and again["updateStatus"] == "DELETE_COMPLETE"
    expect_error("ClientException", b.ecs.update_capacity_provider, name=name,
                 autoScalingGroupProvider={"managedDraining": "DISABLED"}, message=NOT_EXIST)
    expect_error("InvalidParameterException", b.ecs.put_cluster_capacity_providers, cluster="c1",
                 capacityProviders=[name], defaultCapacityProviderStrategy=[])
    # an INACTIVE provider still holds its name and its group until purged
    expect_error("ClientException", create, b, name, group="grp-other", message=ALREADY_EXISTS)
    expect_error("ClientException", create, b, "other", group=asg_arn("grp-gone"), message=ASG_IN_USE)


@berthd_args("--cp-retention-s", "1")
def test_inactive_provider_purged_after_retention(b):
    create(b, "brief", group="grp-brief")
    b.ecs.delete_capacity_provider(capacityProvider="brief")
    wait_until(lambda: missing(b, "brief"), timeout=10, what="purge")
    assert "brief" not in [c["name"] for c in b.ecs.describe_capacity_providers()["capacityProviders"]]
    expect_error("ClientException", b.ecs.delete_capacity_provider, capacityProvider="brief", message=NOT_EXIST)
    # name and group are free again
    cp = create(b, "brief", group="grp-brief")
    assert cp["status"] == "ACTIVE" and "updateStatus" not in cp


def test_delete_associated_provider_fails_until_removed(b):
    name, cl = uniq(), uniq("cl")
    create_real(b, name)
    b.ecs.create_cluster(clusterName=cl)
    put(b, cl, ["FARGATE", name])
    reason = ASSOCIATED % cl
    for ref in (name, CP_ARN + name):
        ans = b.ecs.delete_capacity_provider(capacityProvider=ref)["capacityProvider"]
        assert ans["status"] == "ACTIVE" and ans["updateStatus"] == "DELETE_FAILED", ans
        assert ans["updateStatusReason"] == reason, ans
    d = describe(b, name)
    assert (d["status"], d["updateStatus"], d["updateStatusReason"]) == ("ACTIVE", "DELETE_FAILED", reason)
    # the failed delete leaves it usable
    put(b, cl, [name], [{"capacityProvider": name, "weight": 1}])
    # through the CLI as well
    _, out, _ = b.cli("ecs", "delete-capacity-provider", "--capacity-provider", name)
    assert out["capacityProvider"]["updateStatus"] == "DELETE_FAILED"
    put(b, cl, [])
    ans = b.ecs.delete_capacity_provider(capacityProvider=name)["capacityProvider"]
    assert ans["status"] == "ACTIVE" and ans["updateStatus"] == "DELETE_IN_PROGRESS", ans
    assert "updateStatusReason" not in ans, ans
    end = wait_until(lambda: describe(b, name)["status"] == "INACTIVE" and describe(b, name), what="INACTIVE")
    assert end["updateStatus"] == "DELETE_COMPLETE" and "updateStatusReason" not in end


def test_provider_of_deleted_cluster_can_be_deleted(b):
    name, cl = uniq(), uniq("cl")
    create_real(b, name)
    b.ecs.create_cluster(clusterName=cl, capacityProviders=[name])
    assert b.ecs.delete_capacity_provider(capacityProvider=name)["capacityProvider"]["updateStatus"] == "DELETE_FAILED"
    wait_until(lambda: _settled(b, cl), what="cluster settled")
    b.ecs.delete_cluster(cluster=cl)
    ans = b.ecs.delete_capacity_provider(capacityProvider=name)["capacityProvider"]
    assert ans["updateStatus"] == "DELETE_IN_PROGRESS" and "updateStatusReason" not in ans, ans


def test_delete_unknown(b):
    for ref in (uniq("nope"), CP_ARN + uniq("nope")):
        expect_error("ClientException", b.ecs.delete_capacity_provider, capacityProvider=ref, message=NOT_EXIST)


# ---- association rules (§3.8) ----

def test_managed_scaling_provider_on_one_cluster_only(b):
    managed, shared = uniq("ms"), uniq("sh")
    create_real(b, managed, managedScaling={"status": "ENABLED"})
    create_real(b, shared)
    c1, c2, c3 = uniq("cl"), uniq("cl"), uniq("cl")
    b.ecs.create_cluster(clusterName=c1, capacityProviders=[managed, shared])
    b.ecs.create_cluster(clusterName=c2, capacityProviders=[shared])
    wait_until(lambda: _settled(b, c1) and _settled(b, c2), what="clusters ACTIVE")
    # the managed one cannot join a second cluster, by either API
    expect_error("InvalidParameterException", b.ecs.put_cluster_capacity_providers, cluster=c2,
                 capacityProviders=[shared, managed], defaultCapacityProviderStrategy=[], message=managed)
    expect_error("InvalidParameterException", b.ecs.create_cluster, clusterName=c3, capacityProviders=[managed])
    assert b.ecs.describe_clusters(clusters=[c3])["failures"][0]["reason"] == "MISSING"
    # re-putting it on its own cluster is fine
    put(b, c1, [managed, shared])
    wait_until(lambda: _settled(b, c1), what="c1 settled")
    # once its cluster is deleted, it may go elsewhere
    b.ecs.delete_cluster(cluster=c1)
    put(b, c2, [shared, managed])
    assert sorted(b.ecs.describe_clusters(clusters=[c2])["clusters"][0]["capacityProviders"]) == sorted([shared, managed])


def test_enabling_managed_scaling_on_a_shared_provider_refused(b):
    """A provider on two clusters cannot have managed scaling turned on:
    that would break the one-cluster rule of §3.8 behind the clusters' back."""
    shared, single = uniq("sh"), uniq("one")
    create_real(b, shared)
    create_real(b, single)
    c1, c2 = uniq("cl"), uniq("cl")
    b.ecs.create_cluster(clusterName=c1, capacityProviders=[shared, single])
    b.ecs.create_cluster(clusterName=c2, capacityProviders=[shared])
    e = expect_error("InvalidParameterException", b.ecs.update_capacity_provider, name=shared,
                     autoScalingGroupProvider={"managedScaling": {"status": "ENABLED"}})
    assert c1 in e.response["Error"]["Message"] and c2 in e.response["Error"]["Message"], e
    assert "updateStatus" not in describe(b, shared)
    # other settings of a shared provider may change
    b.ecs.update_capacity_provider(name=shared, autoScalingGroupProvider={"managedDraining": "DISABLED"})
    # on one cluster only: allowed
    ans = b.ecs.update_capacity_provider(name=single, autoScalingGroupProvider={"managedScaling": {"status": "ENABLED"}})
    assert ans["capacityProvider"]["updateStatus"] == "UPDATE_IN_PROGRESS"
    wait_until(lambda: describe(b, single)["autoScalingGroupProvider"]["managedScaling"]["status"] == "ENABLED",
               what="managed scaling on")
    # and from then on it is held to one cluster
    wait_until(lambda: _settled(b, c2), what="c2 settled")
    expect_error("InvalidParameterException", b.ecs.put_cluster_capacity_providers, cluster=c2,
                 capacityProviders=[shared, single], defaultCapacityProviderStrategy=[], message=single)


@berthd_args("--transition-ms", "2000")
@berthd_args("--transition-ms", "3000")
def test_pending_enable_counts_against_sharing(b):
    """An update turning managed scaling on counts as soon as it is accepted:
    while it is pending the provider cannot join a second cluster, so a
    managed provider never ends up on two clusters."""
    create_real(b, "p")
    b.ecs.create_cluster(clusterName="one", capacityProviders=["p"])
    b.ecs.create_cluster(clusterName="two")
    ans = b.ecs.update_capacity_provider(name="p", autoScalingGroupProvider={"managedScaling": {"status": "ENABLED"}})
    assert ans["capacityProvider"]["updateStatus"] == "UPDATE_IN_PROGRESS"
    expect_error("InvalidParameterException", b.ecs.put_cluster_capacity_providers, cluster="two",
                 capacityProviders=["p"], defaultCapacityProviderStrategy=[],
                 message="already associated with cluster 'one'")
    expect_error("InvalidParameterException", b.ecs.create_cluster, clusterName="three", capacityProviders=["p"],
                 message="already associated with cluster 'one'")
    d = wait_until(lambda: describe(b, "p").get("updateStatus") == "UPDATE_COMPLETE" and describe(b, "p"),
                   timeout=10, what="update finished")
    assert d["autoScalingGroupProvider"]["managedScaling"]["status"] == "ENABLED"
    two = b.ecs.describe_clusters(clusters=["two"])["clusters"][0]
    assert two["capacityProviders"] == []


def test_associated_provider_attachments_follow_settings(b):
    """Associating providers gives the cluster one as_policy attachment per
    provider with managed scaling and one managed_draining per provider with
    managed draining (§2.4)."""
    ms, plain = uniq("ms"), uniq("pl")
    create_real(b, ms, managedScaling={"status": "ENABLED"})
    create_real(b, plain, managedDraining="DISABLED")
    cl = uniq("cl")
    b.ecs.create_cluster(clusterName=cl, capacityProviders=[ms, plain])
    c = wait_until(lambda: _settled(b, cl), what="cluster settled")
    kinds = sorted((a["type"], {d["name"]: d["value"] for d in a["details"]}["capacityProviderName"])
                   for a in c["attachments"])
    assert kinds == [("as_policy", ms), ("managed_draining", ms)], kinds


def test_enabling_managed_scaling_adds_as_policy_attachment(b):
    """ECS creates the scaling policy when managed scaling is turned on for a
    provider that is already associated, and removes it when it is turned
    off."""
    name, cl = uniq(), uniq("cl")
    create_real(b, name, managedDraining="DISABLED")
    b.ecs.create_cluster(clusterName=cl, capacityProviders=[name])
    assert wait_until(lambda: _settled(b, cl), what="settled")["attachments"] == []
    b.ecs.update_capacity_provider(name=name, autoScalingGroupProvider={"managedScaling": {"status": "ENABLED"}})
    wait_until(lambda: describe(b, name).get("updateStatus") == "UPDATE_COMPLETE", what="update")
    c = wait_until(lambda: _settled(b, cl) if _settled(b, cl)["attachments"] else None, timeout=5,
                   what="as_policy attachment")
    assert [a["type"] for a in c["attachments"]] == ["as_policy"], c["attachments"]
    asc = b.client("autoscaling")
    pols = asc.describe_policies(AutoScalingGroupName="asg-" + name)["ScalingPolicies"]
    assert [p["PolicyType"] for p in pols] == ["TargetTrackingScaling"], pols
    b.ecs.update_capacity_provider(name=name, autoScalingGroupProvider={"managedScaling": {"status": "DISABLED"}})
    wait_until(lambda: (_settled(b, cl) or {}).get("attachments") == [], timeout=5, what="as_policy removed")
    assert asc.describe_policies(AutoScalingGroupName="asg-" + name)["ScalingPolicies"] == []


# ---- persistence ----

@berthd_args("--transition-ms", "4000")
def test_state_survives_restart(b):
    b.ecs.create_capacity_provider(name="keep", autoScalingGroupProvider={"autoScalingGroupArn": "grp-keep"},
                                   tags=[{"key": "a", "value": "1"}, {"key": "ü b", "value": "ç"}])
    create_real(b, "pending", managedScaling={"status": "ENABLED", "targetCapacity": 90})
    create_real(b, "failed")
    create(b, "deleting", group=asg_arn("grp-deleting"))
    b.ecs.create_cluster(clusterName="holder")
    put(b, "holder", ["failed"])
    b.ecs.delete_capacity_provider(capacityProvider="failed")
    b.ecs.update_capacity_provider(name="pending", autoScalingGroupProvider={
        "managedScaling": {"targetCapacity": 55}, "managedDraining": "DISABLED"})
    b.ecs.delete_capacity_provider(capacityProvider="deleting")

    def snapshot():
        return b.ecs.describe_capacity_providers(include=["TAGS"], maxResults=10)["capacityProviders"]

    before = snapshot()
    by = {c["name"]: c for c in before}
    assert by["pending"]["updateStatus"] == "UPDATE_IN_PROGRESS"
    assert by["failed"]["updateStatus"] == "DELETE_FAILED"
    assert by["deleting"]["updateStatus"] == "DELETE_IN_PROGRESS" and by["deleting"]["status"] == "ACTIVE"
    b.restart()
    assert snapshot() == before
    # rules that depend on stored state still hold
    expect_error("ClientException", create, b, "again", group="grp-keep", message=ASG_IN_USE)
    expect_error("UpdateInProgressException", b.ecs.update_capacity_provider, name="pending",
                 autoScalingGroupProvider={"managedDraining": "ENABLED"})
    # the pending update was kept, and completes after the restart
    done = wait_until(lambda: describe(b, "pending").get("updateStatus") == "UPDATE_COMPLETE" and
                      describe(b, "pending"), timeout=15, what="pending update applied")
    asg = done["autoScalingGroupProvider"]
    assert asg["managedScaling"]["targetCapacity"] == 55 and asg["managedDraining"] == "DISABLED", asg
    assert asg["managedScaling"]["status"] == "ENABLED"
    wait_until(lambda: describe(b, "deleting")["status"] == "INACTIVE", timeout=15, what="deleted")
    b.restart()
    d = describe(b, "deleting")
    assert (d["status"], d["updateStatus"]) == ("INACTIVE", "DELETE_COMPLETE")
    assert describe(b, "pending", include=["TAGS"]) == done | {"tags": []}


if __name__ == "__main__":
    main(globals())
