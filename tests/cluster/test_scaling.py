"""Scaling the servers of one release, judged by Consul itself: 3 -> 5 -> 7, a rollback to the
3-server revision refused, a rollback 7 -> 5, then 5 -> 3; autopilot following each step (rollbacks
included), no server restarted that stays, no stale voter and the leader watched every 200 ms.

Helm 4 drives this release (install, upgrades, rollbacks, `helm test`): it applies server-side and
waits with kstatus, where the rest of the cluster tier runs helm 3.

The release asks for `1.5Gi` volumes, which the API stores as `1536Mi`: every upgrade here
also proves that the chart's persistence check compares sizes, not spellings.
"""

from __future__ import annotations

import pytest

from harness.kube import Kube, wait_for
from harness.leader_watch import LeaderWatch
from harness.release import NamespaceFactory, Release, ReleaseFactory
from harness.render import REPO

pytestmark = pytest.mark.cluster

# Five servers on three workers need the soft anti-affinity preset.
VALUES = {"server": {"podAntiAffinityPreset": "soft", "persistence": {"size": "1.5Gi"}}}
DATA = {f"scaling/{i}": f"value-{i}" for i in range(20)}
HELM4 = str(REPO / ".tools" / "bin" / "helm4")


@pytest.fixture(scope="module")
def scaled(namespace_factory: NamespaceFactory, release_factory: ReleaseFactory) -> Release:
    release = release_factory("scale", namespace_factory("scaling"), helm=HELM4, **VALUES)
    api = release.api("server")
    for key, value in DATA.items():
        assert api.kv_put(key, value)
    return release


def min_quorum(release: Release) -> int:
    return release.api("server").get("/v1/operator/autopilot/configuration")["MinQuorum"]


def voters(release: Release) -> list[str]:
    return sorted(s["Node"] for s in release.api("server").raft_servers() if s["Voter"])


def test_install_applies_autopilot(kube: Kube, scaled: Release) -> None:
    assert scaled.revision == 1
    assert min_quorum(scaled) == 2
    sts = kube.apps.read_namespaced_stateful_set(scaled.statefulset, scaled.namespace)
    stored = sts.spec.volume_claim_templates[0].spec.resources.requests["storage"]
    assert stored == "1536Mi", "the API keeps 1.5Gi in another spelling"


def test_scale_up_restarts_no_server_and_autopilot_follows(kube: Kube, scaled: Release) -> None:
    before = scaled.incarnations("server")
    scaled.upgrade(server={"replicas": 5, "disruptionBudget": {"maxUnavailable": 2}})
    names = [scaled.server_pod(i) for i in range(5)]
    wait_for(lambda: voters(scaled) == sorted(names), "5 voters", timeout=120)
    after = scaled.incarnations("server")
    assert {name: after[name] for name in before} == before, "a server that stays was restarted"
    assert min_quorum(scaled) == 3
    assert scaled.revision == 2


def test_scale_down_past_quorum_is_refused_with_the_way_to_do_it(scaled: Release) -> None:
    proc = scaled.upgrade(check=False, server={"replicas": 1})
    assert proc.returncode != 0
    assert "server.replicas=1 would stop 4 of the 5 running servers at once" in proc.stderr
    assert "to at least 3 in one upgrade" in proc.stderr
    assert "kubectl -n " in proc.stderr and "scale statefulset/scale-consul-server" in proc.stderr


def test_a_scale_down_that_would_also_roll_the_servers_is_refused(scaled: Release) -> None:
    before = scaled.incarnations("server")
    resources = {"requests": {"cpu": "100m", "memory": "160Mi"}, "limits": {"memory": "512Mi"}}
    budget = {"maxUnavailable": 1}
    server = {"replicas": 3, "disruptionBudget": budget, "resources": resources}
    proc = scaled.upgrade(check=False, server=server)
    assert proc.returncode != 0
    assert (
        "server.replicas=3 scales down in the same upgrade that changes the servers' pod template"
        in proc.stderr
    ), proc.stderr
    assert "in an upgrade of its own" in proc.stderr
    assert scaled.incarnations("server") == before, "a refused upgrade changed the servers"


