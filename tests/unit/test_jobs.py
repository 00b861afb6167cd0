"""The chart's short-lived pods (_jobs.tpl): one `jobs` values block sizes and places the
secrets-init, autopilot, acl-init and rollback-check Jobs, the `helm test` pod, the snapshot pods
and the client's data-dir init container, so a namespace's ResourceQuota, LimitRange or taints
can be met."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from harness.render import CHART, Manifest, merge_values, pod_spec, render

# Every short-lived pod on: ACLs (acl-init), backups with a restore, a client data dir on the node.
EVERY_JOB = {
    "acl": {"enabled": True},
    "backup": {"enabled": True, "restore": {"snapshot": "latest"}},
    "client": {"dataHostPath": {"enabled": True}},
}
SHORT_LIVED = (
    "secrets-init",
    "autopilot",
    "acl-init",
    "rollback-check",
    "test",
    "backup",
    "restore",
)
RESOURCES = {"requests": {"cpu": "20m", "memory": "48Mi"}, "limits": {"cpu": "1", "memory": "96Mi"}}
BACKUP_RESOURCES = yaml.safe_load((CHART / "values.yaml").read_text())["backup"]["resources"]
SCHEDULING = {
    "nodeSelector": {"pool": "system"},
    "tolerations": [{"key": "dedicated", "operator": "Exists"}],
    "affinity": {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": []}},
    "priorityClassName": "batch-high",
}


def short_lived(values: dict[str, Any]) -> dict[str, Manifest]:
    """Component -> the pod spec of each short-lived pod."""
    docs = render(merge_values(EVERY_JOB, values))
    pods = {}
    for doc in docs:
        component = doc["metadata"]["labels"].get("app.kubernetes.io/component")
        if doc["kind"] in ("Job", "CronJob", "Pod") and component in SHORT_LIVED:
            pods[component] = pod_spec(doc)
    assert set(pods) == set(SHORT_LIVED), sorted(pods)
    return pods


def data_owner(values: dict[str, Any]) -> Manifest:
    docs = render(merge_values(EVERY_JOB, values))
    (client,) = [d for d in docs if d["kind"] == "DaemonSet"]
    (init,) = pod_spec(client)["initContainers"]
    return init


def test_short_lived_containers_take_the_jobs_resources() -> None:
    pods = short_lived({"jobs": {"resources": RESOURCES}})
    for component, spec in pods.items():
        (c,) = spec["containers"]
        # The snapshot pods keep backup.resources: they stream a whole snapshot.
        expected = BACKUP_RESOURCES if component in ("backup", "restore") else RESOURCES
        assert c["resources"] == expected, component
    assert data_owner({"jobs": {"resources": RESOURCES}})["resources"] == RESOURCES


def test_short_lived_pods_take_the_jobs_scheduling() -> None:
    for component, spec in short_lived({"jobs": SCHEDULING}).items():
        assert {k: spec.get(k) for k in SCHEDULING} == SCHEDULING, component


@pytest.mark.parametrize("field", ["nodeSelector", "tolerations"])
def test_the_snapshot_pods_own_placement_wins(field: str) -> None:
    own = {"nodeSelector": {"disk": "backup"}, "tolerations": [{"operator": "Exists"}]}[field]
    pods = short_lived({"jobs": SCHEDULING, "backup": {field: own}})
    assert pods["backup"][field] == pods["restore"][field] == own
    assert pods["acl-init"][field] == SCHEDULING[field]


def test_by_default_short_lived_pods_are_placed_anywhere() -> None:
    for component, spec in short_lived({}).items():
        assert not {k for k in SCHEDULING if k in spec}, component
