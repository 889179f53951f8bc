"""Tagging end to end (ECS-SEMANTICS §9) for the resources Berth has:
clusters and capacity providers.  TagResource merges, UntagResource removes,
ListTagsForResource lists; limits, reserved prefixes, allowed characters;
the error each kind of bad ARN gets.  Part of it runs through the AWS CLI."""
import itertools
import json

from harness import main, expect_error, wait_until, fresh, berthd_args, ACCOUNT, REGION

ARN = "arn:aws:ecs:%s:%s:" % (REGION, ACCOUNT)
INACTIVE = "The specified cluster is inactive. Specify an active cluster and try again."

_seq = itertools.count(1)


def uniq(prefix):
    return "%s-%03d" % (prefix, next(_seq))


def tag_list(d):
    return [{"key": k, "value": v} for k, v in d.items()]


def as_dict(tags):
    out = {}
    for t in tags:
        assert t["key"] not in out, "key %r listed twice" % t["key"]
        out[t["key"]] = t["value"]
    return out


def listed(b, arn):
    return as_dict(b.ecs.list_tags_for_resource(resourceArn=arn)["tags"])


def new_cluster(b, tags=None):
    name = uniq("cl")
    kw = {"tags": tag_list(tags)} if tags else {}
    return b.ecs.create_cluster(clusterName=name, **kw)["cluster"]["clusterArn"]


def new_cp(b, tags=None):
    name = uniq("cp")
    kw = {"tags": tag_list(tags)} if tags else {}
    return b.ecs.create_capacity_provider(name=name, autoScalingGroupProvider={"autoScalingGroupArn": "g-" + name},
                                          **kw)["capacityProvider"]["capacityProviderArn"]


def raw(b, target, body):
    return b.raw(target, json.dumps(body))


def raw_error(b, target, body, code, contains=None):
    status, _, out = raw(b, target, body)
    assert status == 400 and out["__type"] == code, (status, out)
    if contains is not None:
        assert contains in out["message"], out
    return out


def every_op_fails(b, arn, code, message=None):
    """Tag, Untag and List on arn all fail with code (and message)."""
    expect_error(code, b.ecs.tag_resource, resourceArn=arn, tags=[{"key": "k", "value": "v"}], message=message)
    expect_error(code, b.ecs.untag_resource, resourceArn=arn, tagKeys=["k"], message=message)
    expect_error(code, b.ecs.list_tags_for_resource, resourceArn=arn, message=message)


# ---- merge, remove, list ----

def test_cluster_tags_merge_and_untag(b):
    arn = new_cluster(b, {"a": "1", "b": "2"})
    assert listed(b, arn) == {"a": "1", "b": "2"}
    assert b.ecs.tag_resource(resourceArn=arn, tags=tag_list({"b": "20", "c": "3"}))["ResponseMetadata"]
    assert listed(b, arn) == {"a": "1", "b": "20", "c": "3"}
    # an empty value, and an empty request
    b.ecs.tag_resource(resourceArn=arn, tags=[{"key": "d", "value": ""}])
    b.ecs.tag_resource(resourceArn=arn, tags=[])
    assert listed(b, arn) == {"a": "1", "b": "20", "c": "3", "d": ""}
    # the same key twice in one request: one tag, the last value
    b.ecs.tag_resource(resourceArn=arn, tags=[{"key": "e", "value": "x"}, {"key": "e", "value": "y"}])
    assert listed(b, arn)["e"] == "y"
    # untag: absent keys are ignored, keys are case-sensitive
    b.ecs.untag_resource(resourceArn=arn, tagKeys=["a", "zzz", "C"])
    assert listed(b, arn) == {"b": "20", "c": "3", "d": "", "e": "y"}
    b.ecs.untag_resource(resourceArn=arn, tagKeys=[])
    cl = b.ecs.describe_clusters(clusters=[arn], include=["TAGS"])["clusters"][0]
    assert as_dict(cl["tags"]) == {"b": "20", "c": "3", "d": "", "e": "y"}
    assert "tags" not in b.ecs.describe_clusters(clusters=[arn])["clusters"][0]
    b.ecs.untag_resource(resourceArn=arn, tagKeys=["b", "c", "d", "e"])
    assert b.ecs.list_tags_for_resource(resourceArn=arn)["tags"] == []


