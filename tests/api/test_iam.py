"""IAM users, access keys and inline policies (issue 7): the IAM API subset
over the Query protocol through boto3's iam client and `aws iam`, the keys
it makes signing requests under `--auth sigv4`, secrets sealed in the store
and never logged, users surviving a restart, and the policy file loaded at
start and on SIGHUP."""
import json
import os
import signal
import sqlite3
import subprocess
import tempfile
import urllib.error
import urllib.parse
import urllib.request

import boto3
import botocore.auth
import botocore.awsrequest
import botocore.config
import botocore.credentials

import harness
from harness import main, Berth, expect_error, wait_until

ROOT_AK, ROOT_SK = "AKIDBERTHROOT0000001", "berth-root-secret"
ENV = dict(os.environ, BERTH_ROOT_ACCESS_KEY_ID=ROOT_AK, BERTH_ROOT_SECRET_ACCESS_KEY=ROOT_SK)
ACCT = harness.ACCOUNT


def client(b, service, ak=ROOT_AK, sk=ROOT_SK):
    return boto3.client(service, endpoint_url=b.endpoint, region_name="us-east-1", aws_access_key_id=ak,
                        aws_secret_access_key=sk, config=botocore.config.Config(retries={"max_attempts": 1}))


def cli(b, *args, ak=ROOT_AK, sk=ROOT_SK, check=True):
    p = subprocess.run(["aws", "--endpoint-url", b.endpoint, "--region", "us-east-1", "--output", "json"] +
                       list(args), capture_output=True, text=True, timeout=60,
                       env=dict(os.environ, AWS_ACCESS_KEY_ID=ak, AWS_SECRET_ACCESS_KEY=sk))
    if check and p.returncode:
        raise AssertionError("aws %s: %s" % (" ".join(args), p.stderr))
    return p.returncode, (json.loads(p.stdout) if p.stdout.strip() else None), p.stderr


def start(*args, data_dir=None):
    return Berth("--auth", "sigv4", *args, data_dir=data_dir, env=ENV).start()


READ_ALL = {"Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": ["ecs:Describe*", "ecs:List*"], "Resource": "*"}]}


