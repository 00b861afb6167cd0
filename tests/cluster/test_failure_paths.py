"""What the chart leaves a user with when things do not come up: a gossip key Job that fails.
(A node drain with a leaderless cluster is in the chaos tier: it cordons a node every test
would use, and the cluster tier runs two modules at a time.)"""

from __future__ import annotations

import pytest
from kubernetes import client

from harness.kube import Kube
from harness.release import NamespaceFactory, ReleaseFactory

pytestmark = pytest.mark.cluster


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
