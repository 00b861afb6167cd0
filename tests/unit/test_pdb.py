"""PodDisruptionBudget (server-pdb.yaml): a drain never takes quorum away, and never blocks
forever."""

from __future__ import annotations

import pytest

from harness.render import RenderError, find, one, render


@pytest.mark.parametrize(
    ("replicas", "max_unavailable"),
    [(3, 1), (5, 1), (5, 2), (7, 3)],
)
def test_budget_within_quorum(replicas: int, max_unavailable: int) -> None:
    values = {
        "server": {
            "replicas": replicas,
            "podAntiAffinityPreset": "soft",
            "disruptionBudget": {"maxUnavailable": max_unavailable},
        }
    }
    pdb = one(render(values), "PodDisruptionBudget", "consul-server")
    assert pdb["apiVersion"] == "policy/v1"
    assert pdb["spec"]["maxUnavailable"] == max_unavailable
    assert pdb["spec"]["selector"]["matchLabels"]["app.kubernetes.io/component"] == "server"
    # A leaderless cluster has no ready server; the budget must not block every drain then.
    assert pdb["spec"]["unhealthyPodEvictionPolicy"] == "AlwaysAllow"


@pytest.mark.parametrize(("replicas", "max_unavailable"), [(3, 2), (5, 3), (7, 4)])
def test_budget_that_would_break_quorum_is_refused(replicas: int, max_unavailable: int) -> None:
    values = {
        "server": {"replicas": replicas, "disruptionBudget": {"maxUnavailable": max_unavailable}}
    }
    with pytest.raises(RenderError, match=r"server\.disruptionBudget\.maxUnavailable.*quorum"):
        render(values)


def test_zero_is_refused_because_it_blocks_drains() -> None:
    with pytest.raises(RenderError, match=r"maxUnavailable=0 blocks every node drain"):
        render({"server": {"disruptionBudget": {"maxUnavailable": 0}}})


def test_single_server_has_no_budget() -> None:
    docs = render({"server": {"replicas": 1}})
    assert not find(docs, "PodDisruptionBudget")


def test_budget_can_be_disabled() -> None:
    assert not find(
        render({"server": {"disruptionBudget": {"enabled": False}}}), "PodDisruptionBudget"
    )
