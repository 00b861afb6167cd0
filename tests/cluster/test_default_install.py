"""A default install, checked the way a user would: quorum, members, KV, services, DNS, UI,
gossip encryption, what runs inside the pods, and `helm test`."""

from __future__ import annotations

import base64
import json
import time
import uuid

import pytest
import testinfra

from harness.consul_api import ConsulAPI
from harness.kube import Kube, exec_in_pod, kubeconfig, start_pod, wait_for, worker_nodes
from harness.release import Release

pytestmark = pytest.mark.cluster


def test_exactly_one_leader_and_three_voters_on_distinct_nodes(
    kube: Kube, release: Release, via_client: ConsulAPI
) -> None:
    servers = release.pods("server")
    leaders = {release.api("server", i).leader() for i in range(len(servers))}
    assert len(leaders) == 1 and leaders != {""}, f"servers disagree on the leader: {leaders}"
    raft = via_client.raft_servers()
    assert [s["Voter"] for s in raft] == [True] * 3
    assert sum(s["Leader"] for s in raft) == 1
    assert {s["Node"] for s in raft} == {p.metadata.name for p in servers}
    assert len({p.spec.node_name for p in servers}) == 3, "servers share a node"


# Gossip spreads a join to most members within a second, but a member that its broadcasts miss
# learns of it only at its next push-pull with a random member: every 30 s in a LAN this size
# (memberlist's PushPullInterval; seen: a client 9 s after `helm install --wait` still knew two
# servers of three, while every other agent knew all three). That is all a user may count on,
# plus a margin for a busy host.
GOSSIP_CONVERGED_S = 30 + 10


def test_members_are_three_servers_and_one_client_per_worker(
    kube: Kube, release: Release, via_client: ConsulAPI
) -> None:
    want = ([p.metadata.name for p in release.pods("server")], set(worker_nodes(kube)))

    def membership() -> tuple[list[str], set[str]]:
        members = via_client.members()
        assert all(m["Status"] == 1 for m in members), f"a member is not alive: {members}"
        servers = sorted(m["Name"] for m in members if m["Tags"]["role"] == "consul")
        clients = {m["Name"] for m in members if m["Tags"]["role"] == "node"}
        return servers, clients

    seen = membership()
    wait_for(
        lambda: membership() == want or None,
        f"a client agent to know every server and client (first seen: {seen}, want: {want})",
        timeout=GOSSIP_CONVERGED_S,
        interval=1,
    )


@pytest.mark.parametrize("api", ["via_client", "via_ui"])
def test_kv_round_trip(api: str, request: pytest.FixtureRequest) -> None:
    consul: ConsulAPI = request.getfixturevalue(api)
    key = f"tests/{api}/{uuid.uuid4().hex}"
    assert consul.kv_put(key, "one")
    assert consul.kv_get(key) == "one"
    index = consul.kv_entry(key)["ModifyIndex"]
    assert not consul.kv_put(key, "stale", cas=index - 1), "CAS with an old index must fail"
    assert consul.kv_put(key, "two", cas=index)
    assert consul.kv_get(key) == "two"
    assert consul.kv_delete(key)
    assert consul.kv_get(key) is None


def test_service_registers_and_deregisters_in_one_call(via_client: ConsulAPI) -> None:
    service = {"ID": "web-1", "Name": "web", "Port": 8080, "Tags": ["v1"]}
    assert via_client.register_service(service).status == 200
    nodes = wait_for(lambda: via_client.catalog_service("web"), "web in the catalog", timeout=30)
    assert [n["ServiceID"] for n in nodes] == ["web-1"]
    resp = via_client.deregister_service("web-1")
    assert resp.status == 200, resp.body
    # No retry: the one call must have removed it from the catalog already.
    assert via_client.catalog_service("web") == []


def resolve(kube: Kube, release: Release, toolbox: str, name: str) -> str:
    dns_ip = kube.core.read_namespaced_service(
        release.service("dns"), release.namespace
    ).spec.cluster_ip
    result = exec_in_pod(kube, release.namespace, toolbox, ["nslookup", name, dns_ip])
    assert result.returncode == 0, f"nslookup {name} {dns_ip}: {result.stdout}{result.stderr}"
    return result.stdout


def test_dns_through_the_dns_service(
    kube: Kube, release: Release, toolbox: str, via_client: ConsulAPI
) -> None:
    server_ips = {p.status.pod_ip for p in release.pods("server")}
    answer = resolve(kube, release, toolbox, "consul.service.consul")
    assert server_ips <= set(answer.split()), answer
    assert via_client.register_service({"ID": "dns-1", "Name": "dnsweb", "Port": 80}).status == 200
    try:
        client_ip = kube.core.read_namespaced_pod(via_client.pod, release.namespace).status.pod_ip
        # The wait is the check: it fails the test unless the name resolves to the client.
        wait_for(
            lambda: client_ip in resolve(kube, release, toolbox, "dnsweb.service.consul").split(),
            f"dnsweb.service.consul to resolve to {client_ip}",
            timeout=30,
        )
    finally:
        via_client.deregister_service("dns-1")


