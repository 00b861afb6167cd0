"""chart-testing's `ct lint` (what `make lint` runs) passes this chart and fails broken ones."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from harness.render import CHART, REPO

CT = REPO / ".tools" / "bin" / "ct"


def ct_lint(chart: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": f"{CT.parent}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run(
        [str(CT), "lint", "--config", str(REPO / "ct.yaml"), "--charts", str(chart)],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        check=False,
    )


def replace(path: str, old: str, new: str) -> Callable[[Path], None]:
    def edit(chart: Path) -> None:
        text = (chart / path).read_text()
        assert old in text
        (chart / path).write_text(text.replace(old, new, 1))

    return edit


# id -> (how to break a copy of the chart, what ct must say about it)
BREAKAGES: dict[str, tuple[Callable[[Path], None], str]] = {
    "chart-yaml-without-description": (
        replace("Chart.yaml", "description: >-", "summary: >-"),
        "description: Required field missing",
    ),
    "values-duplicate-key": (
        replace("values.yaml", 'nameOverride: ""', 'nameOverride: ""\nnameOverride: x'),
        "duplication of key",
    ),
    "template-syntax-error": (
        replace("templates/server-pdb.yaml", "{{- end }}", "{{- end"),
        "server-pdb.yaml",
    ),
    "values-refused-by-schema": (
        replace("values.yaml", "replicas: 3", "replicas: three"),
        "at '/server/replicas': got string, want integer",
    ),
}


def test_the_chart_passes() -> None:
    proc = ct_lint(CHART)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "All charts linted successfully" in proc.stdout


@pytest.mark.parametrize(("breakage", "reason"), BREAKAGES.values(), ids=BREAKAGES.keys())
def test_a_broken_chart_fails(
    breakage: Callable[[Path], None], reason: str, tmp_path: Path
) -> None:
    chart = tmp_path / "consul"
    shutil.copytree(CHART, chart, ignore=shutil.ignore_patterns("ci"))
    breakage(chart)
    proc = ct_lint(chart)
    assert proc.returncode != 0, proc.stdout + proc.stderr
    assert "failed linting charts" in proc.stderr
    assert reason in proc.stdout + proc.stderr
