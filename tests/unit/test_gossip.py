"""Gossip encryption (_secrets.tpl, secrets-init-*.yaml): on by default, key made once in the
cluster and never re-rendered, read by the agents from a file."""

from __future__ import annotations

from typing import Any

from harness.render import Manifest, container, env_of, find, one, render, secret_files

HOOK_KINDS = ("ServiceAccount", "Role", "RoleBinding", "Job")


def agents(docs: tuple[Manifest, ...]) -> list[Manifest]:
    return [d for d in docs if d["kind"] in {"StatefulSet", "DaemonSet"}]


def key_source(workload: Manifest) -> dict[str, Any] | None:
    """The Secret (and key) the agent reads its gossip key file from, if any."""
    source = secret_files(workload).get("gossip-key")
    return None if source is None else {"name": source[0], "key": source[1]}


def test_on_by_default_from_the_generated_secret(default_docs: tuple[Manifest, ...]) -> None:
    for workload in agents(default_docs):
        script = container(workload)["command"][-1]
        assert "--rawfile gossip_key /consul/secrets/gossip-key" in script
        assert '.encrypt = ($gossip_key | rtrimstr("\\n"))' in script
        assert key_source(workload) == {"name": "consul-gossip-key", "key": "key"}


def test_the_key_is_never_rendered(default_docs: tuple[Manifest, ...]) -> None:
    # helm template / GitOps renderers have no cluster: a key rendered here would change on
    # every render. The Secret is made in the cluster by the hook Job instead.
    assert not find(default_docs, "Secret")


def test_the_key_is_in_no_argument_and_no_environment(default_docs: tuple[Manifest, ...]) -> None:
    for workload in agents(default_docs):
        c = container(workload)
        assert not any("valueFrom" in e and "secretKeyRef" in e["valueFrom"] for e in c["env"])
        assert "-encrypt" not in c["command"][-1]


def test_the_hook_keeps_an_existing_key(default_docs: tuple[Manifest, ...]) -> None:
    job = one(default_docs, "Job", "consul-secrets-init")
    env = env_of(container(job))
    assert (env["GOSSIP_SECRET"], env["GOSSIP_SECRET_KEY"]) == ("consul-gossip-key", "key")
    script = container(job)["command"][-1]
    assert 'if found "$GOSSIP_SECRET"; then' in script
    assert "consul keygen" in script


def test_existing_secret() -> None:
    docs = render({"gossipEncryption": {"existingSecret": "my-key", "secretKey": "gossip"}})
    for kind in HOOK_KINDS:
        assert not find(docs, kind, "consul-secrets-init")
    for workload in agents(docs):
        assert key_source(workload) == {"name": "my-key", "key": "gossip"}


def test_disabled() -> None:
    docs = render({"gossipEncryption": {"enabled": False}})
    for kind in HOOK_KINDS:
        assert not find(docs, kind, "consul-secrets-init")
    for workload in agents(docs):
        assert key_source(workload) is None
        assert ".encrypt" not in container(workload)["command"][-1]
