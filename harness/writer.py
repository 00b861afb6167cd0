"""A KV writer: uniquely numbered writes at a steady rate from a pod in the cluster, each
recorded as acknowledged or failed with its time, then read back with a consistent read.

The pod writes `<prefix>/<n>` = n through one URL (a node-local client agent, or a Service) and
prints one line per write; the test reads its log afterwards, so writing never waits on the
Kubernetes API. A write is acknowledged when Consul answered HTTP 200 `true`.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from itertools import pairwise

from harness.consul_api import ConsulAPI, Response
from harness.evidence import record_instrument
from harness.kube import exec_in_pod, start_pod, wait_for
from harness.leader_watch import Deployment

WRITE = """
n=0
while [ ! -e /tmp/stop ]; do
  n=$((n + 1))
  start=$(date +%s%3N)
  answer=$(curl -s --max-time "$MAX_TIME" $CURL_ARGS -H "X-Consul-Token: $TOKEN" \\
    -X PUT --data "$n" -w ' %{http_code}' "$URL/v1/kv/$PREFIX/$n" | tr -d '\\n')
  echo "$n $start $(date +%s%3N) ${answer:-none 000}"
  sleep "$PAUSE"
done
echo stopped
"""


@dataclass(frozen=True)
class Write:
    n: int
    start_ms: int
    end_ms: int
    acknowledged: bool
    answer: str  # Consul's body and the HTTP status (000: no answer within curl's time)


@dataclass
class Writer:
    """Start with `with Writer(release, name, url, token, node) as writer:`; read it after.
    `node` pins the pod (and so, through the node-local Service, its client agent)."""

    release: Deployment
    name: str
    url: str
    token: str
    node: str | None = None
    pause: float = 0.04  # with curl's own time, about 20 writes a second
    # Longer than an agent's rpc_hold_timeout (7 s), which holds a write through an election:
    # a write that waits and is then applied is acknowledged, as a user's client would see it.
    max_time: float = 10
    writes: list[Write] = field(default_factory=list)

    @property
    def prefix(self) -> str:
        return f"chaos/{self.name}"

    def __enter__(self) -> Writer:
        # The writer trusts the agent it writes to without the CA: a client agent's HTTPS
        # certificate comes from auto-encrypt, and what is measured is Consul's answer.
        env = [
            {"name": "URL", "value": self.url},
            {"name": "PREFIX", "value": self.prefix},
            {"name": "TOKEN", "value": self.token},
            {"name": "PAUSE", "value": str(self.pause)},
            {"name": "MAX_TIME", "value": str(self.max_time)},
            {"name": "CURL_ARGS", "value": "-k" if self.url.startswith("https") else ""},
        ]
        start_pod(
            self.release.kube,
            self.release.namespace,
            self.name,
            self.release.image,
            ["/bin/sh", "-c", WRITE],
            env,
            node=self.node,
        )
        wait_for(lambda: any(w.acknowledged for w in self._read()), f"{self.name}'s first write")
        return self

    def __exit__(self, *_: object) -> None:
        kube, ns = self.release.kube, self.release.namespace
        exec_in_pod(kube, ns, self.name, ["touch", "/tmp/stop"])
        wait_for(
            lambda: kube.core.read_namespaced_pod_log(self.name, ns).rstrip().endswith("stopped"),
            f"{self.name} to stop",
            timeout=30,
            interval=0.5,
        )
        self._read()
        kube.core.delete_namespaced_pod(self.name, ns, grace_period_seconds=0)
        wait_for(
            lambda: (
                not kube.core.list_namespaced_pod(
                    ns, field_selector=f"metadata.name={self.name}"
                ).items
            ),
            f"{self.name} to go",
            timeout=60,
            interval=0.5,
        )

    def _read(self) -> list[Write]:
        log = self.release.kube.core.read_namespaced_pod_log(self.name, self.release.namespace)
        record_instrument(self, self.name, log)
        self.writes = [parse(line) for line in log.splitlines() if line[:1].isdigit()]
        return self.writes

    @property
    def acknowledged(self) -> list[Write]:
        return [w for w in self.writes if w.acknowledged]

    @property
    def failed(self) -> list[Write]:
        return [w for w in self.writes if not w.acknowledged]

    def longest_outage(self) -> float:
        """Seconds between the starts of two acknowledged writes with only failures between."""
        starts = [w.start_ms for w in self.acknowledged]
        gaps = [b - a for a, b in pairwise(starts)]
        return max(gaps, default=0) / 1000

    def stored(self, api: ConsulAPI) -> dict[int, str | None]:
        """What a consistent read gives back under the prefix: write number -> value."""

        # Loss is judged by a read that a leader answers; availability is the watch's to judge.
        def read() -> Response:
            resp = api.request("GET", f"/v1/kv/{self.prefix}/?recurse&consistent")
            if resp.status not in (200, 404):
                raise AssertionError(f"HTTP {resp.status}: {resp.body}")
            return resp

        resp = wait_for(read, f"a consistent read of {self.prefix}", timeout=60)
        if resp.status == 404:
            return {}
        return {int(e["Key"].rsplit("/", 1)[1]): decoded(e["Value"]) for e in resp.json()}

    def lost(self, api: ConsulAPI) -> list[int]:
        """Acknowledged writes a consistent read does not give back as written."""
        stored = self.stored(api)
        return [w.n for w in self.acknowledged if stored.get(w.n) != str(w.n)]


def decoded(value: str | None) -> str | None:
    return None if value is None else base64.b64decode(value).decode()


def parse(line: str) -> Write:
    """`n start end body status`, where an error body may hold spaces."""
    n, start, end, *body, status = line.split()
    acknowledged = status == "200" and body == ["true"]
    return Write(int(n), int(start), int(end), acknowledged, " ".join([*body, status]))
