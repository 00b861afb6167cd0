"""Fixtures shared by every tier: the chart rendered, and the kind cluster of `make cluster` with
fresh namespaces and releases in it (the cluster and chaos tiers)."""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kube import CACHE, Kube, kubeconfig
from kubernetes import client
from kubernetes.client.exceptions import ApiException
from release import CONSUL_IMAGE, NamespaceFactory, Release, ReleaseFactory, image_values
from render import Manifest, render

TIERS = {"not cluster": "unit", "cluster": "cluster", "chaos": "chaos"}
STARTED = pytest.StashKey[float]()


def pytest_sessionstart(session: pytest.Session) -> None:
    session.config.stash[STARTED] = time.monotonic()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """A whole tier's wall time (`make test` runs each one whole: no -k, one tests/ folder)
    goes to $CACHE/timings.jsonl, for `make bench` to report."""
    config = session.config
    if hasattr(config, "workerinput"):  # a pytest-xdist worker: the controller times the tier
        return
    tier = TIERS.get(config.option.markexpr)
    if (
        not tier
        or config.option.keyword
        or config.option.collectonly
        or config.args != [f"tests/{tier}"]
    ):
        return
    if tier == "unit":
        tier += f"-{Path(os.environ.get('HELM', 'helm')).name}"
    entry = {
        "tier": tier,
        "seconds": round(time.monotonic() - config.stash[STARTED], 1),
        "exit": int(exitstatus),
        "tests": session.testscollected,
        "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
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
def namespace(kube: Kube) -> Iterator[str]:
    """A fresh namespace, deleted with everything in it after the test."""
    name = f"cluster-test-{uuid.uuid4().hex[:8]}"
    kube.core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    try:
        yield name
    finally:
        kube.core.delete_namespace(name)


@pytest.fixture(scope="module")
def namespace_factory(kube: Kube) -> Iterator[NamespaceFactory]:
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
        return name

    yield make
    for name in created:
        try:
            kube.core.delete_namespace(name)
        except ApiException as e:
            if e.status != 404:
                raise


@pytest.fixture(scope="module")
def release_factory(kube: Kube, consul_image: str) -> Iterator[ReleaseFactory]:
    """Installs releases with `helm install --wait` (install=False: the test installs it);
    uninstalls what is left after the module."""
    installed: list[Release] = []

    def make(name: str, namespace: str, *, install: bool = True, **values: Any) -> Release:
        release = Release(kube, name, namespace, image_values(consul_image))
        installed.append(release)
        if install:
            release.install(**values)
        return release

    yield make
    for release in installed:
        release.uninstall(check=False)
