"""TLS comes to a running release in three rolling upgrades, judged by the leader watch.

It runs in the chaos tier, one test at a time, not beside the cluster tier's modules: there the
host's CPU pressure (median 57 %, p90 75-90 %) starved the leader's 500 ms lease: leaderless
windows in five of the last eight runs (1.4 to 4.0 s, three of them over the bound; the three
with server logs each "failed to contact quorum of nodes, stepping down"), so the bound measured
the host, not the migration."""

from __future__ import annotations

import pytest

from harness.leader_watch import LeaderWatch
from harness.release import NamespaceFactory, ReleaseFactory, assert_no_rpc_without_a_certificate

pytestmark = pytest.mark.chaos


def test_tls_comes_to_a_running_release_in_three_rolling_steps(
    namespace_factory: NamespaceFactory,
    release_factory: ReleaseFactory,
    consul_image: str,
) -> None:
    release = release_factory("migrate", namespace_factory("tls-steps"))
    data = {f"migrate/{i}": str(i) for i in range(10)}
    for key, value in data.items():
        assert release.api("server").kv_put(key, value)
    # All at once would leave the rolled servers refusing the others' plain RPC: refused.
    refused = release.upgrade(check=False, tls={"enabled": True})
    assert refused.returncode != 0
    assert "turn TLS on in three upgrades" in refused.stderr, refused.stderr
    steps = [
        {"enabled": True, "verifyOutgoing": False, "verifyIncoming": False},
        {"verifyOutgoing": True},
        {"verifyIncoming": True},
    ]
    # Plain HTTP stays on throughout, so the watch keeps sampling it.
    with LeaderWatch(release) as watch:
        for step in steps:
            release.upgrade(tls=step)
    watch.assert_leaderless_below(3)
    api = release.api("server")
    assert {key: api.kv_get(key) for key in data} == data
    assert all(s["Voter"] for s in api.raft_servers()) and len(api.raft_servers()) == 3
    release.assert_helm_test_passes()
    # The last step is what shuts plain RPC out.
    assert_no_rpc_without_a_certificate(release, consul_image)
    # And TLS leaves as it came, in three steps reversed: all at once is refused.
    refused = release.upgrade(check=False, tls={"enabled": False})
    assert refused.returncode != 0
    assert "turn TLS off in three upgrades" in refused.stderr, refused.stderr
    # So is a rollback to the revision before the three steps, which no lookup check would see
    # (the pre-rollback hook refuses it), and it leaves every pod as it was.
    assert release.revision == 4
    agents = {c: release.incarnations(c) for c in ("server", "client")}
    refused = release.rollback(1, check=False)
    assert refused.returncode != 0
    output = refused.stdout + refused.stderr
    assert (
        "helm rollback to revision 1 refused: the running servers have tls true, verify_outgoing "
        "true, verify_incoming true, and revision 1 has tls.enabled=false" in output
    ), output
    assert {c: release.incarnations(c) for c in ("server", "client")} == agents
    release.uninstall()
