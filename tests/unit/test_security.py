"""Pod security of every pod the chart makes (_pod.tpl, every workload template): non-root,
unprivileged, read-only, with no API token."""

from __future__ import annotations

import pytest

from harness.render import Manifest, pod_spec, render

PODS = {
    "consul-server": "StatefulSet",
    "consul-client": "DaemonSet",
    "consul-secrets-init": "Job",
    "consul-autopilot": "Job",
    "consul-acl-init-1": "Job",
    "consul-test": "Pod",
}
# Every pod exists, and every secret is mounted, with TLS and ACLs on.
EVERYTHING = {"tls": {"enabled": True}, "acl": {"enabled": True}}


def spec_of(name: str) -> Manifest:
    docs = render(EVERYTHING)
    return pod_spec(
        next(d for d in docs if d["metadata"]["name"] == name and d["kind"] == PODS[name])
    )


@pytest.mark.parametrize("name", PODS)
def test_restricted_pod_security(name: str) -> None:
    spec = spec_of(name)
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
    "name",
    ["consul-server", "consul-client", "consul-test", "consul-autopilot", "consul-acl-init-1"],
)
def test_no_api_token_where_the_api_is_not_used(name: str) -> None:
    assert spec_of(name)["automountServiceAccountToken"] is False


def test_only_the_secrets_hook_may_use_the_api() -> None:
    assert "automountServiceAccountToken" not in spec_of("consul-secrets-init")
    sas = [d for d in render(EVERYTHING) if d["kind"] == "ServiceAccount"]
    agents = [sa for sa in sas if sa["metadata"]["name"] != "consul-secrets-init"]
    assert {sa["metadata"]["name"] for sa in agents} == {"consul-server", "consul-client"}
    assert all(sa["automountServiceAccountToken"] is False for sa in agents)


def test_no_host_access() -> None:
    for name in PODS:
        spec = spec_of(name)
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
