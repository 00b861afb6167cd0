"""A Consul version upgrade with TLS and ACLs on, in the order of Consul's upgrade guide: from
the older patch release (CONSUL_PREVIOUS_VERSION, built by hack/previous-consul.sh) to the
chart's, servers first and one at a time (server.updatePartition stepped down), the clients
held back meanwhile (client.updateStrategy OnDelete), then the clients."""

from __future__ import annotations

import os

import pytest

from harness.kube import wait_for
from harness.release import Release, image_values
from harness.render import REPO
from harness.scenario import Chaos, ChaosFactory

pytestmark = pytest.mark.chaos


def previous_image() -> str:
    """CONSUL_PREVIOUS_IMAGE as given to `make previous-consul`, else the one it builds."""
    if image := os.environ.get("CONSUL_PREVIOUS_IMAGE"):
        return image
    pins = dict(
        line.split("=", 1)
        for line in (REPO / "hack" / "versions.env").read_text().splitlines()
        if line and not line.startswith("#")
    )
    return f"hashicorp/consul:{pins['CONSUL_PREVIOUS_VERSION']}"


def versions(release: Release) -> dict[str, str]:
    """Member name -> the Consul version it runs (as gossip reports it)."""
    return {m["Name"]: m["Tags"]["build"].split(":")[0] for m in release.api("server").members()}


@pytest.fixture(scope="module")
def chaos(chaos_factory: ChaosFactory) -> Chaos:
    return chaos_factory("upgrade", **image_values(previous_image()))


def test_servers_first_then_clients(chaos: Chaos, consul_image: str) -> None:
    release = chaos.release
    old, new = previous_image().rpartition(":")[2], consul_image.rpartition(":")[2]
    assert old != new and set(versions(release).values()) == {old}
    servers = [release.server_pod(i) for i in range(3)]
    with chaos.measure(f"Consul {old} -> {new}, servers first") as m:
        release.upgrade(
            **image_values(consul_image),
            server={"updatePartition": 3},
            client={"updateStrategy": "OnDelete"},
        )
        for partition in (2, 1, 0):
            release.upgrade(server={"updatePartition": partition})
            # Only the servers at or above the partition run the new version; every client the old.
            expected = {s: new if i >= partition else old for i, s in enumerate(servers)}
            wait_for(
                lambda: versions(release) == {**dict.fromkeys(versions(release), old), **expected},  # noqa: B023
                f"servers {partition}+ on {new}, the rest on {old}",
                timeout=60,
            )
        release.upgrade(client={"updateStrategy": "RollingUpdate"})
    assert set(versions(release).values()) == {new}
    assert m.row.lost == 0
    assert m.row.elections <= len(servers), m.watch.leaders()
