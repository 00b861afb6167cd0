"""The chart applied as a GitOps tool applies it (harness/gitops.py: `helm template`, hooks as
PreSync/PostSync, server-side apply, pruning), then a value change applied the same way: no
immutable-field refusal, the change takes effect, the cluster stays healthy."""

from __future__ import annotations

import pytest

from harness.gitops import sync
from harness.kube import Kube, wait_for
from harness.release import NamespaceFactory, Release, image_values
from harness.render import merge_values

pytestmark = pytest.mark.cluster

NAME = "ops"


def test_a_value_change_synced_as_gitops_takes_effect(
    kube: Kube, namespace_factory: NamespaceFactory, consul_image: str
) -> None:
    namespace = namespace_factory("gitops")
    values = merge_values(image_values(consul_image), {"acl": {"enabled": True}})
    sync(kube, NAME, namespace, values)
    release = Release(kube, NAME, namespace, values)
    first = release.job("acl-init")
    assert first.status.succeeded == 1
    # backup.enabled changes what the ACL sync does (a backup token): under `helm template` the
    # revision is always 1, so a Job named by it met its immutable pod template here.
    values = merge_values(values, {"backup": {"enabled": True}})
    sync(kube, NAME, namespace, values)
    release.values = values
    second = release.job("acl-init")
    assert second.metadata.name != first.metadata.name
    # A sync applies the Job; the tool then reports the release healthy once it completed.
    wait_for(
        lambda: release.job("acl-init").status.succeeded == 1,
        "the new ACL sync to complete",
        timeout=180,
    )
    backup = release.api_in(release.server_pod(0), token="backup")
    assert backup.get("/v1/acl/token/self")["Description"], "the backup token is not in Consul"
    api = release.api("server")
    voters = [s for s in api.raft_servers() if s["Voter"]]
    assert len(voters) == 3 and api.get("/v1/status/leader")
    assert api.kv_put("gitops/synced", "twice") and api.kv_get("gitops/synced") == "twice"
