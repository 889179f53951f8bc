"""Clusters end to end (ECS-SEMANTICS §2, tags §9): CreateCluster,
DescribeClusters, ListClusters, DeleteCluster, UpdateCluster,
UpdateClusterSettings, PutClusterCapacityProviders and region scoping,
through boto3, the AWS CLI and raw HTTP against a real berthd."""
import json
import re

from harness import ACCOUNT, REGION, expect_error, main, wait_until, fresh, berthd_args

ARN = "arn:aws:ecs:%s:%s:cluster/%%s" % (REGION, ACCOUNT)

INACTIVE_MSG = "The specified cluster is inactive. Specify an active cluster and try again."
INCONSISTENT_MSG = ("Arguments on this idempotent request are inconsistent with arguments used in "
                    "previous request(s).")
NOT_ASSOCIATED_MSG = (
    "The specified capacity provider strategy cannot contain a capacity provider that is not "
    "associated with the cluster. Associate the capacity provider with the cluster or specify a "
    "valid capacity provider and try again.")
MIX_MSG = ("A capacity provider strategy cannot contain a mix of capacity providers using Auto "
           "Scaling groups and Fargate providers. Specify one or the other and try again.")
CP_NOT_FOUND_MSG = ("The specified capacity provider was not found. Specify a valid capacity "
                    "provider and try again.")
BUSY_MSG = "The specified cluster is in a busy state."
STAT_NAMES = [
    "runningEC2TasksCount", "runningFargateTasksCount", "pendingEC2TasksCount",
    "pendingFargateTasksCount", "activeEC2ServiceCount", "activeFargateServiceCount",
    "drainingEC2ServiceCount", "drainingFargateServiceCount",
]
ALL_INCLUDES = ["ATTACHMENTS", "CONFIGURATIONS", "SETTINGS", "STATISTICS", "TAGS"]


def asg_arn(name, region=REGION):
    return ("arn:aws:autoscaling:%s:%s:autoScalingGroup:uuid:autoScalingGroupName/%s"
            % (region, ACCOUNT, name))


def make_group(b, name, region=REGION, max_size=10):
    """An Auto Scaling group without instances (DesiredCapacity 0) over a
    launch configuration of the same name."""
    asc = b.client("autoscaling", region=region)
    asc.create_launch_configuration(LaunchConfigurationName="lc-" + name, ImageId="ami-12345678",
                                    InstanceType="m5.large")
    asc.create_auto_scaling_group(AutoScalingGroupName=name, LaunchConfigurationName="lc-" + name,
                                  MinSize=0, MaxSize=max_size, DesiredCapacity=0,
                                  AvailabilityZones=[region + "a"])
    return name


def make_cp(b, name, managed=True, draining=None, ecs=None):
    """An Auto Scaling group provider over the group asg-<name>, made first:
    a cluster that associates a provider with managed scaling or managed
    draining needs its group (ECS puts its scaling policy on it)."""
    make_group(b, "asg-" + name, region=(ecs or b.ecs).meta.region_name)
    p = {"autoScalingGroupArn": asg_arn("asg-" + name),
         "managedScaling": {"status": "ENABLED" if managed else "DISABLED"}}
    if draining is not None:
        p["managedDraining"] = draining
    cp = (ecs or b.ecs).create_capacity_provider(name=name, autoScalingGroupProvider=p)["capacityProvider"]
    assert cp["status"] == "ACTIVE", cp
    return cp


def describe(b, name, include=(), ecs=None):
    out = (ecs or b.ecs).describe_clusters(clusters=[name], include=list(include))
    assert len(out["clusters"]) == 1, out
    return out["clusters"][0]


def policies(b, group, region=REGION):
    return b.client("autoscaling", region=region).describe_policies(
        AutoScalingGroupName=group)["ScalingPolicies"]


def failures(b, names, ecs=None):
    out = (ecs or b.ecs).describe_clusters(clusters=names)
    return out["failures"]


def wait_status(b, name, status, ecs=None, timeout=10):
    return wait_until(lambda: (lambda c: c if c["status"] == status else None)(
        describe(b, name, ["ATTACHMENTS"], ecs)), timeout=timeout, what="%s %s" % (name, status))


def listed(b, ecs=None):
    arns = []
    for page in (ecs or b.ecs).get_paginator("list_clusters").paginate():
        arns += page["clusterArns"]
    return arns


# ---- CreateCluster ----

@fresh
def test_create_without_name_is_default(b):
    # Fresh daemon: nothing there, DescribeClusters without names asks for "default".
    out = b.ecs.describe_clusters()
    assert out["clusters"] == []
    assert out["failures"] == [{"arn": ARN % "default", "reason": "MISSING"}]
    rc, out, err = b.cli("ecs", "create-cluster")
    assert rc == 0, err
    c = out["cluster"]
    assert c["clusterName"] == "default"
    assert c["clusterArn"] == ARN % "default"
    assert c["status"] == "ACTIVE"
    for k in ("registeredContainerInstancesCount", "runningTasksCount", "pendingTasksCount",
              "activeServicesCount"):
        assert c[k] == 0, (k, c)
    assert c["settings"] == [{"name": "containerInsights", "value": "disabled"}]
    assert c["tags"] == [] and c["capacityProviders"] == [] and c["defaultCapacityProviderStrategy"] == []
    assert c["statistics"] == []
    got = b.ecs.describe_clusters()
    assert [x["clusterName"] for x in got["clusters"]] == ["default"] and got["failures"] == []
    # Same (empty) arguments again: the same cluster, not an error.
    again = b.ecs.create_cluster(clusterName="default")["cluster"]
    assert again["clusterArn"] == c["clusterArn"] and again["status"] == "ACTIVE"


def test_create_name_validation(b):
    ok = "N" * 255
    c = b.ecs.create_cluster(clusterName=ok)["cluster"]
    assert c["clusterName"] == ok and c["clusterArn"] == ARN % ok
    bad = ["N" * 256, "has space", "dot.ted", "sla/sh", "colon:x", "uml\u00e4ut", "star*"]
    for name in bad:
        expect_error("InvalidParameterException", b.ecs.create_cluster, clusterName=name,
                     message="The specified cluster name is invalid.")
    assert [f["reason"] for f in failures(b, bad)] == ["MISSING"] * len(bad)


def test_create_tags(b):
    tags = [{"key": "team", "value": "core"}, {"key": "k:/=+-@._ x", "value": ""},
            {"key": "\u043a\u043b\u044e\u0447", "value": "\u0437\u043d\u0430\u0447\u0435\u043d\u0438\u0435"}]
    c = b.ecs.create_cluster(clusterName="tagged", tags=tags)["cluster"]
    assert sorted(c["tags"], key=lambda t: t["key"]) == sorted(tags, key=lambda t: t["key"])
    assert "tags" not in describe(b, "tagged")
    assert sorted(describe(b, "tagged", ["TAGS"])["tags"], key=lambda t: t["key"]) == \
        sorted(tags, key=lambda t: t["key"])
    listed_tags = b.ecs.list_tags_for_resource(resourceArn=ARN % "tagged")["tags"]
    assert sorted(listed_tags, key=lambda t: t["key"]) == sorted(tags, key=lambda t: t["key"])

    fifty = [{"key": "k%02d" % i, "value": "v"} for i in range(50)]
    assert len(b.ecs.create_cluster(clusterName="fifty", tags=fifty)["cluster"]["tags"]) == 50
    longest = [{"key": "k" * 128, "value": "v" * 256}]
    assert b.ecs.create_cluster(clusterName="longtag", tags=longest)["cluster"]["tags"] == longest

    cases = [
        ([{"key": "k%02d" % i, "value": "v"} for i in range(51)], "tags"),
        ([{"key": "k" * 129, "value": "v"}], "tags[0].key"),
        ([{"key": "k", "value": "v" * 257}], "tags[0].value"),
        ([{"key": "aws:owner", "value": "x"}], "aws:"),
        ([{"key": "AWS:owner", "value": "x"}], "aws:"),
        ([{"key": "owner", "value": "aws:x"}], "aws:"),
        ([{"key": "a*b", "value": "x"}], "a*b"),
        ([{"key": "ok", "value": "semi;colon"}], "ok"),
        ([{"key": "new\nline", "value": "x"}], None),
    ]
    for i, (t, needle) in enumerate(cases):
        expect_error("InvalidParameterException", b.ecs.create_cluster, clusterName="badtags%d" % i,
                     tags=t, message=needle)
    assert [f["reason"] for f in failures(b, ["badtags%d" % i for i in range(len(cases))])] == \
        ["MISSING"] * len(cases)


