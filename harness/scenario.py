"""A chaos scenario's measurement: `Chaos.measure(...)` starts a leader watch and two writers
(one through a node-local client agent, one through the UI Service), lets the test inject its
fault, then waits until the cluster is whole again, reads every acknowledged write back, and
adds a row to FIGURES, which the chaos tier prints at the end of the session."""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from harness.host_load import HostLoad
from harness.kube import Kube, wait_for, worker_nodes
from harness.leader_watch import LeaderWatch
from harness.release import Release
from harness.writer import Write, Writer

# The scenarios run with TLS (HTTPS only) and ACLs on, as production would.
SECURE = {"tls": {"enabled": True, "httpsOnly": True}, "acl": {"enabled": True}}


@dataclass
class Row:
    scenario: str
    acknowledged: int = 0
    failed: int = 0
    lost: int = 0
    longest_outage_s: float = 0.0
    leaderless_s: float = 0.0
    elections: int = 0
    # Rounds of the leader watch, how many had a server that did not answer, and the longest
    # time between two rounds (what the leaderless figure can resolve).
    rounds: int = 0
    unreachable_rounds: int = 0
    resolution_s: float = 0.0
    whole_after_s: float = 0.0
    # What each writer's failed writes were answered, e.g. "via-client: 000 x3; 500 EOF x1"
    failures: str = ""
    # The host's CPU over the scenario (harness/host_load.py), e.g. "busy 52, stolen 0, waited 55"
    host: str = ""


FIGURES: list[Row] = []


@dataclass
class Measure:
    """What a scenario's body gets: the instruments, running."""

    release: Release
    watch: LeaderWatch
    via_client: Writer | None
    via_ui: Writer | None
    row: Row

    def leader_pod(self) -> str:
        """The server pod that leads now, as the watch sees it."""
        return pod_at(self.release, self.watch.current_leader())


def pod_at(release: Release, address: str) -> str:
    """The server pod behind a raft address (what /v1/status/leader answers)."""
    (pod,) = [
        p.metadata.name for p in release.pods("server") if address == f"{p.status.pod_ip}:8300"
    ]
    return pod


def writer_token(release: Release) -> str:
    """A token that may write under chaos/ and nothing else (made once per release)."""
    rules = json.dumps({"key_prefix": {"chaos/": {"policy": "write"}}})
    release.server_shell(
        f"consul acl policy read -name chaos >/dev/null 2>&1 || "
        f"consul acl policy create -name chaos -rules '{rules}' >/dev/null",
    )
    made = release.server_shell("consul acl token create -policy-name chaos -format=json")
    return json.loads(made)["SecretID"]


def whole(release: Release, servers: int) -> bool:
    """Every server pod running and ready (none terminating: right after a delete the old pod
    still answers as a voter, and the scenario would end before its fault took effect), one
    leader that every server names, exactly the expected voters (no stale peer), every member
    alive, and a client agent on every node the DaemonSet runs on."""
    pods = release.pods("server")
    if len(pods) != servers or not all(
        p.metadata.deletion_timestamp is None
        and p.status.container_statuses
        and all(c.ready for c in p.status.container_statuses)
        for p in pods
    ):
        return False
    expected = {release.server_pod(i) for i in range(servers)}
    leaders = set()
    for i in range(servers):
        leaders.add(release.api("server", i).leader())
    if len(leaders) != 1 or "" in leaders:
        return False
    api = release.api("server")
    voters = {s["Node"] for s in api.raft_servers() if s["Voter"]}
    if voters != expected or len(api.raft_servers()) != servers:
        return False
    members = api.members()
    if any(m["Status"] != 1 for m in members):
        return False
    clients = {m["Name"] for m in members if m["Tags"].get("role") == "node"}
    daemonset = release.kube.apps.read_namespaced_daemon_set(
        release.named("client"), release.namespace
    )
    return len(clients) == daemonset.status.desired_number_scheduled == len(release.pods("client"))


