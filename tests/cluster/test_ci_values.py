"""Every chart-testing values set (chart/ci/*-values.yaml) installs into the kind cluster and
passes `helm test`: chart-testing's `ct install` convention, one test per file."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from harness.release import NamespaceFactory, ReleaseFactory
from harness.render import CHART

pytestmark = pytest.mark.cluster

CI_VALUES = sorted((CHART / "ci").glob("*-values.yaml"))


def test_every_ci_values_file_is_here() -> None:
    assert len(CI_VALUES) >= 8, "chart/ci/ lost its files"


def name(path: Path) -> str:
    return path.name.removesuffix("-values.yaml")


@pytest.mark.parametrize("path", CI_VALUES, ids=name)
def test_installs_and_passes_helm_test(
    path: Path, namespace_factory: NamespaceFactory, release_factory: ReleaseFactory
) -> None:
    values = yaml.safe_load(path.read_text()) or {}
    release = release_factory(
        "ci", namespace_factory(f"ci-{name(path)[:20].rstrip('-')}"), **values
    )
    out = release.test()
    assert "KV round trip ok" in out.stdout + out.stderr
    release.uninstall()
