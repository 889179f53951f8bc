"""AWS JSON 1.1 as ECS speaks it (ECS-SEMANTICS §1): headers, error bodies
and status codes, serialization and validation errors, the plain HTTP
paths, through raw HTTP, boto3 and the AWS CLI against a real berthd."""
import json
import re
import socket
import urllib.request

import botocore.exceptions
import botocore.session

from harness import ACCOUNT, REGION, berthd_args, expect_error, main, fresh

ARN = "arn:aws:ecs:%s:%s:cluster/%%s" % (REGION, ACCOUNT)
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
CTYPE = "application/x-amz-json-1.1"


def header(hdrs, name):
    for k, v in hdrs.items():
        if k.lower() == name.lower():
            return v
    return None


def assert_error(resp, status, code, message=None):
    st, hdrs, body = resp
    assert st == status, resp
    assert isinstance(body, dict) and set(body) == {"__type", "message"}, body
    assert body["__type"] == code, body
    if message is not None:
        assert message in body["message"], body
    assert header(hdrs, "Content-Type") == CTYPE, hdrs
    assert UUID.fullmatch(header(hdrs, "x-amzn-RequestId") or ""), hdrs
    return body


def snapshot(b):
    """Everything a client can see of the clusters."""
    arns = b.ecs.list_clusters()["clusterArns"]
    names = sorted(a.split("/")[-1] for a in arns) or ["default"]
    d = b.ecs.describe_clusters(clusters=names, include=["ATTACHMENTS", "CONFIGURATIONS", "SETTINGS", "TAGS"])
    for c in d["clusters"]:
        for a in c.get("attachments", []):
            a.pop("status", None)
    return sorted(arns), d["clusters"], d["failures"]


def test_success_headers(b):
    ids = set()
    for target, body in (("ListClusters", "{}"), ("DescribeClusters", "{}"), ("CreateCluster", '{"clusterName":"h"}')):
        st, hdrs, out = b.raw(target, body)
        assert st == 200, (target, out)
        assert header(hdrs, "Content-Type") == CTYPE
        rid = header(hdrs, "x-amzn-RequestId")
        assert UUID.fullmatch(rid or ""), hdrs
        ids.add(rid)
    assert len(ids) == 3, ids
    meta = b.ecs.list_clusters()["ResponseMetadata"]
    assert meta["HTTPStatusCode"] == 200 and UUID.fullmatch(meta["RequestId"]), meta
    # Omitted members are omitted, never null.
    st, _, raw = b.raw("CreateCluster", '{"clusterName":"h"}')
    assert "null" not in json.dumps(raw), raw


def test_error_headers_and_status(b):
    body = assert_error(b.raw("DeleteCluster", '{"cluster":"nope"}'), 400, "ClusterNotFoundException")
    assert body["message"] == "Cluster not found."
    try:
        b.ecs.delete_cluster(cluster="nope")
        raise AssertionError("no error")
    except b.ecs.exceptions.ClusterNotFoundException as e:
        assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 400
        assert UUID.fullmatch(e.response["ResponseMetadata"]["RequestId"])
        assert e.response["Error"]["Message"] == "Cluster not found."


def test_unknown_operation(b):
    assert_error(b.raw("DescribeEverything", "{}"), 400, "UnknownOperationException", "DescribeEverything")
    # Another service's target prefix is not an ECS operation.
    st, hdrs, out = b.raw(None, "{}", {"X-Amz-Target": "AmazonEC2ContainerServiceV20141114.ListClusters"})
    assert_error((st, hdrs, out), 400, "UnknownOperationException")
    st, hdrs, out = b.raw(None, "{}", {"X-Amz-Target": "ListClusters"})
    assert_error((st, hdrs, out), 400, "UnknownOperationException")
    # Operation names are case-sensitive.
    assert_error(b.raw("listclusters", "{}"), 400, "UnknownOperationException")


def test_missing_target(b):
    assert_error(b.raw(None, "{}"), 400, "UnknownOperationException", "X-Amz-Target")


