"""Fixtures of the cluster tier: API access to the kind cluster of `make cluster`."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from cluster import CONSUL_IMAGE, Kube, kubeconfig
from kubernetes import client


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
