"""The harness' pytest plugin (registered by the package's `pytest11` entry point, so every
pytest run in the test environments has it): fixtures and hooks shared by every tier: the chart
rendered, and the kind cluster of `make cluster` with fresh namespaces and releases in it (the
cluster, chaos and idle tiers); a failed test's evidence, each run's outcome for `make test`'s
table, and the scenarios' figures."""

from __future__ import annotations

import fcntl
import json
import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from harness.evidence import INSTRUMENTS, KEEP, LIVE_NAMESPACES, collect
from harness.kube import CACHE, Kube, kubeconfig
from harness.release import CONSUL_IMAGE, NamespaceFactory, Release, ReleaseFactory, image_values
from harness.render import Manifest, merge_values, render
from harness.scenario import FIGURES, SECURE, Chaos, ChaosFactory, Row, figures_table, writer_token

TIERS = {"not cluster": "unit", "cluster": "cluster", "chaos": "chaos", "idle": "idle"}
# The marks of the tiers that run on the kind cluster.
ON_CLUSTER = ("cluster", "chaos", "idle")
STARTED = pytest.StashKey[float]()
# Test modules (paths) with a failed test in this process: their namespaces are kept with
# --keep-failed.
FAILED_MODULES: set[Path] = set()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--keep-failed",
        action="store_true",
        help="keep the namespaces (and releases) of a module with a failed test, for a look by "
        "hand; delete them yourself (kubectl delete namespace NAME)",
    )


def pytest_runtest_setup(item: pytest.Item) -> None:
    INSTRUMENTS.clear()


@contextmanager
def host_turn(exclusive: bool) -> Iterator[None]:
    """A share of the host (held by any number of tests at once, in any pytest session on this
    machine) or all of it (no share held meanwhile). A test that waits for all of it goes before
    any that asks for a share after it: everyone asks through a gate, held only while asking."""
    CACHE.mkdir(parents=True, exist_ok=True)
    with (CACHE / "host.gate").open("a") as gate, (CACHE / "host.lock").open("a") as lock:
        fcntl.flock(gate, fcntl.LOCK_EX)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        finally:
            fcntl.flock(gate, fcntl.LOCK_UN)
        yield  # closing the file lets the lock go


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    """A test on the cluster holds a share of the host through its setup (module fixtures
    install releases there), call and teardown (uninstalls); one that measures sub-second timing
    (the `quiet` mark, the chaos and idle tiers) holds all of it. On the 2-core host a leader
    watch beside another xdist worker's install saw a round 1.5 s after the one before it, so it
    could no longer bound a leaderless window of 1 s."""
    if not any(item.get_closest_marker(m) for m in ON_CLUSTER):
        return (yield)
    exclusive = any(item.get_closest_marker(m) for m in ("quiet", "chaos", "idle"))
    with host_turn(exclusive):
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Iterator[pytest.TestReport]:
    """A failed cluster, chaos or idle test (or its setup or teardown) writes its evidence before
    its namespaces go; the failure names the folder."""
    report = yield
    if call.when == "call":  # a scenario's figures travel with its report (xdist workers too)
        report.user_properties += [("figures", asdict(row)) for row in FIGURES]
        FIGURES.clear()
    tier = next((t for t in ON_CLUSTER if item.get_closest_marker(t)), None)
    if tier and report.failed:
        FAILED_MODULES.add(item.path)
        try:
            folder = collect(Kube.connect(), f"{item.nodeid}-{report.when}", tier)
        except Exception as e:  # the evidence must never hide the failure itself
            report.sections.append(("evidence", f"not collected: {e!r}"))
        else:
            note = f"{folder} (the newest {KEEP} folders are kept)"
            report.sections.append(("evidence", note))
            report.user_properties.append(("evidence", str(folder)))
    return report


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The scenarios' figures (harness/scenario.py), one row each, also written to $CHAOS_FIGURES
    when set."""
    reports = [r for kind in terminalreporter.stats.values() for r in kind]
    rows = [
        Row(**v) for r in reports for k, v in getattr(r, "user_properties", ()) if k == "figures"
    ]
    if not rows:
        return
    lines = figures_table(rows)
    terminalreporter.write_sep("=", "scenario figures")
    for line in lines:
        terminalreporter.write_line(line)
    if path := os.environ.get("CHAOS_FIGURES"):
        Path(path).write_text("\n".join(lines) + "\n")


def keep_failed(request: pytest.FixtureRequest) -> bool:
    """Whether the fixture's module had a failure and --keep-failed asks to keep its objects."""
    return bool(request.config.getoption("keep_failed")) and request.path in FAILED_MODULES


