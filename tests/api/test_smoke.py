"""Smoke: berthd starts, answers the CLI and boto3, and stops on SIGTERM."""
from harness import main, expect_error


def test_create_and_list(b):
    b.ecs.create_cluster(clusterName="smoke")
    arns = b.ecs.list_clusters()["clusterArns"]
    assert "arn:aws:ecs:us-east-1:000000000000:cluster/smoke" in arns


def test_cli_describe_missing(b):
    _, out, _ = b.cli("ecs", "describe-clusters", "--clusters", "nope")
    assert out["failures"][0]["reason"] == "MISSING"


def test_unknown_cluster_error(b):
    expect_error("ClusterNotFoundException", b.ecs.delete_cluster, cluster="nope", message="Cluster not found.")


if __name__ == "__main__":
    main(globals())