def test_create_settings(b):
    for v in ("enabled", "disabled", "enhanced"):
        c = b.ecs.create_cluster(clusterName="ins-" + v,
                                 settings=[{"name": "containerInsights", "value": v}])["cluster"]
        assert c["settings"] == [{"name": "containerInsights", "value": v}], c
        assert "settings" not in describe(b, "ins-" + v)
        assert describe(b, "ins-" + v, ["SETTINGS"])["settings"] == [{"name": "containerInsights", "value": v}]
    expect_error("InvalidParameterException", b.ecs.create_cluster, clusterName="ins-bad",
                 settings=[{"name": "containerInsights", "value": "on"}], message="'on'")
    assert failures(b, ["ins-bad"]) == [{"arn": ARN % "ins-bad", "reason": "MISSING"}]
    # The setting name is an enum of the model.
    expect_error("InvalidParameterException", b.ecs.create_cluster, clusterName="ins-bad",
                 settings=[{"name": "containerInsight", "value": "enabled"}], message="containerInsights")
    rc, out, _ = b.cli("ecs", "create-cluster", "--cluster-name", "ins-cli",
                       "--settings", "name=containerInsights,value=enhanced")
    assert out["cluster"]["settings"] == [{"name": "containerInsights", "value": "enhanced"}]


CONFIG = {
    "executeCommandConfiguration": {
        "kmsKeyId": "arn:aws:kms:us-east-1:000000000000:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        "logging": "OVERRIDE",
        "logConfiguration": {
            "cloudWatchLogGroupName": "/ecs/exec",
            "cloudWatchEncryptionEnabled": True,
            "s3BucketName": "exec-logs",
            "s3EncryptionEnabled": False,
            "s3KeyPrefix": "prefix/",
        },
    },
    "managedStorageConfiguration": {
        "kmsKeyId": "managed-key",
        "fargateEphemeralStorageKmsKeyId": "ephemeral-key",
    },
}


def test_create_configuration(b):
    c = b.ecs.create_cluster(clusterName="conf", configuration=CONFIG)["cluster"]
    assert c["configuration"] == CONFIG, c
    assert "configuration" not in describe(b, "conf")
    assert describe(b, "conf", ["CONFIGURATIONS"])["configuration"] == CONFIG
    expect_error("InvalidParameterException", b.ecs.create_cluster, clusterName="conf-bad",
                 configuration={"executeCommandConfiguration": {"logging": "LOUD"}},
                 message="executeCommandConfiguration.logging")


def test_create_nested_null_is_absent(b):
    # A hand-written client may send null for an unset member: it is absent,
    # never echoed as null, and does not make a repeat request "inconsistent".
    body = {"clusterName": "nulls",
            "configuration": {"executeCommandConfiguration": {"kmsKeyId": None, "logging": "DEFAULT"}},
            "tags": None}
    st, _, out = b.raw("CreateCluster", json.dumps(body))
    assert st == 200, out
    want = {"executeCommandConfiguration": {"logging": "DEFAULT"}}
    assert out["cluster"]["configuration"] == want, out
    st, _, out = b.raw("DescribeClusters", json.dumps({"clusters": ["nulls"], "include": ["CONFIGURATIONS"]}))
    assert out["clusters"][0]["configuration"] == want, out
    again = b.ecs.create_cluster(clusterName="nulls", configuration=want)["cluster"]
    assert again["clusterArn"] == ARN % "nulls"


def test_configuration_keeps_only_model_members(b):
    # Members the model lacks are neither stored nor echoed, at any depth,
    # and do not count for idempotency.
    body = {"clusterName": "strict", "unknownTop": 1,
            "configuration": {"executeCommandConfiguration": {"logging": "DEFAULT", "extra": {"a": [1, 2]}},
                              "bogusConfiguration": {"x": "y"},
                              "deep": json.loads('{"a":' * 100 + "1" + "}" * 100)}}
    st, _, out = b.raw("CreateCluster", json.dumps(body))
    want = {"executeCommandConfiguration": {"logging": "DEFAULT"}}
    assert st == 200 and out["cluster"]["configuration"] == want, out
    assert describe(b, "strict", ["CONFIGURATIONS"])["configuration"] == want
    again = b.ecs.create_cluster(clusterName="strict", configuration=want)["cluster"]
    assert again["clusterArn"] == ARN % "strict"
    st, _, out = b.raw("UpdateCluster", json.dumps({
        "cluster": "strict", "configuration": {"managedStorageConfiguration": {"kmsKeyId": "k", "more": True},
                                               "other": {}}}))
    assert st == 200, out
    assert out["cluster"]["configuration"] == dict(want, managedStorageConfiguration={"kmsKeyId": "k"}), out


def test_service_connect_defaults(b):
    ns_arn = "arn:aws:servicediscovery:us-east-1:000000000000:namespace/ns-abcdef0123456789"
    c = b.ecs.create_cluster(clusterName="sc-arn", serviceConnectDefaults={"namespace": ns_arn})["cluster"]
    assert c["serviceConnectDefaults"] == {"namespace": ns_arn}
    assert describe(b, "sc-arn")["serviceConnectDefaults"] == {"namespace": ns_arn}
    a = b.ecs.create_cluster(clusterName="sc-name1", serviceConnectDefaults={"namespace": "shop"})["cluster"]
    derived = a["serviceConnectDefaults"]["namespace"]
    assert re.fullmatch(r"arn:aws:servicediscovery:us-east-1:000000000000:namespace/ns-[a-z0-9]{16}",
                        derived), derived
    same = b.ecs.create_cluster(clusterName="sc-name2", serviceConnectDefaults={"namespace": "shop"})["cluster"]
    assert same["serviceConnectDefaults"]["namespace"] == derived
    other = b.ecs.create_cluster(clusterName="sc-name3", serviceConnectDefaults={"namespace": "shop2"})["cluster"]
    assert other["serviceConnectDefaults"]["namespace"] != derived
    expect_error("InvalidParameterException", b.ecs.create_cluster, clusterName="sc-empty",
                 serviceConnectDefaults={"namespace": ""}, message="namespace")


