"""Every chart-testing values set passes `helm lint --strict` and strict validation of every
object against the Kubernetes OpenAPI schemas of each supported minor version."""

from __future__ import annotations

import functools
import subprocess
from pathlib import Path

import kubernetes_validate
import pytest
from kubernetes_validate import utils

from harness.render import CHART, RenderError, helm, render

# kubernetes-validate reads and parses the (large) schema files on every call; the files never
# change within a run, so parse each once.
utils.schema_contents = functools.lru_cache(maxsize=None)(utils.schema_contents)

OLDEST_SUPPORTED = (1, 29)
CI_VALUES = sorted((CHART / "ci").glob("*-values.yaml"))
K8S_VERSIONS = sorted(
    {v for v in utils.all_versions() if tuple(map(int, v.split(".")[:2])) >= OLDEST_SUPPORTED},
    key=lambda v: tuple(map(int, v.split("."))),
)


def test_the_ci_values_sets_exist() -> None:
    stems = {f.name.removesuffix("-values.yaml") for f in CI_VALUES}
    assert {
        "default",
        "ha-5-servers",
        "soft-anti-affinity",
        "no-clients",
        "ingress",
        "persistence-off",
    } <= stems


def test_schemas_reach_a_current_kubernetes() -> None:
    assert K8S_VERSIONS[0].startswith("1.29.")
    assert tuple(map(int, K8S_VERSIONS[-1].split(".")[:2])) >= (1, 34)


@pytest.mark.parametrize("values_file", CI_VALUES, ids=lambda f: f.name)
def test_helm_lint_strict(values_file: Path) -> None:
    proc = subprocess.run(
        [helm(), "lint", "--strict", str(CHART), "--values", str(values_file)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("k8s", K8S_VERSIONS)
@pytest.mark.parametrize("values_file", CI_VALUES, ids=lambda f: f.name)
def test_objects_are_valid_kubernetes(values_file: Path, k8s: str) -> None:
    errors = []
    docs = render(values_files=[values_file])
    for doc in docs:
        try:
            kubernetes_validate.validate(doc, k8s, strict=True)
        except kubernetes_validate.ValidationError as e:
            errors.append(f"{doc['kind']}/{doc['metadata']['name']}: {e.message}")
    assert not errors, "\n".join(errors)
    assert len(docs) >= 10


@pytest.mark.parametrize("version", ["1.29.0", "v1.30.2-eks-1234", "1.37.0"])
def test_supported_kubernetes_versions(version: str) -> None:
    render(kube_version=version)


def test_older_kubernetes_is_refused() -> None:
    with pytest.raises(RenderError, match=r"kubeVersion"):
        render(kube_version="1.28.9")
