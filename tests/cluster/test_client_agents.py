"""Client agents through what a cluster throws at them: a leader lost with the servers still
up, every server gone for longer than a liveness budget, and a rollout of the clients
themselves (with and without a data dir on the node).

Servers are stopped with SIGSTOP to the agent (dumb-init is PID 1, so the agent is not): they
neither leave nor restart, as in a hung or partitioned node, until SIGCONT.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from harness.kube import Kube, exec_in_pod, start_pod, wait_for
from harness.release import NamespaceFactory, Release, ReleaseFactory

pytestmark = pytest.mark.cluster

# Signals the agent process (found by name: it is dumb-init's child, not PID 1).
SIGNAL_AGENT = (
    'n=0; for p in /proc/[0-9]*; do if [ "$(cat "$p/comm" 2>/dev/null)" = consul ]; then '
    'kill -{signal} "${{p#/proc/}}"; n=$((n + 1)); fi; done; [ "$n" -eq 1 ]'
)


@pytest.fixture(scope="module")
def agents(namespace_factory: NamespaceFactory, release_factory: ReleaseFactory) -> Release:
    # Servers without volumes come back from an outage knowing no client (with volumes their
    # serf snapshot would lead them back to the clients): only the clients can rejoin them.
    values = {"server": {"persistence": {"enabled": False}}}
    return release_factory("agents", namespace_factory("client-agents"), **values)


@pytest.fixture(scope="module")
def kept(namespace_factory: NamespaceFactory, release_factory: ReleaseFactory) -> Release:
    values = {"client": {"dataHostPath": {"enabled": True}}}
    # A hostPath volume and a root init container: only the privileged level admits them.
    return release_factory("kept", namespace_factory("client-data", "privileged"), **values)


@pytest.fixture(scope="module")
def toolbox(kube: Kube, agents: Release, consul_image: str) -> str:
    return start_pod(kube, agents.namespace, "toolbox", consul_image)


def signal_servers(release: Release, ordinals: list[int], signal: str) -> None:
    for i in ordinals:
        command = ["sh", "-c", SIGNAL_AGENT.format(signal=signal)]
        result = exec_in_pod(release.kube, release.namespace, release.server_pod(i), command)
        assert result.returncode == 0, result.stderr


@contextmanager
def servers_stopped(release: Release, ordinals: list[int]) -> Iterator[None]:
    signal_servers(release, ordinals, "STOP")
    try:
        yield
    finally:
        signal_servers(release, ordinals, "CONT")


def ready(pod: Any) -> bool:
    return any(c.type == "Ready" and c.status == "True" for c in pod.status.conditions or [])


def ready_endpoints(release: Release, component: str) -> set[str]:
    """Pod names behind a component's Service that receive traffic now."""
    selector = f"kubernetes.io/service-name={release.service(component)}"
    slices = release.kube.discovery.list_namespaced_endpoint_slice(
        release.namespace, label_selector=selector
    ).items
    return {
        e.target_ref.name
        for s in slices
        for e in s.endpoints or []
        if e.conditions.ready and e.target_ref
    }


def test_dns_and_local_api_keep_serving_without_a_leader(
    kube: Kube, agents: Release, toolbox: str
) -> None:
    dns_ip = kube.core.read_namespaced_service(agents.service("dns"), agents.namespace)
    survivor = agents.api("server")
    clients = {p.metadata.name for p in agents.pods("client")}
    service = {"ID": f"lonely-{uuid.uuid4().hex[:6]}", "Name": "lonely", "Port": 80}
    local_agent = f"http://{agents.service('client')}:8500"
    with servers_stopped(agents, [1, 2]):
        wait_for(lambda: survivor.leader() == "", "server-0 to lose the leader", timeout=30)
        lost_at = time.monotonic()
        # Past the point where a leader-based readiness had emptied both Services (2 x 5 s).
        wait_for(lambda: not ready(agents.pods("server")[0]), "server-0 to turn unready", 30)
        time.sleep(max(0.0, lost_at + 15 - time.monotonic()))
        assert survivor.leader() == "", "quorum came back on its own"
        assert ready_endpoints(agents, "dns") == clients
        assert ready_endpoints(agents, "client") == clients
        command = ["nslookup", "consul.service.consul", dns_ip.spec.cluster_ip]
        answer = exec_in_pod(kube, agents.namespace, toolbox, command)
        survivor_ip = agents.pods("server")[0].status.pod_ip
        assert answer.returncode == 0 and survivor_ip in answer.stdout, answer.stdout
        local = agents.api_in(toolbox, local_agent)
        registered = local.register_service(service)
        assert registered.status == 200, registered.body
    wait_for(lambda: survivor.leader(), "a leader again", timeout=60)
    nodes = wait_for(
        lambda: agents.api("server").catalog_service("lonely"),
        "the registration to reach the catalog",
        timeout=60,
    )
    assert [n["ServiceID"] for n in nodes] == [service["ID"]]


