"""The pre-rollback check (files/rollback-check.sh and its hook objects): `helm rollback` runs the
stored revision's hooks and none of the upgrade's lookup checks, so this hook refuses what an
upgrade to the same values would refuse, before anything changes.

The script runs here as the Job runs it, against a stub `curl` that answers with the StatefulSet
and ConfigMap the chart renders for the running servers' values."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from harness.render import Manifest, container, env_of, merge_values, one, render

SERVICEACCOUNT = "/var/run/secrets/kubernetes.io/serviceaccount"
SOFT = {"server": {"podAntiAffinityPreset": "soft"}}
TLS_STEPS = [
    {"tls": {"enabled": False}},
    {"tls": {"enabled": True, "verifyOutgoing": False, "verifyIncoming": False}},
    {"tls": {"enabled": True, "verifyOutgoing": True, "verifyIncoming": False}},
    {"tls": {"enabled": True, "verifyOutgoing": True, "verifyIncoming": True}},
]
TLS_STATES = [
    "tls false, verify_outgoing false, verify_incoming false",
    "tls true, verify_outgoing false, verify_incoming false",
    "tls true, verify_outgoing true, verify_incoming false",
    "tls true, verify_outgoing true, verify_incoming true",
]
TLS_VALUES = [
    "tls.enabled=false, tls.verifyOutgoing=false, tls.verifyIncoming=false",
    "tls.enabled=true, tls.verifyOutgoing=false, tls.verifyIncoming=false",
    "tls.enabled=true, tls.verifyOutgoing=true, tls.verifyIncoming=false",
    "tls.enabled=true, tls.verifyOutgoing=true, tls.verifyIncoming=true",
]
RESOURCES = {"server": {"resources": {"requests": {"cpu": "200m", "memory": "128Mi"}}}}


def hook_objects(values: dict[str, Any] | None = None) -> list[Manifest]:
    return [
        d
        for d in render(values)
        if d["metadata"].get("annotations", {}).get("helm.sh/hook") == "pre-rollback"
    ]


def values(replicas: int, *extra: dict[str, Any]) -> dict[str, Any]:
    merged: dict[str, Any] = merge_values(SOFT, {"server": {"replicas": replicas}})
    for more in extra:
        merged = merge_values(merged, more)
    return merged


def check(tmp_path: Path, running: dict[str, Any], target: dict[str, Any]) -> str:
    """Runs the check of the revision rendered with `target` against the servers rendered with
    `running`; returns what it printed, or raises with its refusal."""
    live = render(running)
    answers = {
        "statefulsets": one(live, "StatefulSet"),
        "configmaps": one(live, "ConfigMap", "consul-server-config"),
    }
    for kind, obj in answers.items():
        (tmp_path / kind).write_text(json.dumps(obj))
    (tmp_path / "bin").mkdir()
    curl = tmp_path / "bin" / "curl"
    # The URL is curl's last argument; the object is the one its path names.
    curl.write_text(
        "#!/bin/sh\nfor url; do :; done\n"
        f'case "$url" in */statefulsets/consul-server) cat {tmp_path}/statefulsets ;;\n'
        f"  */configmaps/consul-server-config) cat {tmp_path}/configmaps ;;\n"
        '  *) echo "unexpected $url" >&2; exit 22 ;;\nesac\n'
    )
    curl.chmod(0o755)
    sa = tmp_path / "serviceaccount"
    sa.mkdir()
    (sa / "token").write_text("token")
    (sa / "ca.crt").write_text("ca")
    job = one(hook_objects(target), "Job")
    script = container(job)["command"][-1]
    script = script.replace("/tmp/auth", f"{tmp_path}/auth").replace(SERVICEACCOUNT, str(sa))
    env = {k: str(v) for k, v in env_of(container(job)).items()}
    env["PATH"] = f"{tmp_path / 'bin'}:/usr/bin:/bin"
    proc = subprocess.run(
        ["sh", "-c", script], env=env, capture_output=True, text=True, timeout=30, check=False
    )
    if proc.returncode != 0:
        raise RefusedError(proc.stderr.strip())
    assert not proc.stderr, proc.stderr
    assert (tmp_path / "auth").read_text() == "Authorization: Bearer token\n"
    return proc.stdout.strip()


class RefusedError(Exception):
    pass


def test_every_check_object_is_a_pre_rollback_hook_and_a_refusal_is_kept_and_printed() -> None:
    objects = {d["kind"]: d for d in hook_objects()}
    assert sorted(objects) == ["Job", "Role", "RoleBinding", "ServiceAccount"]
    for kind, obj in objects.items():
        assert obj["metadata"]["name"] == "consul-rollback-check"
        policy = obj["metadata"]["annotations"]["helm.sh/hook-delete-policy"]
        kept = "before-hook-creation,hook-succeeded"
        assert policy == (kept if kind == "Job" else f"{kept},hook-failed"), kind
    weights = {
        k: int(o["metadata"]["annotations"]["helm.sh/hook-weight"]) for k, o in objects.items()
    }
    assert weights["Job"] > max(weights[k] for k in ("ServiceAccount", "Role", "RoleBinding"))
    job = objects["Job"]
    assert job["metadata"]["annotations"]["helm.sh/hook-output-log-policy"] == "hook-failed"
    assert job["spec"]["backoffLimit"] == 0, "a refusal is not retried"
    assert container(job)["terminationMessagePolicy"] == "FallbackToLogsOnError"


def test_the_role_reads_only_the_servers_statefulset_and_configmap() -> None:
    (role,) = [d for d in hook_objects() if d["kind"] == "Role"]
    assert role["rules"] == [
        {
            "apiGroups": ["apps"],
            "resources": ["statefulsets"],
            "resourceNames": ["consul-server"],
            "verbs": ["get"],
        },
        {
            "apiGroups": [""],
            "resources": ["configmaps"],
            "resourceNames": ["consul-server-config"],
            "verbs": ["get"],
        },
    ]


def test_the_revision_carries_its_own_servers_pod_template_checksum() -> None:
    docs = render(RESOURCES)
    annotation = one(docs, "StatefulSet")["metadata"]["annotations"]["checksum/pod-template"]
    env = env_of(container(one(hook_objects(RESOURCES), "Job")))
    assert env["POD_TEMPLATE"] == annotation
    assert env["POD_TEMPLATE"] != env_of(container(one(hook_objects(), "Job")))["POD_TEMPLATE"]


@pytest.mark.parametrize(
    ("running", "target"),
    [
        pytest.param(values(3), values(3), id="same"),
        pytest.param(values(5), values(3), id="5-to-3"),
        pytest.param(values(7), values(5), id="7-to-5"),
        pytest.param(values(3), values(5, RESOURCES), id="scale-up-and-roll"),
        pytest.param(values(3, TLS_STEPS[3]), values(3, TLS_STEPS[2]), id="tls-3-to-2"),
        pytest.param(values(3, TLS_STEPS[1]), values(3, TLS_STEPS[0]), id="tls-1-to-0"),
        pytest.param(values(3), values(3, TLS_STEPS[1]), id="tls-0-to-1"),
    ],
)
def test_a_safe_rollback_passes(
    tmp_path: Path, running: dict[str, Any], target: dict[str, Any]
) -> None:
    out = check(tmp_path, running, target)
    assert out.startswith("rollback to revision 1: "), out
    assert out.endswith(": safe"), out


def test_rolling_back_below_the_running_servers_quorum_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RefusedError) as refused:
        check(tmp_path, values(7), values(3))
    assert str(refused.value) == (
        "helm rollback to revision 1 refused: it would stop 4 of the 7 running servers at once, "
        "leaving fewer than their quorum of 4 should they stop before leaving. Scale down first "
        'in upgrades, each keeping a quorum of the running servers (README, "Scaling"), to at '
        "least 4 servers, then roll back."
    )


def test_rolling_back_to_fewer_servers_and_another_pod_template_is_refused(
    tmp_path: Path,
) -> None:
    with pytest.raises(RefusedError) as refused:
        check(tmp_path, values(5, RESOURCES), values(3))
    assert str(refused.value) == (
        "helm rollback to revision 1 refused: it scales the servers down from 5 to 3 and "
        "changes their pod template too: the StatefulSet would stop the removed servers and "
        "start rolling the remaining ones at once. Scale down in an upgrade of its own first "
        "(helm upgrade --reuse-values --set server.replicas=3), then roll back."
    )


@pytest.mark.parametrize(("now", "to"), [(3, 0), (3, 1), (2, 0), (0, 2), (0, 3), (1, 3)])
def test_rolling_back_more_than_one_tls_step_is_refused(tmp_path: Path, now: int, to: int) -> None:
    with pytest.raises(RefusedError) as refused:
        check(tmp_path, values(3, TLS_STEPS[now]), values(3, TLS_STEPS[to]))
    assert str(refused.value) == (
        f"helm rollback to revision 1 refused: the running servers have {TLS_STATES[now]}, and "
        f"revision 1 has {TLS_VALUES[to]}: more than one step at once, so servers not yet "
        "rolled would refuse the RPC of the rolled ones. Change TLS by upgrades, one step each "
        '(README, "Turning TLS on in a running release"), then roll back.'
    )
