"""Render the chart with the real `helm template` and give the parsed objects to tests.

A values set is rendered once per session; every call hands out its own deep copy, so a test
that changes what it got cannot change what another test sees. Accessors read the objects the
way tests talk about them: `get(doc, "spec.template.spec.containers[0].image")` (a JMESPath
expression), `pod_spec`, `container`, `agent_config`.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import shutil
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import jmespath
import yaml

REPO = Path(__file__).resolve().parent.parent
CHART = REPO / "chart"
RELEASE = "consul"
NAMESPACE = "consul-ns"

Manifest = dict[str, Any]


def ci_values(name: str) -> dict[str, Any]:
    """The values of chart/ci/<name>-values.yaml, chart-testing's install cases."""
    return yaml.safe_load((CHART / "ci" / f"{name}-values.yaml").read_text()) or {}


def chart_of_next_version(dest: Path) -> Path:
    """A copy of the chart in `dest` whose version alone is one patch release on: what a user
    upgrades to when only the chart changed."""
    chart = dest / CHART.name
    shutil.copytree(CHART, chart)
    meta = yaml.safe_load((chart / "Chart.yaml").read_text())
    major, minor, patch = meta["version"].split("-")[0].split(".")
    meta["version"] = f"{major}.{minor}.{int(patch) + 1}"
    (chart / "Chart.yaml").write_text(yaml.safe_dump(meta, sort_keys=False))
    return chart


class RenderError(Exception):
    """`helm template` refused the values; `stderr` holds helm's message."""

    def __init__(self, stderr: str) -> None:
        super().__init__(stderr)
        self.stderr = stderr


def helm() -> str:
    """The helm binary under test: $HELM, else the one `make tools` linked into .tools/bin."""
    return os.environ.get("HELM") or str(REPO / ".tools" / "bin" / "helm")


def render(
    values: Mapping[str, Any] | None = None,
    *,
    values_files: Sequence[Path] = (),
    release: str = RELEASE,
    namespace: str = NAMESPACE,
    kube_version: str | None = None,
    chart: Path = CHART,
) -> tuple[Manifest, ...]:
    """Every object `helm template` renders for these values (hook and test pods included)."""
    return copy.deepcopy(
        _render(
            yaml.safe_dump(dict(values or {}), sort_keys=True),
            tuple(str(f) for f in values_files),
            release,
            namespace,
            kube_version,
            str(chart),
        )
    )


@functools.cache
def _render(
    values_yaml: str,
    values_files: tuple[str, ...],
    release: str,
    namespace: str,
    kube_version: str | None,
    chart: str,
) -> tuple[Manifest, ...]:
    cmd = [helm(), "template", release, chart, "--namespace", namespace, "--values", "-"]
    for f in values_files:
        cmd += ["--values", f]
    if kube_version:
        cmd += ["--kube-version", kube_version]
    proc = subprocess.run(cmd, input=values_yaml, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RenderError(proc.stderr)
    return tuple(doc for doc in yaml.safe_load_all(proc.stdout) if doc)


def find(
    docs: Iterable[Manifest], kind: str, name: str | None = None, *, component: str | None = None
) -> list[Manifest]:
    """The objects of a kind (and name, and `app.kubernetes.io/component`, if given): the
    component names a Job whose name is a hash of its spec (acl-init)."""
    return [
        d
        for d in docs
        if d["kind"] == kind
        and (name is None or d["metadata"]["name"] == name)
        and (
            component is None
            or d["metadata"].get("labels", {}).get("app.kubernetes.io/component") == component
        )
    ]


def one(
    docs: Iterable[Manifest], kind: str, name: str | None = None, *, component: str | None = None
) -> Manifest:
    """The single object of a kind (and name, component); fails the test if there are none or
    several."""
    found = find(docs, kind, name, component=component)
    assert len(found) == 1, f"expected one {kind} {name or component or ''}, got {len(found)}"
    return found[0]


def get(doc: Any, path: str) -> Any:
    """The value at a JMESPath expression in an object, or None where nothing is there."""
    return jmespath.search(path, doc)


def pod_spec(doc: Manifest) -> Manifest:
    """The pod spec of a Pod or of a workload's (or a CronJob's Job's) pod template."""
    if doc["kind"] == "CronJob":
        return doc["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return doc["spec"] if doc["kind"] == "Pod" else doc["spec"]["template"]["spec"]


def secret_files(doc: Manifest) -> dict[str, tuple[str, str]]:
    """File under /consul/secrets -> (Secret name, key), from a pod's projected `secrets` volume."""
    (volume,) = [v for v in pod_spec(doc)["volumes"] if v["name"] == "secrets"]
    return {
        item["path"]: (source["secret"]["name"], item["key"])
        for source in volume.get("projected", {}).get("sources", [])
        for item in source["secret"]["items"]
    }


def container(doc: Manifest, name: str | None = None) -> Manifest:
    """A container of a Pod or workload: the one named, else the first."""
    containers = pod_spec(doc)["containers"]
    if name is None:
        return containers[0]
    (found,) = [c for c in containers if c["name"] == name]
    return found


def env_of(c: Manifest) -> dict[str, Any]:
    """A container's environment: name -> its value, or its valueFrom for one taken from a
    field, Secret or ConfigMap."""
    return {e["name"]: e["value"] if "value" in e else e.get("valueFrom") for e in c.get("env", [])}


def agent_config(docs: Iterable[Manifest], component: str) -> dict[str, Any]:
    """The agent configuration (JSON) in a component's ConfigMap."""
    (cm,) = [
        d
        for d in docs
        if d["kind"] == "ConfigMap"
        and d["metadata"]["labels"].get("app.kubernetes.io/component") == component
    ]
    return json.loads(cm["data"][f"{component}.json"])


def merge_values(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Values as helm coalesces them: maps merge, anything else replaces, null deletes."""
    out = dict(base)
    for key, value in override.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge_values(out[key], value)
        else:
            out[key] = value
    return out