def test_users_keys_and_policies_through_boto3(_):
    b = start()
    try:
        iam = client(b, "iam")
        u = iam.create_user(UserName="alice", Path="/team/")["User"]
        assert u["UserName"] == "alice" and u["Path"] == "/team/"
        assert u["Arn"] == "arn:aws:iam::%s:user/team/alice" % ACCT
        assert u["UserId"].startswith("AIDA") and len(u["UserId"]) == 21
        expect_error("EntityAlreadyExists", iam.create_user, UserName="alice",
                     message="User with name alice already exists.")
        expect_error("EntityAlreadyExists", iam.create_user, UserName="ALICE")
        expect_error("ValidationError", iam.create_user, UserName="bad name")
        expect_error("ValidationError", iam.create_user, UserName="x", Path="no-slashes")
        iam.create_user(UserName="bob")
        assert iam.get_user(UserName="bob")["User"]["Path"] == "/"
        expect_error("NoSuchEntity", iam.get_user, UserName="carol",
                     message="The user with name carol cannot be found.")
        names = [x["UserName"] for x in iam.list_users()["Users"]]
        assert names == ["alice", "bob"], names
        assert [x["UserName"] for x in iam.list_users(PathPrefix="/team/")["Users"]] == ["alice"]
        page = iam.list_users(MaxItems=1)
        assert page["IsTruncated"] and len(page["Users"]) == 1
        rest = iam.list_users(Marker=page["Marker"])
        assert [x["UserName"] for x in rest["Users"]] == ["bob"] and not rest["IsTruncated"]
        assert iam.get_user()["User"]["Arn"] == "arn:aws:iam::%s:root" % ACCT

        # access keys: two at most, shown once
        k1 = iam.create_access_key(UserName="alice")["AccessKey"]
        assert k1["AccessKeyId"].startswith("AKIA") and len(k1["AccessKeyId"]) == 20
        assert len(k1["SecretAccessKey"]) == 40 and k1["Status"] == "Active"
        k2 = iam.create_access_key(UserName="alice")["AccessKey"]
        expect_error("LimitExceeded", iam.create_access_key, UserName="alice",
                     message="Cannot exceed quota for AccessKeysPerUser: 2")
        meta = iam.list_access_keys(UserName="alice")["AccessKeyMetadata"]
        assert sorted(m["AccessKeyId"] for m in meta) == sorted([k1["AccessKeyId"], k2["AccessKeyId"]])
        assert all("SecretAccessKey" not in m for m in meta)

        # the key signs: a user without policies is authenticated, then denied
        alice = client(b, "ecs", k1["AccessKeyId"], k1["SecretAccessKey"])
        e = expect_error("AccessDeniedException", alice.list_clusters)
        assert e.response["Error"]["Message"] == (
            "User: arn:aws:iam::%s:user/team/alice is not authorized to perform: ecs:ListClusters on resource: * "
            "because no identity-based policy allows the ecs:ListClusters action" % ACCT), e.response["Error"]
        # GetUser without a name answers the caller
        assert client(b, "iam", k1["AccessKeyId"], k1["SecretAccessKey"]).get_user
        # policies
        iam.put_user_policy(UserName="alice", PolicyName="read", PolicyDocument=json.dumps(READ_ALL))
        assert alice.list_clusters()["clusterArns"] == []
        got = iam.get_user_policy(UserName="alice", PolicyName="read")
        assert got["PolicyDocument"] == READ_ALL, got     # boto3 decodes IAM's URL-encoded document
        assert iam.list_user_policies(UserName="alice")["PolicyNames"] == ["read"]
        expect_error("MalformedPolicyDocument", iam.put_user_policy, UserName="alice", PolicyName="bad",
                     PolicyDocument='{"Version":"2012-10-17","Statement":[{"Effect":"Maybe","Action":"*","Resource":"*"}]}')
        expect_error("MalformedPolicyDocument", iam.put_user_policy, UserName="alice", PolicyName="bad",
                     PolicyDocument="not json")
        big = {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "ecs:Describe%d" % i, "Resource": "*"} for i in range(60)]}
        expect_error("LimitExceeded", iam.put_user_policy, UserName="alice", PolicyName="big",
                     PolicyDocument=json.dumps(big), message="Maximum policy size of 2048 bytes exceeded")
        assert iam.list_user_policies(UserName="alice")["PolicyNames"] == ["read"]
        expect_error("NoSuchEntity", iam.get_user_policy, UserName="alice", PolicyName="nope")

        # an Inactive key is refused as an unknown one; Active again works
        iam.update_access_key(UserName="alice", AccessKeyId=k1["AccessKeyId"], Status="Inactive")
        expect_error("UnrecognizedClientException", alice.list_clusters)
        iam.update_access_key(UserName="alice", AccessKeyId=k1["AccessKeyId"], Status="Active")
        assert alice.list_clusters()["clusterArns"] == []

        # deletion needs keys and policies gone first
        expect_error("DeleteConflict", iam.delete_user, UserName="alice",
                     message="Cannot delete entity, must delete access keys first.")
        iam.delete_access_key(UserName="alice", AccessKeyId=k1["AccessKeyId"])
        expect_error("UnrecognizedClientException", alice.list_clusters)
        iam.delete_access_key(UserName="alice", AccessKeyId=k2["AccessKeyId"])
        expect_error("NoSuchEntity", iam.delete_access_key, UserName="alice", AccessKeyId=k2["AccessKeyId"])
        expect_error("DeleteConflict", iam.delete_user, UserName="alice",
                     message="Cannot delete entity, must delete policies first.")
        iam.delete_user_policy(UserName="alice", PolicyName="read")
        iam.delete_user(UserName="alice")
        expect_error("NoSuchEntity", iam.get_user, UserName="alice")
        # an operation Berth does not serve
        expect_error("InvalidAction", iam.list_roles)
    finally:
        b.close()


