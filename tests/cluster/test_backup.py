"""Backups with TLS and ACLs on: the snapshot CronJob, a snapshot that fails, and the restore
drill (data and volumes lost, everything back from the backup claim)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import yaml

from harness.kube import Kube, exec_in_pod, run, wait_for
from harness.release import NamespaceFactory, Release, ReleaseFactory
from harness.render import CHART, helm, merge_values

pytestmark = pytest.mark.cluster

BACKED_UP = {
    "tls": {"enabled": True, "httpsOnly": True},
    "acl": {"enabled": True},
    "backup": {"enabled": True, "keep": 2},
}
KEYS = 10_000
SERVICES = {"db": 5432, "cache": 6379, "queue": 5672}
TOKENS = ("management", "agent", "dns", "test", "backup")
KEPT = re.compile(r"kept (/backups/(\S+\.snap)): raft index (\d+), (\d+) bytes")


@pytest.fixture(scope="module")
def backed_up(namespace_factory: NamespaceFactory, release_factory: ReleaseFactory) -> Release:
    return release_factory("bk", namespace_factory("backup"), **BACKED_UP)


def run_job(
    kube: Kube, release: Release, name: str, job: dict[str, Any] | None = None
) -> tuple[bool, str]:
    """Start a Job from the backup CronJob (as `kubectl create job --from` does), or `job`;
    (whether it completed, the log of its last pod) once it has completed or failed."""
    if job is None:
        cronjob = "cronjob/" + release.named("backup")
        run(["kubectl", "create", "job", name, f"--from={cronjob}", "-n", release.namespace])
    else:
        kube.batch.create_namespaced_job(release.namespace, job)
    return job_outcome(kube, release.namespace, name)


def job_outcome(kube: Kube, namespace: str, name: str) -> tuple[bool, str]:
    """Wait for a Job to complete or fail (after its retries); (completed, its last pod's log)."""

    def outcome() -> str | None:
        conditions = kube.batch.read_namespaced_job(name, namespace).status.conditions or []
        done = [
            c.type for c in conditions if c.type in ("Complete", "Failed") and c.status == "True"
        ]
        return done[0] if done else None

    result = wait_for(outcome, f"job {name} to complete or fail", timeout=300, interval=2)
    pods = kube.core.list_namespaced_pod(namespace, label_selector=f"job-name={name}").items
    pod = max(pods, key=lambda p: p.metadata.creation_timestamp)
    return result == "Complete", kube.core.read_namespaced_pod_log(pod.metadata.name, namespace)


def cronjob_job(kube: Kube, release: Release, name: str) -> dict[str, Any]:
    """A Job of the backup CronJob's template without retries, for a test to change and run."""
    cronjob = kube.batch.read_namespaced_cron_job(release.named("backup"), release.namespace)
    spec = kube.batch.api_client.sanitize_for_serialization(cronjob.spec.job_template.spec)
    spec["backoffLimit"] = 0
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name}, "spec": spec}


def claim_files(kube: Kube, release: Release, name: str) -> list[str]:
    """The files really on the backup claim, sorted: `ls` in a pod that mounts it as the snapshot
    Jobs do, so a script that says "kept" or "deleted" without doing so is caught."""
    job = cronjob_job(kube, release, name)
    (container,) = job["spec"]["template"]["spec"]["containers"]
    container["command"] = ["ls", "-1", "/backups"]
    ok, log = run_job(kube, release, name, job)
    assert ok, log
    return sorted(f for f in log.split() if f != "lost+found")  # a filesystem's own, if any


def test_each_snapshot_is_checked_and_only_the_newest_are_kept(
    kube: Kube, backed_up: Release
) -> None:
    kept = []
    for n in range(3):
        ok, log = run_job(kube, backed_up, f"snap-{n}")
        assert ok, log
        # Straight to the leader, its certificate checked (see consul.backup.toLeaderScript).
        assert "asking the leader, https://" in log, log
        match = KEPT.search(log)
        assert match and int(match[3]) > 0, log
        kept.append(match[2])
    assert f"deleted /backups/{kept[0]} (keeping the newest 2)" in log
    assert kept[1] not in log
    # Names sort by time, so the newest two are the last two.
    assert claim_files(kube, backed_up, "ls-kept") == kept[1:]


def test_a_failed_snapshot_fails_the_job(kube: Kube, backed_up: Release) -> None:
    """The same Job without a token: the servers refuse it, and the failure shows."""
    before = claim_files(kube, backed_up, "ls-before-anonymous")
    job = cronjob_job(kube, backed_up, "anonymous")
    (container,) = job["spec"]["template"]["spec"]["containers"]
    for env in container["env"]:
        if env["name"] == "CONSUL_HTTP_TOKEN_FILE":
            env["value"] = "/dev/null"
    ok, log = run_job(kube, backed_up, "anonymous", job)
    assert not ok
    assert "Permission denied" in log and "kept" not in log
    # Nothing kept, no .part left behind, nothing pruned.
    assert claim_files(kube, backed_up, "ls-after-anonymous") == before