def test_a_rollback_below_the_running_servers_quorum_is_refused_before_anything_changes(
    kube: Kube, scaled: Release
) -> None:
    scaled.upgrade(server={"replicas": 7, "disruptionBudget": {"maxUnavailable": 2}})
    seven = sorted(scaled.server_pod(i) for i in range(7))
    wait_for(lambda: voters(scaled) == seven, "7 voters", timeout=180)
    assert min_quorum(scaled) == 4
    assert scaled.revision == 3
    before = scaled.incarnations("server")
    proc = scaled.rollback(1, check=False)
    assert proc.returncode != 0
    # The pre-rollback hook's log, which helm prints when it fails (hook-output-log-policy).
    refusal = (
        "helm rollback to revision 1 refused: it would stop 4 of the 7 running servers at once"
    )
    assert refusal in proc.stdout + proc.stderr, proc.stdout + proc.stderr
    assert scaled.incarnations("server") == before, "a refused rollback changed the servers"
    sts = kube.apps.read_namespaced_stateful_set(scaled.statefulset, scaled.namespace)
    assert sts.spec.replicas == 7
    # Helm stored the rollback as pending before its hooks ran; a rollback to the running
    # revision, which the check lets through, settles it (README, "Upgrades and rollbacks").
    assert scaled.revision == 4
    scaled.rollback(3)
    assert scaled.incarnations("server") == before, "re-applying the running revision restarted"


def test_a_rollback_seven_to_five_leaves_no_stale_voter_and_autopilot_follows(
    kube: Kube, scaled: Release
) -> None:
    five = sorted(scaled.server_pod(i) for i in range(5))
    before = {n: uid for n, uid in scaled.incarnations("server").items() if n in five}
    scaled.rollback(2)
    wait_for(lambda: voters(scaled) == five, "exactly the 5 staying voters", 120)
    raft = scaled.api("server").raft_servers()
    assert sorted(s["Node"] for s in raft) == five, f"stale raft peers: {raft}"
    assert scaled.incarnations("server") == before, "a server that stays was restarted"
    # The revision rolled back to is that of 5 servers: the autopilot hook (post-rollback too)
    # puts its quorum back, not the 7 servers' 4.
    assert min_quorum(scaled) == 3
    assert scaled.values["server"]["replicas"] == 5
    scaled.assert_helm_test_passes()


@pytest.mark.quiet
def test_scale_down_five_to_three_keeps_the_leader_and_leaves_no_stale_voter(
    kube: Kube, scaled: Release
) -> None:
    five = [scaled.server_pod(i) for i in range(5)]
    stay = five[:3]
    before = {name: uid for name, uid in scaled.incarnations("server").items() if name in stay}
    with LeaderWatch(scaled) as watch:
        scaled.upgrade(server={"replicas": 3, "disruptionBudget": {"maxUnavailable": 1}})
        wait_for(lambda: voters(scaled) == stay, "exactly the 3 staying voters", 120)
    raft = scaled.api("server").raft_servers()
    assert sorted(s["Node"] for s in raft) == stay, f"stale raft peers: {raft}"
    assert scaled.incarnations("server") == before, "a server that stays was restarted"
    # At most one hand-over (the leader among the removed transfers to server-0 first).
    assert len(watch.leaders()) <= 2, f"leaders in turn: {watch.leaders()}"
    watch.assert_leaderless_below(3)
    assert len(watch.samples) > 20, "the watch saw too little to judge"
    # With Parallel pod management both removed servers stop at once, so the voters may go from
    # five to three between two rounds: what the chart promises (it refuses a scale-down below
    # the old quorum) is that the three that stay vote throughout, so no round answered shows
    # fewer voters than the target. Rounds nobody answered say nothing (voter_sets leaves them
    # out); five voters first and the three last prove the watch saw the change.
    sets = watch.voter_sets()
    assert sets[:1] == [tuple(five)] and sets[-1:] == [tuple(stay)], f"voter sets: {sets}"
    assert all(set(stay) <= set(voters) for voters in sets), f"voter sets: {sets}"
    assert min_quorum(scaled) == 2
    api = scaled.api("server")
    assert {key: api.kv_get(key) for key in DATA} == DATA
    claims = kube.core.list_namespaced_persistent_volume_claim(scaled.namespace).items
    assert len(claims) == 7, "the removed servers' volumes are kept (whenScaled: Retain)"
