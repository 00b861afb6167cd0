"""Fixtures of the cluster tier: the default release and ways to look at it (the fixtures for the
cluster itself are in tests/conftest.py, shared with the chaos tier)."""

from __future__ import annotations

import pytest
from consul_api import ConsulAPI
from kube import Kube, start_pod
from release import NamespaceFactory, Release, ReleaseFactory


@pytest.fixture(scope="module")
def release(namespace_factory: NamespaceFactory, release_factory: ReleaseFactory) -> Release:
    """The chart with its default values in a fresh namespace: what a user gets."""
    return release_factory("consul", namespace_factory("default-install"))


@pytest.fixture(scope="module")
def toolbox(kube: Kube, release: Release, consul_image: str) -> str:
    """A separate pod (curl, nslookup, consul CLI) to look at the release from."""
    return start_pod(kube, release.namespace, "toolbox", consul_image)


@pytest.fixture(scope="module")
def via_client(release: Release) -> ConsulAPI:
    """The HTTP API of a client agent, from inside its own pod."""
    return release.api("client")


@pytest.fixture(scope="module")
def via_ui(kube: Kube, release: Release, toolbox: str) -> ConsulAPI:
    """The HTTP API through the UI Service, from a separate pod."""
    return ConsulAPI(kube, release.namespace, toolbox, f"http://{release.service('ui')}")
