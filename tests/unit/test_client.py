"""Client agents (client-daemonset.yaml, _client.tpl): a DaemonSet on every node that rejoins on
its own, reached without hostPort."""

from __future__ import annotations

import json
from typing import Any

import pytest

from harness.agent_pod import AgentPod
from harness.render import Manifest, container, env_of, find, one, pod_spec, render

DS = "consul-client"
HTTPS_ONLY = {"tls": {"enabled": True, "httpsOnly": True}}


def client(values: dict[str, Any] | None = None) -> Manifest:
    return one(render(values), "DaemonSet", DS)


def test_a_daemonset_named_after_the_kubernetes_node() -> None:
    c = container(client())
    assert '-node="$NODE_NAME"' in c["command"][-1]
    assert env_of(c)["NODE_NAME"]["fieldRef"]["fieldPath"] == "spec.nodeName"


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


@pytest.mark.parametrize(
    ("values", "port"),
    [({}, {"port": "http"}), (HTTPS_ONLY, {"port": "https", "scheme": "HTTPS"})],
    ids=["http", "https-only"],
)
def test_the_kubelet_probes_the_agent_itself_with_no_exec(
    values: dict[str, Any], port: dict[str, str]
) -> None:
    # An exec probe starts a process through the container runtime every period: on a kind node
    # that cost as much CPU as the idle agents themselves.
    probes = {
        name: probe for name, probe in container(client(values)).items() if name.endswith("Probe")
    }
    assert set(probes) == {"startupProbe", "livenessProbe", "readinessProbe"}
    assert all(set(p) & {"exec", "tcpSocket"} == set() for p in probes.values())
    # A restart per lost server ends in CrashLoopBackOff during a long outage; startup and
    # liveness only ask that the agent's HTTP server answers (its index, no token, no RPC), so a
    # client pod started while every server is down starts, and joins when they return.
    for name in ("startupProbe", "livenessProbe"):
        assert probes[name]["httpGet"] == {"path": "/", **port}
    # Consul answers DNS from stale state and takes local registrations without a leader: a
    # leaderless cluster must keep its clients in the -dns and node-local Services. Status.Leader
    # answers 200 with or without a leader, and fails only when no server answers.
    assert probes["readinessProbe"]["httpGet"] == {"path": "/v1/status/leader", **port}


def test_a_rejoin_container_joins_again_when_no_server_answers() -> None:
    rejoin = pod_spec(client())["containers"][1]
    assert rejoin["name"] == "rejoin"
    assert rejoin["command"][0] == "dumb-init"
    script = rejoin["command"][-1]
    assert "sleep 10 & wait $!" in script
    check = 'curl -sf -o /dev/null --max-time 3 "$CONSUL_HTTP_ADDR/v1/status/leader" && continue'
    assert check in script
    assert 'consul join "consul-server.consul-ns.svc"' in script
    slower = pod_spec(client({"client": {"rejoinIntervalSeconds": 30}}))
    assert "sleep 30 & wait $!" in slower["containers"][1]["command"][-1]
    assert rejoin["securityContext"]["readOnlyRootFilesystem"] is True
    # The client's own HTTPS certificate comes from auto-encrypt, not the chart's CA.
    tls = pod_spec(client({"tls": {"enabled": True}}))["containers"][1]["command"][-1]
    assert "curl -sfk -o /dev/null" in tls


def test_tolerations_reach_tainted_nodes() -> None:
    assert "tolerations" not in pod_spec(client())
    everywhere = [{"operator": "Exists"}]
    spec = pod_spec(client({"client": {"tolerations": everywhere}}))
    assert spec["tolerations"] == everywhere


def test_rolling_update_and_leave() -> None:
    ds = client({"client": {"maxUnavailable": "25%"}})
    assert ds["spec"]["updateStrategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxUnavailable": "25%"},
    }
    assert pod_spec(client())["terminationGracePeriodSeconds"] == 10


def test_clients_can_be_held_back_while_the_servers_upgrade() -> None:
    ds = client({"client": {"updateStrategy": "OnDelete"}})
    assert ds["spec"]["updateStrategy"] == {"type": "OnDelete"}


def test_data_dir_is_an_empty_dir_by_default() -> None:
    spec = pod_spec(client())
    volumes = {v["name"]: v for v in spec["volumes"]}
    assert volumes["data"] == {"name": "data", "emptyDir": {}}
    assert "initContainers" not in spec


def test_data_dir_on_the_node_survives_a_client_rollout() -> None:
    values = {"client": {"dataHostPath": {"enabled": True, "root": "/srv/consul/"}}}
    spec = pod_spec(client(values))
    volumes = {v["name"]: v for v in spec["volumes"]}
    assert volumes["data"]["hostPath"] == {
        "path": "/srv/consul/consul-ns/consul",
        "type": "DirectoryOrCreate",
    }
    (init,) = spec["initContainers"]
    assert "chown 100:1000 /consul/data" in init["command"][-1]
    security = init["securityContext"]
    assert security["capabilities"] == {"drop": ["ALL"], "add": ["CHOWN", "FOWNER"]}
    assert security["runAsUser"] == 0 and security["allowPrivilegeEscalation"] is False


def test_disabled_renders_no_client_objects() -> None:
    docs = render({"client": {"enabled": False}})
    assert not [
        d for d in docs if d["metadata"]["labels"].get("app.kubernetes.io/component") == "client"
    ]
    assert not find(docs, "DaemonSet")


HOST_DATA = {"client": {"dataHostPath": {"enabled": True}}}


@pytest.mark.parametrize(
    ("keyring", "kept"),
    [
        pytest.param(None, True, id="first-start"),
        pytest.param(["bmV3LWtleQ=="], True, id="this-cluster"),
        pytest.param(["b2xkLWtleQ==", "bmV3LWtleQ=="], True, id="mid-rotation"),
        pytest.param(["b2xkLWtleQ=="], False, id="another-cluster-or-a-missed-rotation"),
    ],
)
def test_a_data_dir_on_the_node_from_another_cluster_is_emptied(
    agent_pod: AgentPod, keyring: list[str] | None, kept: bool
) -> None:
    """The data dir on the node outlives the release: a keyring without the gossip key the
    cluster uses (bmV3LWtleQ== in the Secret) could never join, so that data dir starts empty."""
    data = agent_pod.root / "data"
    (data / "services").mkdir()
    (data / "services" / "web.json").write_text("{}")
    if keyring is not None:
        (data / "serf").mkdir()
        (data / "serf" / "local.keyring").write_text(json.dumps(keyring))
    (agent_pod.root / "config" / "client.json").write_text("{}")
    out = agent_pod.start("client", HOST_DATA)
    assert (data / "services" / "web.json").exists() is kept
    assert ("starting with an empty data dir" in out) is not kept, out
    assert (data / "node-id").exists(), "the node ID is made again, the same"


def test_without_a_data_dir_on_the_node_nothing_is_emptied() -> None:
    assert "local.keyring" not in container(client())["command"][-1]
    off = {**HOST_DATA, "gossipEncryption": {"enabled": False}}
    assert "local.keyring" not in container(client(off))["command"][-1]
