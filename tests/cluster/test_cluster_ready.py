"""Smoke tests of the local kind cluster (`make cluster`): nodes, DNS, the local Consul image."""

from __future__ import annotations

import time
import uuid

import pytest
from kubernetes import client

from harness.kube import Kube

pytestmark = pytest.mark.cluster


def run_pod(
    kube: Kube,
    namespace: str,
    image: str,
    command: list[str],
    security_context: client.V1PodSecurityContext | None = None,
    timeout: float = 180.0,
) -> tuple[str, str]:
    """Runs a one-shot pod to completion; returns its phase and logs."""
    core = kube.core
    name = f"probe-{uuid.uuid4().hex[:8]}"
    pod = client.V1Pod(
        metadata=client.V1ObjectMeta(name=name),
        spec=client.V1PodSpec(
            restart_policy="Never",
            security_context=security_context,
            containers=[
                client.V1Container(
                    name="probe", image=image, image_pull_policy="IfNotPresent", command=command
                )
            ],
        ),
    )
    core.create_namespaced_pod(namespace, pod)
    deadline = time.monotonic() + timeout
    phase = "Pending"
    while time.monotonic() < deadline:
        phase = core.read_namespaced_pod(name, namespace).status.phase
        if phase in ("Succeeded", "Failed"):
            break
        time.sleep(1)
    else:
        pytest.fail(f"pod {namespace}/{name} still {phase} after {timeout:.0f}s")
    return phase, core.read_namespaced_pod_log(name, namespace)


def test_four_nodes_are_ready(kube: Kube) -> None:
    nodes = kube.core.list_node().items
    ready = {
        node.metadata.name: any(
            c.type == "Ready" and c.status == "True" for c in node.status.conditions
        )
        for node in nodes
    }
    assert len(ready) == 4, ready
    assert all(ready.values()), ready


def test_coredns_resolves_a_service_name(kube: Kube, namespace: str, consul_image: str) -> None:
    cluster_ip = kube.core.read_namespaced_service("kubernetes", "default").spec.cluster_ip
    # getent resolves through the pod's search path, as applications do; nslookup asks CoreDNS
    # for the full name directly.
    script = "getent hosts kubernetes.default && nslookup kubernetes.default.svc.cluster.local"
    phase, logs = run_pod(kube, namespace, consul_image, ["sh", "-c", script])
    assert phase == "Succeeded", logs
    assert cluster_ip in logs, logs


def test_consul_image_runs_as_uid_100(kube: Kube, namespace: str, consul_image: str) -> None:
    version = consul_image.rpartition(":")[2]
    phase, logs = run_pod(
        kube,
        namespace,
        consul_image,
        ["sh", "-c", "id -u; id -g; touch /consul/data/probe /consul/config/probe; consul version"],
        security_context=client.V1PodSecurityContext(
            run_as_user=100, run_as_group=1000, run_as_non_root=True
        ),
    )
    assert phase == "Succeeded", logs
    uid, gid, *rest = logs.splitlines()
    assert (uid, gid) == ("100", "1000"), logs
    assert f"Consul v{version}" in rest[0], logs
