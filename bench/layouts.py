"""The layouts the benchmarks compare, each deployed into a namespace of its own: this chart
with its defaults, the two hand-made layouts of the seed write-ups (bench/baselines/), and the
floor: the chart's own pods with `sleep` as their command, whose time to Running no Consul
layout can beat. Each one is a `Deployment` the harness's writer and leader watch work with."""

from __future__ import annotations

import copy
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from harness.kube import Kube, exec_in_pod, run, wait_for
from harness.release import Release, image_values
from harness.render import REPO, render

BASELINES = Path(__file__).parent / "baselines"
KIND_VALUES = yaml.safe_load((REPO / "hack" / "kind-values.yaml").read_text())

# Healthy as Consul sees it, asked of one server: one leader, exactly the expected servers in the
# raft configuration and all of them voters, and the expected members alive with none failed.
HEALTHY = """
cfg=$(curl -sf --max-time 2 http://127.0.0.1:8500/v1/operator/raft/configuration) || exit 1
members=$(curl -sf --max-time 2 http://127.0.0.1:8500/v1/agent/members) || exit 1
printf '%s' "$cfg" | jq -e --argjson n "$1" '(.Servers | length) == $n
  and all(.Servers[]; .Voter) and ([.Servers[] | select(.Leader)] | length) == 1' >/dev/null \\
  || exit 1
printf '%s' "$members" | jq -e --argjson m "$2" '([.[] | select(.Status == 1)] | length) == $m
  and all(.[]; .Status != 4)' >/dev/null
"""


@dataclass
class Layout:
    """A Consul layout in a namespace; subclasses say how it is deployed and named."""

    kube: Kube
    image: str
    name: str = "layout"
    servers: int = 3
    namespace: str = ""
    tls: bool = False

    def create_namespace(self) -> None:
        self.namespace = f"bench-{self.name}-{uuid.uuid4().hex[:6]}"
        self.kube.core.create_namespace(
            client.V1Namespace(metadata=client.V1ObjectMeta(name=self.namespace))
        )

    def delete_namespace(self) -> None:
        """Delete the namespace and wait until it is gone, so the next run starts on a quiet
        cluster."""
        self.kube.core.delete_namespace(self.namespace)

        def gone() -> bool:
            try:
                self.kube.core.read_namespace(self.namespace)
            except ApiException as e:
                return e.status == 404
            return False

        wait_for(gone, f"namespace {self.namespace} gone", timeout=300, interval=2)

    def deploy(self) -> None:
        raise NotImplementedError

    def members(self) -> int:
        """How many agents a healthy cluster of this layout has."""
        raise NotImplementedError

    def server_selector(self) -> str:
        raise NotImplementedError

    def service(self, component: str) -> str:
        raise NotImplementedError

    def token(self, name: str = "management") -> str:
        return ""  # no layout here turns ACLs on

    def restart_servers(self) -> None:
        """A rolling restart of every server, returning once it is done."""
        statefulset = self.server_pods()[0].rsplit("-", 1)[0]
        run(["kubectl", "-n", self.namespace, "rollout", "restart", f"statefulset/{statefulset}"])
        run(["kubectl", "-n", self.namespace, "rollout", "status", f"statefulset/{statefulset}"])

    def writer_url(self) -> str:
        """Where a writer reaches a client agent (the servers, for a layout without clients)."""
        raise NotImplementedError

    def has_clients(self) -> bool:
        return True

    def server_pods(self) -> list[str]:
        pods = self.kube.core.list_namespaced_pod(
            self.namespace, label_selector=self.server_selector()
        ).items
        return sorted(p.metadata.name for p in pods)

    def server_ips(self) -> dict[str, str]:
        """Raft address (ip:8300) → server pod."""
        pods = self.kube.core.list_namespaced_pod(
            self.namespace, label_selector=self.server_selector()
        ).items
        return {f"{p.status.pod_ip}:8300": p.metadata.name for p in pods if p.status.pod_ip}

    def healthy(self) -> bool:
        pods = self.server_pods()
        if not pods:
            return False
        args = [str(self.servers), str(self.members())]
        return (
            exec_in_pod(
                self.kube, self.namespace, pods[0], ["sh", "-c", HEALTHY, "-", *args]
            ).returncode
            == 0
        )

    def cluster_ip(self, service: str) -> str:
        return self.kube.core.read_namespaced_service(service, self.namespace).spec.cluster_ip