def test_capacity_provider_tags_through_the_cli(b):
    arn = new_cp(b, {"team": "blue", "old": "x"})
    b.cli("ecs", "tag-resource", "--resource-arn", arn, "--tags", "key=team,value=red", "key=cost center,value=42")
    b.cli("ecs", "untag-resource", "--resource-arn", arn, "--tag-keys", "old")
    _, out, _ = b.cli("ecs", "list-tags-for-resource", "--resource-arn", arn)
    assert as_dict(out["tags"]) == {"team": "red", "cost center": "42"}, out
    cp = b.ecs.describe_capacity_providers(capacityProviders=[arn], include=["TAGS"])["capacityProviders"][0]
    assert as_dict(cp["tags"]) == {"team": "red", "cost center": "42"}
    # CLI errors carry the code
    rc, _, err = b.cli("ecs", "tag-resource", "--resource-arn", ARN + "cluster/" + uniq("nope"),
                       "--tags", "key=a,value=b", check=False)
    assert rc != 0 and "(ClusterNotFoundException)" in err, err


def test_provider_whose_delete_failed_keeps_its_tags(b):
    arn = new_cp(b, {"a": "1"})
    cl = uniq("cl")
    b.ecs.create_cluster(clusterName=cl, capacityProviders=[arn.rsplit("/", 1)[1]])
    ans = b.ecs.delete_capacity_provider(capacityProvider=arn)["capacityProvider"]
    assert ans["updateStatus"] == "DELETE_FAILED" and ans["tags"] == [{"key": "a", "value": "1"}], ans
    b.ecs.tag_resource(resourceArn=arn, tags=[{"key": "b", "value": "2"}])
    assert listed(b, arn) == {"a": "1", "b": "2"}


# ---- limits ----

def test_fifty_tags_counting_existing_ones(b):
    base = {"k%02d" % i: "v" for i in range(45)}
    for arn in (new_cluster(b, base), new_cp(b, base)):
        # 45 + 6 new is one too many, and changes nothing
        six = {"n%d" % i: "x" for i in range(6)}
        e = expect_error("InvalidParameterException", b.ecs.tag_resource, resourceArn=arn, tags=tag_list(six))
        assert "50" in e.response["Error"]["Message"]
        assert listed(b, arn) == base
        # overwriting existing keys does not count: 5 overwritten + 5 new = 50
        mix = dict({"k%02d" % i: "new" for i in range(5)}, **{"n%d" % i: "x" for i in range(5)})
        b.ecs.tag_resource(resourceArn=arn, tags=tag_list(mix))
        assert len(listed(b, arn)) == 50
        expect_error("InvalidParameterException", b.ecs.tag_resource, resourceArn=arn,
                     tags=[{"key": "one-more", "value": ""}])
        # but overwriting at 50 is fine, and so is adding after an untag
        b.ecs.tag_resource(resourceArn=arn, tags=[{"key": "k00", "value": "again"}])
        b.ecs.untag_resource(resourceArn=arn, tagKeys=["k01"])
        b.ecs.tag_resource(resourceArn=arn, tags=[{"key": "one-more", "value": ""}])
        assert len(listed(b, arn)) == 50 and listed(b, arn)["k00"] == "again"
    # at create time: 50 fine, 51 refused
    fifty = {"t%02d" % i: "" for i in range(50)}
    assert len(listed(b, new_cluster(b, fifty))) == 50
    expect_error("InvalidParameterException", new_cluster, b, dict(fifty, extra="x"))
    expect_error("InvalidParameterException", new_cp, b, dict(fifty, extra="x"))
    # 51 in one TagResource on a fresh resource
    arn = new_cluster(b)
    expect_error("InvalidParameterException", b.ecs.tag_resource, resourceArn=arn,
                 tags=tag_list(dict(fifty, extra="x")))
    assert listed(b, arn) == {}


def test_key_and_value_lengths(b):
    arn = new_cluster(b)
    ok = {"k" * 128: "v" * 256, "é" * 128: "ü" * 256, "empty": ""}
    b.ecs.tag_resource(resourceArn=arn, tags=tag_list(ok))
    assert listed(b, arn) == ok
    for key, value in (("k" * 129, "v"), ("é" * 129, "v"), ("k", "v" * 257), ("k", "ü" * 257)):
        expect_error("InvalidParameterException", b.ecs.tag_resource, resourceArn=arn,
                     tags=[{"key": key, "value": value}])
    # an empty key never leaves boto3; sent raw it is refused
    raw_error(b, "TagResource", {"resourceArn": arn, "tags": [{"key": "", "value": "v"}]},
              "InvalidParameterException")
    raw_error(b, "CreateCluster", {"clusterName": uniq("cl"), "tags": [{"key": "", "value": "v"}]},
              "InvalidParameterException")
    assert listed(b, arn) == ok


