"""A leader watch: what every server says the leader is, the raft voters and the members gossip
reports failed, sampled about every 200 ms from inside the cluster, so a leaderless window of a
second shows up (a pod's Ready condition lags by its probe period and cannot show it).

A pod asks the UI Service for the raft peers, then every peer at once for its leader (and the
Service for the voters and failed members), and prints one line per round; the test reads its
log afterwards, so sampling never waits on the Kubernetes API. Everything is addressed by IP:
a node fault that takes a CoreDNS replica with it stalls name lookups for seconds, which would
show as a leaderless window that Consul never had.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Protocol

from kube import Kube, start_pod, wait_for


class Deployment(Protocol):
    """What the instruments need of a Consul cluster: a Release of the chart, or one of the
    hand-made layouts the benchmarks compare it with."""

    kube: Kube
    namespace: str

    @property
    def image(self) -> str: ...

    @property
    def tls(self) -> bool: ...

    def service(self, component: str) -> str:
        """The name of a component's Service; "ui" reaches every server."""
        ...

    def token(self, name: str = "management") -> str:
        """An ACL token by name; "" where ACLs are off."""
        ...


POLL = """
peers=""
while :; do
  line="$(date +%s%3N)"
  p=$(curl -sk --connect-timeout 0.2 --max-time 0.5 "$SEED/v1/status/peers" \
    | jq -r '.[]' 2>/dev/null | cut -d: -f1 | sort -u | tr '\n' ' ')
  [ -z "$p" ] || peers="$p"
  for ip in $peers; do
    ( l=$(curl -sk --connect-timeout 0.2 --max-time 0.5 "$SCHEME://$ip:$PORT/v1/status/leader" \
        | tr -d '"'); echo "$ip=${l:--}" >"/tmp/leader.$ip" ) &
  done
  ( v=$(curl -sk --connect-timeout 0.2 --max-time 0.5 -H "X-Consul-Token: $TOKEN" \
      "$SEED/v1/operator/raft/configuration?stale" \
      | jq -r '[.Servers[] | select(.Voter) | .Node] | sort | join(",")' 2>/dev/null)
    echo "voters=${v:--}" >/tmp/voters ) &
  ( f=$(curl -sk --connect-timeout 0.2 --max-time 0.5 -H "X-Consul-Token: $TOKEN" \
      "$SEED/v1/agent/members" | jq '[.[] | select(.Status == 4)] | length' 2>/dev/null)
    echo "failed=${f:--}" >/tmp/failed ) &
  wait
  echo "$line $(cat /tmp/leader.* 2>/dev/null | tr '\n' ' ')$(cat /tmp/voters) $(cat /tmp/failed)"
  rm -f /tmp/leader.*
  sleep 0.1
done
"""


@dataclass
class Sample:
    """One polling round: epoch milliseconds and each server's answer ("" when it had none)."""

    at_ms: int
    leaders: dict[str, str]
    voters: tuple[str, ...] = ()
    failed_members: int | None = None  # members gossip reports failed (None: no answer)

    @property
    def leader(self) -> str:
        """The leader a majority of the answering servers name, or "" for none."""
        named = [leader for leader in self.leaders.values() if leader]
        if not named:
            return ""
        top = max(set(named), key=named.count)
        return top if named.count(top) * 2 > len(named) else ""


