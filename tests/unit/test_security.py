"""Pod security of every pod the chart makes (_pod.tpl, every workload template): non-root,
unprivileged, read-only, with no API token."""

from __future__ import annotations

import pytest

from harness.render import Manifest, one, pod_spec, render

# Component -> the kind of the object that makes its pods.
PODS = {
    "server": "StatefulSet",
    "client": "DaemonSet",
    "secrets-init": "Job",
    "autopilot": "Job",
    "acl-init": "Job",
    "rollback-check": "Job",
    "test": "Pod",
}
# Every pod exists, and every secret is mounted, with TLS and ACLs on.
EVERYTHING = {"tls": {"enabled": True}, "acl": {"enabled": True}}


def spec_of(component: str) -> Manifest:
    return pod_spec(one(render(EVERYTHING), PODS[component], component=component))


@pytest.mark.parametrize("component", PODS)
def test_restricted_pod_security(component: str) -> None:
    spec = spec_of(component)
    ctx = spec["securityContext"]
    assert ctx["runAsNonRoot"] is True
    assert (ctx["runAsUser"], ctx["runAsGroup"], ctx["fsGroup"]) == (100, 1000, 1000)
    assert ctx["seccompProfile"] == {"type": "RuntimeDefault"}
    for c in spec["containers"]:
        sc = c["securityContext"]
        assert sc["allowPrivilegeEscalation"] is False
        assert sc["readOnlyRootFilesystem"] is True
        assert sc["capabilities"] == {"drop": ["ALL"]}
        assert "resources" in c and c["resources"]["limits"]["memory"]


@pytest.mark.parametrize(
    "component",
    ["server", "client", "test", "autopilot", "acl-init"],
)
def test_no_api_token_where_the_api_is_not_used(component: str) -> None:
    assert spec_of(component)["automountServiceAccountToken"] is False


def test_only_the_secrets_and_rollback_check_hooks_may_use_the_api() -> None:
    hooks = ("consul-secrets-init", "consul-rollback-check")
    for hook in ("secrets-init", "rollback-check"):
        assert "automountServiceAccountToken" not in spec_of(hook)
    sas = [d for d in render(EVERYTHING) if d["kind"] == "ServiceAccount"]
    agents = [sa for sa in sas if sa["metadata"]["name"] not in hooks]
    assert {sa["metadata"]["name"] for sa in agents} == {"consul-server", "consul-client"}
    assert all(sa["automountServiceAccountToken"] is False for sa in agents)


def test_no_host_access() -> None:
    for component in PODS:
        spec = spec_of(component)
        assert not spec.get("hostNetwork") and not spec.get("hostPID")
        assert not any("hostPath" in v for v in spec.get("volumes", []))


def test_user_service_accounts() -> None:
    values = {"server": {"serviceAccount": {"create": False, "name": "vault-auth"}}}
    sts = next(d for d in render(values) if d["kind"] == "StatefulSet")
    assert pod_spec(sts)["serviceAccountName"] == "vault-auth"
    assert not [
        d
        for d in render(values)
        if d["kind"] == "ServiceAccount" and d["metadata"]["name"] == "consul-server"
    ]
