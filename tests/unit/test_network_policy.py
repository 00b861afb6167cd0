"""NetworkPolicy (networkpolicy.yaml): gossip and RPC only between the release's agents, API and
DNS as configured."""

from __future__ import annotations

from harness.render import find, merge_values, one, render

AGENTS = {
    "app.kubernetes.io/name": "consul",
    "app.kubernetes.io/instance": "consul",
    "consul-agent": "true",
}


def ports(rule: dict) -> set[tuple[int, str]]:
    return {(p["port"], p["protocol"]) for p in rule["ports"]}


def test_off_by_default() -> None:
    assert not find(render(), "NetworkPolicy")


def test_agents_only_talk_gossip_and_rpc_to_each_other() -> None:
    policy = one(render({"networkPolicy": {"enabled": True}}), "NetworkPolicy", "consul")
    spec = policy["spec"]
    assert spec["podSelector"] == {"matchLabels": AGENTS}
    assert spec["policyTypes"] == ["Ingress"]
    internal, api = spec["ingress"]
    assert internal["from"] == [{"podSelector": {"matchLabels": AGENTS}}]
    assert ports(internal) == {(8300, "TCP"), (8301, "TCP"), (8301, "UDP")}
    assert ports(api) == {(8500, "TCP"), (8600, "TCP"), (8600, "UDP")}
    assert "from" not in api, "no apiClients: the API is open to every pod"


CHART_PODS = {
    "podSelector": {
        "matchLabels": {"app.kubernetes.io/name": "consul", "app.kubernetes.io/instance": "consul"},
        "matchExpressions": [
            {
                "key": "app.kubernetes.io/component",
                "operator": "In",
                "values": ["test", "autopilot", "acl-init", "backup", "restore"],
            }
        ],
    }
}
CLUSTER_DNS = {
    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
    "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
}


def test_api_clients_restrict_the_api_but_keep_the_charts_pods_and_cluster_dns() -> None:
    peers = [{"namespaceSelector": {"matchLabels": {"team": "payments"}}}]
    values = {"networkPolicy": {"enabled": True, "apiClients": peers}}
    docs = render(values)
    _, api, dns = one(docs, "NetworkPolicy", "consul")["spec"]["ingress"]
    assert api["from"] == [*peers, CHART_PODS]
    assert ports(api) == {(8500, "TCP"), (8600, "TCP"), (8600, "UDP")}
    assert dns["from"] == [CLUSTER_DNS]
    assert ports(dns) == {(8600, "TCP"), (8600, "UDP")}
    # The peers the policy lets in are really the chart's own API clients.
    on = {"acl": {"enabled": True}, "backup": {"enabled": True, "restore": {"snapshot": "latest"}}}
    docs = render(merge_values(values, on))
    for kind, component in [
        ("Pod", "test"),
        ("Job", "autopilot"),
        ("Job", "acl-init"),
        ("CronJob", "backup"),
        ("Job", "restore"),
    ]:
        labels = one(docs, kind, component=component)["metadata"]["labels"]
        assert component in CHART_PODS["podSelector"]["matchExpressions"][0]["values"]
        assert labels["app.kubernetes.io/instance"] == "consul"


def test_dns_clients_can_be_replaced_or_dropped() -> None:
    node_local = [{"ipBlock": {"cidr": "169.254.20.10/32"}}]
    peers = [{"podSelector": {"matchLabels": {"app": "web"}}}]
    values = {"networkPolicy": {"enabled": True, "apiClients": peers, "dnsClients": node_local}}
    assert one(render(values), "NetworkPolicy")["spec"]["ingress"][2]["from"] == node_local
    values["networkPolicy"]["dnsClients"] = []
    assert len(one(render(values), "NetworkPolicy")["spec"]["ingress"]) == 2
