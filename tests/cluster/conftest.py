"""Fixtures of the cluster tier: the default release and ways to look at it (the fixtures for the
cluster itself are in tests/conftest.py, shared with the chaos tier)."""

from __future__ import annotations

import pytest
from consul_api import ConsulAPI
from kube import Kube, start_pod
from release import NamespaceFactory, Release, ReleaseFactory

# The modules that load the host most: the TLS migration rolls three servers three times, and
# the backup drill imports 10,000 keys, snapshots and restores. Side by side on a 2-core host
# they starved a cluster into an election (a write failed with "leadership lost while committing
# log"), so they share one xdist worker; every other module has a group of its own.
HEAVY = {"test_security.py", "test_backup.py"}


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Groups for `--dist loadgroup` (tox.ini): whole modules, as loadfile would, HEAVY as one.
    (tryfirst: xdist turns the marks into groups in its own hook of the same name.)"""
    for item in items:
        name = item.path.name
        item.add_marker(pytest.mark.xdist_group("heavy" if name in HEAVY else name))


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
