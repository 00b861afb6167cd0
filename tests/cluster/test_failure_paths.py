"""What the chart leaves a user with when things do not come up: a node drain with a
leaderless cluster and its PodDisruptionBudget in place, and a gossip key Job that fails."""

from __future__ import annotations

import pytest
from kube import Kube, run, wait_for, worker_nodes
from kubernetes import client
from release import NamespaceFactory, ReleaseFactory

pytestmark = pytest.mark.cluster


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
    pod_name = release.server_pod(0)
    wait_for(
        lambda: (
            kube.core.read_namespaced_pod(pod_name, release.namespace).status.phase == "Running"
        ),
        "server-0 running",
        timeout=120,
    )
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
    status = kube.policy.read_namespaced_pod_disruption_budget(
        pdb.metadata.name, release.namespace
    ).status
    assert status.disruptions_allowed == 0, "a healthy-pod budget alone would refuse this drain"
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


def test_a_failed_key_job_leaves_no_right_to_create_secrets(
    kube: Kube, namespace_factory: NamespaceFactory, release_factory: ReleaseFactory
) -> None:
    namespace = namespace_factory("keygen-fails")
    # No pod may start here, so the key Job never runs and helm gives up on it.
    quota = client.V1ResourceQuota(
        metadata=client.V1ObjectMeta(name="no-pods"),
        spec=client.V1ResourceQuotaSpec(hard={"pods": "0"}),
    )
    kube.core.create_namespaced_resource_quota(namespace, quota)
    release = release_factory("keyfail", namespace, install=False)
    proc = release.install(check=False, flags=["--wait", "--timeout", "40s"])
    assert proc.returncode != 0
    assert "pre-install" in proc.stderr, proc.stderr
    # The Job itself stays, for its logs and events.
    kube.batch.read_namespaced_job(release.name_of("Job", "secrets-init"), namespace)
    selector = f"app.kubernetes.io/instance={release.name}"
    left = [
        f"{kind}/{o.metadata.name}"
        for kind, lister in [
            ("Role", kube.rbac.list_namespaced_role),
            ("RoleBinding", kube.rbac.list_namespaced_role_binding),
            ("ServiceAccount", kube.core.list_namespaced_service_account),
        ]
        for o in lister(namespace, label_selector=selector).items
    ]
    assert left == [], f"left behind by the failed hook: {left}"