def test_serialization_errors(b):
    before = snapshot(b)
    cases = [
        ("CreateCluster", b'{"clusterName":', None),
        ("CreateCluster", b'{"clusterName":"tail"} x', None),
        ("CreateCluster", b'{"clusterName":"two"}{"clusterName":"docs"}', None),
        ("CreateCluster", b'[{"clusterName":"arr"}]', None),
        ("CreateCluster", b'"just a string"', None),
        ("CreateCluster", b'null', None),
        ("CreateCluster", b'{"clusterName":"bad\xff\xfeutf8"}', "UTF-8"),
        ("CreateCluster", b'{"clusterName":"\xc3"}', "UTF-8"),
        ("CreateCluster", b'{"clusterName":5}', "clusterName"),
        ("CreateCluster", b'{"clusterName":"t","tags":"x"}', "tags"),
        ("CreateCluster", b'{"clusterName":"t","tags":[{"key":1,"value":"v"}]}', "tags[0].key"),
        ("CreateCluster", b'{"clusterName":"t","capacityProviders":["FARGATE"],'
                          b'"defaultCapacityProviderStrategy":[{"capacityProvider":"FARGATE","weight":"1"}]}',
         "defaultCapacityProviderStrategy[0].weight"),
        ("CreateCluster", b'{"clusterName":"t","capacityProviders":["FARGATE"],'
                          b'"defaultCapacityProviderStrategy":[{"capacityProvider":"FARGATE","weight":1.5}]}',
         "defaultCapacityProviderStrategy[0].weight"),
        ("CreateCluster", b'{"clusterName":"t","settings":{"name":"containerInsights"}}', "settings"),
        ("ListClusters", b'{"maxResults":"10"}', "maxResults"),
        ("ListClusters", b'{"maxResults":true}', "maxResults"),
        ("DescribeClusters", b'{"clusters":"one"}', "clusters"),
        # cJSON would cut the string at the NUL and act on "ab".
        ("CreateCluster", b'{"clusterName":"ab\\u0000cd"}', "NUL"),
        ("CreateCluster", b'{"clusterName":"nul","tags":[{"key":"k","value":"\\u0000"}]}', "NUL"),
    ]
    for target, body, needle in cases:
        assert_error(b.raw(target, body), 400, "SerializationException", needle)
    assert snapshot(b) == before
    assert b.ecs.describe_clusters(clusters=["ab", "nul"])["clusters"] == []
    # An escaped backslash before "u0000" is just text (here, a bad name).
    assert_error(b.raw("CreateCluster", b'{"clusterName":"ab\\\\u0000cd"}'), 400, "InvalidParameterException",
                 "The specified cluster name is invalid.")
    st, _, out = b.raw("CreateCluster", b'{"clusterName":"esc","configuration":'
                                        b'{"managedStorageConfiguration":{"kmsKeyId":"q\\"\\\\u0000"}}}')
    assert st == 200, out
    assert out["cluster"]["configuration"] == {"managedStorageConfiguration": {"kmsKeyId": 'q"\\u0000'}}, out


def test_missing_required_member(b):
    b.ecs.create_cluster(clusterName="req")
    body = assert_error(b.raw("PutClusterCapacityProviders", json.dumps({"cluster": "req", "capacityProviders": []})),
                        400, "InvalidParameterException")
    assert "defaultCapacityProviderStrategy" in body["message"], body
    body = assert_error(b.raw("DeleteCluster", "{}"), 400, "InvalidParameterException")
    assert "cluster" in body["message"]
    # botocore refuses to send it at all.
    try:
        b.ecs.put_cluster_capacity_providers(cluster="req", capacityProviders=[])
        raise AssertionError("sent")
    except botocore.exceptions.ParamValidationError as e:
        assert "defaultCapacityProviderStrategy" in str(e)


def test_unimplemented_operation(b):
    # An operation of the model Berth does not serve: a modelled 400, never
    # 5xx.  Task sets are out of Berth's scope (ECS-SEMANTICS §10), so this
    # stays unimplemented while RunTask and friends arrive.
    body = assert_error(b.raw("DeleteTaskSet", '{"cluster":"c","service":"s","taskSet":"t"}'), 400,
                        "UnsupportedFeatureException")
    assert "DeleteTaskSet" in body["message"]
    try:
        b.ecs.delete_task_set(cluster="c", service="s", taskSet="t")
        raise AssertionError("no error")
    except b.ecs.exceptions.UnsupportedFeatureException as e:
        assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    rc, _, err = b.cli("ecs", "delete-task-set", "--cluster", "c", "--service", "s", "--task-set", "t", check=False)
    assert rc != 0 and "An error occurred (UnsupportedFeatureException) when calling the DeleteTaskSet operation" \
        in err, err


