"""Prometheus ServiceMonitor and the `helm test` pod."""

from __future__ import annotations

from render import find, one, render


def test_service_monitor() -> None:
    assert not find(render({"metrics": {"enabled": True}}), "ServiceMonitor")
    values = {
        "metrics": {
            "enabled": True,
            "serviceMonitor": {"enabled": True, "interval": "15s", "labels": {"release": "prom"}},
        }
    }
    sm = one(render(values), "ServiceMonitor", "consul-server")
    assert sm["metadata"]["labels"]["release"] == "prom"
    (endpoint,) = sm["spec"]["endpoints"]
    assert endpoint["path"] == "/v1/agent/metrics"
    assert endpoint["params"] == {"format": ["prometheus"]}
    assert endpoint["interval"] == "15s"
    assert sm["spec"]["selector"]["matchLabels"]["app.kubernetes.io/component"] == "server"


def test_helm_test_pod_checks_leader_voters_and_kv() -> None:
    pod = one(render({"server": {"replicas": 5}}), "Pod", "consul-test")
    assert pod["metadata"]["annotations"]["helm.sh/hook"] == "test"
    (container,) = pod["spec"]["containers"]
    env = {e["name"]: e["value"] for e in container["env"]}
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
