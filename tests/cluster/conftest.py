"""Fixtures of the cluster tier: the default release and ways to look at it (the fixtures for the
cluster itself are in the harness' pytest plugin, harness/plugin.py, shared by every tier)."""

from __future__ import annotations

from pathlib import Path

import pytest
from xdist.scheduler import LoadFileScheduling

from harness.consul_api import ConsulAPI
from harness.kube import Kube, start_pod
from harness.release import NamespaceFactory, Release, ReleaseFactory
from harness.render import ci_values

# The modules that load the host most: the security module upgrades and reinstalls a TLS and ACL
# release and installs two more, and the backup drill imports 10,000 keys, snapshots and
# restores. Side by side on a 2-core host they starved a cluster into an election (a write failed
# with "leadership lost while committing log"), so they share one xdist worker; every other
# module is a scope of its own, as `--dist loadfile` makes it. (xdist's own loadgroup does
# nothing under pytest 9: it renames `item._nodeid`, which pytest no longer reads.)
HEAVY = {"test_security.py", "test_backup.py"}


class HeavyModulesTogether(LoadFileScheduling):
    def _split_scope(self, nodeid: str) -> str:
        scope = super()._split_scope(nodeid)
        return "heavy" if Path(scope).name in HEAVY else scope


def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> HeavyModulesTogether:
    return HeavyModulesTogether(config, log)


@pytest.fixture(scope="module")
def release(namespace_factory: NamespaceFactory, release_factory: ReleaseFactory) -> Release:
    """The chart with its default values in a fresh namespace: what a user gets (chart/ci's
    default case, which test_default_install.py runs `helm test` on)."""
    return release_factory("consul", namespace_factory("default-install"), **ci_values("default"))


@pytest.fixture(scope="module")
def toolbox(kube: Kube, release: Release, consul_image: str) -> str:
    """A separate pod (curl, nslookup, consul CLI) to look at the release from."""
    return start_pod(kube, release.namespace, "toolbox", consul_image)


@pytest.fixture(scope="module")
def via_client(release: Release) -> ConsulAPI:
    """The HTTP API of a client agent, from inside its own pod."""
    return release.api("client")


@pytest.fixture(scope="module")
def via_ui(release: Release, toolbox: str) -> ConsulAPI:
    """The HTTP API through the UI Service, from a separate pod."""
    return release.api_in(toolbox, f"http://{release.service('ui')}")
