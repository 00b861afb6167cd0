"""Fixtures of the chaos tier (the instruments are in tests/scenario.py), and its figures table,
printed at the end of the session (and written to $CHAOS_FIGURES when set)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from kube import Kube
from release import NamespaceFactory, ReleaseFactory
from render import merge_values
from scenario import FIGURES, SECURE, Chaos, ChaosFactory, writer_token


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not FIGURES:
        return
    lines = [
        "| scenario | writes acknowledged | failed | lost | longest write outage (s) "
        "| leaderless (s) | elections | whole again after (s) | failed writes answered |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in FIGURES:
        lines.append(
            f"| {r.scenario} | {r.acknowledged} | {r.failed} | {r.lost} | "
            f"{r.longest_outage_s:.2f} | {r.leaderless_s:.2f} | {r.elections} | "
            f"{r.whole_after_s:.1f} | {r.failures.replace('|', '/')} |"
        )
    terminalreporter.write_sep("=", "chaos figures")
    for line in lines:
        terminalreporter.write_line(line)
    if path := os.environ.get("CHAOS_FIGURES"):
        Path(path).write_text("\n".join(lines) + "\n")


@pytest.fixture(scope="module")
def chaos_factory(
    kube: Kube, namespace_factory: NamespaceFactory, release_factory: ReleaseFactory
) -> ChaosFactory:
    """Installs a release with TLS and ACLs on (plus `values`) and gives its Chaos."""

    def make(name: str, servers: int = 3, **values: object) -> Chaos:
        values = merge_values(merge_values(SECURE, {"server": {"replicas": servers}}), values)
        release = release_factory(name, namespace_factory(f"chaos-{name}"), **values)
        return Chaos(kube, release, servers, writer_token(release))

    return make