def test_create_with_fargate_providers(b):
    # Through the CLI: shorthand strategy items.
    rc, out, _ = b.cli("ecs", "create-cluster", "--cluster-name", "fg",
                       "--capacity-providers", "FARGATE", "FARGATE_SPOT",
                       "--default-capacity-provider-strategy",
                       "capacityProvider=FARGATE,weight=1,base=1", "capacityProvider=FARGATE_SPOT,weight=4")
    c = out["cluster"]
    assert c["status"] == "PROVISIONING" and c["attachmentsStatus"] == "UPDATE_IN_PROGRESS", c
    assert c["capacityProviders"] == ["FARGATE", "FARGATE_SPOT"]
    assert c["defaultCapacityProviderStrategy"] == [
        {"capacityProvider": "FARGATE", "weight": 1, "base": 1},
        {"capacityProvider": "FARGATE_SPOT", "weight": 4, "base": 0}]
    d = wait_status(b, "fg", "ACTIVE")
    assert d["attachments"] == [] and d["attachmentsStatus"] == "UPDATE_COMPLETE", d


def test_create_with_asg_provider(b):
    make_cp(b, "cpa", managed=True)
    c = b.ecs.create_cluster(clusterName="asg1", capacityProviders=["cpa"],
                             defaultCapacityProviderStrategy=[{"capacityProvider": "cpa", "weight": 1}])["cluster"]
    assert c["status"] == "PROVISIONING", c
    assert c["attachmentsStatus"] == "UPDATE_IN_PROGRESS", c
    atts = {a["type"]: a for a in c["attachments"]}
    assert sorted(atts) == ["as_policy", "managed_draining"], c["attachments"]
    assert all(a["status"] == "PRECREATED" for a in atts.values())
    assert all(re.fullmatch(r"[0-9a-f-]{36}", a["id"]) for a in atts.values())
    pol = {d["name"]: d["value"] for d in atts["as_policy"]["details"]}
    assert pol["capacityProviderName"] == "cpa"
    assert re.fullmatch(r"ECSManagedAutoScalingPolicy-[0-9a-f-]{36}", pol["scalingPolicyName"]), pol
    hook = {d["name"]: d["value"] for d in atts["managed_draining"]["details"]}
    assert hook == {"capacityProviderName": "cpa",
                    "autoScalingLifecycleHookName": "ecs-managed-draining-termination-hook"}
    d = wait_status(b, "asg1", "ACTIVE")
    assert d["attachmentsStatus"] == "UPDATE_COMPLETE"
    assert {a["id"]: a["status"] for a in d["attachments"]} == {a["id"]: "CREATED" for a in atts.values()}
    assert "attachments" not in describe(b, "asg1")
    # Neither managed scaling nor managed draining: nothing to attach.
    make_cp(b, "cpplain", managed=False, draining="DISABLED")
    c = b.ecs.create_cluster(clusterName="asg2", capacityProviders=["cpplain"])["cluster"]
    assert c["attachments"] == []
    assert wait_status(b, "asg2", "ACTIVE")["attachments"] == []


def test_default_strategy_rules(b):
    make_cp(b, "rule-asg", managed=False)
    cases = [
        (dict(capacityProviders=["FARGATE"],
              defaultCapacityProviderStrategy=[{"capacityProvider": "FARGATE_SPOT", "weight": 1}]),
         NOT_ASSOCIATED_MSG),
        (dict(capacityProviders=["FARGATE"],
              defaultCapacityProviderStrategy=[{"capacityProvider": ARN.replace("cluster/%s", "capacity-provider/FARGATE"),
                                                "weight": 1}]),
         NOT_ASSOCIATED_MSG),
        (dict(capacityProviders=["FARGATE", "rule-asg"],
              defaultCapacityProviderStrategy=[{"capacityProvider": "FARGATE", "weight": 1},
                                               {"capacityProvider": "rule-asg", "weight": 1}]),
         MIX_MSG),
        (dict(capacityProviders=["FARGATE", "FARGATE_SPOT"],
              defaultCapacityProviderStrategy=[{"capacityProvider": "FARGATE", "weight": 1, "base": 1},
                                               {"capacityProvider": "FARGATE_SPOT", "weight": 1, "base": 2}]),
         "Only one capacity provider in a capacity provider strategy can have a base value greater than zero."),
        (dict(capacityProviders=["FARGATE"],
              defaultCapacityProviderStrategy=[{"capacityProvider": "FARGATE", "weight": 1001}]),
         "weight"),
        (dict(capacityProviders=["FARGATE"],
              defaultCapacityProviderStrategy=[{"capacityProvider": "FARGATE", "base": 100001}]),
         "base"),
        (dict(capacityProviders=["FARGATE"],
              defaultCapacityProviderStrategy=[{"capacityProvider": "FARGATE", "weight": 1}] * 2),
         "FARGATE"),
        (dict(capacityProviders=["FARGATE"],
              defaultCapacityProviderStrategy=[{"capacityProvider": "cp%d" % i, "weight": 1} for i in range(7)]),
         "at most 6"),
        (dict(capacityProviders=["nosuch"]), CP_NOT_FOUND_MSG),
    ]
    for i, (kw, msg) in enumerate(cases):
        expect_error("InvalidParameterException", b.ecs.create_cluster, clusterName="rule%d" % i,
                     message=msg, **kw)
    assert [f["reason"] for f in failures(b, ["rule%d" % i for i in range(len(cases))])] == \
        ["MISSING"] * len(cases)
    # All-zero weights are fine for a default strategy: they only fail at use.
    c = b.ecs.create_cluster(clusterName="zero", capacityProviders=["FARGATE", "FARGATE_SPOT"],
                             defaultCapacityProviderStrategy=[{"capacityProvider": "FARGATE"},
                                                              {"capacityProvider": "FARGATE_SPOT", "weight": 0}])["cluster"]
    assert c["defaultCapacityProviderStrategy"] == [
        {"capacityProvider": "FARGATE", "weight": 0, "base": 0},
        {"capacityProvider": "FARGATE_SPOT", "weight": 0, "base": 0}]
    # The CLI reports the same refusal on stderr.
    rc, _, err = b.cli("ecs", "create-cluster", "--cluster-name", "rulecli", "--capacity-providers", "FARGATE",
                       "--default-capacity-provider-strategy", "capacityProvider=FARGATE_SPOT,weight=1", check=False)
    assert rc != 0
    assert ("An error occurred (InvalidParameterException) when calling the CreateCluster operation: "
            + NOT_ASSOCIATED_MSG) in err, err


@berthd_args("--strategy-max-providers", "8")
def test_strategy_max_providers_flag(b):
    names = ["wide%d" % i for i in range(8)]
    for n in names:
        make_cp(b, n, managed=False)
    strat = [{"capacityProvider": n, "weight": 1} for n in names[:7]]
    c = b.ecs.create_cluster(clusterName="wide", capacityProviders=names,
                             defaultCapacityProviderStrategy=strat)["cluster"]
    assert [s["capacityProvider"] for s in c["defaultCapacityProviderStrategy"]] == names[:7]
    nine = strat + [{"capacityProvider": n, "weight": 1} for n in ("wide7", "x")]
    expect_error("InvalidParameterException", b.ecs.create_cluster, clusterName="wider",
                 capacityProviders=names, defaultCapacityProviderStrategy=nine, message="at most 8")