def test_reserved_aws_prefix(b):
    arn = new_cluster(b, {"keep": "1"})
    cp = new_cp(b)
    for target in (arn, cp):
        for key, value in (("aws:x", "v"), ("AWS:x", "v"), ("Aws:", "v"), ("k", "aws:v"), ("k", "AwS:v")):
            expect_error("InvalidParameterException", b.ecs.tag_resource, resourceArn=target,
                         tags=[{"key": key, "value": value}])
        for key in ("aws:x", "AWS:Name"):
            expect_error("InvalidParameterException", b.ecs.untag_resource, resourceArn=target, tagKeys=["ok", key])
        # without the colon it is an ordinary word
        b.ecs.tag_resource(resourceArn=target, tags=[{"key": "awsome", "value": "aws"}, {"key": "x:aws:", "value": "y"}])
    assert listed(b, arn) == {"keep": "1", "awsome": "aws", "x:aws:": "y"}
    expect_error("InvalidParameterException", new_cluster, b, {"aws:team": "a"})
    expect_error("InvalidParameterException", new_cp, b, {"team": "aws:a"})


def test_allowed_characters(b):
    arn = new_cluster(b)
    good = {
        "Ünïcödé 名前": "値 ١٢٣",
        "path/to:thing": "a_b.c:d/e=f+g-h@i j",
        "Ωmega-2": "",
        "tab\u3000ideographic space": "non\u00a0breaking",
    }
    b.ecs.tag_resource(resourceArn=arn, tags=tag_list(good))
    assert listed(b, arn) == good
    for key, value in (("bad!", "v"), ("k", "v#"), ("semi;colon", "v"), ("k", "comma,"), ("star*", "v"),
                       ("<b>", "v"), ("k", "quote\""), ("new\nline", "v"),
                       # symbols, emoji, format and combining characters are
                       # outside \p{L}\p{Z}\p{N}
                       ("euro€", "v"), ("k", "\u00a9"), ("k", "smile\U0001F600"), ("zero\u200bwidth", "v"),
                       ("k", "a\u0301")):
        expect_error("InvalidParameterException", b.ecs.tag_resource, resourceArn=arn,
                     tags=[{"key": key, "value": value}])
    assert listed(b, arn) == good


# ---- what each ARN gets ----

def test_unknown_cluster(b):
    every_op_fails(b, ARN + "cluster/" + uniq("nope"), "ClusterNotFoundException", "Cluster not found.")


def test_inactive_cluster(b):
    arn = new_cluster(b, {"a": "1"})
    b.ecs.delete_cluster(cluster=arn)
    every_op_fails(b, arn, "InvalidParameterException", INACTIVE)
    # re-created, it is a new cluster with new tags
    name = arn.rsplit("/", 1)[1]
    b.ecs.create_cluster(clusterName=name, tags=[{"key": "b", "value": "2"}])
    assert listed(b, arn) == {"b": "2"}


def test_unknown_capacity_provider(b):
    every_op_fails(b, ARN + "capacity-provider/" + uniq("nope"), "ResourceNotFoundException")


@fresh
def test_inactive_capacity_provider(b):
    arn = new_cp(b, {"a": "1"})
    b.ecs.delete_capacity_provider(capacityProvider=arn)
    # --transition-ms 0: INACTIVE on the next ticks
    wait_until(lambda: b.ecs.describe_capacity_providers(capacityProviders=[arn])["capacityProviders"][0]["status"]
               == "INACTIVE", what="INACTIVE")
    every_op_fails(b, arn, "ResourceNotFoundException")


def test_fargate_providers(b):
    for name in ("FARGATE", "FARGATE_SPOT"):
        arn = ARN + "capacity-provider/" + name
        assert b.ecs.list_tags_for_resource(resourceArn=arn)["tags"] == []
        expect_error("InvalidParameterException", b.ecs.tag_resource, resourceArn=arn,
                     tags=[{"key": "k", "value": "v"}])
        expect_error("InvalidParameterException", b.ecs.untag_resource, resourceArn=arn, tagKeys=["k"])
    _, out, _ = b.cli("ecs", "list-tags-for-resource", "--resource-arn", ARN + "capacity-provider/FARGATE")
    assert out == {"tags": []}, out


