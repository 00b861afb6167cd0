"""Node faults on three servers with TLS and ACLs on: a worker node that runs a server and a
client stopped and started again (`docker stop` of its kind node), and a server's node cut off
from the others and healed. The writers run on a node the fault leaves alone."""

from __future__ import annotations

import subprocess
import time

import pytest

from harness.scenario import Chaos, ChaosFactory, pod_at
from harness.writer import Writer

pytestmark = pytest.mark.chaos

# Everything the node sends or receives on its network (to the other nodes, their pods and the
# API server) is dropped; traffic between the pods of the node stays.
CUT = ("INPUT -i eth0", "OUTPUT -o eth0", "FORWARD -i eth0", "FORWARD -o eth0")


@pytest.fixture(scope="module")
def chaos(chaos_factory: ChaosFactory) -> Chaos:
    return chaos_factory("nodes")


def docker(*args: str) -> None:
    subprocess.run(["docker", *args], check=True, capture_output=True, text=True, timeout=120)


def follower_and_nodes(chaos: Chaos) -> tuple[str, str, str]:
    """A follower, its node, and a node with neither it nor the leader (for the writers)."""
    leader_pod = pod_at(chaos.release, chaos.release.api("server").leader())
    pods = {p.metadata.name: p.spec.node_name for p in chaos.release.pods("server")}
    follower = next(name for name in sorted(pods) if name != leader_pod)
    spare = next(node for name, node in pods.items() if name not in (follower, leader_pod))
    return follower, pods[follower], spare


def test_a_lost_worker_node_keeps_quorum_and_its_agents_rejoin(chaos: Chaos) -> None:
    follower, node, spare = follower_and_nodes(chaos)
    uid, restarts = chaos.release.incarnations("server")[follower]
    with chaos.measure("worker node stopped, then started", writer_node=spare) as m:
        docker("stop", node)
        time.sleep(30)  # writes go on while the node is gone
        docker("start", node)
    assert m.row.lost == 0
    assert m.watch.leaderless_windows() == [], "two of three servers keep quorum"
    assert set(m.watch.voter_sets()[-1]) == {chaos.release.server_pod(i) for i in range(3)}
    # The node was back long before its pods would be evicted (5 minutes NotReady): the same
    # pod came back on it, its containers restarted with the node's runtime.
    now = chaos.release.incarnations("server")[follower]
    assert now[0] == uid and now[1] > restarts, f"(UID, restarts) {(uid, restarts)} -> {now}"


def test_a_partitioned_server_acknowledges_nothing_and_loses_nothing(chaos: Chaos) -> None:
    release = chaos.release
    follower, node, spare = follower_and_nodes(chaos)
    before = release.incarnations("server")[follower]
    url = f"https://{chaos.cluster_ip('client')}:8501"
    with (
        chaos.measure("a server's node partitioned, then healed", writer_node=spare) as m,
        Writer(release, "minority", url, chaos.token, node) as minority,
    ):
        docker("exec", node, "sh", "-c", "; ".join(f"iptables -I {rule} -j DROP" for rule in CUT))
        cut_at = int(time.time() * 1000)  # the rules are in
        time.sleep(30)
        healed_at = int(time.time() * 1000)  # the rules are still in
        docker("exec", node, "sh", "-c", "; ".join(f"iptables -D {rule} -j DROP" for rule in CUT))
        time.sleep(5)
    api = release.api("server")
    assert m.row.lost == 0 and minority.lost(api) == []
    # Judged by when Consul answered: none of the minority's writes while it was cut off. One
    # answered in the first second may have been answered before the rules went in (the writer
    # notes the time after curl exits); one sent while cut off and answered after the heal was
    # held by its agent (rpc_hold_timeout, 7 s) and then served by the majority, as it should be.
    during = [w for w in minority.acknowledged if cut_at + 1000 <= w.end_ms <= healed_at]
    assert during == [], f"the minority side acknowledged writes while cut off: {during}"
    assert m.watch.leaderless_windows() == []
    # Cut off, the server still answers its own HTTP API, which is all its liveness asks (the
    # kubelet reaches it over the pod's veth, not eth0): neither restarted nor replaced.
    assert release.incarnations("server")[follower] == before, "the cut-off server was restarted"
