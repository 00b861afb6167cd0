"""The timed benchmarks, each run on a fresh namespace per layout: install → healthy, leader
failover (deleted, and killed without leaving), and a rolling restart of every server under
write load. Times come from Consul itself: the healthy check asks a server, the leader watch
samples every server about every 200 ms."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import pairwise
from typing import TypeVar

from layouts import Layout

from harness.kube import exec_in_pod, wait_for
from harness.leader_watch import LeaderWatch, Sample
from harness.scenario import failure_kinds
from harness.writer import Writer

L = TypeVar("L", bound=Layout)

INSTALL_TIMEOUT = 600
RECOVERY_TIMEOUT = 120
ROLLOUT_TIMEOUT = 180  # the chart's rolling restart of three servers takes about 110 s here


def healthy_after(layout: Layout, start: float, timeout: float = INSTALL_TIMEOUT) -> float | None:
    """Seconds from `start` (monotonic) until the layout is healthy, taken at the middle of the
    first check that passed; None if it never was within `timeout`."""
    while time.monotonic() - start < timeout:
        before = time.monotonic()
        try:
            ok = layout.healthy()
        except Exception:  # not deployed that far yet: no pod, no DaemonSet, no container
            ok = False
        after = time.monotonic()
        if ok:
            return (before + after) / 2 - start
        time.sleep(max(0.0, 0.25 - (after - before)))
    return None


def install_to_healthy(make: Callable[[], Layout], runs: int) -> tuple[list[float], str]:
    """Seconds from the install command to healthy, per run; and a note on runs that failed."""
    times: list[float] = []
    failed = 0
    for _ in range(runs):
        layout = make()
        layout.create_namespace()
        try:
            with ThreadPoolExecutor(1) as pool:
                start = time.monotonic()
                deploying = pool.submit(layout.deploy)
                took = healthy_after(layout, start)
                deploying.result()
            if took is None:
                failed += 1
            else:
                times.append(took)
        finally:
            layout.delete_namespace()
    note = f"{failed} of {runs} runs not healthy in {INSTALL_TIMEOUT} s" if failed else ""
    return times, note


@contextmanager
def deployed(layout: L) -> Iterator[L]:
    """The layout deployed and healthy in a namespace of its own, deleted afterwards."""
    layout.create_namespace()
    try:
        layout.deploy()
        if healthy_after(layout, time.monotonic()) is None:
            raise AssertionError(f"{layout.name} not healthy in {INSTALL_TIMEOUT} s after deploy")
        yield layout
    finally:
        layout.delete_namespace()


def new_leader_at(samples: list[Sample], after_ms: int, old: str) -> int | None:
    """When a leader took over after `after_ms`: the first leader other than `old`, or `old`
    again once a round had none (a killed server that came back and won)."""
    gap = False
    for s in samples:
        if s.at_ms < after_ms:
            continue
        if not s.leader:
            gap = True
        elif s.leader != old or gap:
            return s.at_ms
    return None


def leaderless_between(samples: list[Sample], start_ms: int, end_ms: int) -> float:
    """Seconds without a leader between two times, round by round."""
    inside = [s for s in samples if start_ms <= s.at_ms <= end_ms]
    return sum((b.at_ms - a.at_ms) / 1000 for a, b in pairwise(inside) if not a.leader)


@dataclass
class Failover:
    new_leader_s: list[float] = field(default_factory=list)
    leaderless_s: list[float] = field(default_factory=list)
    note: str = ""


KILL = ["sh", "-c", "kill -9 $(cat /proc/1/task/1/children)"]  # the agent, under dumb-init


def failover(layout: Layout, how: str, runs: int) -> Failover:
    """Delete (`deleted`) or SIGKILL (`killed`) the leader `runs` times; the seconds until the
    watch sees a new leader. A layout that is not healthy again within the recovery timeout
    ends its series there, and the note says so."""
    out = Failover()
    with LeaderWatch(layout, name=f"leader-watch-{uuid.uuid4().hex[:6]}") as watch:
        for _ in range(runs):
            if healthy_after(layout, time.monotonic(), RECOVERY_TIMEOUT) is None:
                out.note = f"not healthy again within {RECOVERY_TIMEOUT} s after a {how} leader"
                break
            old = watch.current_leader()
            pod = layout.server_ips()[old]
            start_ms = int(time.time() * 1000)
            if how == "deleted":
                layout.kube.core.delete_namespaced_pod(pod, layout.namespace)
            else:
                exec_in_pod(layout.kube, layout.namespace, pod, KILL)
            took = wait_for(
                lambda at=start_ms, was=old: new_leader_at(watch.read(), at, was),
                f"a new leader in {layout.name}",
                timeout=RECOVERY_TIMEOUT,
                interval=0.5,
            )
            out.new_leader_s.append((took - start_ms) / 1000)
            out.leaderless_s.append(leaderless_between(watch.samples, start_ms, took))
    return out


@dataclass
class Rollout:
    leaderless_s: list[float] = field(default_factory=list)
    failed_writes: list[float] = field(default_factory=list)
    elections: list[float] = field(default_factory=list)
    total_s: list[float] = field(default_factory=list)
    answers: list[str] = field(default_factory=list)
    note: str = ""


def rolling_restart(layout: Layout, runs: int) -> Rollout:
    """Restart every server in turn (`runs` times) while a writer writes through a client agent
    (the servers, in a layout without clients) and the leader watch samples. A layout that is
    not healthy again afterwards ends its series there, and the note says so."""
    out = Rollout()
    for _ in range(runs):
        tag = uuid.uuid4().hex[:6]
        writer = Writer(layout, f"writer-{tag}", layout.writer_url(), "")
        with LeaderWatch(layout, name=f"leader-watch-{tag}") as watch, writer:
            start = time.monotonic()
            layout.restart_servers()
            took = healthy_after(layout, start, ROLLOUT_TIMEOUT)
        out.leaderless_s.append(watch.leaderless_seconds())
        out.failed_writes.append(len(writer.failed))
        if writer.failed:
            out.answers.append(failure_kinds(writer.failed))
        out.elections.append(watch.elections())
        if took is None:
            out.note = f"not healthy within {ROLLOUT_TIMEOUT} s of a rolling restart"
            break
        out.total_s.append(took)
    return out