def test_malformed_arns(b):
    name = uniq("cl")
    b.ecs.create_cluster(clusterName=name)
    bad = ["", "x", "not-an-arn", "arn:", "arn:aws", "arn:aws:ecs", "arn:aws:ecs:" + REGION,
           ARN, ARN[:-1], ARN + "cluster", ARN + "cluster/", ARN + "capacity-provider/",
           ARN + "widget/x", ARN + "/" + name, "cluster/" + name, name,
           "arn:aws:sqs:%s:%s:cluster/%s" % (REGION, ACCOUNT, name),
           "arn:aws:ecs:%s::cluster/%s" % (REGION, name),
           "arn:aws:ecs::%s:cluster/%s" % (ACCOUNT, name),
           "ARN:aws:ecs:%s:%s:cluster/%s" % (REGION, ACCOUNT, name),
           ARN + "cluster/" + name + "/x", ARN + "cluster/" + "x" * 5000]
    for arn in bad:
        for target, body in (("TagResource", {"resourceArn": arn, "tags": [{"key": "k", "value": "v"}]}),
                             ("UntagResource", {"resourceArn": arn, "tagKeys": ["k"]}),
                             ("ListTagsForResource", {"resourceArn": arn})):
            status, _, out = raw(b, target, body)
            assert status == 400, (arn, target, status, out)
            assert out["__type"] in ("InvalidParameterException", "ClusterNotFoundException"), (arn, out)
            if arn != ARN + "cluster/" + "x" * 5000:
                assert out["__type"] == "InvalidParameterException", (arn, out)
    assert listed(b, ARN + "cluster/" + name) == {}


def test_other_region_or_account(b):
    name = uniq("cl")
    arn = b.ecs.create_cluster(clusterName=name, tags=[{"key": "home", "value": "us"}])["cluster"]["clusterArn"]
    eu = b.client("ecs", region="eu-west-1")
    eu_arn = "arn:aws:ecs:eu-west-1:%s:cluster/%s" % (ACCOUNT, name)
    # ARNs of another region or account, asked in this region: refused
    for other in (eu_arn, "arn:aws:ecs:%s:123456789012:cluster/%s" % (REGION, name),
                  "arn:aws-cn:ecs:%s:%s:cluster/%s" % (REGION, ACCOUNT, name)):
        every_op_fails(b, other, "InvalidParameterException")
    # asked in eu-west-1, the us-east-1 ARN is the foreign one
    for fn, kw in ((eu.tag_resource, {"tags": [{"key": "k", "value": "v"}]}),
                   (eu.untag_resource, {"tagKeys": ["home"]}), (eu.list_tags_for_resource, {})):
        expect_error("InvalidParameterException", fn, resourceArn=arn, **kw)
    # a cluster of the same name in eu-west-1 has its own tags
    expect_error("ClusterNotFoundException", eu.list_tags_for_resource, resourceArn=eu_arn)
    eu.create_cluster(clusterName=name, tags=[{"key": "home", "value": "eu"}])
    eu.tag_resource(resourceArn=eu_arn, tags=[{"key": "x", "value": "1"}])
    assert as_dict(eu.list_tags_for_resource(resourceArn=eu_arn)["tags"]) == {"home": "eu", "x": "1"}
    assert listed(b, arn) == {"home": "us"}


def test_unknown_resources(b):
    cl = uniq("cl")
    b.ecs.create_cluster(clusterName=cl)
    for res in ("service/%s/web" % cl, "task/%s/0123456789abcdef0123456789abcdef" % cl,
                "task-definition/fam:1", "container-instance/%s/0123456789abcdef0123456789abcdef" % cl,
                "task-set/%s/web/ecs-svc/1234567890123456789" % cl, "task/0123456789abcdef0123456789abcdef"):
        every_op_fails(b, ARN + res, "ResourceNotFoundException")
    # a short (legacy) service ARN is refused by all three, with AWS's text
    # [M:TagResourceRequest.resourceArn], [gh:turbot/steampipe-plugin-aws#1247]
    every_op_fails(b, ARN + "service/web", "InvalidParameterException",
                   "Long arn format must be used for tagging operations")


