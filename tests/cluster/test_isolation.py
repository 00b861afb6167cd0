"""Releases never see each other: the same name in two namespaces, two names in one namespace."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from harness.release import NamespaceFactory, Release, ReleaseFactory

pytestmark = pytest.mark.cluster

# Small releases: one server each keeps three clusters within the kind cluster's means.
SMALL = {"server": {"replicas": 1}}


@pytest.fixture(scope="module")
def releases(namespace_factory: NamespaceFactory, release_factory: ReleaseFactory) -> list[Release]:
    team_a, team_b = namespace_factory("team-a"), namespace_factory("team-b")
    releases = [
        release_factory("consul", team_a, install=False),
        release_factory("consul", team_b, install=False),
        release_factory("other", team_a, install=False),
    ]
    # Installed all at once, as teams do, instead of one after the other (about 20 s each).
    with ThreadPoolExecutor() as pool:
        list(pool.map(lambda release: release.install(**SMALL), releases))
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
