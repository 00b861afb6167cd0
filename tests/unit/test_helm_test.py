"""The `helm test` pod (tests/test-cluster.yaml): leader, voters and a KV round trip."""

from __future__ import annotations

from harness.render import env_of, find, one, render


def test_helm_test_pod_checks_leader_voters_and_kv() -> None:
    pod = one(render({"server": {"replicas": 5}}), "Pod", "consul-test")
    assert pod["metadata"]["annotations"]["helm.sh/hook"] == "test"
    (container,) = pod["spec"]["containers"]
    env = env_of(container)
    assert env == {"CONSUL_HTTP_ADDR": "http://consul-ui:80", "EXPECTED_SERVERS": "5"}
    script = container["command"][-1]
    for check in (
        "/v1/status/leader",
        "raft list-peers",
        "members -status=alive",
        "kv put",
        "kv get",
    ):
        assert check in script


def test_helm_test_pod_can_be_disabled() -> None:
    assert not find(render({"tests": {"enabled": False}}), "Pod")
