"""The AWS Query protocol as Auto Scaling speaks it: form bodies in, XML
answers and <ErrorResponse> errors out, through raw HTTP, botocore's
`autoscaling` client and `aws autoscaling` against a real berthd.  The
resources themselves are test_autoscaling*.py's; here only what the
protocol layer decides: which error an unknown, unimplemented or invalid
request gets and in what shape, the region of the signature, and that
answers parse."""
import json
import os
import re
import subprocess
import tempfile
import urllib.parse
import xml.etree.ElementTree as ET

import botocore.config
import boto3

from harness import ACCOUNT, REGION, expect_error, main

NS = "{http://autoscaling.amazonaws.com/doc/2011-01-01/}"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
FORM = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}


def header(hdrs, name):
    for k, v in hdrs.items():
        if k.lower() == name.lower():
            return v
    return None


def asc(b, region=REGION, validate=True):
    """A botocore autoscaling client; validate=False sends what botocore
    would refuse itself, so the server's validation answers."""
    return boto3.client(
        "autoscaling", endpoint_url=b.endpoint, region_name=region,
        aws_access_key_id="test", aws_secret_access_key="test",
        config=botocore.config.Config(retries={"max_attempts": 1}, parameter_validation=validate))


def query(b, params, auth=None):
    """POST a form body; returns (status, headers, root element)."""
    body = params if isinstance(params, (str, bytes)) else urllib.parse.urlencode(params)
    hdrs = dict(FORM)
    if auth:
        hdrs["Authorization"] = auth
    st, h, payload = b.raw(None, body, headers=hdrs)
    assert header(h, "Content-Type") == "text/xml", (st, h, payload)
    return st, h, ET.fromstring(payload)


def assert_query_error(resp, code, message=None, status=400):
    st, h, root = resp
    assert st == status, (st, ET.tostring(root))
    assert root.tag == NS + "ErrorResponse", root.tag
    err = root.find(NS + "Error")
    assert err.findtext(NS + "Type") == "Sender"
    assert err.findtext(NS + "Code") == code, ET.tostring(root)
    if message is not None:
        assert message in err.findtext(NS + "Message"), ET.tostring(root)
    rid = root.findtext(NS + "RequestId")
    assert UUID.fullmatch(rid) and rid == header(h, "x-amzn-RequestId"), (rid, h)
    return err.findtext(NS + "Message")


def cli(b, *args, region=REGION, config=None):
    """`aws autoscaling ARGS`; config: text of an AWS config file to use.
    Returns (rc, stdout, stderr)."""
    env = dict(os.environ)
    path = None
    if config is not None:
        fd, path = tempfile.mkstemp(prefix="berth-awscfg-")
        with os.fdopen(fd, "w") as f:
            f.write(config)
        env["AWS_CONFIG_FILE"] = path
    try:
        p = subprocess.run(["aws", "--endpoint-url", b.endpoint, "--region", region, "--output", "json",
                            "autoscaling"] + list(args), capture_output=True, text=True, timeout=60, env=env)
    finally:
        if path:
            os.unlink(path)
    return p.returncode, p.stdout, p.stderr


NO_CLIENT_VALIDATION = "[default]\nparameter_validation = false\n"


def test_unimplemented_action(b):
    # An operation of the Auto Scaling model Berth has no handler for.
    e = expect_error("InvalidAction", asc(b).describe_warm_pool, AutoScalingGroupName="g",
                     message="Berth does not implement DescribeWarmPool yet")
    assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert e.response["Error"]["Type"] == "Sender"
    assert UUID.fullmatch(e.response["ResponseMetadata"]["RequestId"])
    rc, out, err = cli(b, "describe-warm-pool", "--auto-scaling-group-name", "g")
    assert rc != 0 and "(InvalidAction)" in err and "DescribeWarmPool" in err, (rc, out, err)
    assert_query_error(query(b, {"Action": "DescribeWarmPool", "Version": "2011-01-01",
                                 "AutoScalingGroupName": "g"}),
                       "InvalidAction", "Berth does not implement DescribeWarmPool yet")


def test_unknown_action_and_version(b):
    v = "2011-01-01"
    assert_query_error(query(b, {"Action": "CreateCluster", "Version": v}), "InvalidAction",
                       "Could not find operation CreateCluster for version 2011-01-01")
    assert_query_error(query(b, {"Action": "DescribeAutoScalingGroups"}), "InvalidAction",
                       "Could not find operation DescribeAutoScalingGroups for version NO_VERSION_SPECIFIED")
    assert_query_error(query(b, {"Action": "DescribeAutoScalingGroups", "Version": "2010-08-01"}),
                       "InvalidAction", "for version 2010-08-01")
    assert_query_error(query(b, {"Version": v}), "MissingAction")
    assert_query_error(query(b, ""), "MissingAction")
    # A client's text in a message is escaped, so the answer still parses.
    msg = assert_query_error(query(b, {"Action": "<x>&'\"", "Version": v}), "InvalidAction")
    assert "<x>&'\"" in msg, msg