@fresh
def test_service_tags_through_the_cli_and_a_restart(b):
    cl = uniq("cl")
    b.ecs.create_cluster(clusterName=cl)
    b.ecs.register_task_definition(family="tagfam", containerDefinitions=[{"name": "a", "image": "x", "memory": 64}])
    svc = b.ecs.create_service(cluster=cl, serviceName="web", taskDefinition="tagfam", desiredCount=0,
                               tags=[{"key": "team", "value": "blue"}])["service"]
    arn = svc["serviceArn"]
    assert arn == ARN + "service/%s/web" % cl
    assert "tags" not in svc or as_dict(svc["tags"]) == {"team": "blue"}
    b.cli("ecs", "tag-resource", "--resource-arn", arn, "--tags", "key=env,value=prod")
    b.ecs.untag_resource(resourceArn=arn, tagKeys=["team"])
    assert listed(b, arn) == {"env": "prod"}
    b.restart()
    assert listed(b, arn) == {"env": "prod"}
    d = b.ecs.describe_services(cluster=cl, services=["web"], include=["TAGS"])["services"][0]
    assert as_dict(d["tags"]) == {"env": "prod"}
    # a deleted service has no tags to change
    b.ecs.delete_service(cluster=cl, service="web")
    wait_until(lambda: b.ecs.describe_services(cluster=cl, services=["web"])["services"][0]["status"] == "INACTIVE",
               what="service INACTIVE")
    every_op_fails(b, arn, "ResourceNotFoundException")


@berthd_args("--sim-step-ms", "20")
def test_service_tasks_get_propagated_and_managed_tags(b):
    cl = uniq("cl")
    b.ecs.create_cluster(clusterName=cl)
    doc = {"instanceId": "i-0000000000000abcd", "instanceType": "m5.large", "availabilityZone": "us-east-1a",
           "region": REGION}
    b.ecs.register_container_instance(
        cluster=cl, instanceIdentityDocument=json.dumps(doc),
        totalResources=[{"name": "CPU", "type": "INTEGER", "integerValue": 1024},
                        {"name": "MEMORY", "type": "INTEGER", "integerValue": 1024}])
    b.ecs.register_task_definition(family="tagprop", containerDefinitions=[{"name": "a", "image": "x", "memory": 64}],
                                   tags=[{"key": "from", "value": "taskdef"}])
    b.ecs.create_service(cluster=cl, serviceName="svc", taskDefinition="tagprop", desiredCount=1,
                         tags=[{"key": "from", "value": "service"}], propagateTags="SERVICE",
                         enableECSManagedTags=True)
    b.ecs.create_service(cluster=cl, serviceName="td", taskDefinition="tagprop", desiredCount=1,
                         propagateTags="TASK_DEFINITION")

    def task_tags(svc):
        arns = b.ecs.list_tasks(cluster=cl, serviceName=svc)["taskArns"]
        return arns and as_dict(b.ecs.describe_tasks(cluster=cl, tasks=arns, include=["TAGS"])["tasks"][0]["tags"])
    assert wait_until(lambda: task_tags("svc"), what="the service's task") == {
        "from": "service", "aws:ecs:clusterName": cl, "aws:ecs:serviceName": "svc"}
    assert wait_until(lambda: task_tags("td"), what="the other service's task") == {"from": "taskdef"}


@fresh
def test_tags_survive_restart(b):
    cl = new_cluster(b, {"a": "1", "b": "2"})
    cp = new_cp(b, {"c": "3"})
    b.ecs.tag_resource(resourceArn=cl, tags=[{"key": "ü", "value": "名"}, {"key": "a", "value": "10"}])
    b.ecs.untag_resource(resourceArn=cl, tagKeys=["b"])
    b.ecs.tag_resource(resourceArn=cp, tags=[{"key": "d", "value": ""}])
    before = (b.ecs.list_tags_for_resource(resourceArn=cl)["tags"], b.ecs.list_tags_for_resource(resourceArn=cp)["tags"])
    b.restart()
    after = (b.ecs.list_tags_for_resource(resourceArn=cl)["tags"], b.ecs.list_tags_for_resource(resourceArn=cp)["tags"])
    assert after == before
    assert as_dict(after[0]) == {"a": "10", "ü": "名"} and as_dict(after[1]) == {"c": "3", "d": ""}


if __name__ == "__main__":
    main(globals())
