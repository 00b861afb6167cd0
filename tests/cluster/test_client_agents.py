"""Client agents through what a cluster throws at them: a leader lost with the servers still
up, every server gone for longer than a liveness budget, and a rollout of the clients
themselves (with and without a data dir on the node).

Servers are stopped with SIGSTOP to the agent (dumb-init is PID 1, so the agent is not): they
neither leave nor restart, as in a hung or partitioned node, until SIGCONT.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from cluster import (
    Kube,
    NamespaceFactory,
    Release,
    ReleaseFactory,
    exec_in_pod,
    start_pod,
    wait_for,
)
from consul_api import ConsulAPI

pytestmark = pytest.mark.cluster

# Signals the agent process (found by name: it is dumb-init's child, not PID 1).
SIGNAL_AGENT = (
    'for p in /proc/[0-9]*; do [ "$(cat "$p/comm" 2>/dev/null)" = consul ] && '
    'kill -{signal} "${{p#/proc/}}"; done'
)


@pytest.fixture(scope="module")
def agents(namespace_factory: NamespaceFactory, release_factory: ReleaseFactory) -> Release:
    return release_factory("agents", namespace_factory("client-agents"))


@pytest.fixture(scope="module")
def kept(namespace_factory: NamespaceFactory, release_factory: ReleaseFactory) -> Release:
    values = {"client": {"dataHostPath": {"enabled": True}}}
    return release_factory("kept", namespace_factory("client-data"), **values)


@pytest.fixture(scope="module")
def toolbox(kube: Kube, agents: Release, consul_image: str) -> str:
    return start_pod(kube, agents.namespace, "toolbox", consul_image)


def server_api(kube: Kube, release: Release, index: int = 0) -> ConsulAPI:
    return ConsulAPI(kube, release.namespace, release.pods(kube, "server")[index].metadata.name)


def signal_servers(kube: Kube, release: Release, indexes: list[int], signal: str) -> None:
    for i in indexes:
        pod = release.pods(kube, "server")[i].metadata.name
        result = exec_in_pod(
            kube, release.namespace, pod, ["sh", "-c", SIGNAL_AGENT.format(signal=signal)]
        )
        assert result.returncode == 0, result.stderr


@contextmanager
def servers_stopped(kube: Kube, release: Release, indexes: list[int]) -> Iterator[None]:
    signal_servers(kube, release, indexes, "STOP")
    try:
        yield
    finally:
        signal_servers(kube, release, indexes, "CONT")


def ready(pod: Any) -> bool:
    return any(c.type == "Ready" and c.status == "True" for c in pod.status.conditions or [])


def ready_endpoints(kube: Kube, release: Release, service: str) -> set[str]:
    """Pod names behind a Service that receive traffic now."""
    slices = kube.discovery.list_namespaced_endpoint_slice(
        release.namespace, label_selector=f"kubernetes.io/service-name={release.fullname}-{service}"
    ).items
    return {
        e.target_ref.name
        for s in slices
        for e in s.endpoints or []
        if e.conditions.ready and e.target_ref
    }


def client_restarts(kube: Kube, release: Release) -> dict[str, tuple[str, int]]:
    return {
        p.spec.node_name: (
            p.metadata.uid,
            sum(c.restart_count for c in p.status.container_statuses),
        )
        for p in release.pods(kube, "client")
    }


def test_dns_and_local_api_keep_serving_without_a_leader(
    kube: Kube, agents: Release, toolbox: str
) -> None:
    dns_ip = kube.core.read_namespaced_service(f"{agents.fullname}-dns", agents.namespace)
    survivor = server_api(kube, agents, 0)
    clients = {p.metadata.name for p in agents.pods(kube, "client")}
    service = {"ID": f"lonely-{uuid.uuid4().hex[:6]}", "Name": "lonely", "Port": 80}
    local_agent = f"http://{agents.fullname}-client:8500"
    with servers_stopped(kube, agents, [1, 2]):
        wait_for(lambda: survivor.leader() == "", "server-0 to lose the leader", timeout=30)
        lost_at = time.monotonic()
        # Past the point where a leader-based readiness had emptied both Services (2 x 5 s).
        wait_for(lambda: not ready(agents.pods(kube, "server")[0]), "server-0 to turn unready", 30)
        time.sleep(max(0.0, lost_at + 15 - time.monotonic()))
        assert survivor.leader() == "", "quorum came back on its own"
        assert ready_endpoints(kube, agents, "dns") == clients
        assert ready_endpoints(kube, agents, "client") == clients
        answer = exec_in_pod(
            kube,
            agents.namespace,
            toolbox,
            ["nslookup", "consul.service.consul", dns_ip.spec.cluster_ip],
        )
        survivor_ip = agents.pods(kube, "server")[0].status.pod_ip
        assert answer.returncode == 0 and survivor_ip in answer.stdout, answer.stdout
        registered = ConsulAPI(kube, agents.namespace, toolbox, local_agent).register_service(
            service
        )
        assert registered.status == 200, registered.body
    wait_for(lambda: survivor.leader(), "a leader again", timeout=60)
    nodes = wait_for(
        lambda: server_api(kube, agents).catalog_service("lonely"),
        "the registration to reach the catalog",
        timeout=60,
    )
    assert [n["ServiceID"] for n in nodes] == [service["ID"]]


def test_clients_rejoin_after_every_server_was_gone_without_restarting(
    kube: Kube, agents: Release
) -> None:
    before = client_restarts(kube, agents)
    sts = f"{agents.fullname}-server"

    def scale(replicas: int) -> None:
        kube.apps.patch_namespaced_stateful_set_scale(
            sts, agents.namespace, {"spec": {"replicas": replicas}}
        )

    scale(0)
    wait_for(lambda: not agents.pods(kube, "server"), "every server pod to go", timeout=180)
    # Longer than the old liveness budget (60 s without a server meant a restart).
    time.sleep(75)
    scale(3)
    api = ConsulAPI(kube, agents.namespace, f"{sts}-0")
    wait_for(lambda: api.leader(), "a leader", timeout=240, interval=1)
    back = time.monotonic()
    nodes = set(before)
    wait_for(
        lambda: nodes <= {m["Name"] for m in api.members() if m["Status"] == 1},
        "every client alive again",
        timeout=60,
        interval=1,
    )
    rejoined = time.monotonic() - back
    # Bounded by the rejoin container's interval (10 s) plus gossip, not by back-off.
    assert rejoined <= 25, f"clients took {rejoined:.0f}s to rejoin"
    assert client_restarts(kube, agents) == before, "a client was restarted"


def roll_clients(kube: Kube, release: Release) -> None:
    """`kubectl rollout restart daemonset/...`, and waits until every client is replaced."""
    name = f"{release.fullname}-client"
    old = {p.metadata.uid for p in release.pods(kube, "client")}
    stamp = {"kubectl.kubernetes.io/restartedAt": time.strftime("%Y-%m-%dT%H:%M:%SZ")}
    patch = {"spec": {"template": {"metadata": {"annotations": stamp}}}}
    kube.apps.patch_namespaced_daemon_set(name, release.namespace, patch)

    def rolled() -> bool:
        pods = release.pods(kube, "client")
        return (
            bool(pods)
            and all(p.metadata.uid not in old and ready(p) for p in pods)
            and len(pods) == len(old)
        )

    wait_for(rolled, "every client pod replaced and ready", timeout=300)


def register_on_a_client(kube: Kube, release: Release, name: str) -> tuple[str, str]:
    """Registers a service through the first client agent; returns (service ID, its node)."""
    pod = release.pods(kube, "client")[0]
    service_id = f"{name}-{uuid.uuid4().hex[:6]}"
    agent = ConsulAPI(kube, release.namespace, pod.metadata.name)
    body = {"ID": service_id, "Name": name, "Port": 80}
    assert agent.register_service(body).status == 200
    wait_for(lambda: server_api(kube, release).catalog_service(name), f"{name} in the catalog", 30)
    return service_id, pod.spec.node_name


def test_by_default_a_client_rollout_drops_registrations(kube: Kube, agents: Release) -> None:
    """What README says of the default (an emptyDir data dir): the registrations go."""
    register_on_a_client(kube, agents, "ephemeral")
    roll_clients(kube, agents)
    time.sleep(20)  # anti-entropy of the new agents (they sync on join)
    assert server_api(kube, agents).catalog_service("ephemeral") == []


def test_a_registration_survives_a_client_rollout_with_a_data_dir_on_the_node(
    kube: Kube, kept: Release
) -> None:
    service_id, node = register_on_a_client(kube, kept, "kept")
    roll_clients(kube, kept)
    nodes = wait_for(
        lambda: server_api(kube, kept).catalog_service("kept"),
        "the registration back in the catalog",
        timeout=60,
    )
    assert [(n["ServiceID"], n["Node"]) for n in nodes] == [(service_id, node)]
    (pod,) = [p for p in kept.pods(kube, "client") if p.spec.node_name == node]
    local = ConsulAPI(kube, kept.namespace, pod.metadata.name)
    services = json.loads(local.request("GET", "/v1/agent/services").body)
    assert service_id in services, "the new agent restored it from its data dir"
