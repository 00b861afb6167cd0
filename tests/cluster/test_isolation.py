"""Releases never see each other: the same name in two namespaces, two names in one namespace.

One of the namespaces is locked down as a platform team's often is: a ResourceQuota that requires
every container to declare CPU and memory limits, and a LimitRange with a minimum. Its release
(ACLs on, so the acl-init Job runs there too) sets them through the values, `jobs.resources` for
the chart's Jobs and test pod."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from kubernetes import client

from harness.kube import Kube
from harness.release import NamespaceFactory, Release, ReleaseFactory

pytestmark = pytest.mark.cluster

# Small releases: one server each keeps three clusters within the kind cluster's means.
SMALL = {"server": {"replicas": 1}}
QUOTA = "limits-required"
MINIMUM = {"cpu": "10m", "memory": "32Mi"}
LIMITED = {"requests": MINIMUM, "limits": {"cpu": "200m", "memory": "128Mi"}}
AGENT = {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"cpu": "1", "memory": "512Mi"}}
LOCKED_DOWN = {
    "acl": {"enabled": True},
    "server": {"replicas": 1, "resources": AGENT},
    "client": {"resources": AGENT, "rejoinResources": LIMITED},
    "jobs": {"resources": LIMITED},
}


def lock_down(kube: Kube, namespace: str) -> None:
    hard = {
        f"{k}.{r}": "16" if r == "cpu" else "16Gi" for k in ("requests", "limits") for r in MINIMUM
    }
    quota = client.V1ResourceQuotaSpec(hard=hard)
    kube.core.create_namespaced_resource_quota(
        namespace, client.V1ResourceQuota(metadata=client.V1ObjectMeta(name=QUOTA), spec=quota)
    )
    minimum = client.V1LimitRangeSpec(
        limits=[client.V1LimitRangeItem(type="Container", min=MINIMUM)]
    )
    kube.core.create_namespaced_limit_range(
        namespace, client.V1LimitRange(metadata=client.V1ObjectMeta(name="minimum"), spec=minimum)
    )


@pytest.fixture(scope="module")
def releases(
    kube: Kube, namespace_factory: NamespaceFactory, release_factory: ReleaseFactory
) -> list[Release]:
    team_a, team_b = namespace_factory("team-a"), namespace_factory("team-b")
    lock_down(kube, team_b)
    releases = [
        release_factory("consul", team_a, install=False),
        release_factory("consul", team_b, install=False),
        release_factory("other", team_a, install=False),
    ]
    values = [SMALL, LOCKED_DOWN, SMALL]
    # Installed all at once, as teams do, instead of one after the other (about 20 s each).
    with ThreadPoolExecutor() as pool:
        list(pool.map(lambda rv: rv[0].install(**rv[1]), zip(releases, values, strict=True)))
    return releases


def members(release: Release) -> set[str]:
    """Addresses of the members a release's first server sees alive. Addresses, not names:
    two releases' agents share names (consul-server-0, the node names of the clients)."""
    return {m["Addr"] for m in release.api("server").members() if m["Status"] == 1}


def agent_ips(release: Release) -> set[str]:
    return {p.status.pod_ip for c in ("server", "client") for p in release.pods(c)}


def test_each_release_is_its_own_cluster(releases: list[Release]) -> None:
    own = [agent_ips(r) for r in releases]
    for release, view, mine in zip(releases, map(members, releases), own, strict=True):
        assert view == mine, f"{release.namespace}/{release.name} sees {view ^ mine}"
    assert sum(map(len, own)) == len(set().union(*own)), "two releases share an agent"


def test_each_release_has_its_own_gossip_key(releases: list[Release]) -> None:
    keys = {r.gossip_key() for r in releases}
    assert len(keys) == 3


def test_each_release_has_its_own_data(releases: list[Release]) -> None:
    apis = [r.api("server") for r in releases]
    for i, api in enumerate(apis):
        assert api.kv_put("isolation/owner", str(i))
    assert [api.kv_get("isolation/owner") for api in apis] == ["0", "1", "2"]


def test_a_locked_down_namespace_takes_a_release_that_declares_its_limits(
    kube: Kube, releases: list[Release]
) -> None:
    locked = releases[1]
    # Its install passed `--wait` under the quota; its Jobs and the test pod fit too.
    locked.assert_helm_test_passes()
    used = kube.core.read_namespaced_resource_quota(QUOTA, locked.namespace).status.used
    # The quota counted the pods' limits: it was in force, not trivially met.
    assert used.get("limits.cpu", "0") != "0", used