@dataclass
class Chart(Layout):
    """This chart with its defaults (the kind values only shrink the volumes)."""

    name: str = "chart"
    release: Release | None = None

    def deploy(self) -> None:
        self.release = Release(self.kube, "consul", self.namespace, image_values(self.image))
        self.release.install(flags=(), **KIND_VALUES)

    def members(self) -> int:
        assert self.release
        ds = self.kube.apps.read_namespaced_daemon_set(self.release.named("client"), self.namespace)
        return self.servers + (ds.status.desired_number_scheduled or 0)

    def server_selector(self) -> str:
        return "app.kubernetes.io/component=server"

    def service(self, component: str) -> str:
        assert self.release
        return self.release.service(component)

    def restart_servers(self) -> None:
        assert self.release
        self.release.upgrade(server={"podAnnotations": {"bench/restart": uuid.uuid4().hex}})

    def writer_url(self) -> str:
        return f"http://{self.cluster_ip(self.service('client'))}:8500"


@dataclass
class Manifests(Layout):
    """A hand-made layout from bench/baselines/, applied with kubectl."""

    file: str = ""
    server_label: str = ""
    ui_service: str = ""
    client_service: str = ""
    agents: int = 3

    def deploy(self) -> None:
        text = (BASELINES / self.file).read_text().replace("CONSUL_IMAGE", self.image)
        run(["kubectl", "apply", "-n", self.namespace, "-f", "-"], stdin=text)

    def members(self) -> int:
        return self.agents

    def server_selector(self) -> str:
        return self.server_label

    def service(self, component: str) -> str:
        return self.ui_service

    def writer_url(self) -> str:
        return f"http://{self.cluster_ip(self.client_service or self.ui_service)}:8500"

    def has_clients(self) -> bool:
        return bool(self.client_service)


# How each seed layout names its servers (label selector), the Service that reaches every
# server, the one that reaches client agents, and how many agents it runs.
SEEDS: dict[str, dict[str, Any]] = {
    "seed-000": {
        "server_label": "consul-role=server",
        "ui_service": "consul-server",
        "client_service": "consul-client",
        "agents": 13,
    },
    "seed-003": {"server_label": "app=consul", "ui_service": "consul-ui", "agents": 3},
}


def seed(kube: Kube, image: str, name: str) -> Manifests:
    """The layout of bench/baselines/<name>.yaml."""
    return Manifests(kube, image, name, file=f"{name}.yaml", **SEEDS[name])


@dataclass
class Floor(Layout):
    """The chart's server StatefulSet and client DaemonSet as rendered, every container running
    `sleep` instead of Consul: same pods, nodes, volumes and security, no Consul."""

    name: str = "floor"
    objects: list[dict[str, Any]] = field(default_factory=list)

    def deploy(self) -> None:
        self.objects = [
            sleeping(d) if d["kind"] in ("StatefulSet", "DaemonSet") else d
            for d in render(KIND_VALUES | image_values(self.image), namespace=self.namespace)
            if d["kind"] in ("StatefulSet", "DaemonSet", "ServiceAccount")
        ]
        run(
            ["kubectl", "apply", "-n", self.namespace, "-f", "-"],
            stdin=yaml.safe_dump_all(self.objects),
        )

    def healthy(self) -> bool:
        pods = self.kube.core.list_namespaced_pod(self.namespace).items
        running = [
            p
            for p in pods
            if p.status.phase == "Running"
            and all(c.state.running for c in p.status.container_statuses or [])
        ]
        return len(pods) == len(running) == self.members()

    def members(self) -> int:
        ds = next(d for d in self.objects if d["kind"] == "DaemonSet")
        status = self.kube.apps.read_namespaced_daemon_set(
            ds["metadata"]["name"], self.namespace
        ).status
        return self.servers + (status.desired_number_scheduled or 0)


def sleeping(workload: dict[str, Any]) -> dict[str, Any]:
    """The workload with `sleep` in every container, and without what only Consul needs: the
    probes, the preStop hook, and the ConfigMap and Secret volumes the chart's hooks fill."""
    out = copy.deepcopy(workload)
    spec = out["spec"]["template"]["spec"]
    dropped = {v["name"] for v in spec.get("volumes", []) if "emptyDir" not in v}
    spec["volumes"] = [v for v in spec.get("volumes", []) if v["name"] not in dropped]
    for c in spec["containers"]:
        c["command"], c["args"] = ["sleep", "infinity"], []
        for key in ("readinessProbe", "livenessProbe", "startupProbe", "lifecycle"):
            c.pop(key, None)
        c["volumeMounts"] = [m for m in c.get("volumeMounts", []) if m["name"] not in dropped]
    return out
