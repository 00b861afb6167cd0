"""Gossip encryption (_gossip.tpl, gossip-keygen-*.yaml): on by default, key made once in the
cluster and never re-rendered."""

from __future__ import annotations

from typing import Any

from render import Manifest, container, find, one, render

HOOK_KINDS = ("ServiceAccount", "Role", "RoleBinding", "Job")


def agent_containers(docs: tuple[Manifest, ...]) -> list[Manifest]:
    return [container(d) for d in docs if d["kind"] in {"StatefulSet", "DaemonSet"}]


def key_ref(container: Manifest) -> dict[str, Any] | None:
    env = {e["name"]: e for e in container["env"]}
    return env["GOSSIP_KEY"]["valueFrom"]["secretKeyRef"] if "GOSSIP_KEY" in env else None


def test_on_by_default_from_the_generated_secret(default_docs: tuple[Manifest, ...]) -> None:
    for c in agent_containers(default_docs):
        assert "-encrypt=$(GOSSIP_KEY)" in c["command"]
        assert key_ref(c) == {"name": "consul-gossip-key", "key": "key"}


def test_the_key_is_never_rendered(default_docs: tuple[Manifest, ...]) -> None:
    # helm template / GitOps renderers have no cluster: a key rendered here would change on
    # every render. The Secret is made in the cluster by the hook Job instead.
    assert not find(default_docs, "Secret")


def test_keygen_hook_runs_before_install_and_upgrade(default_docs: tuple[Manifest, ...]) -> None:
    weights = {}
    for kind in HOOK_KINDS:
        obj = one(default_docs, kind, "consul-gossip-keygen")
        annotations = obj["metadata"]["annotations"]
        assert annotations["helm.sh/hook"] == "pre-install,pre-upgrade"
        assert "before-hook-creation" in annotations["helm.sh/hook-delete-policy"]
        weights[kind] = int(annotations["helm.sh/hook-weight"])
    assert weights["Job"] > max(weights["ServiceAccount"], weights["Role"], weights["RoleBinding"])


def test_keygen_rights_never_outlive_a_failed_job(default_docs: tuple[Manifest, ...]) -> None:
    # The Job stays for its logs; the right to create Secrets goes whatever the outcome.
    for kind in ("ServiceAccount", "Role", "RoleBinding"):
        policy = one(default_docs, kind, "consul-gossip-keygen")["metadata"]["annotations"]
        assert "hook-failed" in policy["helm.sh/hook-delete-policy"].split(","), kind
    job = one(default_docs, "Job", "consul-gossip-keygen")["metadata"]["annotations"]
    assert "hook-failed" not in job["helm.sh/hook-delete-policy"]


def test_keygen_keeps_an_existing_secret(default_docs: tuple[Manifest, ...]) -> None:
    job = one(default_docs, "Job", "consul-gossip-keygen")
    script = container(job)["command"][-1]
    assert "200) echo" in script and "exit 0" in script
    assert "consul keygen" in script
    role = one(default_docs, "Role", "consul-gossip-keygen")
    assert {
        "apiGroups": [""],
        "resources": ["secrets"],
        "resourceNames": ["consul-gossip-key"],
        "verbs": ["get"],
    } in role["rules"]
    verbs = sorted(v for rule in role["rules"] for v in rule["verbs"])
    assert verbs == ["create", "get"], "the hook may read its Secret and create it, nothing else"


def test_existing_secret() -> None:
    docs = render({"gossipEncryption": {"existingSecret": "my-key", "secretKey": "gossip"}})
    for kind in HOOK_KINDS:
        assert not find(docs, kind, "consul-gossip-keygen")
    for c in agent_containers(docs):
        assert key_ref(c) == {"name": "my-key", "key": "gossip"}


def test_disabled() -> None:
    docs = render({"gossipEncryption": {"enabled": False}})
    for kind in HOOK_KINDS:
        assert not find(docs, kind, "consul-gossip-keygen")
    for c in agent_containers(docs):
        assert key_ref(c) is None
        assert not any(arg.startswith("-encrypt") for arg in c["command"])
