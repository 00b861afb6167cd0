"""A node drain while no server is ready: the PodDisruptionBudget must not hold the node
hostage to a cluster that cannot come up. It cordons a node every other test would use, so it
runs in the chaos tier, alone."""

from __future__ import annotations

import pytest

from harness.kube import Kube, run, wait_for, worker_nodes
from harness.release import NamespaceFactory, ReleaseFactory

pytestmark = pytest.mark.chaos


def test_a_drain_is_allowed_while_no_server_is_ready(
    kube: Kube, namespace_factory: NamespaceFactory, release_factory: ReleaseFactory
) -> None:
    node = worker_nodes(kube)[0]
    # One node for three servers under required anti-affinity: one runs, never gets a leader
    # and never turns ready; the budget then counts no healthy pod at all.
    values = {
        "server": {"nodeSelector": {"kubernetes.io/hostname": node}},
        "client": {"enabled": False},
        "gossipEncryption": {"enabled": False},
    }
    release = release_factory("drain", namespace_factory("drain"), install=False)
    # No hooks: the autopilot hook would wait for a leader that cannot come.
    release.install(flags=["--no-hooks"], **values)

    # The servers start in parallel (podManagementPolicy Parallel): whichever is scheduled first
    # takes the node, server-2 as often as server-0.
    def running() -> list[str]:
        return [p.metadata.name for p in release.pods("server") if p.status.phase == "Running"]

    servers = wait_for(running, "a server running", timeout=120)
    assert len(servers) == 1, f"one node for three servers under anti-affinity ran {servers}"
    pod_name = servers[0]
    pdb = kube.policy.read_namespaced_pod_disruption_budget(
        release.name_of("PodDisruptionBudget", "server"), release.namespace
    )
    wait_for(
        lambda: (
            (
                s := kube.policy.read_namespaced_pod_disruption_budget(
                    pdb.metadata.name, release.namespace
                ).status
            )
            and s.observed_generation == pdb.metadata.generation
            and s.current_healthy == 0
        ),
        "the budget to count no healthy server",
        timeout=60,
    )
    # With no healthy server the budget allows no disruption (that follows from the count just
    # waited for), so only its policy for unhealthy pods can let this drain through: it must
    # have reached the cluster as the chart rendered it.
    policy = pdb.spec.unhealthy_pod_eviction_policy
    assert policy == "AlwaysAllow", f"unhealthyPodEvictionPolicy in the cluster: {policy}"
    try:
        run(
            [
                "kubectl",
                "drain",
                node,
                f"--pod-selector=app.kubernetes.io/instance={release.name}",
                "--ignore-daemonsets",
                "--delete-emptydir-data",
                "--timeout=60s",
            ],
            timeout=120,
        )
    finally:
        run(["kubectl", "uncordon", node])
    events = kube.core.list_namespaced_event(
        release.namespace, field_selector=f"involvedObject.name={pod_name}"
    ).items
    assert any(e.reason == "Killing" for e in events), "the drain evicted the unready server"
