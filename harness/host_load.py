"""How busy this host was while a scenario ran: CPU busy and stolen, the share of the time some
task waited for a CPU (the kernel's pressure stall information), and the commands that used the
most CPU (every process on the host, the kind nodes' included: they share its kernel).

The timing tests judge Consul on a 2-core host, and a leader that misses its followers' answers
for 600 ms looks the same whether the chart or a neighbour is at fault: these figures, in the
scenario table and a failed test's evidence, say which.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from harness.evidence import record_instrument

PROC = Path("/proc")
# The commands listed by name; the rest are summed as "others".
TOP = 8


@dataclass(frozen=True)
class Snapshot:
    at: float  # time.monotonic()
    cpu: tuple[int, ...]  # /proc/stat's first line: user nice system idle iowait irq softirq steal
    waited_us: int | None  # /proc/pressure/cpu "some" total (None where the kernel lacks PSI)
    ticks: dict[int, tuple[str, int]]  # pid -> (command, user + system clock ticks)


def snapshot() -> Snapshot:
    cpu = tuple(int(v) for v in (PROC / "stat").read_text().split("\n", 1)[0].split()[1:9])
    try:
        some = (PROC / "pressure" / "cpu").read_text().split("\n", 1)[0]
        waited_us: int | None = int(some.rpartition("total=")[2])
    except (OSError, ValueError):
        waited_us = None
    ticks: dict[int, tuple[str, int]] = {}
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # gone since the listing
            continue
        # The command is in parentheses and may hold spaces; the fields after it are plain.
        command = stat[stat.index("(") + 1 : stat.rindex(")")]
        # A kernel worker's name says its current work ("kworker/u8:2-writeback"): one line.
        if command.startswith("kworker/"):
            command = "kworker"
        rest = stat[stat.rindex(")") + 2 :].split()
        ticks[int(entry.name)] = (command, int(rest[11]) + int(rest[12]))
    return Snapshot(time.monotonic(), cpu, waited_us, ticks)


@dataclass
class HostLoad:
    """`with HostLoad() as load:` around a scenario; `str(load)` after it is one line of figures
    and `load.report()` the commands behind them."""

    name: str = "host-load"
    start: Snapshot | None = None
    end: Snapshot | None = None
    by_command: Counter[str] = field(default_factory=Counter)

    def __enter__(self) -> HostLoad:
        self.start = snapshot()
        return self

    def __exit__(self, *_: object) -> None:
        self.end = snapshot()
        assert self.start is not None
        for pid, (command, ticks) in self.end.ticks.items():
            before = self.start.ticks.get(pid)
            # A pid reused by another command started from nothing.
            self.by_command[command] += ticks - (
                before[1] if before and before[0] == command else 0
            )
        record_instrument(self, self.name, self.report())

    @property
    def seconds(self) -> float:
        assert self.start and self.end
        return self.end.at - self.start.at

    def _cpu_pct(self) -> tuple[float, float]:
        """CPU busy and stolen, % of all CPUs' time."""
        assert self.start and self.end
        delta = [b - a for a, b in zip(self.start.cpu, self.end.cpu, strict=True)]
        total = sum(delta) or 1
        idle = delta[3] + delta[4]
        return 100 * (total - idle) / total, 100 * delta[7] / total

    def _waited_pct(self) -> float | None:
        assert self.start and self.end
        if self.start.waited_us is None or self.end.waited_us is None:
            return None
        return 100 * (self.end.waited_us - self.start.waited_us) / 1e6 / (self.seconds or 1)

    def __str__(self) -> str:
        busy, stolen = self._cpu_pct()
        waited = self._waited_pct()
        wait = "n/a" if waited is None else f"{waited:.0f}"
        return f"busy {busy:.0f}, stolen {stolen:.0f}, waited {wait}"

    def report(self) -> str:
        """The figures, then CPU-seconds by command over the scenario (processes that ended
        within it are not counted)."""
        hz = os.sysconf("SC_CLK_TCK")
        lines = [f"{self.seconds:.0f} s, host CPU %: {self}", "CPU-seconds by command:"]
        top = self.by_command.most_common(TOP)
        lines += [f"  {command}: {ticks / hz:.1f}" for command, ticks in top]
        others = sum(self.by_command.values()) - sum(ticks for _, ticks in top)
        lines.append(f"  others: {others / hz:.1f}")
        return "\n".join(lines)
