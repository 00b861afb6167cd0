"""Five servers on three workers (chart/ci's ha-5-servers case, whose `helm test` runs here), TLS
and ACLs on: two servers deleted at once, which five servers survive and three would not."""

from __future__ import annotations

import pytest

from harness.render import ci_values
from harness.scenario import Chaos, ChaosFactory, pod_at

pytestmark = pytest.mark.chaos


@pytest.fixture(scope="module")
def chaos(chaos_factory: ChaosFactory) -> Chaos:
    return chaos_factory("five", servers=5, **ci_values("ha-5-servers"))


def test_helm_test_passes(chaos: Chaos) -> None:
    chaos.release.assert_helm_test_passes()


def test_two_of_five_servers_deleted_at_once(chaos: Chaos) -> None:
    release = chaos.release
    before = release.incarnations("server")
    with chaos.measure("2 of 5 servers deleted at once") as m:
        leader = m.watch.current_leader()
        pod = pod_at(release, leader)
        deleted = [name for name in sorted(before) if name != pod][-2:]
        for name in deleted:
            release.kube.core.delete_namespaced_pod(name, release.namespace)
    after = release.incarnations("server")
    assert all(after[name][0] != before[name][0] for name in deleted), "both were replaced"
    # Each leaves the voters and is back only after autopilot's 10 s of stabilization, so the
    # watch saw three voters without either: the fault this scenario is about.
    sets = m.watch.voter_sets()
    assert any(not set(deleted) & set(voters) for voters in sets), f"voter sets: {sets}"
    assert m.row.lost == 0
    assert m.watch.leaderless_windows() == [], "three of five keep quorum"
    assert m.watch.leaders() == [leader], "the leader stays"
