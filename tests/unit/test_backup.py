"""Backups (backup-cronjob.yaml, backup-restore-job.yaml, _backup.tpl): scheduled snapshots on a
claim that outlives the release, and a restore that runs once and puts back what a snapshot
rolls back."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from harness.render import (
    Manifest,
    container,
    env_of,
    find,
    get,
    merge_values,
    one,
    pod_spec,
    render,
    secret_files,
)

BACKUP = {"backup": {"enabled": True}}
SECURE = {"tls": {"enabled": True}, "acl": {"enabled": True}}
RESTORE = {"backup": {"restore": {"snapshot": "latest"}}}


def script(doc: Manifest) -> str:
    return container(doc)["command"][-1]


def test_off_by_default() -> None:
    docs = render()
    assert not find(docs, "CronJob") and not find(docs, "Job", "consul-restore")
    assert "BACKUP_CLAIM" not in env_of(container(one(docs, "Job", "consul-secrets-init")))
    acl = render(SECURE)
    assert (
        "consul-acl-backup"
        not in env_of(container(one(acl, "Job", "consul-secrets-init")))["TOKEN_SECRETS"]
    )
    assert "backup" not in script(one(acl, "Job", component="acl-init"))


def test_the_cronjob_follows_its_values() -> None:
    values = {
        "backup": {
            "enabled": True,
            "schedule": "@daily",
            "timeZone": "Europe/Berlin",
            "keep": 5,
            "activeDeadlineSeconds": 900,
            "backoffLimit": 1,
            "startingDeadlineSeconds": 60,
            "successfulJobsHistoryLimit": 1,
            "failedJobsHistoryLimit": 4,
            "resources": {"limits": {"memory": "1Gi"}},
            "nodeSelector": {"role": "backup"},
            "tolerations": [{"key": "backup", "operator": "Exists", "effect": "NoSchedule"}],
        }
    }
    cronjob = one(render(values), "CronJob", "consul-backup")
    spec = cronjob["spec"]
    assert (spec["schedule"], spec["timeZone"], spec["concurrencyPolicy"]) == (
        "@daily",
        "Europe/Berlin",
        "Forbid",
    )
    assert (spec["startingDeadlineSeconds"], spec["successfulJobsHistoryLimit"]) == (60, 1)
    assert spec["failedJobsHistoryLimit"] == 4
    job = spec["jobTemplate"]["spec"]
    assert (job["activeDeadlineSeconds"], job["backoffLimit"]) == (900, 1)
    pod = pod_spec(cronjob)
    assert pod["restartPolicy"] == "Never"
    assert pod["nodeSelector"] == {"role": "backup"}
    assert pod["tolerations"] == values["backup"]["tolerations"]
    assert container(cronjob)["resources"]["limits"] == {"memory": "1Gi"}
    assert "tail -n +6" in script(cronjob) and "keeping the newest 5" in script(cronjob)
    assert "timeZone" not in one(render(BACKUP), "CronJob")["spec"]


# Stand-ins for `consul snapshot inspect -format=json`: what the real one prints for a snapshot
# it cannot read (an error, no JSON), for one of an empty cluster, for JSON without the index,
# and for one worth keeping.
UNREADABLE = "echo 'Error verifying snapshot: unexpected EOF' >&2; exit 1"
EMPTY = """echo '{"Meta":{"Index":0}}'"""
NO_INDEX = "echo '{}'"
GOOD = """echo '{"Meta":{"Index":42,"Term":2}}'"""
OLD = [f"consul-2024010{day}T001700Z.snap" for day in (1, 2, 3)]
LEADER = "10.1.2.3:8300"


def run_script(
    tmp_path: Path, doc: Manifest, inspect: str, snapshots: list[str], leader: str = LEADER
) -> subprocess.CompletedProcess[str]:
    """Runs a Job's rendered script (its shell, flags and environment as rendered) with the real
    jq, a stand-in consul (`snapshot inspect` runs `inspect`; every call is logged to
    consul.calls, and where it was sent to consul.sent) and a stand-in curl whose
    /v1/status/leader answers `leader`, on a claim in tmp_path/backups holding `snapshots`."""
    if not shutil.which("jq"):
        pytest.fail("the backup script tests run the scripts and need jq: apt-get install jq")
    backups, bin_dir = tmp_path / "backups", tmp_path / "bin"
    backups.mkdir()
    bin_dir.mkdir()
    for name in snapshots:
        (backups / name).write_text("an old snapshot")
    consul = bin_dir / "consul"
    consul.write_text(
        "#!/bin/sh\n"
        f'echo "$*" >>"{tmp_path}/consul.calls"\n'
        'echo "$1 $2 -> $CONSUL_HTTP_ADDR ${CONSUL_TLS_SERVER_NAME:-}"'
        f' >>"{tmp_path}/consul.sent"\n'
        'case "$1 $2" in\n'
        '  "snapshot save") echo "a snapshot" >"$3" ;;\n'
        f'  "snapshot inspect") {inspect} ;;\n'
        "esac\n"
    )
    consul.chmod(0o755)
    curl = bin_dir / "curl"
    curl.write_text(
        "#!/bin/sh\n"
        'case "$*" in\n'
        f"  *\"$CONSUL_HTTP_ADDR/v1/status/leader\"*) echo '{json.dumps(leader)}' ;;\n"
        "  *) exit 22 ;;\n"
        "esac\n"
    )
    curl.chmod(0o755)
    *shell, text = container(doc)["command"]
    # The script's files are absolute /backups/ paths, the claim's mount: the rendered text is run
    # as it is but for that prefix, which points at the stand-in claim instead.
    assert "/backups/" in text
    text = text.replace("/backups/", f"{backups}/")
    assert "/backups" not in text.replace(str(backups), "")
    env = {**env_of(container(doc)), "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run(
        [*shell, text], env=env, capture_output=True, text=True, timeout=60, check=False
    )


@pytest.mark.parametrize(
    "inspect", [UNREADABLE, EMPTY, NO_INDEX], ids=["unreadable", "index-0", "no-index"]
)
def test_a_snapshot_that_does_not_inspect_is_not_kept_and_fails_the_job(
    tmp_path: Path, inspect: str
) -> None:
    cronjob = one(render(merge_values(BACKUP, {"backup": {"keep": 2}})), "CronJob")
    proc = run_script(tmp_path, cronjob, inspect, OLD)
    assert proc.returncode != 0, proc.stdout
    assert "so it is not kept" in proc.stderr
    # No .snap kept, no .part left, and nothing pruned.
    assert sorted(p.name for p in (tmp_path / "backups").iterdir()) == OLD
    assert "kept" not in proc.stdout and "deleted" not in proc.stdout


@pytest.mark.parametrize(
    ("keep", "snapshots", "left"),
    [(24, [], []), (24, OLD, OLD), (2, OLD, OLD[-1:])],
    ids=["first", "fewer-than-keep", "prunes-to-keep"],
)
def test_a_snapshot_with_an_index_is_kept_and_the_oldest_beyond_keep_go(
    tmp_path: Path, keep: int, snapshots: list[str], left: list[str]
) -> None:
    values = merge_values(BACKUP, {"backup": {"keep": keep}})
    proc = run_script(tmp_path, one(render(values), "CronJob"), GOOD, snapshots)
    assert proc.returncode == 0, proc.stderr
    backups = tmp_path / "backups"
    (new,) = [p.name for p in backups.iterdir() if p.name not in snapshots]
    assert re.fullmatch(r"consul-\d{8}T\d{6}Z\.snap", new)
    assert sorted(p.name for p in backups.iterdir()) == [*left, new]
    assert f"kept {backups}/{new}: raft index 42, " in proc.stdout
    for name in set(snapshots) - set(left):
        assert f"deleted {backups}/{name} (keeping the newest {keep})" in proc.stdout


@pytest.mark.parametrize(
    ("inspect", "refusal"),
    [
        (UNREADABLE, "is not a readable snapshot: consul snapshot inspect failed"),
        (EMPTY, "is not a readable snapshot (raft index '0')"),
        (GOOD, None),
    ],
    ids=["unreadable", "index-0", "good"],
)
def test_the_restore_goes_ahead_only_with_a_snapshot_that_inspects(
    tmp_path: Path, inspect: str, refusal: str | None
) -> None:
    job = one(render(merge_values(BACKUP, RESTORE)), "Job", "consul-restore")
    proc = run_script(tmp_path, job, inspect, OLD)
    restore = f"snapshot restore {tmp_path}/backups/{OLD[-1]}"
    calls = (tmp_path / "consul.calls").read_text().splitlines()
    if refusal:
        assert proc.returncode != 0 and refusal in proc.stderr, proc.stderr
        assert calls == [f"snapshot inspect -format=json {tmp_path}/backups/{OLD[-1]}"]
    else:
        assert proc.returncode == 0, proc.stderr
        assert restore in calls and "(raft index 42)" in proc.stdout


@pytest.mark.parametrize("tls", [True, False], ids=["tls", "plain"])
@pytest.mark.parametrize("leader", [LEADER, "[fd00::7]:8300", ""], ids=["ipv4", "ipv6", "none"])
@pytest.mark.parametrize("job", ["CronJob", "Job"], ids=["save", "restore"])
def test_a_snapshot_goes_to_the_leader_itself(
    tmp_path: Path, tls: bool, leader: str, job: str
) -> None:
    """A forwarded snapshot request is now and then reset by the leader (see
    consul.backup.toLeaderScript): save and restore go to the leader, under the Service's
    certificate name; with no leader named, through the Service as before."""
    values = merge_values(merge_values(BACKUP, RESTORE), {"tls": {"enabled": tls}})
    doc = one(render(values), job, None if job == "CronJob" else "consul-restore")
    proc = run_script(tmp_path, doc, GOOD, OLD, leader=leader)
    assert proc.returncode == 0, proc.stderr
    service = "consul-server.consul-ns.svc"
    if not leader:
        sent = f"{'https' if tls else 'http'}://{service}:{8501 if tls else 8500} "
    elif tls:
        sent = f"https://{leader.rsplit(':', 1)[0]}:8501 {service}"
    else:
        sent = f"http://{leader.rsplit(':', 1)[0]}:8500 "
    verb = "snapshot save" if job == "CronJob" else "snapshot restore"
    assert f"{verb} -> {sent}" in (tmp_path / "consul.sent").read_text().splitlines()


def claim_rules(docs: tuple[Manifest, ...]) -> list[dict[str, Any]]:
    return [
        r
        for r in one(docs, "Role", "consul-secrets-init")["rules"]
        if r["resources"] == ["persistentvolumeclaims"]
    ]


def test_the_hook_makes_the_claim_outside_the_release() -> None:
    values = merge_values(
        BACKUP,
        {"backup": {"persistence": {"size": "20Gi", "storageClass": "fast"}}},
    )
    docs = render(values)
    assert not find(docs, "PersistentVolumeClaim"), "a Helm object would go with uninstall"
    hook = env_of(container(one(docs, "Job", "consul-secrets-init")))
    assert hook["BACKUP_CLAIM"] == "consul-backup"
    claim = json.loads(hook["BACKUP_CLAIM_OBJECT"])
    assert claim["metadata"]["name"] == "consul-backup"
    assert claim["spec"] == {
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": "20Gi"}},
        "storageClassName": "fast",
    }
    assert claim_rules(docs) == [
        {
            "apiGroups": [""],
            "resources": ["persistentvolumeclaims"],
            "resourceNames": ["consul-backup"],
            "verbs": ["get"],
        },
        {"apiGroups": [""], "resources": ["persistentvolumeclaims"], "verbs": ["create"]},
    ]
    volumes = pod_spec(one(docs, "CronJob"))["volumes"]
    assert get(volumes, "[?name=='backups'].persistentVolumeClaim.claimName") == ["consul-backup"]


def test_the_users_claim_is_used_as_it_is() -> None:
    values = merge_values(BACKUP, {"backup": {"persistence": {"existingClaim": "mine"}}})
    docs = render(values)
    assert "BACKUP_CLAIM" not in env_of(container(one(docs, "Job", "consul-secrets-init")))
    assert claim_rules(docs) == []
    volumes = pod_spec(one(docs, "CronJob"))["volumes"]
    assert get(volumes, "[?name=='backups'].persistentVolumeClaim.claimName") == ["mine"]
    # Nothing left for the hook to make: no hook at all.
    values = merge_values(values, {"gossipEncryption": {"existingSecret": "gossip"}})
    assert not find(render(values), "Job", "consul-secrets-init")


def test_the_backup_token_may_write_acls_and_nothing_more() -> None:
    docs = render(merge_values(SECURE, BACKUP))
    assert (
        "consul-acl-backup"
        in env_of(container(one(docs, "Job", "consul-secrets-init")))["TOKEN_SECRETS"]
    )
    sync = script(one(docs, "Job", component="acl-init"))
    assert 'policy consul-backup "scheduled snapshots' in sync
    assert '\'{"acl":"write"}\'' in sync and "-policy-name=consul-backup" in sync
    cronjob = one(docs, "CronJob")
    assert secret_files(cronjob) == {
        "ca.crt": ("consul-ca", "tls.crt"),
        "backup-token": ("consul-acl-backup", "token"),
    }
    assert env_of(container(cronjob))["CONSUL_HTTP_TOKEN_FILE"] == "/consul/secrets/backup-token"
    assert (
        env_of(container(cronjob))["CONSUL_HTTP_ADDR"] == "https://consul-server.consul-ns.svc:8501"
    )


def test_the_restore_runs_once_on_install_before_the_autopilot_hook() -> None:
    assert not find(render(BACKUP), "Job", "consul-restore")
    docs = render(merge_values(BACKUP, RESTORE))
    job = one(docs, "Job", "consul-restore")
    annotations = job["metadata"]["annotations"]
    assert annotations["helm.sh/hook"] == "post-install"
    autopilot = one(docs, "Job", "consul-autopilot")["metadata"]["annotations"]
    assert int(annotations["helm.sh/hook-weight"]) < int(autopilot.get("helm.sh/hook-weight", 0))
    assert job["spec"]["backoffLimit"] == 0
    (mount,) = [m for m in container(job)["volumeMounts"] if m["name"] == "backups"]
    assert mount["readOnly"] is True


@pytest.mark.parametrize(
    ("snapshot", "picks"),
    [
        ("latest", "file=$(ls -1 /backups/consul-*.snap 2>/dev/null | sort | tail -n 1)"),
        ("consul-20261205T011700Z.snap", "file=/backups/consul-20261205T011700Z.snap"),
    ],
)
def test_the_restore_picks_its_snapshot(snapshot: str, picks: str) -> None:
    values = merge_values(BACKUP, {"backup": {"restore": {"snapshot": snapshot}}})
    assert script(one(render(values), "Job", "consul-restore")).startswith(picks + "\n")


@pytest.mark.parametrize("acl", [False, True], ids=["acls-off", "acls-on"])
def test_the_restore_puts_back_autopilot_and_the_charts_tokens(acl: bool) -> None:
    values = merge_values(merge_values(BACKUP, RESTORE), {"acl": {"enabled": acl}})
    job = one(render(values), "Job", "consul-restore")
    text = script(job)
    restore = text.index('consul snapshot restore "$file"')
    assert restore < text.index("consul operator autopilot set-config -cleanup-dead-servers=true")
    if acl:
        assert restore < text.index("consul acl token read -self") < text.index("token() {")
        assert (
            env_of(container(job))["CONSUL_HTTP_TOKEN_FILE"] == "/consul/secrets/management-token"
        )
        assert "backup-token" in secret_files(job)
    else:
        assert "acl" not in text


def tmp_volume(docs: tuple[Manifest, ...], kind: str) -> dict[str, Any]:
    (volume,) = [v for v in pod_spec(one(docs, kind))["volumes"] if v["name"] == "tmp"]
    return volume["emptyDir"]


@pytest.mark.parametrize(
    ("server", "size_limit"),
    [
        ({}, "10Gi"),
        ({"persistence": {"size": "20Gi"}}, "20Gi"),
        ({"tmpSize": "2Gi"}, "2Gi"),
        ({"persistence": {"enabled": False}}, None),
    ],
    ids=["data-volume-size", "bigger-volume", "tmp-size", "no-persistence"],
)
def test_a_servers_tmp_holds_a_snapshot(server: dict[str, Any], size_limit: str | None) -> None:
    docs = render({"server": server})
    assert tmp_volume(docs, "StatefulSet").get("sizeLimit") == size_limit
    assert tmp_volume(docs, "DaemonSet") == {}


@pytest.mark.parametrize(
    ("kind", "name"), [("StatefulSet", "server/$HOSTNAME"), ("DaemonSet", "client/$NODE_NAME")]
)
def test_a_new_data_dir_takes_a_node_id_from_the_release_and_the_node_name(
    kind: str, name: str
) -> None:
    # A restore into new volumes then finds every node under its old ID in the catalog.
    text = script(one(render(), kind))
    assert (
        f"[ -s /consul/data/node-id ] || printf '%s' \"consul-ns/consul/{name}\" | sha256sum"
        in (text)
    )
    assert text.index("/consul/data/node-id") < text.index("exec consul agent")