def test_create_is_idempotent(b):
    kw = dict(clusterName="idem", tags=[{"key": "a", "value": "1"}],
              settings=[{"name": "containerInsights", "value": "enabled"}],
              configuration={"executeCommandConfiguration": {"logging": "DEFAULT"}})
    first = b.ecs.create_cluster(**kw)["cluster"]
    again = b.ecs.create_cluster(**kw)["cluster"]
    assert again["clusterArn"] == first["clusterArn"] and again["status"] == "ACTIVE"
    assert again["tags"] == first["tags"] and again["settings"] == first["settings"]
    # Member order inside objects does not matter.
    body = ('{"configuration":{"executeCommandConfiguration":{"logging":"DEFAULT"}},'
            '"settings":[{"value":"enabled","name":"containerInsights"}],'
            '"tags":[{"value":"1","key":"a"}],"clusterName":"idem"}')
    st, _, out = b.raw("CreateCluster", body)
    assert st == 200 and out["cluster"]["clusterArn"] == first["clusterArn"], out
    for diff in (dict(tags=[{"key": "a", "value": "2"}]),
                 dict(settings=[{"name": "containerInsights", "value": "disabled"}]),
                 dict(capacityProviders=["FARGATE"])):
        expect_error("InvalidParameterException", b.ecs.create_cluster, **dict(kw, **diff),
                     message=INCONSISTENT_MSG)
    rc, _, err = b.cli("ecs", "create-cluster", "--cluster-name", "idem", check=False)
    assert rc != 0 and ("An error occurred (InvalidParameterException) when calling the CreateCluster "
                        "operation: " + INCONSISTENT_MSG) in err, err
    # Nothing changed by the refused calls.
    d = describe(b, "idem", ALL_INCLUDES)
    assert d["tags"] == [{"key": "a", "value": "1"}] and d["capacityProviders"] == []
    assert d["settings"] == [{"name": "containerInsights", "value": "enabled"}]


def test_recreate_after_delete(b):
    b.ecs.create_cluster(clusterName="phoenix", tags=[{"key": "gen", "value": "1"}], capacityProviders=["FARGATE"])
    wait_status(b, "phoenix", "ACTIVE")
    gone = b.ecs.delete_cluster(cluster="phoenix")["cluster"]
    assert gone["status"] == "INACTIVE"
    # Different arguments are fine: the INACTIVE record is replaced.
    c = b.ecs.create_cluster(clusterName="phoenix", tags=[{"key": "gen", "value": "2"}])["cluster"]
    assert c["status"] == "ACTIVE" and c["clusterArn"] == ARN % "phoenix"
    d = describe(b, "phoenix", ["TAGS"])
    assert d["status"] == "ACTIVE" and d["tags"] == [{"key": "gen", "value": "2"}]
    assert d["capacityProviders"] == []
    assert ARN % "phoenix" in listed(b)


# ---- DescribeClusters ----

def test_describe_includes(b):
    make_cp(b, "inc-cp", managed=True)
    b.ecs.create_cluster(clusterName="inc", tags=[{"key": "t", "value": "v"}],
                         settings=[{"name": "containerInsights", "value": "enhanced"}],
                         configuration=CONFIG, capacityProviders=["inc-cp"])
    wait_status(b, "inc", "ACTIVE")
    base = describe(b, "inc")
    assert set(base) == {"clusterArn", "clusterName", "status", "registeredContainerInstancesCount",
                         "runningTasksCount", "pendingTasksCount", "activeServicesCount",
                         "capacityProviders", "defaultCapacityProviderStrategy"}, sorted(base)
    blocks = {"ATTACHMENTS": {"attachments", "attachmentsStatus"}, "CONFIGURATIONS": {"configuration"},
              "SETTINGS": {"settings"}, "STATISTICS": {"statistics"}, "TAGS": {"tags"}}
    for inc, keys in blocks.items():
        got = describe(b, "inc", [inc])
        assert set(got) - set(base) == keys, (inc, sorted(got))
    full = describe(b, "inc", ALL_INCLUDES)
    assert [s["name"] for s in full["statistics"]] == STAT_NAMES
    assert all(s["value"] == "0" for s in full["statistics"]), full["statistics"]
    assert full["tags"] == [{"key": "t", "value": "v"}]
    assert full["settings"] == [{"name": "containerInsights", "value": "enhanced"}]
    assert full["configuration"] == CONFIG
    assert sorted(a["type"] for a in full["attachments"]) == ["as_policy", "managed_draining"]
    assert full["attachmentsStatus"] == "UPDATE_COMPLETE"
    # The CLI sees the same statistics.
    rc, out, _ = b.cli("ecs", "describe-clusters", "--clusters", "inc", "--include", "STATISTICS", "TAGS")
    assert out["clusters"][0]["statistics"] == full["statistics"]
    assert out["clusters"][0]["tags"] == full["tags"]
    assert "settings" not in out["clusters"][0]
    expect_error("InvalidParameterException", b.ecs.describe_clusters, clusters=["inc"], include=["EVERYTHING"],
                 message="include")


def test_describe_missing_and_arns(b):
    b.ecs.create_cluster(clusterName="here")
    other_region = "arn:aws:ecs:eu-west-1:%s:cluster/here" % ACCOUNT
    other_account = "arn:aws:ecs:us-east-1:111111111111:cluster/here"
    nested = ARN % "x/here"
    out = b.ecs.describe_clusters(clusters=["nope1", ARN % "here", ARN % "nope2", "here",
                                            other_region, other_account, nested])
    assert [c["clusterArn"] for c in out["clusters"]] == [ARN % "here", ARN % "here"]
    assert out["failures"] == [
        {"arn": ARN % "nope1", "reason": "MISSING"},
        {"arn": ARN % "nope2", "reason": "MISSING"},
        {"arn": other_region, "reason": "MISSING"},
        {"arn": other_account, "reason": "MISSING"},
        {"arn": nested, "reason": "MISSING"},
    ]
    rc, out, _ = b.cli("ecs", "describe-clusters", "--clusters", "here", "ghost")
    assert [c["clusterName"] for c in out["clusters"]] == ["here"]
    assert out["failures"] == [{"arn": ARN % "ghost", "reason": "MISSING"}]


def test_describe_limits(b):
    hundred = ["lim%03d" % i for i in range(100)]
    out = b.ecs.describe_clusters(clusters=hundred)
    assert out["clusters"] == [] and len(out["failures"]) == 100
    expect_error("InvalidParameterException", b.ecs.describe_clusters, clusters=hundred + ["one-more"],
                 message="clusters can have at most 100 items.")


# ---- ListClusters ----

