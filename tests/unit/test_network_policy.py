"""NetworkPolicy: gossip and RPC only between the release's agents, API and DNS as configured."""

from __future__ import annotations

from render import find, one, render

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


def test_api_clients_restrict_the_api() -> None:
    peers = [{"namespaceSelector": {"matchLabels": {"team": "payments"}}}]
    values = {"networkPolicy": {"enabled": True, "apiClients": peers}}
    _, api = one(render(values), "NetworkPolicy", "consul")["spec"]["ingress"]
    assert api["from"] == peers