def test_aws_cli_manages_users_and_their_keys_sign(_):
    b = start()
    try:
        _, out, _ = cli(b, "iam", "create-user", "--user-name", "ops")
        assert out["User"]["Arn"].endswith(":user/ops")
        _, key, _ = cli(b, "iam", "create-access-key", "--user-name", "ops")
        ak, sk = key["AccessKey"]["AccessKeyId"], key["AccessKey"]["SecretAccessKey"]
        doc = json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["ecs:CreateCluster", "ecs:ListClusters"], "Resource": "*"}]})
        cli(b, "iam", "put-user-policy", "--user-name", "ops", "--policy-name", "clusters",
            "--policy-document", doc)
        _, pol, _ = cli(b, "iam", "get-user-policy", "--user-name", "ops", "--policy-name", "clusters")
        assert pol["PolicyDocument"]["Statement"][0]["Action"] == ["ecs:CreateCluster", "ecs:ListClusters"]
        _, out, _ = cli(b, "ecs", "create-cluster", "--cluster-name", "by-ops", ak=ak, sk=sk)
        assert out["cluster"]["status"] == "ACTIVE"
        rc, _, err = cli(b, "ecs", "delete-cluster", "--cluster", "by-ops", ak=ak, sk=sk, check=False)
        assert rc != 0 and "AccessDeniedException" in err and "ecs:DeleteCluster" in err, err
        _, out, _ = cli(b, "iam", "list-users")
        assert [u["UserName"] for u in out["Users"]] == ["ops"]
        # the IAM API itself is authorized: ops may not make users
        rc, _, err = cli(b, "iam", "create-user", "--user-name", "eve", ak=ak, sk=sk, check=False)
        assert rc != 0 and "AccessDenied" in err and "iam:CreateUser" in err, err
    finally:
        b.close()


def test_secrets_sealed_in_the_store_never_logged_and_kept_across_restart(_):
    b = start()
    try:
        iam = client(b, "iam")
        iam.create_user(UserName="dora")
        key = iam.create_access_key(UserName="dora")["AccessKey"]
        ak, sk = key["AccessKeyId"], key["SecretAccessKey"]
        iam.put_user_policy(UserName="dora", PolicyName="read", PolicyDocument=json.dumps(READ_ALL))
        b.stop()
        # nothing under the data directory but the master key holds the secret in clear
        for root, _, files in os.walk(b.data_dir):
            for f in files:
                data = open(os.path.join(root, f), "rb").read()
                assert sk.encode() not in data, f
        db = [f for f in os.listdir(b.data_dir) if f.endswith(".db") or f.endswith(".sqlite")]
        assert db, os.listdir(b.data_dir)
        rows = sqlite3.connect(os.path.join(b.data_dir, db[0])).execute(
            "select body from records where kind = 'iam_user'").fetchall()
        rec = json.loads(rows[0][0])
        assert rec["keys"][0]["id"] == ak and rec["keys"][0]["secret"].startswith("v1:"), rec
        assert oct(os.stat(os.path.join(b.data_dir, "master.key")).st_mode & 0o777) == "0o600"
        b.start()
        assert client(b, "ecs", ak, sk).list_clusters()["clusterArns"] == []
        assert client(b, "iam").list_user_policies(UserName="dora")["PolicyNames"] == ["read"]
        # a store opened with another master key refuses to start rather than lose the keys
        b.stop()
        other = os.path.join(tempfile.mkdtemp(prefix="berth-key-"), "other.key")
        with open(other, "w") as f:
            f.write("ab" * 32 + "\n")
        p = subprocess.run([harness.BERTHD, "--listen", "127.0.0.1:0", "--data-dir", b.data_dir,
                            "--master-key-file", other], capture_output=True, text=True, timeout=10, env=ENV)
        assert p.returncode != 0 and "iam_user" in p.stdout + p.stderr, (p.stdout, p.stderr)
        b.start()
        assert client(b, "ecs", ak, sk).list_clusters()["clusterArns"] == []
    finally:
        log = b.log()
        b.close()
    assert sk not in log and ROOT_SK not in log


def write_policy_file(path, users):
    with open(path + ".tmp", "w") as f:
        json.dump({"Users": users}, f)
    os.rename(path + ".tmp", path)


