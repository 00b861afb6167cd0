"""ACLs (_acl.tpl, acl-init-job.yaml, acl.* values): deny by default, the management token
installed by the servers, least-privilege tokens made idempotently, each pod holding only the
tokens it uses, and nothing random in the templates."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from harness.render import (
    CHART,
    Manifest,
    agent_config,
    chart_of_next_version,
    container,
    env_of,
    find,
    helm,
    merge_values,
    one,
    pod_spec,
    render,
    secret_files,
)

ACL = {"acl": {"enabled": True}}
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-8[0-9a-f]{3}-[0-9a-f]{12}$")


def token_files(workload: Manifest) -> dict[str, str]:
    """Token file under /consul/secrets -> the Secret it comes from."""
    return {p: name for p, (name, _) in secret_files(workload).items() if p.endswith("-token")}


@pytest.fixture(scope="module")
def docs() -> tuple[Manifest, ...]:
    return render(ACL)


def acl_init(docs: tuple[Manifest, ...]) -> Manifest:
    return one(docs, "Job", component="acl-init")


def test_off_by_default(default_docs: tuple[Manifest, ...]) -> None:
    assert "acl" not in agent_config(default_docs, "server")
    assert not find(default_docs, "Job", component="acl-init")


def test_deny_by_default_and_keep_serving_when_the_leader_is_gone(
    docs: tuple[Manifest, ...],
) -> None:
    for component in ("server", "client"):
        assert agent_config(docs, component)["acl"] == {
            "enabled": True,
            "default_policy": "deny",
            "down_policy": "extend-cache",
            "enable_token_persistence": True,
        }


@pytest.mark.parametrize(
    ("kind", "name", "tokens"),
    [
        ("StatefulSet", "consul-server", {"management", "agent", "dns"}),
        ("DaemonSet", "consul-client", {"agent", "dns"}),
        ("Pod", "consul-test", {"test"}),
        ("Job", "consul-autopilot", {"management"}),
    ],
)
def test_each_pod_holds_only_the_tokens_it_uses(
    docs: tuple[Manifest, ...], kind: str, name: str, tokens: set[str]
) -> None:
    files = token_files(one(docs, kind, name))
    assert {path.removesuffix("-token") for path in files} == tokens
    assert all(files[f"{t}-token"] == f"consul-acl-{t}" for t in tokens)


@pytest.mark.parametrize(("component", "token"), [("server", "management"), ("client", "agent")])
def test_agents_take_their_tokens_from_files(
    docs: tuple[Manifest, ...], component: str, token: str
) -> None:
    c = container(one(docs, "StatefulSet" if component == "server" else "DaemonSet"))
    script = c["command"][-1]
    assert '.acl.tokens.agent = ($agent_token | rtrimstr("\\n"))' in script
    assert '.acl.tokens.dns = ($dns_token | rtrimstr("\\n"))' in script
    assert ("initial_management" in script) == (component == "server")
    env = env_of(c)
    assert env["CONSUL_HTTP_TOKEN_FILE"] == f"/consul/secrets/{token}-token"


def test_server_probes_and_hand_over_present_the_token(docs: tuple[Manifest, ...]) -> None:
    server = container(one(docs, "StatefulSet"))
    header = '-H "X-Consul-Token: $(cat "$CONSUL_HTTP_TOKEN_FILE")"'
    assert header in server["readinessProbe"]["exec"]["command"][-1]
    assert header in server["lifecycle"]["preStop"]["exec"]["command"][-1]


def test_the_token_job_is_not_a_hook(docs: tuple[Manifest, ...]) -> None:
    # Clients are Ready only once their token exists: a post-install hook would wait for them
    # under --wait while they wait for it, and would hold an upgrade with held-back servers.
    job = acl_init(docs)
    assert "helm.sh/hook" not in job["metadata"].get("annotations", {})
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "OnFailure"
    assert pod_spec(job)["automountServiceAccountToken"] is False


def sync_job_name(values: dict[str, Any], **kwargs: Any) -> str:
    return one(render(merge_values(ACL, values), **kwargs), "Job", component="acl-init")[
        "metadata"
    ]["name"]


def test_the_token_job_is_named_by_what_it_does(tmp_path: Path) -> None:
    """Under `helm template` the revision is always 1, so a Job named by it could not take a new
    spec (a Job's pod template is immutable); named by its spec's hash, a change of what it does
    is a new Job, and anything else leaves the finished one alone."""
    name = sync_job_name({})
    assert re.fullmatch(r"consul-acl-init-[0-9a-f]{8}", name), name
    # The same Job: a chart bump alone, a value the sync does not read.
    assert sync_job_name({}, chart=chart_of_next_version(tmp_path)) == name
    assert sync_job_name({"ui": {"service": {"annotations": {"a": "b"}}}}) == name
    # A new Job: the backup token to make, another image.
    assert sync_job_name({"backup": {"enabled": True}}) != name
    assert sync_job_name({"image": {"tag": "1.22.6"}}) != name
    long = sync_job_name({}, release="a-very-long-release-name-that-goes-on-and-on-and-on")
    assert len(long) <= 63, long


def test_tokens_have_fixed_ids_and_least_rights(docs: tuple[Manifest, ...]) -> None:
    script = container(acl_init(docs))["command"][-1]
    tokens = dict(re.findall(r"^token (\S+) (\w+) ", script, re.M))
    tokens = {name: accessor for accessor, name in tokens.items()}
    assert set(tokens) == {"agent", "dns", "metrics", "test"}
    assert all(UUID.match(a) for a in tokens.values())
    policies = {
        name: json.loads(rules)
        for name, rules in re.findall(r"^policy consul-(\w+) \"[^\"]*\" '([^']*)'$", script, re.M)
    }
    assert policies == {
        "agent": {
            "node_prefix": {"": {"policy": "write"}},
            "service_prefix": {"": {"policy": "read"}},
            "agent_prefix": {"": {"policy": "write"}},
        },
        "metrics": {"agent_prefix": {"": {"policy": "read"}}},
        "test": {
            "operator": "read",
            "node_prefix": {"": {"policy": "read"}},
            "key_prefix": {"helm-test/": {"policy": "write"}},
        },
    }
    # DNS uses Consul's own templated policy rather than opening the anonymous token.
    assert re.search(r"^token \S+ dns .* -templated-policy=builtin/dns$", script, re.M)


def test_accessor_ids_are_per_release_and_stable() -> None:
    def accessors(namespace: str) -> list[str]:
        script = container(acl_init(render(ACL, namespace=namespace)))["command"][-1]
        return re.findall(r"^token (\S+) ", script, re.M)

    assert accessors("team-a") == accessors("team-a")
    assert set(accessors("team-a")).isdisjoint(accessors("team-b"))


def test_the_users_management_token() -> None:
    values = {
        "acl": {"enabled": True, "managementToken": {"existingSecret": "mine", "secretKey": "id"}}
    }
    docs = render(values)
    (volume,) = [v for v in pod_spec(one(docs, "StatefulSet"))["volumes"] if v["name"] == "secrets"]
    sources = [s["secret"] for s in volume["projected"]["sources"]]
    assert {"name": "mine", "items": [{"key": "id", "path": "management-token"}]} in sources


def test_two_renders_are_byte_identical() -> None:
    # Nothing random in the templates: GitOps renderers see no drift, and no secret is minted.
    everything = [
        "--set",
        "tls.enabled=true",
        "--set",
        "tls.httpsOnly=true",
        "--set",
        "acl.enabled=true",
    ]
    cmd = [helm(), "template", "consul", str(CHART), "--namespace", "consul-ns", *everything]
    first, second = (
        subprocess.run(cmd, capture_output=True, text=True, check=True).stdout for _ in range(2)
    )
    assert first == second
    assert "kind: Secret\n" not in first