@fresh
def test_no_operation_answers_5xx(b):
    # Every operation of the ECS model, with an empty body and with a body
    # whose members are all of the wrong type: never a 5xx, always JSON.
    model = botocore.session.get_session().get_service_model("ecs")
    assert len(model.operation_names) >= 77
    modelled = {e.name for e in model.error_shapes}
    assert "UnsupportedFeatureException" in modelled
    for op in model.operation_names:
        for body in ("{}", json.dumps({m: {"x": [1]} for m in model.operation_model(op).input_shape.members}
                                      if model.operation_model(op).input_shape else {})):
            st, hdrs, out = b.raw(op, body)
            assert st in (200, 400), (op, body, st, out)
            assert header(hdrs, "Content-Type") == CTYPE and UUID.fullmatch(header(hdrs, "x-amzn-RequestId") or "")
            if st == 400:
                # an error botocore can raise as a modelled exception class
                assert set(out) == {"__type", "message"} and (
                    out["__type"] in modelled or out["__type"] == "SerializationException"), (op, out)
    # the daemon is still fine
    assert b.ecs.list_clusters()["ResponseMetadata"]["HTTPStatusCode"] == 200


def _raw_http(b, head, body=b""):
    s = socket.create_connection(("127.0.0.1", b.port), timeout=10)
    try:
        s.sendall(head + body)
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
            if b"\r\n\r\n" in data:
                h, _, rest = data.partition(b"\r\n\r\n")
                m = re.search(rb"(?i)content-length: *(\d+)", h)
                if m and len(rest) >= int(m.group(1)):
                    break
        status = int(data.split(b" ", 2)[1])
        h, _, rest = data.partition(b"\r\n\r\n")
        return status, h.decode(), rest
    finally:
        s.close()