@dataclass
class Chaos:
    """One release under test and the way to measure a scenario on it."""

    kube: Kube
    release: Release
    servers: int
    token: str

    def cluster_ip(self, component: str) -> str:
        """A Service's cluster IP: the instruments skip DNS (see leader_watch.py)."""
        service = self.release.service(component)
        return self.kube.core.read_namespaced_service(
            service, self.release.namespace
        ).spec.cluster_ip

    @contextmanager
    def measure(
        self,
        scenario: str,
        writer_node: str | None = None,
        writers: bool = True,
        watch_period_s: float = LeaderWatch.period_s,
    ) -> Iterator[Measure]:
        """Start the instruments on `writer_node` (writers=False: the watch alone); after the
        body, wait until the cluster is whole again and score the scenario."""
        release = self.release
        row = Row(scenario)
        with ExitStack() as stack:
            load = stack.enter_context(HostLoad())
            node = writer_node or worker_nodes(self.kube)[0]
            watch = stack.enter_context(LeaderWatch(release, node, period_s=watch_period_s))
            started: list[Writer] = []
            if writers:
                for name, url in [
                    ("via-client", f"https://{self.cluster_ip('client')}:8501"),
                    ("via-ui", f"https://{self.cluster_ip('ui')}:443"),
                ]:
                    writer = Writer(
                        release, f"{name}-{uuid.uuid4().hex[:6]}", url, self.token, node
                    )
                    started.append(stack.enter_context(writer))
            yield Measure(release, watch, *(started or [None, None]), row)
            fault_over = time.monotonic()
            wait_for(
                lambda: whole(release, self.servers),
                f"{release.name} whole again after {scenario}",
                timeout=600,
                interval=1,
            )
            row.whole_after_s = time.monotonic() - fault_over
            time.sleep(2)  # writes go on a little after the cluster is whole
        row.host = str(load)
        api = release.api("server")
        row.acknowledged = sum(len(w.acknowledged) for w in started)
        row.failed = sum(len(w.failed) for w in started)
        # Per writer: the issue bounds failures through the client agent, not through the UI.
        row.failures = " / ".join(
            f"{w.name.rsplit('-', 1)[0]}: {failure_kinds(w.failed)}" for w in started if w.failed
        )
        row.lost = sum(len(w.lost(api)) for w in started)
        row.longest_outage_s = max((w.longest_outage() for w in started), default=0)
        row.leaderless_s = watch.leaderless_seconds()
        row.elections = watch.elections()
        row.rounds = len(watch.judged())
        row.unreachable_rounds = watch.unreachable_rounds()
        row.resolution_s = watch.resolution_s()
        FIGURES.append(row)


def figures_table(rows: list[Row]) -> list[str]:
    """The scenarios' rows as a Markdown table."""
    lines = [
        "| scenario | writes acknowledged | failed | lost | longest write outage (s) "
        "| leaderless (s) | elections | watch rounds (unreachable) | watch resolution (s) "
        "| whole again after (s) | failed writes answered | host CPU % |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for r in rows:
        lines.append(
            f"| {r.scenario} | {r.acknowledged} | {r.failed} | {r.lost} | "
            f"{r.longest_outage_s:.2f} | {r.leaderless_s:.2f} | {r.elections} | "
            f"{r.rounds} ({r.unreachable_rounds}) | {r.resolution_s:.2f} | "
            f"{r.whole_after_s:.1f} | {r.failures.replace('|', '/')} | {r.host} |"
        )
    return lines


def failure_kinds(failed: list[Write]) -> str:
    """The failed writes' answers, most common first, each with its count (000: no answer in
    the writer's time)."""
    counts = Counter(w.answer[:80] for w in failed)
    return "; ".join(f"{answer} x{n}" for answer, n in counts.most_common())


class ChaosFactory(Protocol):
    """The chaos_factory fixture (harness/plugin.py): a release with TLS and ACLs on, `servers`
    servers and `values`, installed, and its Chaos."""

    def __call__(self, name: str, servers: int = 3, **values: Any) -> Chaos: ...
