"""Five servers on three workers (soft anti-affinity), TLS and ACLs on: two servers deleted at
once, which five servers survive and three would not."""

from __future__ import annotations

import pytest
from scenario import Chaos, ChaosFactory

pytestmark = pytest.mark.chaos


@pytest.fixture(scope="module")
def chaos(chaos_factory: ChaosFactory) -> Chaos:
    return chaos_factory("five", servers=5, server={"podAntiAffinityPreset": "soft"})


def test_two_of_five_servers_deleted_at_once(chaos: Chaos) -> None:
    release = chaos.release
    with chaos.measure("2 of 5 servers deleted at once") as m:
        leader = m.leader_pod()
        followers = [p.metadata.name for p in release.pods("server") if p.metadata.name != leader]
        for pod in followers[-2:]:
            release.kube.core.delete_namespaced_pod(pod, release.namespace)
    assert m.row.lost == 0
    assert m.watch.leaderless_windows() == [], "three of five keep quorum and the leader"
