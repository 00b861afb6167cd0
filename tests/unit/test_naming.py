"""Names, namespaces and labels (_helpers.tpl, every template): releases never collide, every
object is labelled."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pytest

from harness.render import Manifest, chart_of_next_version, render

STANDARD_LABELS = (
    "app.kubernetes.io/name",
    "app.kubernetes.io/instance",
    "app.kubernetes.io/version",
    "app.kubernetes.io/managed-by",
    "app.kubernetes.io/component",
    "helm.sh/chart",
)


def names(docs: Iterable[Manifest]) -> set[tuple[str, str]]:
    return {(d["kind"], d["metadata"]["name"]) for d in docs}


def test_every_object_is_in_the_release_namespace(default_docs: tuple[Manifest, ...]) -> None:
    assert {d["metadata"]["namespace"] for d in default_docs} == {"consul-ns"}
    assert {d["metadata"]["namespace"] for d in render(namespace="team-b")} == {"team-b"}


def test_every_object_has_the_standard_labels(default_docs: tuple[Manifest, ...]) -> None:
    for doc in default_docs:
        labels = doc["metadata"]["labels"]
        missing = [k for k in STANDARD_LABELS if k not in labels]
        assert not missing, f"{doc['kind']}/{doc['metadata']['name']} lacks {missing}"
        assert labels["app.kubernetes.io/instance"] == "consul"
        assert labels["app.kubernetes.io/version"] == "1.22.7"


def test_two_releases_in_one_namespace_never_collide() -> None:
    a, b = render(release="alpha"), render(release="beta")
    assert not names(a) & names(b)
    for docs, release in ((a, "alpha"), (b, "beta")):
        sts = next(d for d in docs if d["kind"] == "StatefulSet")
        assert sts["spec"]["selector"]["matchLabels"]["app.kubernetes.io/instance"] == release


def test_same_release_in_two_namespaces_joins_its_own_servers() -> None:
    joins = set()
    for ns in ("team-a", "team-b"):
        cm = next(
            d for d in render(namespace=ns) if d["metadata"]["name"] == "consul-server-config"
        )
        joins.add(cm["data"]["server.json"].split("retry_join")[1].split("]")[0])
    assert len(joins) == 2


@pytest.mark.parametrize(
    ("release", "values", "prefix"),
    [
        ("consul", {}, "consul"),
        ("prod", {}, "prod-consul"),
        ("prod-consul", {}, "prod-consul"),
        ("prod", {"nameOverride": "kv"}, "prod-kv"),
        ("prod", {"fullnameOverride": "sd"}, "sd"),
    ],
)
def test_name_prefix(release: str, values: dict[str, str], prefix: str) -> None:
    docs = render(values, release=release)
    assert ("StatefulSet", f"{prefix}-server") in names(docs)
    assert ("Service", f"{prefix}-ui") in names(docs)


def test_long_release_names_stay_valid() -> None:
    release = "a-very-long-release-name-that-goes-on-and-on-and-on"
    for doc in render(release=release):
        assert len(doc["metadata"]["name"]) <= 63, doc["metadata"]["name"]
        assert not doc["metadata"]["name"].endswith("-")


# Values under which the chart renders every workload and Job it has, acl-init and the restore
# hook's too.
EVERY_POD_TEMPLATE = {
    "acl": {"enabled": True},
    "backup": {"enabled": True, "restore": {"snapshot": "latest"}},
    "server": {"podLabels": {"team": "kv"}},
    "client": {"podLabels": {"team": "sd"}},
}


def pod_templates(docs: Iterable[Manifest]) -> dict[str, Manifest]:
    """Kind/name -> its pod template (a CronJob's Job's), for every object that has one."""
    out = {}
    for doc in docs:
        spec = doc.get("spec", {})
        template = spec.get("jobTemplate", {}).get("spec", spec).get("template")
        if template is not None:
            out[f"{doc['kind']}/{doc['metadata']['name']}"] = template
    return out


def test_pod_templates_carry_only_selector_component_and_user_labels() -> None:
    templates = pod_templates(render(EVERY_POD_TEMPLATE))
    assert {name.split("/")[0] for name in templates} == {
        "StatefulSet",
        "DaemonSet",
        "Job",
        "CronJob",
    }
    agents = {"StatefulSet/consul-server", "DaemonSet/consul-client"}
    assert agents <= templates.keys()
    for name, template in templates.items():
        expected = {"app.kubernetes.io/name", "app.kubernetes.io/instance"}
        expected.add("app.kubernetes.io/component")
        if name in agents:
            expected |= {"consul-agent", "team"}
        assert set(template["metadata"]["labels"]) == expected, f"{name}: {template}"


def test_a_chart_version_bump_changes_no_pod_template(tmp_path: Path) -> None:
    before = render(EVERY_POD_TEMPLATE)
    after = render(EVERY_POD_TEMPLATE, chart=chart_of_next_version(tmp_path))
    # The bump reaches the objects' own labels, so the comparison below has a bump to miss.
    assert {d["metadata"]["labels"]["helm.sh/chart"] for d in after} == {"consul-0.1.1"}
    assert pod_templates(after) == pod_templates(before)
