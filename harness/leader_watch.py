"""A leader watch: each server's own raft state, term and the leader it names, the raft voters
and the members gossip reports failed, sampled from inside the cluster many times a second, so a
leaderless window well under a second shows up (a pod's Ready condition lags by its probe period
and cannot show it). `resolution_s()` says how far apart its rounds really were.

A round is led only when a server answers that it is the leader: followers keep naming a killed
leader for a second or two, which would hide the outage. Elections are counted from the leader's
raft term, and a server that does not answer is recorded as unreachable, not as "no leader".

A pod asks every peer at once for /v1/agent/self (and the UI Service for the peers, voters and
failed members), and prints one line per round; the test reads its log afterwards, so sampling
never waits on the Kubernetes API. Everything is addressed by IP: a node fault that takes a
CoreDNS replica with it stalls name lookups for seconds, which would show as a leaderless window
that Consul never had.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Protocol

from harness.evidence import record_instrument
from harness.kube import Kube, start_pod, wait_for


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


# One round every PERIOD_MS: every server's own raft state, term and the leader it names, from
# /v1/agent/self, and the raft configuration (peers, voters) and failed members from the UI
# Service, all asked at once by one curl and read by one jq: the watch runs beside the load it
# measures, and a round of a process per request cost half a core under load (16 % now, most of
# it TLS handshakes). A server that does not answer within 0.3 s is written `ip=!N` (curl's exit
# code: 7 refused, 28 timed out; `!httpN` for an HTTP error), never as "no leader". The next
# round asks the peers this one heard of.
POLL = """
mkdir -p /tmp/r
peers=""
while :; do
  line=$(date +%s%3N)
  rm -f /tmp/r/*
  set --
  IFS=,
  for ip in $peers; do set -- "$@" -o "/tmp/r/s_$ip" "$SCHEME://$ip:$PORT/v1/agent/self"; done
  unset IFS
  codes=$(curl -sk -Z --parallel-immediate --connect-timeout 0.2 --max-time 0.3 \\
    -H "X-Consul-Token: $TOKEN" -w '%{exitcode} %{http_code} %{filename_effective}\\n' \\
    -o /tmp/r/voters "$SEED/v1/operator/raft/configuration?stale" \\
    -o /tmp/r/members "$SEED/v1/agent/members" "$@" 2>/dev/null)
  failed=""
  while read -r code http file; do
    [ "$code" = 0 ] && [ "$http" = 200 ] && continue
    rm -f "$file"
    why=$code; [ "$code" = 0 ] && why=http$http
    case $file in */s_*) failed="$failed ${file##*/s_}=!$why" ;; esac
  done <<EOF
