"""Client agents (client-daemonset.yaml, _client.tpl): a DaemonSet on every node that rejoins on
its own, reached without hostPort."""

from __future__ import annotations

from typing import Any

from render import Manifest, container, find, one, pod_spec, render

DS = "consul-client"


def client(values: dict[str, Any] | None = None) -> Manifest:
    return one(render(values), "DaemonSet", DS)


def test_a_daemonset_named_after_the_kubernetes_node() -> None:
    c = container(client())
    assert '-node="$NODE_NAME"' in c["command"][-1]
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


def test_losing_every_server_never_restarts_a_client() -> None:
    # A restart per lost server ends in CrashLoopBackOff during a long outage; liveness only
    # asks that the agent answers HTTP, whatever its servers.
    probe = container(client())["livenessProbe"]
    script = probe["exec"]["command"][-1]
    assert "consul members" not in script
    assert 'curl -s -o /dev/null --max-time 3 "$CONSUL_HTTP_ADDR/v1/agent/self"' in script
    assert "-f" not in script.split(), "any HTTP answer, even an error, proves the agent serves"


def test_a_rejoin_container_joins_again_when_no_server_is_alive() -> None:
    rejoin = pod_spec(client())["containers"][1]
    assert rejoin["name"] == "rejoin"
    assert rejoin["command"][0] == "dumb-init"
    script = rejoin["command"][-1]
    assert "sleep 10 & wait $!" in script
    assert "consul members -status=alive" in script
    assert 'consul join "consul-server.consul-ns.svc"' in script
    slower = pod_spec(client({"client": {"rejoinIntervalSeconds": 30}}))
    assert "sleep 30 & wait $!" in slower["containers"][1]["command"][-1]
    assert rejoin["securityContext"]["readOnlyRootFilesystem"] is True


def test_ready_while_it_knows_a_live_server_leader_or_not() -> None:
    # Consul answers DNS from stale state and takes local registrations without a leader: a
    # leaderless cluster must keep its clients in the -dns and node-local Services.
    script = container(client())["readinessProbe"]["exec"]["command"][-1]
    assert "/v1/status/leader" not in script
    assert "consul members -status=alive" in script and '"server"' in script


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