def test_ui_answers(via_ui: ConsulAPI) -> None:
    resp = via_ui.request("GET", "/ui/")
    assert resp.status == 200
    assert "<html" in resp.body.lower()


def test_gossip_key_is_installed_on_every_member(release: Release) -> None:
    key = release.gossip_key()
    assert len(base64.b64decode(key)) == 32
    rings = release.keyrings()
    agents = len(release.pods("server")) + len(release.pods("client"))
    assert len(rings) == agents, rings
    assert all(keys == [key] for ring in rings.values() for keys in ring.values()), rings


def test_an_agent_without_the_key_cannot_join(
    kube: Kube, release: Release, via_client: ConsulAPI, consul_image: str
) -> None:
    join = f"-retry-join={release.service('server')}"
    agent = ["consul", "agent", "-data-dir=/tmp/data", "-advertise=$(POD_IP)", join]
    pod_ip = [{"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}}]
    key = [{"name": "KEY", "value": release.gossip_key()}]
    start_pod(kube, release.namespace, "intruder", consul_image, [*agent, "-node=intruder"], pod_ip)
    # The control: the same agent with the key joins, so only the key makes the difference.
    keyholder = [*agent, "-node=keyholder", "-encrypt=$(KEY)"]
    start_pod(kube, release.namespace, "keyholder", consul_image, keyholder, pod_ip + key)
    wait_for(
        lambda: any(m["Name"] == "keyholder" and m["Status"] == 1 for m in via_client.members()),
        "the agent with the key to join",
        timeout=90,
    )
    assert "intruder" not in {m["Name"] for m in via_client.members()}
    assert "couldn't join" in kube.core.read_namespaced_pod_log("intruder", release.namespace)
    # The servers refused it for the reason under test, not for any other.
    intruder_ip = kube.core.read_namespaced_pod("intruder", release.namespace).status.pod_ip
    server_logs = "".join(
        kube.core.read_namespaced_pod_log(p.metadata.name, release.namespace)
        for p in release.pods("server")
    )
    assert f"remote state is not encrypted from={intruder_ip}:" in server_logs
    for name in ("intruder", "keyholder"):
        kube.core.delete_namespaced_pod(name, release.namespace, grace_period_seconds=0)


@pytest.mark.parametrize("component", ["server", "client"])
def test_inside_the_agent_pods(kube: Kube, release: Release, component: str) -> None:
    pod = release.pods(component)[0].metadata.name
    host = testinfra.get_host(
        f"kubectl://{pod}?container=consul&namespace={release.namespace}&kubeconfig={kubeconfig()}"
    )
    # PID 1 is dumb-init; its child, the shell that writes the secrets file, execs the agent.
    assert host.file("/proc/1/cmdline").content_string.split("\0")[:4] == [
        "dumb-init",
        "--",
        "/bin/sh",
        "-ec",
    ]
    # Found as dumb-init's child: a search of every process would also find a probe's
    # short-lived `consul` process, which may be gone by the time it is read.
    agents = host.check_output(
        "for c in $(cat /proc/1/task/1/children); do"
        ' [ "$(cat /proc/$c/comm 2>/dev/null)" != consul ] || echo $c; done; true'
    ).split()
    assert len(agents) == 1, f"dumb-init's consul children: {agents}, expected the agent alone"
    agent_pid = agents[0]
    agent_cmdline = host.file(f"/proc/{agent_pid}/cmdline").content_string.split("\0")
    assert agent_cmdline[:2] == ["consul", "agent"]
    # The gossip key reaches the agent as a file: in neither its arguments nor its environment.
    key = release.gossip_key()
    assert key not in "\0".join(agent_cmdline)
    assert key not in host.check_output(f"tr '\\0' '\\n' < /proc/{agent_pid}/environ")
    for pid in ("1", agent_pid):
        uid = [
            line
            for line in host.file(f"/proc/{pid}/status").content_string.splitlines()
            if line.startswith("Uid:")
        ]
        assert uid[0].split()[1:] == ["100"] * 4, f"pid {pid} does not run as uid 100: {uid}"
    assert host.check_output("id -u") == "100"
    # An orphan (as a probe's child left by a killed probe is) is reaped by PID 1; unless the
    # orphan was made, no zombie proves nothing.
    assert host.run("sh -c 'sleep 1 & exit 0'").rc == 0
    time.sleep(3)
    states = host.check_output("cat /proc/[0-9]*/stat | awk '{print $3}'").split()
    assert "Z" not in states, "a zombie was left unreaped"
    config = json.loads(host.file(f"/consul/config/{component}.json").content_string)
    assert config["retry_join"] == [f"{release.service('server')}.{release.namespace}.svc"]
    assert config["datacenter"] == "dc1"
    mountinfo = host.check_output("grep ' /consul/data ' /proc/self/mountinfo")
    if component == "server":
        assert config["bootstrap_expect"] == 3
        assert "pvc-" in mountinfo, f"server data dir is not on its volume: {mountinfo}"
    else:
        assert "bootstrap_expect" not in config


def test_helm_test_passes(release: Release) -> None:
    release.assert_helm_test_passes()