$codes
EOF
  tokens=$(jq -rn "$READ" /tmp/r/* 2>/dev/null)
  for t in $tokens; do case $t in peers=?*) peers=${t#peers=} ;; esac; done
  echo "$line$failed" $tokens
  rest=$((PERIOD_MS - ($(date +%s%3N) - line)))
  if [ "$rest" -gt 0 ]; then sleep "$((rest / 1000)).$(printf %03d $((rest % 1000)))"; fi
done
"""
# What jq makes of each answer of a round (only those that came whole with HTTP 200 are left).
READ = """
inputs as $j | (input_filename | split("/") | last) as $file
| if $file == "voters"
  then "voters=" + ([$j.Servers[]? | select(.Voter) | .Node] | sort | join(",")),
    "peers=" + ([$j.Servers[]?.Address | split(":")[0]] | join(","))
  elif $file == "members" then "failed=" + ([$j[]? | select(.Status == 4)] | length | tostring)
  else ($file | ltrimstr("s_")) + "=" + ([$j.Stats.raft.state, $j.Stats.raft.term,
    $j.Stats.consul.leader_addr // ""] | map(tostring) | join(","))
  end
"""


@dataclass(frozen=True)
class Answer:
    """What one server said of itself in a round, or why it said nothing."""

    state: str = ""  # raft state: Leader, Follower, Candidate ("" when unreachable)
    term: int = 0
    leader: str = ""  # the leader it names, "ip:8300" ("" for none)
    error: str = ""  # why it did not answer: curl's exit code (7 refused, 28 timed out), "jq"

    @property
    def reachable(self) -> bool:
        return not self.error

    @property
    def timed_out(self) -> bool:
        """No answer in time: slow, or cut off from the watch, so nothing is known of it (a
        refused connection, by contrast, means no agent is serving there)."""
        return self.error == "28"


@dataclass
class Sample:
    """One polling round: epoch milliseconds when it started and each server's answer."""

    at_ms: int
    servers: dict[str, Answer]
    voters: tuple[str, ...] = ()
    failed_members: int | None = None  # members gossip reports failed (None: no answer)

    @property
    def leader(self) -> str:
        """The leader as it says itself ("ip:8300"), or "" for none: a server that answered
        and is in raft state Leader (the newest term if two still think so). Followers that
        still name a leader which no longer answers do not make a round led."""
        claims = [(a.term, ip) for ip, a in self.servers.items() if a.state == "Leader"]
        return f"{max(claims)[1]}:8300" if claims else ""

    @property
    def term(self) -> int:
        """The raft term of the round's leader (0 without one)."""
        claims = [a.term for a in self.servers.values() if a.state == "Leader"]
        return max(claims, default=0)

    @property
    def known(self) -> bool:
        """Whether the round can tell led from leaderless: led, or some server answered and no
        server that the others name as leader timed out (it may have been leading)."""
        if self.leader:
            return True
        named = {a.leader.rpartition(":")[0] for a in self.servers.values() if a.leader}
        answered = any(a.reachable for a in self.servers.values())
        return answered and not any(
            self.servers[ip].timed_out for ip in named & self.servers.keys()
        )

    @property
    def unreachable(self) -> list[str]:
        return [ip for ip, a in self.servers.items() if not a.reachable]


@dataclass
class LeaderWatch:
    """Start with `with LeaderWatch(release) as watch:`; read it after. Everything it judges
    starts at the first round with a leader (the watch waits for one before the test goes on)."""

    release: Deployment
    node: str | None = None  # where the watch runs: a node the scenario leaves alone
    name: str = "leader-watch"
    # Time from one round's start to the next's when the servers answer at once (under 1 s): a
    # slow or unreachable server stretches a round to at most 0.3 s and the processing.
    period_s: float = 0.25
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
            {"name": "READ", "value": READ},
            {"name": "PERIOD_MS", "value": str(round(self.period_s * 1000))},
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
        record_instrument(self, self.name, log)
        self.samples = [parse(line) for line in log.splitlines() if line.strip()]
        return self.samples

    def since_first_leader(self) -> list[Sample]:
        """The rounds from the first that saw a leader on (the watch waits for one)."""
        first = next((i for i, s in enumerate(self.samples) if s.leader), len(self.samples))
        return self.samples[first:]

    def judged(self) -> list[Sample]:
        """The rounds that can tell led from leaderless, from the first that saw a leader on."""
        return [s for s in self.since_first_leader() if s.known]

    def current_leader(self) -> str:
        """The leader in the newest sample ("" for none), read while the watch runs."""
        return self.read()[-1].leader

    def resolution_s(self) -> float:
        """The longest time between the starts of two rounds that could tell (a round whose
        leader timed out cannot): a window shorter than this may fall between two rounds."""
        gaps = [b.at_ms - a.at_ms for a, b in pairwise(self.judged())]
        return max(gaps, default=0) / 1000

    def unreachable_rounds(self) -> int:
        """Rounds in which some server did not answer the watch (those that could still tell
        led from leaderless included)."""
        return sum(1 for s in self.since_first_leader() if s.unreachable)

    def leaderless_windows(self) -> list[float]:
        """Seconds of each run of rounds in which no server answered as leader."""
        windows: list[float] = []
        start: int | None = None
        judged = self.judged()
        for sample in judged:
            if not sample.leader and start is None:
                start = sample.at_ms
            elif sample.leader and start is not None:
                windows.append((sample.at_ms - start) / 1000)
                start = None
        if start is not None:
            windows.append((judged[-1].at_ms - start) / 1000)
        return windows

    def leaderless_report(self, context: int = 3) -> str:
        """The leaderless windows and the watch's resolution, then the rounds around each window
        (each server's state, term and the leader it named, or why it did not answer), so a
        failed bound shows which server stopped leading or answering, and when."""
        judged = self.judged()
        keep: set[int] = set()
        for i, sample in enumerate(judged):
            if not sample.leader:
                keep.update(range(max(0, i - context), min(len(judged), i + context + 1)))
        rounds = [f"{judged[i].at_ms} {describe(judged[i])}" for i in sorted(keep)]
        head = (
            f"leaderless windows (s): {self.leaderless_windows()}; resolution "
            f"{self.resolution_s():.2f} s over {len(judged)} rounds, "
            f"{self.unreachable_rounds()} with a server unreachable"
        )
        return "\n".join([head, *rounds])

    def worst_leaderless_windows(self) -> list[float]:
        """Each leaderless window at its longest: from the last round that saw a leader before it
        to the first that saw one after it (the outage began and ended somewhere in between)."""
        windows: list[float] = []
        led_before: int | None = None
        in_window = False
        for sample in self.judged():
            if sample.leader:
                if in_window and led_before is not None:
                    windows.append((sample.at_ms - led_before) / 1000)
                led_before, in_window = sample.at_ms, False
            else:
                in_window = True
        if in_window and led_before is not None:
            windows.append((self.judged()[-1].at_ms - led_before) / 1000)
        return windows

    def assert_leaderless_below(self, bound_s: float) -> None:
        """No leaderless window could have lasted `bound_s`: each seen one is bounded by the led
        rounds around it, and one that no round saw by the longest gap between rounds."""
        report = self.leaderless_report()
        assert self.resolution_s() < bound_s, f"the watch sampled too coarsely: {report}"
        worst = self.worst_leaderless_windows()
        assert max(worst, default=0) < bound_s, f"at their longest {worst}: {report}"

    def elections(self) -> int:
        """Elections seen: changes of the leader's raft term (a leader that lost office and won
        it again counts, as it holds a new term)."""
        return max(len(self.terms()) - 1, 0)

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
        """Each leader's term in order, with when the watch first saw it (epoch milliseconds,
        the watch pod's clock) and who held it (leaderless rounds left out)."""
        out: list[tuple[int, str]] = []
        term = 0
        for sample in self.judged():
            if sample.leader and sample.term != term:
                term = sample.term
                out.append((sample.at_ms, sample.leader))
        return out

    def changes_ms(self) -> list[int]:
        """When the watch first saw each new leader term after the first."""
        return [at_ms for at_ms, _ in self.terms()[1:]]

    def leaderless_seconds(self) -> float:
        return sum(self.leaderless_windows())

    def leaders(self) -> list[str]:
        """Who held each leader term, in order (leaderless rounds left out)."""
        return [leader for _, leader in self.terms()]


def describe(sample: Sample) -> str:
    """A round in a line: `ip:State/term->leader` per server, `ip:!code` where none came."""
    return " ".join(
        f"{ip}:!{a.error}" if a.error else f"{ip}:{a.state}/{a.term}->{a.leader or '-'}"
        for ip, a in sorted(sample.servers.items())
    )


def parse(line: str) -> Sample:
    """`at ip=STATE,TERM,LEADER|ip=!WHY ... voters=A,B failed=N peers=...`, in any order after
    the time (a part that did not come is left out)."""
    at, *tokens = line.split()
    servers: dict[str, Answer] = {}
    voters: tuple[str, ...] = ()
    failed: int | None = None
    for token in tokens:
        key, _, value = token.partition("=")
        if key == "voters":
            voters = tuple(v for v in value.split(",") if v)
        elif key == "failed":
            failed = int(value)
        elif key == "peers":
            continue
        elif value.startswith("!"):
            servers[key] = Answer(error=value[1:])
        else:
            state, term, leader = value.split(",")
            servers[key] = Answer(state, int(term), "" if leader == "null" else leader)
    return Sample(int(at), servers, voters, failed)
