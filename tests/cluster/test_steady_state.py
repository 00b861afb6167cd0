"""Steady state on this 2-core host: an idle release with TLS and ACLs on keeps one leader for
CHAOS_IDLE_MINUTES (10 unless set); CPU starvation would show here as spurious elections."""

from __future__ import annotations

import os
import time

import pytest
from scenario import Chaos, ChaosFactory

pytestmark = pytest.mark.chaos

IDLE_MINUTES = float(os.environ.get("CHAOS_IDLE_MINUTES", "10"))


@pytest.fixture(scope="module")
def chaos(chaos_factory: ChaosFactory) -> Chaos:
    return chaos_factory("idle")


def test_no_leader_change_while_idle(chaos: Chaos) -> None:
    with chaos.measure(f"idle for {IDLE_MINUTES:g} minutes", writers=False) as m:
        time.sleep(IDLE_MINUTES * 60)
    assert m.watch.leaderless_windows() == []
    assert len(m.watch.leaders()) == 1, m.watch.leaders()
