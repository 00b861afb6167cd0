"""The chart's NetworkPolicy, enforced by the test cluster's policy agent (hack/
kube-network-policies.yaml): from a pod outside the allowed set nothing of Consul answers; an
allowed pod reaches the API on 8500 and 8501 and DNS, never RPC or gossip; the release's own
agents, `helm test` and DNS keep working."""

from __future__ import annotations

import pytest

from harness.kube import Kube, exec_in_pod, start_pod
from harness.release import NamespaceFactory, Release, ReleaseFactory
from harness.render import ci_values

pytestmark = pytest.mark.cluster

# chart/ci's NetworkPolicy case, whose `helm test` runs here; its first API client is a pod label.
VALUES = ci_values("network-policy")
ALLOWED = VALUES["networkPolicy"]["apiClients"][0]["podSelector"]["matchLabels"][
    "app.kubernetes.io/name"
]
# curl's exit codes: 28 a connection that timed out (the policy drops its packets), 0 an answer.
DROPPED, ANSWERED = 28, 0


@pytest.fixture(scope="module")
def guarded(namespace_factory: NamespaceFactory, release_factory: ReleaseFactory) -> Release:
    return release_factory("guarded", namespace_factory("netpol"), **VALUES)


@pytest.fixture(scope="module")
def pods(kube: Kube, guarded: Release, consul_image: str) -> dict[str, str]:
    """The allowed API client and a pod of the same namespace that the policy does not name."""
    return {
        name: start_pod(kube, guarded.namespace, name, consul_image)
        for name in (ALLOWED, "bystander")
    }


def reach(kube: Kube, release: Release, pod: str, url: str) -> int:
    """curl's exit code for one request from a pod: 28 when the connection timed out."""
    cmd = ["curl", "-sk", "-o", "/dev/null", "--connect-timeout", "3", "--max-time", "5", url]
    return exec_in_pod(kube, release.namespace, pod, cmd).returncode


@pytest.mark.parametrize(
    ("pod", "port", "scheme", "expected"),
    [
        ("bystander", 8500, "http", DROPPED),
        ("bystander", 8501, "https", DROPPED),
        ("bystander", 8300, "http", DROPPED),
        ("bystander", 8301, "http", DROPPED),
        (ALLOWED, 8500, "http", ANSWERED),
        (ALLOWED, 8501, "https", ANSWERED),
        (ALLOWED, 8300, "http", DROPPED),
        (ALLOWED, 8301, "http", DROPPED),
    ],
)
def test_who_reaches_which_port_of_a_server(
    kube: Kube,
    guarded: Release,
    pods: dict[str, str],
    pod: str,
    port: int,
    scheme: str,
    expected: int,
) -> None:
    ip = guarded.pods("server")[0].status.pod_ip
    path = "/v1/status/leader" if port in (8500, 8501) else "/"
    code = reach(kube, guarded, pods[pod], f"{scheme}://{ip}:{port}{path}")
    if expected == DROPPED:
        assert code == DROPPED, f"{pod} -> {port}: curl exit {code}, expected the policy to drop it"
    else:
        assert code == ANSWERED, f"{pod} -> {port}: curl exit {code}, expected an answer"


@pytest.mark.parametrize(("pod", "answers"), [(ALLOWED, True), ("bystander", False)])
def test_dns_only_for_allowed_pods(
    kube: Kube, guarded: Release, pods: dict[str, str], pod: str, answers: bool
) -> None:
    dns_ip = kube.core.read_namespaced_service(
        guarded.service("dns"), guarded.namespace
    ).spec.cluster_ip
    cmd = ["timeout", "10", "nslookup", "consul.service.consul", dns_ip]
    result = exec_in_pod(kube, guarded.namespace, pods[pod], cmd)
    assert (result.returncode == 0) == answers, result.stdout + result.stderr


def test_the_agents_gossip_behind_their_policy(guarded: Release) -> None:
    members = guarded.api("server").members()
    assert all(m["Status"] == 1 for m in members)
    assert len(members) == 3 + len(guarded.pods("client"))


def test_helm_test_passes(guarded: Release) -> None:
    # The chart's own test pod is let in.
    guarded.assert_helm_test_passes()
