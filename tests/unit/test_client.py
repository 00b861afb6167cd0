"""Client agents: a DaemonSet on every node that rejoins on its own, reached without hostPort."""

from __future__ import annotations

from typing import Any

from render import Manifest, find, one, render

DS = "consul-client"


def client(values: dict[str, Any] | None = None) -> Manifest:
    return one(render(values), "DaemonSet", DS)


def container(ds: Manifest) -> Manifest:
    return ds["spec"]["template"]["spec"]["containers"][0]


def test_a_daemonset_named_after_the_kubernetes_node() -> None:
    c = container(client())
    assert "-node=$(NODE_NAME)" in c["command"]
    env = {e["name"]: e for e in c["env"]}
    assert env["NODE_NAME"]["valueFrom"]["fieldRef"]["fieldPath"] == "spec.nodeName"


def test_no_host_port_unless_asked() -> None:
    assert all("hostPort" not in p for p in container(client())["ports"])
    ports = container(client({"client": {"hostPorts": {"enabled": True}}}))["ports"]
    host_ports = {(p["hostPort"], p["protocol"]) for p in ports if "hostPort" in p}
    assert host_ports == {(8500, "TCP"), (8600, "TCP"), (8600, "UDP")}


def test_node_local_service() -> None:
    svc = one(render(), "Service", "consul-client")
    assert svc["spec"]["internalTrafficPolicy"] == "Local"
    assert svc["spec"]["selector"]["app.kubernetes.io/component"] == "client"
    assert {p["port"] for p in svc["spec"]["ports"]} == {8500, 8600}


def test_a_client_that_lost_its_servers_is_restarted() -> None:
    probe = container(client())["livenessProbe"]
    script = probe["exec"]["command"][-1]
    assert "consul members -status=alive" in script
    assert '"server"' in script
    assert probe["periodSeconds"] * probe["failureThreshold"] == 60
    longer = container(client({"client": {"serverLossRestartSeconds": 125}}))["livenessProbe"]
    assert longer["failureThreshold"] == 13


def test_ready_once_it_knows_the_leader() -> None:
    assert "/v1/status/leader" in container(client())["readinessProbe"]["exec"]["command"][-1]


def test_tolerations_reach_tainted_nodes() -> None:
    assert "tolerations" not in client()["spec"]["template"]["spec"]
    everywhere = [{"operator": "Exists"}]
    spec = client({"client": {"tolerations": everywhere}})["spec"]["template"]["spec"]
    assert spec["tolerations"] == everywhere


def test_rolling_update_and_leave() -> None:
    ds = client({"client": {"maxUnavailable": "25%"}})
    assert ds["spec"]["updateStrategy"]["rollingUpdate"]["maxUnavailable"] == "25%"
    assert client()["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] == 10


def test_state_is_not_kept() -> None:
    volumes = {v["name"]: v for v in client()["spec"]["template"]["spec"]["volumes"]}
    assert volumes["data"] == {"name": "data", "emptyDir": {}}


def test_disabled_renders_no_client_objects() -> None:
    docs = render({"client": {"enabled": False}})
    assert not [
        d for d in docs if d["metadata"]["labels"].get("app.kubernetes.io/component") == "client"
    ]
    assert not find(docs, "DaemonSet")