def test_restore_drill(kube: Kube, backed_up: Release) -> None:
    api = backed_up.api("server")
    backed_up.server_shell(
        f'jq -n \'[range({KEYS}) | {{key: "drill/\\(.)", flags: 0, value: ("v\\(.)" | @base64)}}]\''
        " | consul kv import - >/dev/null",
    )
    for service, port in SERVICES.items():
        external = {"Node": f"external-{service}", "Address": "192.0.2.10"}
        external["Service"] = {"Service": service, "Port": port}
        resp = api.request("PUT", "/v1/catalog/register", json.dumps(external))
        assert resp.status == 200, resp.body
    user_token = json.loads(
        backed_up.server_shell(
            "consul acl token create -description drill -node-identity=drill:dc1 -format=json",
        )
    )
    tokens = {t: backed_up.secret_value(f"acl-{t}", "token") for t in TOKENS}
    tokens["user"] = user_token["SecretID"]
    # A snapshot also carries the autopilot settings; the restore must put the chart's back.
    backed_up.server_shell("consul operator autopilot set-config -min-quorum=1")
    ok, log = run_job(kube, backed_up, "before-the-loss")
    match = KEPT.search(log)
    assert ok and match, log
    snapshot, size = match[2], int(match[4])
    print(f"\nsnapshot of {KEYS} keys: {size} bytes ({snapshot})")

    backed_up.uninstall()
    backed_up.wait_until_agents_gone()
    ns = backed_up.namespace
    servers = f"app.kubernetes.io/instance={backed_up.name},app.kubernetes.io/component=server"
    bound = {
        c.metadata.name: c.spec.volume_name
        for c in kube.core.list_namespaced_persistent_volume_claim(ns, label_selector=servers).items
    }
    claims = {f"data-{backed_up.statefulset}-{i}" for i in range(3)}
    assert set(bound) == claims and all(bound.values()), f"the servers' claims: {bound}"
    # The README's step: the servers' claims go, the backup claim stays.
    kube.core.delete_collection_namespaced_persistent_volume_claim(
        ns, label_selector="app.kubernetes.io/component=server"
    )
    # Only with the old data gone does the drill prove a restore: no claim of those names may
    # be left for the new servers to find, and their volumes must be deleted too (the kind
    # class reclaims with Delete, which wipes a volume's directory before its object goes).
    volumes = set(bound.values())

    def old_data_gone() -> bool:
        left = kube.core.list_namespaced_persistent_volume_claim(ns).items
        pvs = kube.core.list_persistent_volume().items
        return not (
            claims & {c.metadata.name for c in left} or volumes & {v.metadata.name for v in pvs}
        )

    wait_for(old_data_gone, "the servers' claims and their volumes to be deleted", timeout=180)
    backed_up.install(backup={"enabled": True, "keep": 2, "restore": {"snapshot": snapshot}})

    restore = kube.core.list_namespaced_pod(
        backed_up.namespace, label_selector="app.kubernetes.io/component=restore"
    ).items[0]
    (state,) = restore.status.container_statuses
    took = state.state.terminated.finished_at - state.state.terminated.started_at
    print(f"restore Job of {KEYS} keys: {took.total_seconds():.0f} s")

    api = backed_up.api("server")
    entries = api.get("/v1/kv/drill/?recurse")
    assert len(entries) == KEYS
    assert all(e["Value"] for e in entries)
    assert sorted(api.get("/v1/catalog/services")) == sorted(["consul", *SERVICES])
    for name, token in tokens.items():
        curl = ["curl", "-sS", "--cacert", "/consul/secrets/ca.crt", "-o", "/dev/null"]
        curl += ["-w", "%{http_code}", "-H", f"X-Consul-Token: {token}"]
        curl.append("https://127.0.0.1:8501/v1/acl/token/self")
        result = exec_in_pod(kube, backed_up.namespace, api.pod, curl)
        assert result.stdout == "200", f"the {name} token after the restore: {result.stdout}"
    autopilot = api.get("/v1/operator/autopilot/configuration")
    assert autopilot["MinQuorum"] == 2

    # Every agent is in the catalog under the ID it runs with: no node name is "reserved".
    def ids_agree() -> bool:
        catalog = {n["Node"]: n["ID"] for n in api.get("/v1/catalog/nodes")}
        members = {m["Name"]: m["Tags"]["id"] for m in api.members()}
        return all(catalog.get(name) == node_id for name, node_id in members.items())

    wait_for(ids_agree, "the catalog to list every agent under its node ID", timeout=120)
    for pod in backed_up.pods("server") + backed_up.pods("client"):
        logs = kube.core.read_namespaced_pod_log(
            pod.metadata.name, backed_up.namespace, container="consul"
        )
        assert "is reserved" not in logs, pod.metadata.name
    backed_up.assert_helm_test_passes()


def one_off_restore(kube: Kube, release: Release, snapshot: str) -> tuple[bool, str]:
    """The README's restore into a running release: the restore Job rendered alone with
    `helm template --show-only` and applied with kubectl; (succeeded, its log)."""
    name = release.named("restore")
    run(["kubectl", "delete", "job", name, "-n", release.namespace, "--ignore-not-found"])
    values = merge_values(release.values, {"backup": {"restore": {"snapshot": snapshot}}})
    cmd = [helm(), "template", release.name, str(CHART), "-n", release.namespace]
    cmd += ["--show-only", "templates/backup-restore-job.yaml", "--values", "-"]
    job = run(cmd, stdin=yaml.safe_dump(values)).stdout
    run(["kubectl", "apply", "-n", release.namespace, "-f", "-"], stdin=job)
    return job_outcome(kube, release.namespace, name)


def test_a_running_release_restores_the_latest_snapshot_rendered_alone(
    kube: Kube, backed_up: Release
) -> None:
    api = backed_up.api("server")
    assert api.kv_put("drill/late", "after the snapshot") and api.kv_delete("drill/0")
    ok, log = one_off_restore(kube, backed_up, "latest")
    assert ok, log
    assert api.kv_get("drill/0") == "v0" and api.kv_get("drill/late") is None


def test_a_snapshot_not_on_the_claim_is_refused_by_name(kube: Kube, backed_up: Release) -> None:
    ok, log = one_off_restore(kube, backed_up, "consul-19990101T000000Z.snap")
    assert not ok
    assert "consul-19990101T000000Z.snap is not on claim" in log and "restored" not in log
