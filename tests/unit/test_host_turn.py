"""Turns on the host (harness/plugin.py): tests on the cluster share it, a test that measures
sub-second timing has it to itself, and goes before any share asked for after it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from harness import plugin
from harness.kube import wait_for


def blocked_on(path: Path) -> int:
    """How many flock requests wait on `path` (/proc/locks lists each waiter after `->`)."""
    inode = path.stat().st_ino
    lines = Path("/proc/locks").read_text().splitlines()
    return sum(1 for line in lines if "->" in line and line.split()[6].endswith(f":{inode}"))


def test_a_test_that_needs_the_host_waits_for_shares_then_goes_before_later_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(plugin, "CACHE", tmp_path)
    events: list[str] = []

    def turn(name: str, exclusive: bool) -> Callable[[], None]:
        def run() -> None:
            with plugin.host_turn(exclusive):
                events.append(f"{name} in")
                time.sleep(0.1)
                events.append(f"{name} out")

        return run

    first = plugin.host_turn(exclusive=False)
    first.__enter__()
    quiet = threading.Thread(target=turn("quiet", True))
    quiet.start()
    wait_for(lambda: blocked_on(tmp_path / "host.lock"), "the quiet test to wait", 10, 0.05)
    later = threading.Thread(target=turn("later", False))
    later.start()
    wait_for(lambda: blocked_on(tmp_path / "host.gate"), "the later share to wait", 10, 0.05)
    assert events == []
    first.__exit__(None, None, None)
    quiet.join(10)
    later.join(10)
    assert events == ["quiet in", "quiet out", "later in", "later out"]