@fresh
def test_list_pagination(b):
    names = ["page%02d" % i for i in range(25)]
    for n in names:
        b.ecs.create_cluster(clusterName=n)
    want = {ARN % n for n in names}
    # by hand with maxResults 7
    pages, token = [], None
    while True:
        kw = {"maxResults": 7}
        if token:
            kw["nextToken"] = token
        out = b.ecs.list_clusters(**kw)
        pages.append(out["clusterArns"])
        token = out.get("nextToken")
        if not token:
            break
    assert [len(p) for p in pages] == [7, 7, 7, 4], pages
    flat = [a for p in pages for a in p]
    assert len(flat) == len(set(flat)) and set(flat) == want
    # every page size from 1 to 100 covers the same set exactly once
    for size in (1, 24, 25, 26, 100):
        arns, token, calls = [], None, 0
        while True:
            kw = {"maxResults": size}
            if token:
                kw["nextToken"] = token
            out = b.ecs.list_clusters(**kw)
            calls += 1
            assert len(out["clusterArns"]) <= size
            arns += out["clusterArns"]
            token = out.get("nextToken")
            if not token:
                break
        assert sorted(arns) == sorted(want), size
        assert calls == -(-25 // size), (size, calls)
    # default page: all 25, no token
    out = b.ecs.list_clusters()
    assert set(out["clusterArns"]) == want and "nextToken" not in out
    # botocore's paginator
    pager = b.ecs.get_paginator("list_clusters")
    pages = list(pager.paginate(PaginationConfig={"PageSize": 7}))
    assert [len(p["clusterArns"]) for p in pages] == [7, 7, 7, 4]
    capped = pager.paginate(PaginationConfig={"PageSize": 7, "MaxItems": 10}).build_full_result()
    assert len(capped["clusterArns"]) == 10 and "NextToken" in capped
    # the CLI paginates by itself
    rc, out, _ = b.cli("ecs", "list-clusters", "--page-size", "7")
    assert sorted(out["clusterArns"]) == sorted(want)
    rc, out, _ = b.cli("ecs", "list-clusters", "--max-items", "10", "--page-size", "7")
    assert len(out["clusterArns"]) == 10 and out.get("NextToken")
    rc, rest, _ = b.cli("ecs", "list-clusters", "--starting-token", out["NextToken"], "--page-size", "7")
    assert sorted(out["clusterArns"] + rest["clusterArns"]) == sorted(want)
    # INACTIVE clusters are not listed, and deleting the cluster a token
    # points after neither skips nor repeats anything.
    first = b.ecs.list_clusters(maxResults=7)
    last_of_page = first["clusterArns"][-1].split("/")[-1]
    b.ecs.delete_cluster(cluster=last_of_page)
    b.ecs.delete_cluster(cluster="page20")
    rest = b.ecs.list_clusters(nextToken=first["nextToken"])["clusterArns"]
    assert sorted(first["clusterArns"] + rest) == sorted(want - {ARN % "page20"})
    assert set(listed(b)) == want - {ARN % last_of_page, ARN % "page20"}


def test_list_bad_arguments(b):
    for m in (0, 101, -1):
        expect_error("InvalidParameterException", b.ecs.list_clusters, maxResults=m, message="maxResults")
    expect_error("InvalidParameterException", b.ecs.list_clusters, nextToken="not-a-token",
                 message="nextToken")
    for n in ("tokA", "tokB", "tokC"):
        b.ecs.create_cluster(clusterName=n)
    # A token of another listing is not a ListClusters token.
    for n in ("tok-cp1", "tok-cp2"):
        make_cp(b, n, managed=False)
    cp_token = b.ecs.describe_capacity_providers(maxResults=1)["nextToken"]
    expect_error("InvalidParameterException", b.ecs.list_clusters, nextToken=cp_token, message="nextToken")


# ---- DeleteCluster ----

def test_delete_cluster(b):
    rc, out, _ = b.cli("ecs", "create-cluster", "--cluster-name", "doomed")
    assert out["cluster"]["status"] == "ACTIVE"
    rc, out, _ = b.cli("ecs", "delete-cluster", "--cluster", "doomed")
    assert out["cluster"]["status"] == "INACTIVE" and out["cluster"]["clusterArn"] == ARN % "doomed"
    d = describe(b, "doomed")
    assert d["status"] == "INACTIVE"
    assert ARN % "doomed" not in listed(b)
    # again, by ARN: still INACTIVE, no error
    again = b.ecs.delete_cluster(cluster=ARN % "doomed")["cluster"]
    assert again["status"] == "INACTIVE"
    expect_error("ClusterNotFoundException", b.ecs.delete_cluster, cluster="never-was", message="Cluster not found.")
    rc, _, err = b.cli("ecs", "delete-cluster", "--cluster", "never-was", check=False)
    assert rc in (254, 255), rc  # CLI v1 exits 255 on a service error, v2 254
    assert err.strip() == ("An error occurred (ClusterNotFoundException) when calling the DeleteCluster "
                           "operation: Cluster not found."), err


@berthd_args("--cluster-retention-s", "1")
def test_delete_retention(b):
    b.ecs.create_cluster(clusterName="brief")
    b.ecs.create_cluster(clusterName="stays")
    b.ecs.delete_cluster(cluster="brief")
    assert describe(b, "brief")["status"] == "INACTIVE"
    wait_until(lambda: failures(b, ["brief"]) == [{"arn": ARN % "brief", "reason": "MISSING"}],
               timeout=5, what="INACTIVE cluster purged")
    assert describe(b, "stays")["status"] == "ACTIVE"
    expect_error("ClusterNotFoundException", b.ecs.delete_cluster, cluster="brief")
    # The name can be used again.
    assert b.ecs.create_cluster(clusterName="brief")["cluster"]["status"] == "ACTIVE"


def test_delete_frees_provider(b):
    make_cp(b, "held", managed=True)
    b.ecs.create_cluster(clusterName="holder", capacityProviders=["held"])
    wait_status(b, "holder", "ACTIVE")
    # Another cluster cannot take a managed-scaling provider while it is held.
    b.ecs.create_cluster(clusterName="taker")
    expect_error("InvalidParameterException", b.ecs.put_cluster_capacity_providers, cluster="taker",
                 capacityProviders=["held"], defaultCapacityProviderStrategy=[], message="held")
    cp = b.ecs.delete_capacity_provider(capacityProvider="held")["capacityProvider"]
    assert cp["status"] == "ACTIVE" and cp["updateStatus"] == "DELETE_FAILED"
    assert cp["updateStatusReason"] == (
        "The capacity provider cannot be deleted because it is associated with cluster: holder. "
        "Remove the capacity provider from the cluster and try again.")
    assert [p["PolicyType"] for p in policies(b, "asg-held")] == ["TargetTrackingScaling"]
    # The cluster's scaling policy goes first (DEPROVISIONING), then the
    # cluster is INACTIVE with its providers disassociated.
    d = b.ecs.delete_cluster(cluster="holder")["cluster"]
    assert d["status"] == "DEPROVISIONING", d
    d = wait_status(b, "holder", "INACTIVE")
    assert d["capacityProviders"] == [] and d["attachments"] == [], d
    assert policies(b, "asg-held") == []
    cp = b.ecs.delete_capacity_provider(capacityProvider="held")["capacityProvider"]
    assert cp["updateStatus"] == "DELETE_IN_PROGRESS", cp
    wait_until(lambda: b.ecs.describe_capacity_providers(capacityProviders=["held"])
               ["capacityProviders"][0]["status"] == "INACTIVE", what="provider INACTIVE")


def test_managed_scaling_needs_the_group(b):
    """A managed-scaling provider over a group that does not exist: the
    association fails (cluster FAILED, attachmentsStatus UPDATE_FAILED, the
    as_policy attachment FAILED with a statusReason).  Once the group exists,
    putting the providers again makes the policy: ACTIVE, UPDATE_COMPLETE,
    and ECS's target-tracking policy on the group; removing the provider
    deletes the policy."""
    # the provider exists but its group does not (make_cp would make it)
    b.ecs.create_capacity_provider(name="nogroup-cp", autoScalingGroupProvider={
        "autoScalingGroupArn": asg_arn("asg-nogroup"),
        "managedScaling": {"status": "ENABLED", "targetCapacity": 80}})
    c = b.ecs.create_cluster(clusterName="nogroup", capacityProviders=["nogroup-cp"])["cluster"]
    assert c["status"] == "PROVISIONING" and c["attachmentsStatus"] == "UPDATE_IN_PROGRESS", c
    d = wait_status(b, "nogroup", "FAILED")
    assert d["attachmentsStatus"] == "UPDATE_FAILED", d
    atts = {a["type"]: a for a in d["attachments"]}
    assert atts["as_policy"]["status"] == "FAILED", d["attachments"]
    det = {x["name"]: x["value"] for x in atts["as_policy"]["details"]}
    assert det["capacityProviderName"] == "nogroup-cp" and det.get("statusReason"), det
    assert "scalingPolicyName" not in det, det  # no policy was made
    # managed draining (on by default) fails with its group too
    assert atts["managed_draining"]["status"] == "FAILED", d["attachments"]
    assert d["capacityProviders"] == ["nogroup-cp"]
    # the group appears; putting the providers again makes the policy
    make_group(b, "asg-nogroup")
    assert policies(b, "asg-nogroup") == []
    b.ecs.put_cluster_capacity_providers(cluster="nogroup", capacityProviders=["nogroup-cp"],
                                         defaultCapacityProviderStrategy=[])
    d = wait_until(lambda: (lambda x: x if x["status"] == "ACTIVE" and x["attachmentsStatus"] == "UPDATE_COMPLETE"
                            else None)(describe(b, "nogroup", ["ATTACHMENTS"])),
                   what="nogroup ACTIVE / UPDATE_COMPLETE")
    atts = {a["type"]: a for a in d["attachments"]}
    assert {t: a["status"] for t, a in atts.items()} == {"as_policy": "CREATED", "managed_draining": "CREATED"}, \
        d["attachments"]
    det = {x["name"]: x["value"] for x in atts["as_policy"]["details"]}
    assert "statusReason" not in det, det
    pols = policies(b, "asg-nogroup")
    assert len(pols) == 1, pols
    pol = pols[0]
    assert re.fullmatch(r"ECSManagedAutoScalingPolicy-[0-9a-f-]{36}", pol["PolicyName"]), pol
    assert pol["PolicyName"] == det["scalingPolicyName"], (pol, det)
    assert pol["PolicyType"] == "TargetTrackingScaling" and pol["AutoScalingGroupName"] == "asg-nogroup"
    tt = pol["TargetTrackingConfiguration"]
    assert tt["TargetValue"] == 80 and tt["CustomizedMetricSpecification"]["MetricName"] == \
        "CapacityProviderReservation", tt
    # removing the provider deletes the policy
    c = b.ecs.put_cluster_capacity_providers(cluster="nogroup", capacityProviders=[],
                                             defaultCapacityProviderStrategy=[])["cluster"]
    assert c["attachmentsStatus"] == "UPDATE_IN_PROGRESS", c
    d = wait_until(lambda: (lambda x: x if x["status"] == "ACTIVE" and x["attachmentsStatus"] == "UPDATE_COMPLETE"
                            else None)(describe(b, "nogroup", ["ATTACHMENTS"])),
                   what="nogroup ACTIVE after the provider's removal")
    assert d["attachments"] == [] and d["capacityProviders"] == [], d
    assert policies(b, "asg-nogroup") == []
    # a FAILED cluster can be deleted
    b.ecs.create_capacity_provider(name="nogroup-cp2", autoScalingGroupProvider={
        "autoScalingGroupArn": asg_arn("asg-nogroup2"), "managedScaling": {"status": "ENABLED"}})
    b.ecs.create_cluster(clusterName="nogroup2", capacityProviders=["nogroup-cp2"])
    wait_status(b, "nogroup2", "FAILED")
    b.ecs.delete_cluster(cluster="nogroup2")
    assert wait_status(b, "nogroup2", "INACTIVE")["capacityProviders"] == []


# ---- UpdateCluster / UpdateClusterSettings ----

def test_update_cluster(b):
    b.ecs.create_cluster(clusterName="upd")
    c = b.ecs.update_cluster(cluster="upd", settings=[{"name": "containerInsights", "value": "enhanced"}])["cluster"]
    assert c["settings"] == [{"name": "containerInsights", "value": "enhanced"}]
    c = b.ecs.update_cluster(cluster=ARN % "upd", configuration=CONFIG)["cluster"]
    assert c["configuration"] == CONFIG
    assert c["settings"] == [{"name": "containerInsights", "value": "enhanced"}]
    c = b.ecs.update_cluster(cluster="upd", serviceConnectDefaults={"namespace": "shop"})["cluster"]
    ns = c["serviceConnectDefaults"]["namespace"]
    assert ns.startswith("arn:aws:servicediscovery:us-east-1:000000000000:namespace/ns-")
    d = describe(b, "upd", ALL_INCLUDES)
    assert d["configuration"] == CONFIG and d["serviceConnectDefaults"] == {"namespace": ns}
    assert d["settings"] == [{"name": "containerInsights", "value": "enhanced"}]
    # An empty namespace removes the defaults.
    c = b.ecs.update_cluster(cluster="upd", serviceConnectDefaults={"namespace": ""})["cluster"]
    assert "serviceConnectDefaults" not in c
    assert "serviceConnectDefaults" not in describe(b, "upd")
    # A refused update changes nothing, even the parts that were valid.
    expect_error("InvalidParameterException", b.ecs.update_cluster, cluster="upd",
                 settings=[{"name": "containerInsights", "value": "maybe"}],
                 configuration={"executeCommandConfiguration": {"logging": "NONE"}})
    assert describe(b, "upd", ["CONFIGURATIONS"])["configuration"] == CONFIG
    expect_error("ClusterNotFoundException", b.ecs.update_cluster, cluster="ghost",
                 settings=[{"name": "containerInsights", "value": "enabled"}], message="Cluster not found.")


def test_update_cluster_settings(b):
    b.ecs.create_cluster(clusterName="updset")
    rc, out, _ = b.cli("ecs", "update-cluster-settings", "--cluster", "updset",
                       "--settings", "name=containerInsights,value=enabled")
    c = out["cluster"]
    assert c["settings"] == [{"name": "containerInsights", "value": "enabled"}]
    assert c["statistics"] == [] and c["tags"] == []
    assert describe(b, "updset", ["SETTINGS"])["settings"] == [{"name": "containerInsights", "value": "enabled"}]
    expect_error("InvalidParameterException", b.ecs.update_cluster_settings, cluster="updset",
                 settings=[{"name": "containerInsights", "value": "ENABLED"}])
    assert describe(b, "updset", ["SETTINGS"])["settings"] == [{"name": "containerInsights", "value": "enabled"}]


def test_updates_on_inactive_cluster(b):
    b.ecs.create_cluster(clusterName="gone")
    b.ecs.delete_cluster(cluster="gone")
    calls = [
        (b.ecs.update_cluster, dict(cluster="gone", settings=[{"name": "containerInsights", "value": "enabled"}])),
        (b.ecs.update_cluster_settings, dict(cluster="gone", settings=[{"name": "containerInsights", "value": "enabled"}])),
        (b.ecs.put_cluster_capacity_providers, dict(cluster="gone", capacityProviders=["FARGATE"],
                                                    defaultCapacityProviderStrategy=[])),
    ]
    for fn, kw in calls:
        expect_error("InvalidParameterException", fn, message=INACTIVE_MSG, **kw)
    rc, _, err = b.cli("ecs", "update-cluster-settings", "--cluster", "gone",
                       "--settings", "name=containerInsights,value=enabled", check=False)
    assert rc != 0 and ("An error occurred (InvalidParameterException) when calling the UpdateClusterSettings "
                        "operation: " + INACTIVE_MSG) in err, err
    d = describe(b, "gone", ["SETTINGS"])
    assert d["status"] == "INACTIVE" and d["capacityProviders"] == []
    assert d["settings"] == [{"name": "containerInsights", "value": "disabled"}]


# ---- PutClusterCapacityProviders ----

def test_put_replaces_providers(b):
    make_cp(b, "rep-a", managed=True)
    make_cp(b, "rep-b", managed=False, draining="DISABLED")
    make_cp(b, "rep-c", managed=False)
    b.ecs.create_cluster(clusterName="rep")
    c = b.ecs.put_cluster_capacity_providers(
        cluster="rep", capacityProviders=["rep-a", "rep-b"],
        defaultCapacityProviderStrategy=[{"capacityProvider": "rep-a", "weight": 2, "base": 3}])["cluster"]
    assert c["capacityProviders"] == ["rep-a", "rep-b"]
    assert c["attachmentsStatus"] == "UPDATE_IN_PROGRESS"
    assert c["defaultCapacityProviderStrategy"] == [{"capacityProvider": "rep-a", "weight": 2, "base": 3}]
    assert sorted((a["type"], a["status"]) for a in c["attachments"]) == \
        [("as_policy", "PRECREATED"), ("managed_draining", "PRECREATED")]
    wait_until(lambda: describe(b, "rep", ["ATTACHMENTS"])["attachmentsStatus"] == "UPDATE_COMPLETE")
    assert [p["PolicyType"] for p in policies(b, "asg-rep-a")] == ["TargetTrackingScaling"]
    # Full replacement: rep-a is dropped, its attachments go DELETING, then away.
    c = b.ecs.put_cluster_capacity_providers(
        cluster="rep", capacityProviders=["rep-c", "rep-b"],
        defaultCapacityProviderStrategy=[{"capacityProvider": "rep-c", "weight": 1}])["cluster"]
    assert c["capacityProviders"] == ["rep-c", "rep-b"]
    assert c["defaultCapacityProviderStrategy"] == [{"capacityProvider": "rep-c", "weight": 1, "base": 0}]
    assert c["attachmentsStatus"] == "UPDATE_IN_PROGRESS"
    by = {}
    for a in c["attachments"]:
        who = {d["name"]: d["value"] for d in a["details"]}["capacityProviderName"]
        by.setdefault(who, []).append((a["type"], a["status"]))
    assert sorted(by["rep-a"]) == [("as_policy", "DELETING"), ("managed_draining", "DELETING")], by
    assert by["rep-c"] == [("managed_draining", "PRECREATED")], by
    assert "rep-b" not in by
    d = wait_until(lambda: (lambda x: x if x["attachmentsStatus"] == "UPDATE_COMPLETE" else None)(
        describe(b, "rep", ["ATTACHMENTS"])))
    assert [(a["type"], a["status"]) for a in d["attachments"]] == [("managed_draining", "CREATED")], d
    assert d["status"] == "ACTIVE" and policies(b, "asg-rep-a") == []
    # rep-a is free again: another cluster may take it.
    b.ecs.create_cluster(clusterName="rep2", capacityProviders=["rep-a"])
    wait_status(b, "rep2", "ACTIVE")
    assert len(policies(b, "asg-rep-a")) == 1
    # An empty list clears everything (through the CLI).
    rc, out, _ = b.cli("ecs", "put-cluster-capacity-providers", "--cluster", "rep",
                       "--capacity-providers", "[]", "--default-capacity-provider-strategy", "[]")
    assert out["cluster"]["capacityProviders"] == [] and out["cluster"]["defaultCapacityProviderStrategy"] == []
    wait_until(lambda: describe(b, "rep", ["ATTACHMENTS"])["attachments"] == [])


def test_put_errors(b):
    make_cp(b, "pe-ok", managed=False)
    b.ecs.create_cluster(clusterName="pe")
    expect_error("InvalidParameterException", b.ecs.put_cluster_capacity_providers, cluster="pe",
                 capacityProviders=["pe-ok", "missing-cp"], defaultCapacityProviderStrategy=[],
                 message=CP_NOT_FOUND_MSG)
    expect_error("InvalidParameterException", b.ecs.put_cluster_capacity_providers, cluster="pe",
                 capacityProviders=["pe-ok"],
                 defaultCapacityProviderStrategy=[{"capacityProvider": "FARGATE", "weight": 1}],
                 message=NOT_ASSOCIATED_MSG)
    expect_error("ClusterNotFoundException", b.ecs.put_cluster_capacity_providers, cluster="pe-ghost",
                 capacityProviders=[], defaultCapacityProviderStrategy=[], message="Cluster not found.")
    d = describe(b, "pe", ["ATTACHMENTS"])
    assert d["capacityProviders"] == [] and "attachmentsStatus" not in d


def test_put_managed_provider_exclusive(b):
    make_cp(b, "ex-managed", managed=True)
    make_cp(b, "ex-shared", managed=False)
    b.ecs.create_cluster(clusterName="ex1", capacityProviders=["ex-managed", "ex-shared"])
    b.ecs.create_cluster(clusterName="ex2")
    wait_status(b, "ex1", "ACTIVE")
    expect_error("InvalidParameterException", b.ecs.put_cluster_capacity_providers, cluster="ex2",
                 capacityProviders=["ex-managed"], defaultCapacityProviderStrategy=[], message="ex-managed")
    expect_error("InvalidParameterException", b.ecs.create_cluster, clusterName="ex3",
                 capacityProviders=["ex-managed"], message="ex-managed")
    c = b.ecs.put_cluster_capacity_providers(cluster="ex2", capacityProviders=["ex-shared"],
                                             defaultCapacityProviderStrategy=[])["cluster"]
    assert c["capacityProviders"] == ["ex-shared"]
    assert describe(b, "ex1")["capacityProviders"] == ["ex-managed", "ex-shared"]
    # Re-putting its own managed provider on the cluster that holds it is fine.
    wait_status(b, "ex2", "ACTIVE")
    b.ecs.put_cluster_capacity_providers(cluster="ex1", capacityProviders=["ex-managed"],
                                         defaultCapacityProviderStrategy=[])


@berthd_args("--transition-ms", "2000")
def test_put_update_in_progress(b):
    make_cp(b, "slow-a", managed=True)
    make_cp(b, "slow-b", managed=False)
    make_cp(b, "slow-dying", managed=False)
    c = b.ecs.create_cluster(clusterName="slow", capacityProviders=["slow-a"])["cluster"]
    assert c["status"] == "PROVISIONING"
    # Still provisioning: not ACTIVE yet.
    expect_error("ClientException", b.ecs.put_cluster_capacity_providers, cluster="slow",
                 capacityProviders=["slow-b"], defaultCapacityProviderStrategy=[], message="Cluster was not ACTIVE.")
    wait_status(b, "slow", "ACTIVE", timeout=5)
    # Adding slow-b (managed draining): the cluster stays ACTIVE while its
    # attachments update, and is busy meanwhile.
    c = b.ecs.put_cluster_capacity_providers(cluster="slow", capacityProviders=["slow-a", "slow-b"],
                                             defaultCapacityProviderStrategy=[])["cluster"]
    assert c["attachmentsStatus"] == "UPDATE_IN_PROGRESS" and c["status"] == "ACTIVE", c
    expect_error("UpdateInProgressException", b.ecs.put_cluster_capacity_providers, cluster="slow",
                 capacityProviders=["slow-a"], defaultCapacityProviderStrategy=[], message=BUSY_MSG)
    expect_error("UpdateInProgressException", b.ecs.delete_cluster, cluster="slow", message=BUSY_MSG)
    # A provider whose deletion has started is not ACTIVE any more.
    cp = b.ecs.delete_capacity_provider(capacityProvider="slow-dying")["capacityProvider"]
    assert cp["updateStatus"] == "DELETE_IN_PROGRESS"
    b.ecs.create_cluster(clusterName="slow2")
    expect_error("InvalidParameterException", b.ecs.put_cluster_capacity_providers, cluster="slow2",
                 capacityProviders=["slow-dying"], defaultCapacityProviderStrategy=[],
                 message="The specified capacity provider 'slow-dying' is not in an ACTIVE state. "
                         "Specify a valid capacity provider and try again.")
    wait_until(lambda: describe(b, "slow", ["ATTACHMENTS"])["attachmentsStatus"] == "UPDATE_COMPLETE", timeout=5)
    # Dropping slow-a: its scaling policy is being removed from its group,
    # the cluster is DEPROVISIONING and so not ACTIVE for another put.
    assert [p["PolicyType"] for p in policies(b, "asg-slow-a")] == ["TargetTrackingScaling"]
    c = b.ecs.put_cluster_capacity_providers(cluster="slow", capacityProviders=["slow-b"],
                                             defaultCapacityProviderStrategy=[])["cluster"]
    assert c["attachmentsStatus"] == "UPDATE_IN_PROGRESS" and c["status"] == "DEPROVISIONING", c
    expect_error("ClientException", b.ecs.put_cluster_capacity_providers, cluster="slow",
                 capacityProviders=["slow-a"], defaultCapacityProviderStrategy=[], message="Cluster was not ACTIVE.")
    expect_error("UpdateInProgressException", b.ecs.delete_cluster, cluster="slow", message=BUSY_MSG)
    d = wait_until(lambda: (lambda x: x if x["attachmentsStatus"] == "UPDATE_COMPLETE" else None)(
        describe(b, "slow", ["ATTACHMENTS"])), timeout=5)
    # slow-b has no managed scaling but managed draining (the default).
    assert d["capacityProviders"] == ["slow-b"]
    assert [(a["type"], a["status"]) for a in d["attachments"]] == [("managed_draining", "CREATED")], d
    assert d["status"] == "ACTIVE" and policies(b, "asg-slow-a") == []
    assert b.ecs.delete_cluster(cluster="slow")["cluster"]["status"] == "INACTIVE"


@fresh
def test_default_cluster_made_on_first_use(b):
    assert failures(b, ["default"]) == [{"arn": ARN % "default", "reason": "MISSING"}]
    # A refused request does not make it.
    expect_error("InvalidParameterException", b.ecs.put_cluster_capacity_providers, cluster="default",
                 capacityProviders=["nosuch"], defaultCapacityProviderStrategy=[], message=CP_NOT_FOUND_MSG)
    assert b.ecs.describe_clusters()["failures"] == [{"arn": ARN % "default", "reason": "MISSING"}]
    c = b.ecs.put_cluster_capacity_providers(
        cluster="default", capacityProviders=["FARGATE"],
        defaultCapacityProviderStrategy=[{"capacityProvider": "FARGATE", "weight": 1}])["cluster"]
    assert c["clusterArn"] == ARN % "default" and c["capacityProviders"] == ["FARGATE"]
    d = b.ecs.describe_clusters()
    assert d["failures"] == [] and d["clusters"][0]["clusterName"] == "default"
    assert d["clusters"][0]["status"] == "ACTIVE"
    assert ARN % "default" in listed(b)
    # A CreateCluster with no arguments (what the agent sends) answers with it.
    again = b.ecs.create_cluster(clusterName="default")["cluster"]
    assert again["capacityProviders"] == ["FARGATE"]
    # Another name is not made on first use.
    expect_error("ClusterNotFoundException", b.ecs.put_cluster_capacity_providers, cluster="other",
                 capacityProviders=[], defaultCapacityProviderStrategy=[])


# ---- regions ----

def test_region_scoping(b):
    us = b.client("ecs", region="us-east-1")
    eu = b.client("ecs", region="eu-west-1")
    eu_arn = "arn:aws:ecs:eu-west-1:%s:cluster/%%s" % ACCOUNT
    a = us.create_cluster(clusterName="twin", tags=[{"key": "r", "value": "us"}])["cluster"]
    e = eu.create_cluster(clusterName="twin", tags=[{"key": "r", "value": "eu"}])["cluster"]
    assert a["clusterArn"] == ARN % "twin" and e["clusterArn"] == eu_arn % "twin"
    eu.create_cluster(clusterName="eu-only")
    assert us.describe_clusters(clusters=["eu-only"])["failures"] == [{"arn": ARN % "eu-only", "reason": "MISSING"}]
    assert eu.describe_clusters(clusters=[eu_arn % "eu-only"])["clusters"][0]["clusterArn"] == eu_arn % "eu-only"
    # An ARN of the other region names nothing here.
    assert us.describe_clusters(clusters=[eu_arn % "twin"])["failures"] == \
        [{"arn": eu_arn % "twin", "reason": "MISSING"}]
    assert describe(b, "twin", ["TAGS"], ecs=eu)["tags"] == [{"key": "r", "value": "eu"}]
    eu_list = listed(b, ecs=eu)
    assert eu_arn % "eu-only" in eu_list and eu_arn % "twin" in eu_list
    assert all(x.startswith("arn:aws:ecs:eu-west-1:") for x in eu_list)
    assert ARN % "eu-only" not in listed(b, ecs=us)
    rc, out, _ = b.cli("ecs", "list-clusters", region="eu-west-1")
    assert sorted(out["clusterArns"]) == sorted(eu_list)
    # Deleting in one region leaves the other's twin alone.
    eu.delete_cluster(cluster="twin")
    assert describe(b, "twin", ecs=us)["status"] == "ACTIVE"
    # Providers are regional too.
    make_cp(b, "regional-cp", managed=False, ecs=eu)
    expect_error("InvalidParameterException", us.create_cluster, clusterName="uses-eu-cp",
                 capacityProviders=["regional-cp"], message=CP_NOT_FOUND_MSG)
    # Unsigned raw requests use the daemon's region (us-east-1).
    st, _, out = b.raw("DescribeClusters", json.dumps({"clusters": ["eu-only", "twin"]}))
    assert st == 200
    assert [c["clusterArn"] for c in out["clusters"]] == [ARN % "twin"]
    assert out["failures"] == [{"arn": ARN % "eu-only", "reason": "MISSING"}]
    # A hand-made SigV4 header picks the region from its credential scope.
    auth = ("AWS4-HMAC-SHA256 Credential=test/20240101/eu-west-1/ecs/aws4_request, "
            "SignedHeaders=host;x-amz-date, Signature=00")
    st, _, out = b.raw("DescribeClusters", json.dumps({"clusters": ["eu-only"]}), {"Authorization": auth})
    assert [c["clusterArn"] for c in out["clusters"]] == [eu_arn % "eu-only"], out


def test_state_survives_restart(b):
    b.ecs.create_cluster(clusterName="durable", tags=[{"key": "k", "value": "v"}],
                         settings=[{"name": "containerInsights", "value": "enhanced"}],
                         configuration=CONFIG, serviceConnectDefaults={"namespace": "durable-ns"},
                         capacityProviders=["FARGATE"],
                         defaultCapacityProviderStrategy=[{"capacityProvider": "FARGATE", "weight": 3}])
    before = wait_status(b, "durable", "ACTIVE")
    before = describe(b, "durable", ALL_INCLUDES)
    b.restart()
    after = describe(b, "durable", ALL_INCLUDES)
    assert after == before, (before, after)
    # The recorded arguments survive too: the same create is still idempotent.
    again = b.ecs.create_cluster(clusterName="durable", tags=[{"key": "k", "value": "v"}],
                                 settings=[{"name": "containerInsights", "value": "enhanced"}],
                                 configuration=CONFIG, serviceConnectDefaults={"namespace": "durable-ns"},
                                 capacityProviders=["FARGATE"],
                                 defaultCapacityProviderStrategy=[{"capacityProvider": "FARGATE", "weight": 3}])
    assert again["cluster"]["clusterArn"] == ARN % "durable"


if __name__ == "__main__":
    main(globals())