@dataclass
class LeaderWatch:
    """Start with `with LeaderWatch(release) as watch:`; read it after."""

    release: Deployment
    node: str | None = None  # where the watch runs: a node the scenario leaves alone
    name: str = "leader-watch"
    samples: list[Sample] = field(default_factory=list)

    def __enter__(self) -> LeaderWatch:
        ui = self.release.kube.core.read_namespaced_service(
            self.release.service("ui"), self.release.namespace
        )
        # The watch only samples who leads, so it does not verify the servers' certificate.
        scheme, port = ("https", "8501") if self.release.tls else ("http", "8500")
        (ui_port,) = [p.port for p in ui.spec.ports if p.name == scheme]
        env = [
            {"name": "SEED", "value": f"{scheme}://{ui.spec.cluster_ip}:{ui_port}"},
            {"name": "SCHEME", "value": scheme},
            {"name": "PORT", "value": port},
            {"name": "TOKEN", "value": self.release.token("management")},
        ]
        start_pod(
            self.release.kube,
            self.release.namespace,
            self.name,
            self.release.image,
            ["/bin/sh", "-c", POLL],
            env,
            node=self.node,
        )
        # Only a watch that already sees the leader can tell when it goes.
        wait_for(lambda: self.read() and self.samples[-1].leader, "the watch to see a leader")
        return self

    def __exit__(self, *_: object) -> None:
        time.sleep(1)  # the last rounds
        self.read()
        self.release.kube.core.delete_namespaced_pod(
            self.name, self.release.namespace, grace_period_seconds=0
        )

    def read(self) -> list[Sample]:
        """Every sample so far, read anew from the watch pod's log."""
        log = self.release.kube.core.read_namespaced_pod_log(self.name, self.release.namespace)
        self.samples = [parse(line) for line in log.splitlines() if line.strip()]
        return self.samples

    def current_leader(self) -> str:
        """The leader in the newest sample ("" for none), read while the watch runs."""
        return self.read()[-1].leader

    def leaderless_windows(self) -> list[float]:
        """Seconds of each run of rounds in which no majority named a leader."""
        windows: list[float] = []
        start: int | None = None
        for sample in self.samples:
            if not sample.leader and start is None:
                start = sample.at_ms
            elif sample.leader and start is not None:
                windows.append((sample.at_ms - start) / 1000)
                start = None
        if start is not None:
            windows.append((self.samples[-1].at_ms - start) / 1000)
        return windows

    def leaderless_report(self, context: int = 3) -> str:
        """The leaderless windows, then the rounds around each (who each server named), so a
        failed bound shows which server stopped answering or naming the leader, and when."""
        keep: set[int] = set()
        for i, sample in enumerate(self.samples):
            if not sample.leader:
                keep.update(range(max(0, i - context), min(len(self.samples), i + context + 1)))
        rounds = [f"{self.samples[i].at_ms} {self.samples[i].leaders}" for i in sorted(keep)]
        return "\n".join([f"leaderless windows (s): {self.leaderless_windows()}", *rounds])

    def elections(self) -> int:
        """Leader changes seen (a leader replaced by itself after a gap counts too)."""
        runs = [s.leader for s in self.samples if s.leader]
        return sum(1 for a, b in pairwise(runs) if a != b) + len(self.leaderless_windows())

    def voter_sets(self) -> list[tuple[str, ...]]:
        """The raft voter sets in the order they were seen."""
        out: list[tuple[str, ...]] = []
        for sample in self.samples:
            if sample.voters and (not out or out[-1] != sample.voters):
                out.append(sample.voters)
        return out

    def most_failed_members(self) -> int:
        """The most members reported failed (not left) at any one time."""
        return max((s.failed_members or 0 for s in self.samples), default=0)

    def first_leader_after(self, at_ms: int, other_than: str) -> int | None:
        """When the watch first saw a leader other than `other_than` at or after `at_ms`."""
        for sample in self.samples:
            if sample.at_ms >= at_ms and sample.leader and sample.leader != other_than:
                return sample.at_ms
        return None

    def terms(self) -> list[tuple[int, str]]:
        """Each leader in the order they held office, with when the watch first saw it
        (epoch milliseconds, the watch pod's clock; leaderless rounds left out)."""
        out: list[tuple[int, str]] = []
        for sample in self.samples:
            if sample.leader and (not out or out[-1][1] != sample.leader):
                out.append((sample.at_ms, sample.leader))
        return out

    def changes_ms(self) -> list[int]:
        """When the watch first saw each new leader after the first."""
        return [at_ms for at_ms, _ in self.terms()[1:]]

    def leaderless_seconds(self) -> float:
        return sum(self.leaderless_windows())

    def leaders(self) -> list[str]:
        """The leaders in the order they held office (leaderless rounds left out)."""
        return [leader for _, leader in self.terms()]


def parse(line: str) -> Sample:
    at, *answers, voters, failed = line.split()
    leaders = {}
    for answer in answers:
        server, _, leader = answer.partition("=")
        leaders[server] = "" if leader == "-" else leader
    names = voters.removeprefix("voters=")
    count = failed.removeprefix("failed=")
    return Sample(
        int(at),
        leaders,
        () if names == "-" else tuple(names.split(",")),
        None if count == "-" else int(count),
    )
