"""A leader watch: what every server says the leader is, sampled every 200 ms from inside the
cluster, so a leaderless window of a second shows up (a pod's Ready condition lags by its
probe period and cannot show it).

A pod polls `/v1/status/leader` on each server's own DNS name and prints one line per round;
the test reads its log afterwards, so sampling never waits on the Kubernetes API.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from kube import start_pod, wait_for
from release import Release

POLL = """
while :; do
  line="$(date +%s%3N)"
  for s in $SERVERS; do
    l=$(curl -sk --max-time 0.5 "$SCHEME://$s.$DOMAIN:$PORT/v1/status/leader" | tr -d '"')
    line="$line ${s}=${l:--}"
  done
  echo "$line"
  sleep 0.2
done
"""


@dataclass
class Sample:
    """One polling round: epoch milliseconds and each server's answer ("" when it had none)."""

    at_ms: int
    leaders: dict[str, str]

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
    """Start with `with LeaderWatch(release, servers) as watch:`; read it after."""

    release: Release
    servers: int
    name: str = "leader-watch"
    samples: list[Sample] = field(default_factory=list)

    def __enter__(self) -> LeaderWatch:
        names = " ".join(self.release.server_pod(i) for i in range(self.servers))
        domain = f"{self.release.service('server')}.{self.release.namespace}.svc"
        # The watch only samples who leads, so it does not verify the servers' certificate.
        scheme, port = ("https", "8501") if self.release.tls else ("http", "8500")
        env = [
            {"name": "SERVERS", "value": names},
            {"name": "DOMAIN", "value": domain},
            {"name": "SCHEME", "value": scheme},
            {"name": "PORT", "value": port},
        ]
        start_pod(
            self.release.kube,
            self.release.namespace,
            self.name,
            self._image(),
            ["/bin/sh", "-c", POLL],
            env,
        )
        # Only a watch that already sees the leader can tell when it goes.
        wait_for(lambda: self._read() and self.samples[-1].leader, "the watch to see a leader")
        return self

    def __exit__(self, *_: object) -> None:
        time.sleep(1)  # the last rounds
        self._read()
        self.release.kube.core.delete_namespaced_pod(
            self.name, self.release.namespace, grace_period_seconds=0
        )

    def _image(self) -> str:
        pod = self.release.pods("server")[0]
        return pod.spec.containers[0].image

    def _read(self) -> list[Sample]:
        log = self.release.kube.core.read_namespaced_pod_log(self.name, self.release.namespace)
        self.samples = [parse(line) for line in log.splitlines() if line.strip()]
        return self.samples

    def current_leader(self) -> str:
        """The leader in the newest sample ("" for none), read while the watch runs."""
        return self._read()[-1].leader

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

    def leaders(self) -> list[str]:
        """The leaders in the order they held office (leaderless rounds left out)."""
        out: list[str] = []
        for sample in self.samples:
            if sample.leader and (not out or out[-1] != sample.leader):
                out.append(sample.leader)
        return out


def parse(line: str) -> Sample:
    at, *answers = line.split()
    leaders = {}
    for answer in answers:
        server, _, leader = answer.partition("=")
        leaders[server] = "" if leader == "-" else leader
    return Sample(int(at), leaders)
