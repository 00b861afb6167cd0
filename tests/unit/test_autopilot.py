"""The autopilot hook Job (server-autopilot-job.yaml): the running cluster follows the values."""

from __future__ import annotations

from typing import Any

import pytest

from harness.render import Manifest, container, env_of, one, render


def job(values: dict[str, Any] | None = None) -> Manifest:
    return one(render(values), "Job", "consul-autopilot")


def script(values: dict[str, Any] | None = None) -> str:
    return container(job(values))["command"][-1]


def test_runs_after_every_install_upgrade_and_rollback() -> None:
    annotations = job()["metadata"]["annotations"]
    assert annotations["helm.sh/hook"] == "post-install,post-upgrade,post-rollback"
    assert annotations["helm.sh/hook-delete-policy"] == "before-hook-creation,hook-succeeded"
    spec = job()["spec"]
    assert spec["activeDeadlineSeconds"] <= 600, "an upgrade never waits on it for long"
    pod = spec["template"]["spec"]
    assert pod["automountServiceAccountToken"] is False
    env = env_of(pod["containers"][0])
    assert env["CONSUL_HTTP_ADDR"] == "http://consul-server.consul-ns.svc:8500"


@pytest.mark.parametrize(("replicas", "quorum"), [(1, 1), (3, 2), (5, 3), (7, 4)])
def test_min_quorum_follows_the_replica_count(replicas: int, quorum: int) -> None:
    values = {"server": {"replicas": replicas, "podAntiAffinityPreset": "soft"}}
    text = script(values)
    assert "until timeout 10 consul operator autopilot set-config" in text
    assert f" -min-quorum={quorum}" in text
    assert " -cleanup-dead-servers=true" in text


def test_autopilot_from_extra_config_is_applied_too() -> None:
    extra = {"autopilot": {"server_stabilization_time": "30s", "max_trailing_logs": 500}}
    text = script({"server": {"extraConfig": extra}})
    assert " -server-stabilization-time=30s" in text
    assert " -max-trailing-logs=500" in text
    assert " -min-quorum=2" in text