def test_malformed_forms(b):
    v = "Action=DescribeLaunchConfigurations&Version=2011-01-01"
    for bad in ("&LaunchConfigurationNames.member.1=%zz", "&LaunchConfigurationNames.member.1=%C3%28",
                "&LaunchConfigurationNames.member.1=a%00b", "&LaunchConfigurationNames.member.1=%01",
                "&LaunchConfigurationNames.member.0=a", "&LaunchConfigurationNames.1=a",
                "&MaxRecords=ten", "&MaxRecords=1&MaxRecords=2"):
        assert_query_error(query(b, v + bad), "ValidationError")
    msg = assert_query_error(query(b, v + "&MaxRecords=ten"), "ValidationError")
    assert msg == ("1 validation error detected: Value 'ten' at 'MaxRecords' failed to satisfy "
                   "constraint: Member must be an integer"), msg


def test_validation_errors(b):
    c = asc(b, validate=False)
    # The validator runs before the handler table, so the message is the
    # same whether or not Berth implements the action.
    expect_error("ValidationError", c.create_auto_scaling_group, AutoScalingGroupName="g", MaxSize=1,
                 message="1 validation error detected: Value null at 'minSize' failed to satisfy "
                         "constraint: Member must not be null")
    expect_error("ValidationError", c.describe_warm_pool,
                 message="Value null at 'autoScalingGroupName' failed to satisfy constraint")
    expect_error("ValidationError", c.create_auto_scaling_group, AutoScalingGroupName="g", MinSize=0,
                 MaxSize=1, Tags=[{"Value": "v"}],
                 message="Value null at 'tags.1.member.key' failed to satisfy constraint: "
                         "Member must not be null")
    expect_error("ValidationError", c.create_launch_configuration, LaunchConfigurationName="",
                 message="Value '' at 'launchConfigurationName' failed to satisfy constraint: "
                         "Member must have length greater than or equal to 1")
    expect_error("ValidationError", c.create_launch_configuration, LaunchConfigurationName="x" * 256,
                 message="Member must have length less than or equal to 255")
    expect_error("ValidationError", c.put_warm_pool, AutoScalingGroupName="g", PoolState="Off",
                 message="Value 'Off' at 'poolState' failed to satisfy constraint: Member must satisfy "
                         "enum value set: [Stopped, Running, Hibernated]")
    expect_error("ValidationError", c.put_warm_pool, AutoScalingGroupName="g", MinSize=-1,
                 message="Value '-1' at 'minSize' failed to satisfy constraint: Member must have value "
                         "greater than or equal to 0")
    rc, out, err = cli(b, "create-auto-scaling-group", "--cli-input-json",
                       '{"AutoScalingGroupName": "g", "MaxSize": 1}', config=NO_CLIENT_VALIDATION)
    assert rc != 0 and "(ValidationError)" in err and "Value null at 'minSize'" in err, (rc, out, err)
    rc, out, err = cli(b, "create-launch-configuration", "--launch-configuration-name", "",
                       config=NO_CLIENT_VALIDATION)
    assert rc != 0 and "(ValidationError)" in err and "'launchConfigurationName'" in err, (rc, out, err)


def implemented(b, action):
    """Has action a handler yet (InvalidAction "Berth does not implement"
    until then)?  action must take an empty request: the validator answers
    before the table is looked at."""
    st, _, root = query(b, {"Action": action, "Version": "2011-01-01"})
    return "does not implement" not in (root.findtext(".//" + NS + "Message") or "")


def test_region_from_signature(b):
    if not implemented(b, "DescribeLaunchConfigurations"):
        print("  (skipped: launch configurations not implemented yet)")
        return
    eu, us = asc(b, "eu-west-1"), asc(b, "us-east-1")
    eu.create_launch_configuration(LaunchConfigurationName="lc-eu", ImageId="ami-1", InstanceType="m5.large")
    got = eu.describe_launch_configurations(LaunchConfigurationNames=["lc-eu"])["LaunchConfigurations"]
    assert [lc["LaunchConfigurationName"] for lc in got] == ["lc-eu"], got
    assert got[0]["LaunchConfigurationARN"].startswith("arn:aws:autoscaling:eu-west-1:%s:launchConfiguration:" % ACCOUNT), got
    assert us.describe_launch_configurations(LaunchConfigurationNames=["lc-eu"])["LaunchConfigurations"] == []
    # No signature at all: berthd's own region.
    st, _, root = query(b, {"Action": "DescribeLaunchConfigurations", "Version": "2011-01-01",
                            "LaunchConfigurationNames.member.1": "lc-eu"})
    assert st == 200 and root.find(".//%sLaunchConfigurations/%smember" % (NS, NS)) is None
    auth = ("AWS4-HMAC-SHA256 Credential=AKID/20240101/eu-west-1/autoscaling/aws4_request, "
            "SignedHeaders=host, Signature=00")
    st, _, root = query(b, {"Action": "DescribeLaunchConfigurations", "Version": "2011-01-01",
                            "LaunchConfigurationNames.member.1": "lc-eu"}, auth=auth)
    assert st == 200 and root.findtext(".//%smember/%sLaunchConfigurationName" % (NS, NS)) == "lc-eu"
    eu.delete_launch_configuration(LaunchConfigurationName="lc-eu")


