"""Authentication (issue 7, first part): `--auth sigv4` takes only requests
signed with a known key (the root credentials from BERTH_ROOT_ACCESS_KEY_ID
and BERTH_ROOT_SECRET_ACCESS_KEY), and answers the others with the error
AWS gives, in each protocol's shape; `--auth open` (the default) takes any
credentials.  Clients: boto3 (ecs, autoscaling), the AWS CLI, and requests
signed by botocore then tampered with, sent raw."""
import datetime
import json
import os
import subprocess
import tempfile
import urllib.error
import urllib.request
from unittest import mock

import boto3
import botocore.auth
import botocore.awsrequest
import botocore.credentials
import botocore.exceptions

import harness
from harness import main, Berth, expect_error

AK, SK = "AKIDBERTHROOT0000001", "berth-root-secret"
ENV = {"BERTH_ROOT_ACCESS_KEY_ID": AK, "BERTH_ROOT_SECRET_ACCESS_KEY": SK}
TARGET = "AmazonEC2ContainerServiceV20141113."


def client(b, service, ak=AK, sk=SK):
    return boto3.client(service, endpoint_url=b.endpoint, region_name="us-east-1", aws_access_key_id=ak,
                        aws_secret_access_key=sk)


def signed(b, body, headers, sk=SK, when=None, service="ecs"):
    """A request signed by botocore (at `when`, default now): (url, body, headers)."""
    req = botocore.awsrequest.AWSRequest(method="POST", url=b.endpoint + "/", data=body, headers=headers)
    auth = botocore.auth.SigV4Auth(botocore.credentials.Credentials(AK, sk), service, "us-east-1")
    if when is None:
        auth.add_auth(req)
    else:
        with mock.patch("botocore.auth.get_current_datetime", return_value=when):
            auth.add_auth(req)
    return req.url, req.body, dict(req.headers.items())


def send(url, body, headers):
    r = urllib.request.Request(url, data=body if isinstance(body, bytes) else body.encode(), method="POST")
    for k, v in headers.items():
        r.add_header(k, v)
    try:
        with urllib.request.urlopen(r, timeout=10) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def json_headers(action):
    return {"X-Amz-Target": TARGET + action, "Content-Type": "application/x-amz-json-1.1"}


def start_sigv4():
    return Berth("--auth", "sigv4", env=dict(os.environ, **ENV)).start()


def test_signed_requests_pass_and_bad_ones_get_aws_errors(_shared):
    b = start_sigv4()
    try:
        ecs = client(b, "ecs")
        assert ecs.create_cluster(clusterName="signed")["cluster"]["status"] == "ACTIVE"
        asg = client(b, "autoscaling")
        assert asg.describe_auto_scaling_groups()["AutoScalingGroups"] == []
        # the AWS CLI signs the same way
        out = subprocess.run(["aws", "--endpoint-url", b.endpoint, "--region", "us-east-1", "--output", "json",
                              "ecs", "list-clusters"], capture_output=True, text=True,
                             env=dict(os.environ, AWS_ACCESS_KEY_ID=AK, AWS_SECRET_ACCESS_KEY=SK), check=True)
        assert json.loads(out.stdout)["clusterArns"][0].endswith(":cluster/signed"), out.stdout
        # a wrong secret, an unknown key: 403 with AWS's types and texts
        e = expect_error("InvalidSignatureException", client(b, "ecs", sk="wrong").list_clusters)
        assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 403
        assert e.response["Error"]["Message"].startswith("The request signature we calculated does not match")
        e = expect_error("UnrecognizedClientException", client(b, "ecs", ak="AKIDNOBODY").list_clusters,
                         message="The security token included in the request is invalid.")
        assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 403
        # the Query protocol's codes for the same failures
        expect_error("SignatureDoesNotMatch", client(b, "autoscaling", sk="wrong").describe_auto_scaling_groups)
        expect_error("InvalidClientTokenId", client(b, "autoscaling", ak="AKIDNOBODY").describe_auto_scaling_groups)
        # no Authorization at all
        st, body = send(b.endpoint + "/", "{}", json_headers("ListClusters"))
        assert st == 403 and json.loads(body)["__type"] == "MissingAuthenticationTokenException", (st, body)
        # a malformed one
        st, body = send(b.endpoint + "/", "{}", dict(json_headers("ListClusters"),
                                                     Authorization="AWS4-HMAC-SHA256 Signature=00"))
        assert st == 400 and json.loads(body)["__type"] == "IncompleteSignatureException", (st, body)
        # a good signature, then the body changed: refused, and nothing made
        url, data, hdrs = signed(b, '{"clusterName": "tampered-a"}', json_headers("CreateCluster"))
        st, body = send(url, data.replace(b"tampered-a", b"tampered-b"), hdrs)
        assert st == 403 and json.loads(body)["__type"] == "InvalidSignatureException", (st, body)
        assert send(url, data, hdrs)[0] == 200                     # the untouched one passes
        assert [c.split("/")[-1] for c in ecs.list_clusters()["clusterArns"]] == ["signed", "tampered-a"]
        # a signed header changed
        hdrs2 = dict(hdrs, **{"X-Amz-Target": TARGET + "DeleteCluster"})
        assert send(url, data, hdrs2)[0] == 403
        # clock skew: 16 minutes old is refused, 14 minutes old passes
        old = datetime.datetime.utcnow() - datetime.timedelta(minutes=16)
        url, data, hdrs = signed(b, "{}", json_headers("ListClusters"), when=old)
        st, body = send(url, data, hdrs)
        assert st == 403 and "Signature expired" in json.loads(body)["message"], (st, body)
        recent = datetime.datetime.utcnow() - datetime.timedelta(minutes=14)
        url, data, hdrs = signed(b, "{}", json_headers("ListClusters"), when=recent)
        assert send(url, data, hdrs)[0] == 200
    finally:
        b.close()


def test_open_mode_takes_any_credentials(b):
    assert client(b, "ecs", ak="anything", sk="at-all").list_clusters()["clusterArns"] is not None
    st, _ = send(b.endpoint + "/", "{}", json_headers("ListClusters"))
    assert st == 200


def test_sigv4_needs_root_credentials(_shared):
    d = tempfile.mkdtemp(prefix="berth-auth-")
    env = {k: v for k, v in os.environ.items() if not k.startswith("BERTH_ROOT_")}
    p = subprocess.run([harness.BERTHD, "--listen", "127.0.0.1:0", "--data-dir", d, "--auth", "sigv4"],
                       capture_output=True, text=True, env=env, timeout=10)
    assert p.returncode != 0 and "BERTH_ROOT_ACCESS_KEY_ID" in p.stderr + p.stdout, (p.returncode, p.stderr)
    p = subprocess.run([harness.BERTHD, "--listen", "127.0.0.1:0", "--data-dir", d, "--auth", "maybe"],
                       capture_output=True, text=True, env=env, timeout=10)
    assert p.returncode != 0 and "--auth maybe" in p.stderr + p.stdout, (p.returncode, p.stderr)


if __name__ == "__main__":
    main(globals())
