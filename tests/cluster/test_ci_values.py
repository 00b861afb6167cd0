"""Every chart-testing values set (chart/ci/*-values.yaml) installs into the kind cluster and
passes `helm test`: chart-testing's `ct install` convention, one test per file. A module that
already installs a file's values and runs `helm test` on them covers that file, in this tier or
the chaos tier (`make test` runs both): installing it again here would prove nothing more."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.release import NamespaceFactory, ReleaseFactory
from harness.render import CHART, ci_values

pytestmark = pytest.mark.cluster

CI_VALUES = sorted((CHART / "ci").glob("*-values.yaml"))
TESTS = Path(__file__).parent.parent
# File -> the module (under tests/) whose release is installed from it (ci_values("…")) and gets
# `helm test`; the cluster tier's default release is made in its conftest.py.
INSTALLED_ELSEWHERE = {
    "default": "cluster/test_default_install.py",
    "ha-5-servers": "chaos/test_five_servers.py",
    "network-policy": "cluster/test_network_policy.py",
    "soft-anti-affinity": "cluster/test_lifecycle.py",
    "tls-acls-https-only": "cluster/test_security.py",
}


def name(path: Path) -> str:
    return path.name.removesuffix("-values.yaml")


def test_every_ci_values_file_is_here() -> None:
    assert len(CI_VALUES) >= 8, "chart/ci/ lost its files"
    assert set(INSTALLED_ELSEWHERE) <= {name(p) for p in CI_VALUES}


@pytest.mark.parametrize("case", sorted(INSTALLED_ELSEWHERE))
def test_a_file_covered_elsewhere_is_installed_and_tested_there(case: str) -> None:
    module = TESTS / INSTALLED_ELSEWHERE[case]
    conftest = module.parent / "conftest.py"
    source = module.read_text() + (conftest.read_text() if conftest.is_file() else "")
    assert f'ci_values("{case}")' in source, f"{module.name} no longer installs {case}"
    assert "def test_helm_test_passes(" in module.read_text(), module.name


@pytest.mark.parametrize(
    "path", [p for p in CI_VALUES if name(p) not in INSTALLED_ELSEWHERE], ids=name
)
def test_installs_and_passes_helm_test(
    path: Path, namespace_factory: NamespaceFactory, release_factory: ReleaseFactory
) -> None:
    release = release_factory(
        "ci", namespace_factory(f"ci-{name(path)[:20].rstrip('-')}"), **ci_values(name(path))
    )
    release.assert_helm_test_passes()
    release.uninstall()
