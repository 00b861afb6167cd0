"""Contradictory values fail `helm template` with a message that says what to change."""

from __future__ import annotations

from typing import Any

import pytest
from render import RenderError, render

CASES: dict[str, tuple[dict[str, Any], str]] = {
    "even-2": ({"server": {"replicas": 2}}, r"server\.replicas=2: an even number of servers"),
    "even-4": ({"server": {"replicas": 4}}, r"server\.replicas=4: .*use 1, 3, 5 or 7"),
    "partition-above-replicas": (
        {"server": {"updatePartition": 4}},
        r"server\.updatePartition=4 is above server\.replicas=3",
    ),
    "servicemonitor-without-metrics": (
        {"metrics": {"serviceMonitor": {"enabled": True}}},
        r"metrics\.serviceMonitor\.enabled=true needs metrics\.enabled=true",
    ),
    "nodeport-on-clusterip": (
        {"ui": {"service": {"nodePort": 30001}}},
        r"ui\.service\.nodePort is set but ui\.service\.type is ClusterIP",
    ),
    "ingress-without-hosts": (
        {"ui": {"ingress": {"enabled": True, "hosts": []}}},
        r"ui\.ingress\.enabled=true needs at least one entry in ui\.ingress\.hosts",
    ),
}


@pytest.mark.parametrize(("values", "message"), CASES.values(), ids=CASES.keys())
def test_refused_with_a_message(values: dict[str, Any], message: str) -> None:
    with pytest.raises(RenderError, match=message):
        render(values)


def test_partition_equal_to_replicas_pauses_the_rollout() -> None:
    render({"server": {"updatePartition": 3}})
