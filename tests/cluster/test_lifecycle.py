"""One release through its life: upgrade, scale 3 -> 5, uninstall, reinstall onto old volumes.

The tests build on each other in file order (pytest keeps it), like a user's day-2 operations.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from kube import Kube, wait_for
from leader_watch import LeaderWatch
from release import NamespaceFactory, Release, ReleaseFactory

pytestmark = pytest.mark.cluster

# The kind cluster has 3 workers: 5 servers need the soft anti-affinity preset.
SOFT = {"server": {"podAntiAffinityPreset": "soft"}}


@pytest.fixture(scope="module")
def life(namespace_factory: NamespaceFactory, release_factory: ReleaseFactory) -> Release:
    return release_factory("life", namespace_factory("lifecycle"), **SOFT)


@pytest.fixture(scope="module")
def seeded(life: Release) -> Iterator[dict[str, str]]:
    """Data written before the day-2 operations, checked after each of them."""
    data = {f"lifecycle/{i}": f"value-{i}" for i in range(20)}
    api = life.api("server")
    for key, value in data.items():
        assert api.kv_put(key, value)
    return data


def assert_data_kept(release: Release, data: dict[str, str]) -> None:
    api = release.api("server")
    assert {key: api.kv_get(key) for key in data} == data


def test_upgrade_rolls_servers_one_at_a_time(life: Release, seeded: dict[str, str]) -> None:
    key = life.gossip_key()
    before = {p.metadata.name: p.metadata.uid for p in life.pods("server")}
    with LeaderWatch(life) as watch:
        life.upgrade(consul={"logLevel": "debug"})
    after = {p.metadata.name: p.metadata.uid for p in life.pods("server")}
    assert set(after) == set(before)
    assert all(after[name] != uid for name, uid in before.items()), "every server restarted"
    # Judged by Consul every 200 ms: a stopping leader hands over, so no election timeout.
    windows = watch.leaderless_windows()
    assert max(windows, default=0) < 3, watch.leaderless_report()
    assert life.gossip_key() == key
    assert_data_kept(life, seeded)
    api = life.api("server")
    assert api.leader()
    assert [s["Voter"] for s in api.raft_servers()] == [True] * 3


def test_scale_to_five_servers_leaves_clients_alone(
    kube: Kube, life: Release, seeded: dict[str, str]
) -> None:
    clients = life.incarnations("client")
    life.upgrade(server={"replicas": 5, "disruptionBudget": {"maxUnavailable": 2}})
    api = life.api("server")
    voters = wait_for(
        lambda: (v := [s for s in api.raft_servers() if s["Voter"]]) and len(v) == 5 and v,
        "5 voters",
        timeout=120,
    )
    assert len(voters) == 5
    assert life.incarnations("client") == clients, "clients were restarted by a server change"
    assert_data_kept(life, seeded)


@pytest.mark.parametrize(
    ("persistence", "message"),
    [
        ({"size": "20Gi"}, "server.persistence.size cannot change from 10Gi to 20Gi"),
        ({"enabled": False}, "server.persistence.enabled cannot change from true to false"),
    ],
    ids=["size", "enabled"],
)
def test_persistence_change_is_refused_with_an_explanation(
    life: Release, persistence: dict[str, object], message: str
) -> None:
    proc = life.upgrade(check=False, server={"persistence": persistence})
    assert proc.returncode != 0
    assert message in proc.stderr
    assert "kubectl delete statefulset --cascade=orphan" in proc.stderr


def test_uninstall_keeps_only_volumes_and_gossip_key(kube: Kube, life: Release) -> None:
    key = life.gossip_key()
    life.uninstall()
    ns, selector = life.namespace, f"app.kubernetes.io/instance={life.name}"
    wait_for(
        lambda: not kube.core.list_namespaced_pod(ns, label_selector=selector).items,
        "the release's pods to go",
        timeout=180,
    )
    listers = [
        kube.core.list_namespaced_service,
        kube.core.list_namespaced_config_map,
        kube.core.list_namespaced_service_account,
        kube.apps.list_namespaced_stateful_set,
        kube.apps.list_namespaced_daemon_set,
    ]
    leftovers = [
        f"{o.kind or lister.__name__}/{o.metadata.name}"
        for lister in listers
        for o in lister(ns, label_selector=selector).items
    ]
    assert leftovers == []
    pvcs = kube.core.list_namespaced_persistent_volume_claim(ns).items
    assert len(pvcs) == 5, "the server volumes are kept"
    assert life.gossip_key() == key, "the gossip key is kept"


def test_reinstall_onto_old_volumes_keeps_data_and_clients_join(
    kube: Kube, life: Release, seeded: dict[str, str]
) -> None:
    key = life.gossip_key()
    life.install()
    assert life.gossip_key() == key
    assert_data_kept(life, seeded)
    api = life.api("server")
    clients = {p.spec.node_name for p in life.pods("client")}
    wait_for(
        lambda: clients <= {m["Name"] for m in api.members() if m["Status"] == 1},
        "clients to join",
        timeout=120,
    )
    assert len([s for s in api.raft_servers() if s["Voter"]]) == 5