def test_round_trip(b):
    if not implemented(b, "DescribeLaunchConfigurations"):
        print("  (skipped: launch configurations not implemented yet)")
        return
    c = asc(b)
    out = c.create_launch_configuration(LaunchConfigurationName="lc-rt", ImageId="ami-12345678",
                                        InstanceType="c5.xlarge", SecurityGroups=["sg-1", "sg-2"])
    assert out["ResponseMetadata"]["HTTPStatusCode"] == 200
    lcs = c.describe_launch_configurations(LaunchConfigurationNames=["lc-rt"])["LaunchConfigurations"]
    assert len(lcs) == 1, lcs
    lc = lcs[0]
    assert lc["LaunchConfigurationName"] == "lc-rt" and lc["ImageId"] == "ami-12345678"
    assert lc["InstanceType"] == "c5.xlarge" and lc["SecurityGroups"] == ["sg-1", "sg-2"], lc
    assert lc["CreatedTime"].year >= 2024, lc  # a timestamp botocore parsed
    # The raw answer has AWS's envelope.
    st, h, root = query(b, {"Action": "DescribeLaunchConfigurations", "Version": "2011-01-01",
                            "LaunchConfigurationNames.member.1": "lc-rt"})
    assert st == 200 and root.tag == NS + "DescribeLaunchConfigurationsResponse", root.tag
    assert root.find(NS + "DescribeLaunchConfigurationsResult") is not None
    assert root.findtext("%sResponseMetadata/%sRequestId" % (NS, NS)) == header(h, "x-amzn-RequestId")
    # An action without output: no Result element.
    st, _, root = query(b, {"Action": "DeleteLaunchConfiguration", "Version": "2011-01-01",
                            "LaunchConfigurationName": "lc-rt"})
    assert st == 200 and [e.tag for e in root] == [NS + "ResponseMetadata"], ET.tostring(root)
    # The AWS CLI, both ways.
    rc, out, err = cli(b, "create-launch-configuration", "--launch-configuration-name", "lc-cli",
                       "--image-id", "ami-1", "--instance-type", "t3.micro")
    assert rc == 0, err
    rc, out, err = cli(b, "describe-launch-configurations", "--launch-configuration-names", "lc-cli")
    assert rc == 0, err
    got = json.loads(out)["LaunchConfigurations"]
    assert [x["LaunchConfigurationName"] for x in got] == ["lc-cli"] and got[0]["InstanceType"] == "t3.micro", got
    assert cli(b, "delete-launch-configuration", "--launch-configuration-name", "lc-cli")[0] == 0


def test_group_round_trip_escaping(b):
    """Nested lists and structures, booleans, and text XML must escape."""
    if not implemented(b, "DescribeAutoScalingGroups"):
        print("  (skipped: groups not implemented yet)")
        return
    c = asc(b)
    c.create_launch_configuration(LaunchConfigurationName="lc-g", ImageId="ami-1", InstanceType="m5.large")
    tricky = "<a href='x'>&\"amp;\" \u20ac</a>"
    c.create_auto_scaling_group(AutoScalingGroupName="g-esc", LaunchConfigurationName="lc-g", MinSize=0,
                                MaxSize=2, DesiredCapacity=0, AvailabilityZones=["us-east-1a", "us-east-1b"],
                                NewInstancesProtectedFromScaleIn=True,
                                Tags=[{"Key": "k", "Value": tricky, "PropagateAtLaunch": True}])
    # An empty list is sent as "AutoScalingGroupNames=": every group.
    groups = c.describe_auto_scaling_groups(AutoScalingGroupNames=[])["AutoScalingGroups"]
    assert "g-esc" in [g["AutoScalingGroupName"] for g in groups], groups
    g = c.describe_auto_scaling_groups(AutoScalingGroupNames=["g-esc"])["AutoScalingGroups"][0]
    assert g["AvailabilityZones"] == ["us-east-1a", "us-east-1b"], g
    assert g["NewInstancesProtectedFromScaleIn"] is True and g["MaxSize"] == 2, g
    tags = [t for t in g["Tags"] if t["Key"] == "k"]
    assert tags and tags[0]["Value"] == tricky and tags[0]["PropagateAtLaunch"] is True, g["Tags"]
    c.delete_auto_scaling_group(AutoScalingGroupName="g-esc", ForceDelete=True)


def test_json_protocol_unaffected(b):
    # ECS (JSON 1.1, X-Amz-Target) still answers as before on the same port.
    assert b.ecs.list_clusters()["ResponseMetadata"]["HTTPStatusCode"] == 200
    # A JSON content type without a target is not taken for a form.
    st, h, body = b.raw(None, "{}")
    assert st == 400 and body["__type"] == "UnknownOperationException", body


if __name__ == "__main__":
    main(globals())