def test_body_too_large(b):
    limit = 1024 * 1024
    target = b"X-Amz-Target: AmazonEC2ContainerServiceV20141113.ListClusters\r\n"
    # Declared too large: answered before the body is read.
    st, h, body = _raw_http(b, b"POST / HTTP/1.1\r\nHost: x\r\n" + target +
                            b"Content-Type: application/x-amz-json-1.1\r\nContent-Length: %d\r\n\r\n" % (limit + 1))
    assert st == 413, (st, h, body)
    assert json.loads(body)["__type"] == "PayloadTooLargeException"
    assert re.search(r"(?i)x-amzn-requestid: *[0-9a-f-]{36}", h), h
    # Sent chunked, so only the bytes show it.
    big = b"{" + b" " * limit + b"}"
    chunked = b"%x\r\n" % len(big) + big + b"\r\n0\r\n\r\n"
    st, h, body = _raw_http(b, b"POST / HTTP/1.1\r\nHost: x\r\n" + target +
                            b"Content-Type: application/x-amz-json-1.1\r\nTransfer-Encoding: chunked\r\n\r\n", chunked)
    assert st == 413, (st, h, body)
    # Exactly the limit is fine.
    exact = b"{" + b" " * (limit - 2) + b"}"
    st, _, out = b.raw("ListClusters", exact)
    assert st == 200 and "clusterArns" in out, (st, out)
    # The daemon goes on answering.
    assert b.ecs.list_clusters()["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_plain_http_paths(b):
    st, hdrs, out = b.raw(None, None, method="GET")
    assert st == 200 and out["service"] == "berthd" and out["status"] == "running" and out["region"] == REGION, out
    assert UUID.fullmatch(header(hdrs, "x-amzn-RequestId") or "")

    def metric(name):
        _, _, text = b.raw(None, None, method="GET", path="/metrics")
        m = re.search(r"^%s (\S+)$" % name, text.decode(), re.M)
        assert m, text
        return float(m.group(1))

    st, hdrs, text = b.raw(None, None, method="GET", path="/metrics")
    assert st == 200 and header(hdrs, "Content-Type").startswith("text/plain"), hdrs
    assert b"# TYPE berth_requests_total counter" in text
    reqs, errs = metric("berth_requests_total"), metric("berth_request_errors_total")
    b.ecs.list_clusters()
    expect_error("ClusterNotFoundException", b.ecs.delete_cluster, cluster="metric-ghost")
    assert metric("berth_requests_total") >= reqs + 2
    assert metric("berth_request_errors_total") >= errs + 1
    b.ecs.create_cluster(clusterName="metric-counted")
    assert metric("berth_clusters") >= 1
    st, hdrs, out = b.raw(None, None, method="GET", path="/no/such/path")
    assert st == 404 and out["__type"] == "NotFoundException", out
    st, hdrs, out = b.raw(None, b"{}", method="PUT")
    assert st == 405 and out["__type"] == "MethodNotAllowedException", out


def test_bad_request_changes_nothing(b):
    b.ecs.create_capacity_provider(name="bn-cp", autoScalingGroupProvider={
        "autoScalingGroupArn": "arn:aws:autoscaling:us-east-1:000000000000:autoScalingGroup:uuid:autoScalingGroupName/bn",
        "managedScaling": {"status": "ENABLED"}})
    b.ecs.create_cluster(clusterName="keep", tags=[{"key": "a", "value": "1"}],
                         settings=[{"name": "containerInsights", "value": "enabled"}],
                         configuration={"executeCommandConfiguration": {"logging": "DEFAULT"}})
    before = snapshot(b)
    bad = [
        ("CreateCluster", {"clusterName": "keep", "tags": [{"key": "a", "value": "2"}]}),
        ("CreateCluster", {"clusterName": "new1", "tags": [{"key": "aws:x", "value": "1"}]}),
        ("CreateCluster", {"clusterName": "new2", "capacityProviders": ["bn-cp"],
                           "defaultCapacityProviderStrategy": [{"capacityProvider": "FARGATE", "weight": 1}]}),
        ("CreateCluster", {"clusterName": "new3", "capacityProviders": ["bn-cp", "bn-cp"]}),
        ("CreateCluster", {"clusterName": "new4", "capacityProviders": ["cp%d" % i for i in range(21)]}),
        ("UpdateCluster", {"cluster": "keep", "settings": [{"name": "containerInsights", "value": "x"}],
                           "configuration": {"executeCommandConfiguration": {"logging": "NONE"}}}),
        ("UpdateCluster", {"cluster": "keep", "serviceConnectDefaults": {}}),
        ("UpdateClusterSettings", {"cluster": "keep", "settings": [{"name": "containerInsights", "value": ""}]}),
        ("PutClusterCapacityProviders", {"cluster": "keep", "capacityProviders": ["bn-cp"],
                                         "defaultCapacityProviderStrategy": [{"capacityProvider": "bn-cp",
                                                                              "weight": 1, "base": 100001}]}),
        ("PutClusterCapacityProviders", {"cluster": "keep", "capacityProviders": ["bn-cp", "nosuch"],
                                         "defaultCapacityProviderStrategy": []}),
        ("PutClusterCapacityProviders", {"capacityProviders": ["bn-cp"], "defaultCapacityProviderStrategy": []}),
        ("DescribeClusters", {"clusters": ["keep"], "include": ["TAGS", "NOPE"]}),
    ]
    for target, body in bad:
        st, _, out = b.raw(target, json.dumps(body))
        assert st == 400 and out["__type"] in ("InvalidParameterException", "ClientException"), (target, body, out)
    assert snapshot(b) == before


def test_null_members_are_absent(b):
    st, _, out = b.raw("CreateCluster", json.dumps({"clusterName": "nullish", "tags": None, "settings": None,
                                                    "configuration": None, "capacityProviders": None,
                                                    "defaultCapacityProviderStrategy": None,
                                                    "serviceConnectDefaults": None}))
    assert st == 200, out
    c = out["cluster"]
    assert c["tags"] == [] and c["capacityProviders"] == [] and "configuration" not in c
    assert "serviceConnectDefaults" not in c
    # the same create without the nulls is the same request
    assert b.ecs.create_cluster(clusterName="nullish")["cluster"]["clusterArn"] == ARN % "nullish"
    st, _, out = b.raw("ListClusters", json.dumps({"maxResults": None, "nextToken": None}))
    assert st == 200 and ARN % "nullish" in out["clusterArns"], out
    st, _, out = b.raw("DescribeClusters", json.dumps({"clusters": None, "include": None}))
    assert st == 200 and out == b.raw("DescribeClusters", "{}")[2], out
    assert [c["clusterArn"] for c in out["clusters"]] + [f["arn"] for f in out["failures"]] == [ARN % "default"]
    # A null required member is a missing one.
    body = assert_error(b.raw("DeleteCluster", json.dumps({"cluster": None})), 400, "InvalidParameterException")
    assert "cluster" in body["message"]


def test_unknown_members_ignored(b):
    # SDKs never send members the model lacks; a hand-written client that
    # does is not refused for it (ECS-SEMANTICS 1.1).
    st, _, out = b.raw("CreateCluster", json.dumps({"clusterName": "extra", "force": "yes",
                                                    "deep": {"x": [1, {"y": None}]}}))
    assert st == 200 and out["cluster"]["clusterArn"] == ARN % "extra", out
    st, _, out = b.raw("DeleteCluster", json.dumps({"cluster": "extra", "cascade": True}))
    assert st == 200 and out["cluster"]["status"] == "INACTIVE", out


@fresh
def test_empty_body_is_empty_object(b):
    st, hdrs, out = b.raw("ListClusters", b"")
    assert st == 200 and out == {"clusterArns": []}, out
    st, _, out = b.raw("DescribeClusters", b"")
    assert st == 200 and out == {"clusters": [], "failures": [{"arn": ARN % "default", "reason": "MISSING"}]}, out
    st, _, out = b.raw("CreateCluster", b"")
    assert st == 200 and out["cluster"]["clusterName"] == "default", out
    st, _, out = b.raw("CreateCluster", b"  \r\n\t{ }\n ")
    assert st == 200 and out["cluster"]["clusterArn"] == ARN % "default", out
    assert_error(b.raw("DeleteCluster", b""), 400, "InvalidParameterException", "cluster")


@berthd_args("--transition-ms", "60000")
def test_modelled_exception_classes(b):
    ex = b.ecs.exceptions
    try:
        b.ecs.describe_clusters(clusters=["x"] * 101)
        raise AssertionError("no error")
    except ex.InvalidParameterException as e:
        assert e.response["Error"]["Message"] == "clusters can have at most 100 items."
    try:
        b.ecs.update_cluster_settings(cluster="ghost", settings=[{"name": "containerInsights", "value": "enabled"}])
        raise AssertionError("no error")
    except ex.ClusterNotFoundException:
        pass
    # A cluster that stays PROVISIONING (a minute's transition) gives the
    # other two modelled codes.
    c = b.ecs.create_cluster(clusterName="busy", capacityProviders=["FARGATE"])["cluster"]
    assert c["status"] == "PROVISIONING"
    try:
        b.ecs.put_cluster_capacity_providers(cluster="busy", capacityProviders=[], defaultCapacityProviderStrategy=[])
        raise AssertionError("no error")
    except ex.ClientException as e:
        assert e.response["Error"]["Message"] == "Cluster was not ACTIVE."
    try:
        b.ecs.delete_cluster(cluster="busy")
        raise AssertionError("no error")
    except ex.UpdateInProgressException as e:
        assert "busy state" in e.response["Error"]["Message"]


def test_cli_error_format(b):
    rc, _, err = b.cli("ecs", "describe-clusters", "--clusters", *["c%d" % i for i in range(101)], check=False)
    assert rc in (254, 255), rc  # v1: 255, v2: 254
    assert err.strip() == ("An error occurred (InvalidParameterException) when calling the DescribeClusters "
                           "operation: clusters can have at most 100 items."), err
    rc, _, err = b.cli("ecs", "update-cluster", "--cluster", "ghost", "--settings",
                       "name=containerInsights,value=enabled", check=False)
    assert rc in (254, 255) and err.strip() == ("An error occurred (ClusterNotFoundException) when calling the "
                                         "UpdateCluster operation: Cluster not found."), err


def test_keep_alive_connection(b):
    # Several requests on one connection, as SDKs do.
    import http.client
    conn = http.client.HTTPConnection("127.0.0.1", b.port, timeout=10)
    ids = set()
    for i in range(5):
        conn.request("POST", "/", body=json.dumps({"clusterName": "ka%d" % i}),
                     headers={"X-Amz-Target": "AmazonEC2ContainerServiceV20141113.CreateCluster",
                              "Content-Type": CTYPE})
        r = conn.getresponse()
        out = json.loads(r.read())
        assert r.status == 200 and out["cluster"]["clusterName"] == "ka%d" % i
        ids.add(r.getheader("x-amzn-RequestId"))
    conn.close()
    assert len(ids) == 5


if __name__ == "__main__":
    main(globals())