def test_policy_file_at_start_and_on_sighup(_):
    d = tempfile.mkdtemp(prefix="berth-pf-")
    path = os.path.join(d, "policy.json")
    ak, sk = "AKIAFILEUSER00000001", "file-user-secret-0123456789abcdefghijkl"
    write_policy_file(path, [{"UserName": "ci", "AccessKeys": [{"AccessKeyId": ak, "SecretAccessKey": sk}],
                              "Policies": [{"PolicyName": "read", "PolicyDocument": READ_ALL}]}])
    b = start("--policy-file", path)
    try:
        ci = client(b, "ecs", ak, sk)
        assert ci.list_clusters()["clusterArns"] == []
        expect_error("AccessDeniedException", ci.create_cluster, clusterName="x")
        iam = client(b, "iam")
        assert [u["UserName"] for u in iam.list_users()["Users"]] == ["ci"]
        expect_error("UnmodifiableEntity", iam.delete_user_policy, UserName="ci", PolicyName="read")
        # a new file on SIGHUP: the user may now create clusters
        write_policy_file(path, [{"UserName": "ci", "AccessKeys": [{"AccessKeyId": ak, "SecretAccessKey": sk}],
                                  "Policies": [{"PolicyName": "all", "PolicyDocument": {
                                      "Version": "2012-10-17",
                                      "Statement": [{"Effect": "Allow", "Action": "ecs:*", "Resource": "*"}]}}]}])
        b.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: iam.list_user_policies(UserName="ci")["PolicyNames"] == ["all"], what="reload")
        assert ci.create_cluster(clusterName="x")["cluster"]["status"] == "ACTIVE"
        # a broken file on SIGHUP keeps the users it had, and says why
        with open(path, "w") as f:
            f.write('{"Users": [{"UserName": "ci", "Policies": [{"PolicyName": "p", "PolicyDocument": "{}"}]}]}')
        b.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: "refused" in b.log(), what="the refusal logged")
        assert ci.list_clusters()["clusterArns"]
        # the users of the file are not stored: gone when the file goes
        os.unlink(path)
        write_policy_file(path, [])
        b.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: iam.list_users()["Users"] == [], what="file users dropped")
        expect_error("UnrecognizedClientException", ci.list_clusters)
        log = b.log()
        assert sk not in log
    finally:
        b.close()
    # a broken file at start: berthd does not start
    with open(path, "w") as f:
        f.write("{")
    p = subprocess.run([harness.BERTHD, "--listen", "127.0.0.1:0", "--data-dir", d, "--policy-file", path,
                        "--auth", "sigv4"], capture_output=True, text=True, timeout=10, env=ENV)
    assert p.returncode != 0 and "policy file" in p.stdout + p.stderr, (p.stdout, p.stderr)


def test_iam_errors_over_raw_query(_):
    b = start()
    try:
        iam = client(b, "iam")
        # a name outside IAM's pattern: ValidationError in AWS's words
        expect_error("ValidationError", iam.create_user, UserName="a/b",
                     message="failed to satisfy constraint: Member must satisfy regular expression pattern")
        # the wrong Version for IAM's actions, and an Action Auto Scaling has, under IAM's Version
        body = urllib.parse.urlencode({"Action": "DescribeAutoScalingGroups", "Version": "2010-05-08"})
        req = botocore.awsrequest.AWSRequest(method="POST", url=b.endpoint + "/", data=body, headers={
            "Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
        botocore.auth.SigV4Auth(botocore.credentials.Credentials(ROOT_AK, ROOT_SK), "iam", "us-east-1").add_auth(req)
        r = urllib.request.Request(req.url, data=req.body, method="POST", headers=dict(req.headers.items()))
        try:
            urllib.request.urlopen(r, timeout=10)
            raise AssertionError("accepted")
        except urllib.error.HTTPError as e:
            text = e.read().decode()
            assert e.code == 400 and "<Code>InvalidAction</Code>" in text and "iam.amazonaws.com" in text, text
    finally:
        b.close()


if __name__ == "__main__":
    main(globals())
