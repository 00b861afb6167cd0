"""The secrets-init hook (secrets-init-*.yaml, _secrets-init.tpl): it makes each missing Secret
before install and upgrade, with rights to those Secrets only, and none outlives a failure."""

from __future__ import annotations

from typing import Any

import pytest

from harness.render import Manifest, container, one, render

HOOK = "consul-secrets-init"
EVERYTHING = {"tls": {"enabled": True}, "acl": {"enabled": True}}
MADE = [
    "consul-gossip-key",
    "consul-acl-management",
    "consul-acl-agent",
    "consul-acl-dns",
    "consul-acl-metrics",
    "consul-acl-test",
    "consul-ca",
    "consul-server-tls",
]


@pytest.fixture(scope="module")
def docs() -> tuple[Manifest, ...]:
    return render(EVERYTHING)


def test_runs_before_install_and_upgrade_after_its_rights(docs: tuple[Manifest, ...]) -> None:
    weights = {}
    for kind in ("ServiceAccount", "Role", "RoleBinding", "Job"):
        annotations = one(docs, kind, HOOK)["metadata"]["annotations"]
        assert annotations["helm.sh/hook"] == "pre-install,pre-upgrade"
        assert "before-hook-creation" in annotations["helm.sh/hook-delete-policy"]
        weights[kind] = int(annotations["helm.sh/hook-weight"])
    assert weights["Job"] > max(weights["ServiceAccount"], weights["Role"], weights["RoleBinding"])


def test_rights_never_outlive_a_failed_job(docs: tuple[Manifest, ...]) -> None:
    # The Job stays for its logs; the right to create Secrets goes whatever the outcome.
    for kind in ("ServiceAccount", "Role", "RoleBinding"):
        policy = one(docs, kind, HOOK)["metadata"]["annotations"]
        assert "hook-failed" in policy["helm.sh/hook-delete-policy"].split(","), kind
    job = one(docs, "Job", HOOK)["metadata"]["annotations"]
    assert "hook-failed" not in job["helm.sh/hook-delete-policy"]


def test_reads_only_what_it_makes_and_replaces_only_the_server_certificate(
    docs: tuple[Manifest, ...],
) -> None:
    rules = one(docs, "Role", HOOK)["rules"]
    by_verb = {tuple(r["verbs"]): r.get("resourceNames") for r in rules}
    assert by_verb == {("get",): MADE, ("create",): None, ("update",): ["consul-server-tls"]}


@pytest.mark.parametrize(
    ("values", "made"),
    [
        ({}, ["consul-gossip-key"]),
        (
            {"acl": {"enabled": True, "managementToken": {"existingSecret": "mine"}}},
            ["consul-gossip-key", *MADE[2:6]],
        ),
        (
            {"tls": {"enabled": True, "ca": {"existingSecret": "corp-ca"}}},
            ["consul-gossip-key", "consul-server-tls", "corp-ca"],
        ),
    ],
    ids=["default", "user-management-token", "user-ca"],
)
def test_each_configuration_makes_what_the_user_did_not_give(
    values: dict[str, Any], made: list[str]
) -> None:
    role = one(render(values), "Role", HOOK)
    (get,) = [r for r in role["rules"] if r["verbs"] == ["get"]]
    assert get["resourceNames"] == made


def test_secrets_pass_through_memory_never_arguments(docs: tuple[Manifest, ...]) -> None:
    job = one(docs, "Job", HOOK)
    (tmp,) = job["spec"]["template"]["spec"]["volumes"]
    assert tmp["emptyDir"]["medium"] == "Memory"
    script = container(job)["command"][-1]
    assert "--rawfile v" in script and "--data @/tmp/body.json" in script
    assert "tls ca create" in script and "tls cert create -server" in script
