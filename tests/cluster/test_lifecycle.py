"""One release through its life: a chart bump, scale 3 -> 5, uninstall, reinstall onto old
volumes.

The tests build on each other in file order (pytest keeps it), like a user's day-2 operations.
A rolling upgrade of the servers is the chaos tier's (tests/chaos/test_pod_faults.py), judged
there on a host no other test loads.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes.dynamic import DynamicClient

from harness.kube import Kube, wait_for
from harness.release import NamespaceFactory, Release, ReleaseFactory
from harness.render import chart_of_next_version, ci_values

pytestmark = pytest.mark.cluster

INSTANCE = "app.kubernetes.io/instance"


@pytest.fixture(scope="module")
def life(namespace_factory: NamespaceFactory, release_factory: ReleaseFactory) -> Release:
    # chart/ci's soft anti-affinity case, whose `helm test` runs here: the kind cluster has 3
    # workers, and 5 servers need the soft preset.
    values = ci_values("soft-anti-affinity")
    return release_factory("life", namespace_factory("lifecycle"), **values)


@pytest.fixture(scope="module")
def seeded(life: Release) -> Iterator[dict[str, str]]:
    """Data written before the day-2 operations, checked after each of them."""
    data = {f"lifecycle/{i}": f"value-{i}" for i in range(20)}
    api = life.api("server")
    for key, value in data.items():
        assert api.kv_put(key, value)
    return data


def assert_data_kept(release: Release, data: dict[str, str]) -> None:
    api = release.api("server")
    assert {key: api.kv_get(key) for key in data} == data


def test_helm_test_passes(life: Release) -> None:
    life.assert_helm_test_passes()


def test_an_upgrade_to_a_new_chart_version_alone_restarts_no_pod(
    life: Release, tmp_path: Path
) -> None:
    agents = {c: life.incarnations(c) for c in ("server", "client")}
    assert all(agents.values()), agents
    life.upgrade(chart=chart_of_next_version(tmp_path))
    assert {c: life.incarnations(c) for c in ("server", "client")} == agents


def test_scale_to_five_servers_leaves_clients_alone(
    kube: Kube, life: Release, seeded: dict[str, str]
) -> None:
    clients = life.incarnations("client")
    life.upgrade(server={"replicas": 5, "disruptionBudget": {"maxUnavailable": 2}})
    api = life.api("server")
    names = sorted(life.server_pod(i) for i in range(5))
    wait_for(
        lambda: sorted(s["Node"] for s in api.raft_servers() if s["Voter"]) == names,
        "the 5 servers as the voters",
        timeout=120,
    )
    assert life.incarnations("client") == clients, "clients were restarted by a server change"
    assert_data_kept(life, seeded)


VOLUMES_HINT = "kubectl delete statefulset --cascade=orphan"
MOVE_HINT = "install a new release with the new setting and copy the data over"


# Refused before anything changes (a lookup of the installed objects), each with its way forward.
@pytest.mark.parametrize(
    ("values", "message", "hint"),
    [
        (
            {"server": {"persistence": {"size": "20Gi"}}},
            "server.persistence.size cannot change from 10Gi to 20Gi",
            VOLUMES_HINT,
        ),
        (
            {"server": {"persistence": {"enabled": False}}},
            "server.persistence.enabled cannot change from true to false",
            VOLUMES_HINT,
        ),
        (
            {"server": {"persistence": {"accessModes": ["ReadWriteOncePod"]}}},
            'server.persistence.accessModes cannot change from ["ReadWriteOnce"] to '
            '["ReadWriteOncePod"]',
            VOLUMES_HINT,
        ),
        (
            {"server": {"persistence": {"annotations": {"backup.example.com/tier": "gold"}}}},
            "server.persistence.annotations cannot change from {} to ",
            VOLUMES_HINT,
        ),
        (
            {"consul": {"datacenter": "dc2"}},
            'consul.datacenter cannot change from "dc1" to "dc2"',
            MOVE_HINT,
        ),
        ({"acl": {"enabled": True}}, "acl.enabled cannot change from false to true", MOVE_HINT),
        (
            {"gossipEncryption": {"enabled": False}},
            "gossipEncryption.enabled cannot change from true to false",
            MOVE_HINT,
        ),
    ],
    ids=["size", "persistence", "access-modes", "claim-annotations", "datacenter", "acl", "gossip"],
)
def test_a_bootstrap_only_change_is_refused_with_the_way_to_make_it(
    life: Release, values: dict[str, object], message: str, hint: str
) -> None:
    before = life.incarnations("server")
    proc = life.upgrade(check=False, **values)
    assert proc.returncode != 0
    assert message in proc.stderr, proc.stderr
    assert hint in proc.stderr, proc.stderr
    assert life.incarnations("server") == before


def test_uninstall_keeps_only_volumes_and_gossip_key(kube: Kube, life: Release) -> None:
    key, gossip, docs = life.gossip_key(), life.gossip_secret(), life.manifests()
    # What the README says `helm uninstall` keeps: every server's claim, the Secrets the
    # secrets-init Job made (with TLS and ACLs off, the gossip key alone), and the last test
    # pod. No object of the chart carries `helm.sh/resource-policy: keep`.
    (sts,) = [d for d in docs if d["kind"] == "StatefulSet"]
    (claim,) = sts["spec"]["volumeClaimTemplates"]
    prefix = f"{claim['metadata']['name']}-{sts['metadata']['name']}"
    claims = {f"{prefix}-{i}" for i in range(sts["spec"]["replicas"])}
    # And the pod of the module's `helm test`: Helm never deletes a hook on uninstall, and one
    # deleted on success leaves helm 3's `helm test --logs` nothing to show.
    kept = {("Secret", gossip), ("Pod", life.named("test"))}
    kept |= {("PersistentVolumeClaim", c) for c in claims}
    # Every kind the chart renders for this release, hook objects included, with the names it
    # gives them; and the two kinds it makes outside its manifests (the secrets-init Job's
    # Secrets, the StatefulSet's claims), with the names of those it keeps.
    names: dict[tuple[str, str], set[str]] = {
        ("v1", "Secret"): {gossip},
        ("v1", "PersistentVolumeClaim"): claims,
    }
    for doc in docs:
        names.setdefault((doc["apiVersion"], doc["kind"]), set()).add(doc["metadata"]["name"])
    life.uninstall()
    life.wait_until_agents_gone()
    ns = life.namespace
    resources = DynamicClient(kube.core.api_client).resources
    left: set[tuple[str, str]] = set()
    for (api_version, kind), named in names.items():
        found = resources.get(api_version=api_version, kind=kind).get(namespace=ns)
        for obj in found.to_dict()["items"]:
            meta = obj["metadata"]
            if meta["name"] in named or (meta.get("labels") or {}).get(INSTANCE) == life.name:
                left.add((kind, meta["name"]))
    assert sorted(left - kept) == [], "left behind by helm uninstall"
    assert sorted(kept - left) == [], "gone, though the chart keeps them"
    assert life.gossip_key() == key, "the gossip key is kept"


def test_reinstall_onto_old_volumes_keeps_data_and_clients_join(
    kube: Kube, life: Release, seeded: dict[str, str]
) -> None:
    key = life.gossip_key()
    life.install()
    assert life.gossip_key() == key
    assert_data_kept(life, seeded)
    api = life.api("server")
    clients = {p.spec.node_name for p in life.pods("client")}
    wait_for(
        lambda: clients <= {m["Name"] for m in api.members() if m["Status"] == 1},
        "clients to join",
        timeout=120,
    )
    assert len([s for s in api.raft_servers() if s["Voter"]]) == 5
