"""Releases never see each other: the same name in two namespaces, two names in one namespace."""

from __future__ import annotations

import pytest
from cluster import Kube, NamespaceFactory, Release, ReleaseFactory
from consul_api import ConsulAPI

pytestmark = pytest.mark.cluster

# Small releases: one server each keeps three clusters within the kind cluster's means.
SMALL = {"server": {"replicas": 1}}


@pytest.fixture(scope="module")
def releases(namespace_factory: NamespaceFactory, release_factory: ReleaseFactory) -> list[Release]:
    team_a, team_b = namespace_factory("team-a"), namespace_factory("team-b")
    return [
        release_factory("consul", team_a, **SMALL),
        release_factory("consul", team_b, **SMALL),
        release_factory("other", team_a, **SMALL),
    ]


def members(kube: Kube, release: Release) -> set[str]:
    pod = release.pods(kube, "server")[0].metadata.name
    return {
        m["Name"] for m in ConsulAPI(kube, release.namespace, pod).members() if m["Status"] == 1
    }


def test_each_release_is_its_own_cluster(kube: Kube, releases: list[Release]) -> None:
    views = [members(kube, r) for r in releases]
    servers = [{p.metadata.name for p in r.pods(kube, "server")} for r in releases]
    for view, own_servers, release in zip(views, servers, releases, strict=True):
        assert own_servers <= view, f"{release.namespace}/{release.name} lost its own server"
        others = set().union(*(s for s in servers if s is not own_servers)) - own_servers
        assert not others & view, f"{release.namespace}/{release.name} sees {others & view}"
    # Client agents are named after the Kubernetes node, so every release has one per worker.
    clients = [view - s for view, s in zip(views, servers, strict=True)]
    assert clients[0] == clients[1] == clients[2] and clients[0]


def test_each_release_has_its_own_gossip_key(kube: Kube, releases: list[Release]) -> None:
    keys = {r.gossip_key(kube) for r in releases}
    assert len(keys) == 3


def test_each_release_has_its_own_data(kube: Kube, releases: list[Release]) -> None:
    apis = [ConsulAPI(kube, r.namespace, r.pods(kube, "server")[0].metadata.name) for r in releases]
    for i, api in enumerate(apis):
        assert api.kv_put("isolation/owner", str(i))
    assert [api.kv_get("isolation/owner") for api in apis] == ["0", "1", "2"]