def pytest_sessionstart(session: pytest.Session) -> None:
    session.config.stash[STARTED] = time.monotonic()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Each run's outcome (wall time, counts, the evidence folders of its failures) goes to
    $CONSUL_CHART_RUN when `make test` sets it, for its closing table; a whole tier's (no -k, one
    tests/ folder) goes to $CACHE/timings.jsonl too, for `make bench` to report."""
    config = session.config
    if hasattr(config, "workerinput"):  # a pytest-xdist worker: the controller times the tier
        return
    tier = TIERS.get(config.option.markexpr)
    if not tier or config.option.collectonly:
        return
    whole = not config.option.keyword and config.args == [f"tests/{tier}"]
    if tier == "unit":
        tier += f"-{Path(os.environ.get('HELM', 'helm')).name}"
    stats = config.pluginmanager.get_plugin("terminalreporter").stats
    failures = [*stats.get("failed", []), *stats.get("error", [])]
    entry = {
        "tier": tier,
        "seconds": round(time.monotonic() - config.stash[STARTED], 1),
        "exit": int(exitstatus),
        "tests": session.testscollected,
        **{k: len(stats.get(k, [])) for k in ("passed", "failed", "error", "skipped")},
        "evidence": [v for r in failures for k, v in r.user_properties if k == "evidence"],
        "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    if run := os.environ.get("CONSUL_CHART_RUN"):
        with Path(run).open("a") as f:
            f.write(json.dumps(entry) + "\n")
    if whole:
        CACHE.mkdir(parents=True, exist_ok=True)
        with (CACHE / "timings.jsonl").open("a") as f:
            f.write(json.dumps(entry) + "\n")


@pytest.fixture(scope="session")
def default_docs() -> tuple[Manifest, ...]:
    """The chart rendered with its default values."""
    return render()


@pytest.fixture(scope="session")
def kube() -> Kube:
    path = Path(kubeconfig())
    if not path.is_file():
        pytest.fail(f"no kubeconfig at {path}: run `make cluster` first")
    return Kube.connect()


@pytest.fixture(scope="session")
def consul_image() -> str:
    """The Consul image in the cluster: CONSUL_IMAGE as given to `make cluster`, else the
    chart's appVersion, which hack/cluster-up.sh builds and loads."""
    return os.environ.get("CONSUL_IMAGE") or CONSUL_IMAGE


@pytest.fixture
def namespace(kube: Kube, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh namespace, deleted with everything in it after the test."""
    name = f"cluster-test-{uuid.uuid4().hex[:8]}"
    kube.core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    LIVE_NAMESPACES.append(name)
    try:
        yield name
    finally:
        LIVE_NAMESPACES.remove(name)
        if not keep_failed(request):
            kube.core.delete_namespace(name)


@pytest.fixture(scope="module")
def namespace_factory(kube: Kube, request: pytest.FixtureRequest) -> Iterator[NamespaceFactory]:
    """Makes fresh namespaces for a module; deletes them, with everything in them, after it.
    Each enforces the `restricted` Pod Security level unless a test asks for another (the
    options that need host access), so every release of the tier proves its pods are admitted."""
    created: list[str] = []

    def make(prefix: str, pod_security: str = "restricted") -> str:
        name = f"{prefix}-{uuid.uuid4().hex[:6]}"
        labels = {"pod-security.kubernetes.io/enforce": pod_security}
        meta = client.V1ObjectMeta(name=name, labels=labels)
        kube.core.create_namespace(client.V1Namespace(metadata=meta))
        created.append(name)
        LIVE_NAMESPACES.append(name)
        return name

    yield make
    for name in created:
        LIVE_NAMESPACES.remove(name)
    if keep_failed(request):
        print(f"\nkept for a look (--keep-failed): namespaces {', '.join(created)}")
        return
    for name in created:
        try:
            kube.core.delete_namespace(name)
        except ApiException as e:
            if e.status != 404:
                raise


@pytest.fixture(scope="module")
def release_factory(
    kube: Kube, consul_image: str, request: pytest.FixtureRequest
) -> Iterator[ReleaseFactory]:
    """Installs releases with `helm install --wait` (install=False: the test installs it);
    uninstalls what is left after the module."""
    installed: list[Release] = []

    def make(
        name: str,
        namespace: str,
        *,
        install: bool = True,
        helm: str | None = None,
        **values: Any,
    ) -> Release:
        release = Release(kube, name, namespace, image_values(consul_image))
        if helm:
            release.helm = helm
        installed.append(release)
        if install:
            release.install(**values)
        return release

    yield make
    if keep_failed(request):
        return
    for release in installed:
        release.uninstall(check=False)


@pytest.fixture(scope="module")
def chaos_factory(
    kube: Kube, namespace_factory: NamespaceFactory, release_factory: ReleaseFactory
) -> ChaosFactory:
    """Installs a release with TLS and ACLs on (plus `values`) and gives its Chaos: the chaos
    tier's scenarios, and the idle tier's release."""

    def make(name: str, servers: int = 3, **values: Any) -> Chaos:
        values = merge_values(merge_values(SECURE, {"server": {"replicas": servers}}), values)
        release = release_factory(name, namespace_factory(f"chaos-{name}"), **values)
        return Chaos(kube, release, servers, writer_token(release))

    return make
