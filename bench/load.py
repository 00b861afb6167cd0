"""Load: services with health checks registered through the client agents (the checks run on
the clients, as they should; the seed author registered on the servers and saw them slow
down), then, at each size, KV write and catalog read latency through a node-local client agent,
and the agents' CPU and memory from their pods' cgroups."""

from __future__ import annotations

import random
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from layouts import Chart
from table import Table, percentile

from harness.kube import Kube, exec_in_pod, start_pod, wait_for, worker_nodes

REQUESTS = 200  # per latency sample
QUIET_S = 20  # the window agents' CPU is averaged over, with only their checks running
CHECK_INTERVAL_S = 30

# Registers load-<first>..load-<last> with the agent in this pod, each with a TCP check the agent
# runs against its own HTTP port.
REGISTER = """
i=$1
while [ "$i" -le "$2" ]; do
  body="{\\"ID\\":\\"load-$i\\",\\"Name\\":\\"load-$i\\",\\"Port\\":8080,
    \\"Check\\":{\\"TCP\\":\\"127.0.0.1:8500\\",\\"Interval\\":\\"$3\\"}}"
  curl -sf -X PUT --data "$body" http://127.0.0.1:8500/v1/agent/service/register || exit 1
  i=$((i + 1))
done
"""

# One line per request, `status seconds`: PUTs to kv/<i> (mode kv) or GETs of each service
# named (mode catalog), all through the agent at $1.
TIMED = """
url=$1 mode=$2; shift 2
for arg in "$@"; do
  if [ "$mode" = kv ]; then
    curl -s -o /dev/null -w '%{http_code} %{time_total}\\n' -X PUT --data x "$url/v1/kv/bench/$arg"
  else
    curl -s -o /dev/null -w '%{http_code} %{time_total}\\n' "$url/v1/catalog/service/$arg"
  fi
done
"""

# The container's CPU time (ns) and memory in use (bytes), from cgroup v2 or v1 (kind nodes have
# whichever their host has).
CGROUP = """
cd /sys/fs/cgroup
if [ -f cpu.stat ]; then
  echo "$(awk '/^usage_usec/ {print $2}' cpu.stat)000 $(cat memory.current)"
else
  echo "$(cat cpuacct/cpuacct.usage) $(cat memory/memory.usage_in_bytes)"
fi
"""


@dataclass
class Usage:
    cpu_ns: int
    memory_bytes: int


def usage(chart: Chart, pod: str) -> Usage:
    cpu, memory = exec_in_pod(chart.kube, chart.namespace, pod, ["sh", "-c", CGROUP]).stdout.split()
    return Usage(int(cpu), int(memory))


def register(chart: Chart, first: int, last: int) -> None:
    """Spread load-<first>..load-<last> over the client agents, all registering at once."""
    assert chart.release
    clients = [p.metadata.name for p in chart.release.pods("client")]
    share = -(-(last - first + 1) // len(clients))
    jobs = [
        (pod, first + k * share, min(last, first + (k + 1) * share - 1))
        for k, pod in enumerate(clients)
    ]

    def one(pod: str, a: int, b: int) -> None:
        cmd = ["sh", "-c", REGISTER, "-", str(a), str(b), f"{CHECK_INTERVAL_S}s"]
        # A client of its own: the kubernetes client's exec swaps its API client's transport
        # for a websocket while it runs, so two threads must never share one.
        result = exec_in_pod(Kube.connect(), chart.namespace, pod, cmd)
        if result.returncode != 0:
            raise AssertionError(f"registering load-{a}..load-{b} on {pod}: {result.stderr}")

    with ThreadPoolExecutor(len(jobs)) as pool:
        for done in [pool.submit(one, *job) for job in jobs if job[1] <= job[2]]:
            done.result()
    server = chart.release.api("server")
    wait_for(
        lambda: len(server.get("/v1/catalog/services")) >= last + 1,  # and "consul" itself
        f"{last} services in the catalog",
        timeout=600,
        interval=2,
    )


def timed(chart: Chart, toolbox: str, url: str, mode: str, args: list[str]) -> list[float]:
    """Seconds per request; every request must have been answered 200."""
    cmd = ["sh", "-c", TIMED, "-", url, mode, *args]
    lines = exec_in_pod(chart.kube, chart.namespace, toolbox, cmd).stdout.split("\n")
    answers = [line.split() for line in lines if line.strip()]
    bad = [a for a in answers if a[0] != "200"]
    if bad or len(answers) != len(args):
        raise AssertionError(f"{mode}: {len(answers)} answers to {len(args)}, not 200: {bad[:5]}")
    return [float(a[1]) for a in answers]


def load(chart: Chart, sizes: list[int], runs: int, table: Table) -> None:
    """Grow the catalog to each size in turn and measure `runs` times at each."""
    assert chart.release
    toolbox = start_pod(
        chart.kube, chart.namespace, "bench-toolbox", chart.image, node=worker_nodes(chart.kube)[0]
    )
    url = chart.writer_url()
    servers = [p.metadata.name for p in chart.release.pods("server")]
    clients = [p.metadata.name for p in chart.release.pods("client")]
    registered = 0
    for size in sizes:
        register(chart, registered + 1, size)
        registered = size
        time.sleep(CHECK_INTERVAL_S + 5)  # every check has run at least once
        figures: dict[str, list[float]] = {}
        for _ in range(runs):
            before = {pod: usage(chart, pod) for pod in servers + clients}
            start = time.monotonic()
            time.sleep(QUIET_S)
            elapsed_ns = (time.monotonic() - start) * 1e9
            after = {pod: usage(chart, pod) for pod in servers + clients}
            cpu = {
                pod: (after[pod].cpu_ns - before[pod].cpu_ns) / elapsed_ns * 1000 for pod in after
            }
            kv = timed(chart, toolbox, url, "kv", [str(i) for i in range(REQUESTS)])
            names = [f"load-{random.randint(1, size)}" for _ in range(REQUESTS)]
            catalog = timed(chart, toolbox, url, "catalog", names)
            for key, value in {
                "KV write p50 (client)": percentile(kv, 50) * 1000,
                "KV write p99 (client)": percentile(kv, 99) * 1000,
                "catalog read p50 (client)": percentile(catalog, 50) * 1000,
                "catalog read p99 (client)": percentile(catalog, 99) * 1000,
                "server CPU, mean of servers": sum(cpu[p] for p in servers) / len(servers),
                "server memory, largest": max(after[p].memory_bytes for p in servers) / 2**20,
                "client CPU, mean of clients": sum(cpu[p] for p in clients) / len(clients),
            }.items():
                figures.setdefault(key, []).append(value)
        units = {"p50": "ms", "p99": "ms", "CPU": "millicores", "memory": "MiB"}
        for key, values in figures.items():
            unit = next(u for word, u in units.items() if word in key)
            table.add(f"load: {key} at {size} services", "chart", unit, values)