def test_clients_rejoin_after_every_server_was_gone_without_restarting(
    kube: Kube, agents: Release
) -> None:
    before = agents.incarnations("client")

    def scale(replicas: int) -> None:
        kube.apps.patch_namespaced_stateful_set_scale(
            agents.statefulset, agents.namespace, {"spec": {"replicas": replicas}}
        )

    scale(0)
    wait_for(lambda: not agents.pods("server"), "every server pod to go", timeout=180)
    # Longer than the old liveness budget (60 s without a server meant a restart).
    time.sleep(75)
    scale(3)
    api = agents.api_in(agents.server_pod(0))
    # Back: server-0's agent answers (with or without a leader yet).
    wait_for(lambda: api.leader() is not None, "server-0 answering", timeout=240, interval=1)
    back = time.monotonic()
    nodes = {p.spec.node_name for p in agents.pods("client")}
    wait_for(
        lambda: nodes <= {m["Name"] for m in api.members() if m["Status"] == 1},
        "every client alive again",
        timeout=60,
        interval=1,
    )
    rejoined = time.monotonic() - back
    wait_for(lambda: api.leader(), "a leader", timeout=120, interval=1)
    print(f"clients alive again {rejoined:.1f}s after server-0 answered")
    # Bounded by the rejoin container's interval (10 s) plus gossip, not by back-off.
    assert rejoined <= 25, f"clients took {rejoined:.0f}s to rejoin"
    assert agents.incarnations("client") == before, "a client was restarted"


def roll_clients(release: Release) -> None:
    """`kubectl rollout restart daemonset/...`, and waits until every client is replaced."""
    old = {p.metadata.uid for p in release.pods("client")}
    stamp = {"kubectl.kubernetes.io/restartedAt": time.strftime("%Y-%m-%dT%H:%M:%SZ")}
    patch = {"spec": {"template": {"metadata": {"annotations": stamp}}}}
    name = release.name_of("DaemonSet", "client")
    release.kube.apps.patch_namespaced_daemon_set(name, release.namespace, patch)

    def rolled() -> bool:
        pods = release.pods("client")
        replaced = all(p.metadata.uid not in old and ready(p) for p in pods)
        return replaced and len(pods) == len(old)

    wait_for(rolled, "every client pod replaced and ready", timeout=300)


def register_on_a_client(release: Release, name: str) -> tuple[str, str]:
    """Registers a service through the first client agent; returns (service ID, its node)."""
    pod = release.pods("client")[0]
    service_id = f"{name}-{uuid.uuid4().hex[:6]}"
    body = {"ID": service_id, "Name": name, "Port": 80}
    assert release.api("client").register_service(body).status == 200
    wait_for(lambda: release.api("server").catalog_service(name), f"{name} in the catalog", 30)
    return service_id, pod.spec.node_name


def test_by_default_a_client_rollout_drops_registrations(agents: Release) -> None:
    """What README says of the default (an emptyDir data dir): the registrations go."""
    register_on_a_client(agents, "ephemeral")
    roll_clients(agents)
    time.sleep(20)  # anti-entropy of the new agents (they sync on join)
    assert agents.api("server").catalog_service("ephemeral") == []


def test_a_registration_survives_a_client_rollout_with_a_data_dir_on_the_node(
    kube: Kube, kept: Release
) -> None:
    service_id, node = register_on_a_client(kept, "kept")
    roll_clients(kept)
    nodes = wait_for(
        lambda: kept.api("server").catalog_service("kept"),
        "the registration back in the catalog",
        timeout=60,
    )
    assert [(n["ServiceID"], n["Node"]) for n in nodes] == [(service_id, node)]
    (pod,) = [p for p in kept.pods("client") if p.spec.node_name == node]
    services = kept.api_in(pod.metadata.name).get("/v1/agent/services")
    assert service_id in services, "the new agent restored it from its data dir"
