"""The Kubernetes side of the cluster tier: API clients for the kind cluster of `make cluster`,
pod exec, CLI runs with the built tools, polling, and toolbox pods."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from kubernetes import client, config
from kubernetes.stream import stream

from harness.render import REPO

T = TypeVar("T")

CACHE = Path(
    os.environ.get("CONSUL_CHART_CACHE")
    or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "consul-chart"
)


def kubeconfig() -> str:
    """$KUBECONFIG if set, else the one `make cluster` writes."""
    return os.environ.get("KUBECONFIG") or str(CACHE / "kubeconfig")


def tools_env() -> dict[str, str]:
    """Environment for helm/kubectl/testinfra: the cluster's kubeconfig, the built tools first."""
    return {
        **os.environ,
        "KUBECONFIG": kubeconfig(),
        "PATH": f"{REPO / '.tools' / 'bin'}{os.pathsep}{os.environ['PATH']}",
    }


@dataclass(frozen=True)
class Kube:
    """Typed Kubernetes API clients for one kubeconfig."""

    core: client.CoreV1Api
    apps: client.AppsV1Api
    discovery: client.DiscoveryV1Api
    policy: client.PolicyV1Api
    rbac: client.RbacAuthorizationV1Api
    batch: client.BatchV1Api

    @classmethod
    def connect(cls) -> Kube:
        api = config.new_client_from_config(config_file=kubeconfig())
        return cls(
            core=client.CoreV1Api(api),
            apps=client.AppsV1Api(api),
            discovery=client.DiscoveryV1Api(api),
            policy=client.PolicyV1Api(api),
            rbac=client.RbacAuthorizationV1Api(api),
            batch=client.BatchV1Api(api),
        )


@dataclass(frozen=True)
class ExecResult:
    returncode: int
    stdout: str
    stderr: str


def exec_in_pod(
    kube: Kube, namespace: str, pod: str, command: Sequence[str], container: str = "consul"
) -> ExecResult:
    """Run a command in a container through the API server (what `kubectl exec` does)."""
    resp = stream(
        kube.core.connect_get_namespaced_pod_exec,
        pod,
        namespace,
        container=container,
        command=list(command),
        stdin=False,
        stdout=True,
        stderr=True,
        tty=False,
        _preload_content=False,
    )
    out: list[str] = []
    err: list[str] = []
    while True:
        is_open = resp.is_open()
        if is_open:
            resp.update(timeout=5)
        # Output that came with the close is still buffered: read it before leaving.
        if resp.peek_stdout():
            out.append(resp.read_stdout())
        if resp.peek_stderr():
            err.append(resp.read_stderr())
        if not is_open:
            break
    resp.close()
    try:
        code = resp.returncode or 0
    except ValueError as e:
        # The client reads a failure to start (e.g. "container not found") as an exit code.
        return ExecResult(-1, "".join(out), f"{''.join(err)}{e}")
    return ExecResult(code, "".join(out), "".join(err))


def wait_for(
    probe: Callable[[], T | None], what: str, timeout: float = 300, interval: float = 3
) -> T:
    """Poll until `probe` returns something truthy; fail naming `what` on timeout."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = probe()
        except Exception as e:  # the API or the pod is still coming up
            last = e
        if last and not isinstance(last, Exception):
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what} (last: {last!r})")


def run(
    cmd: Sequence[str], *, stdin: str | None = None, timeout: float = 900, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run a CLI against the cluster; on failure the assertion carries its whole output."""
    proc = subprocess.run(
        list(cmd),
        input=stdin,
        env=tools_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
        )
    return proc


def worker_nodes(kube: Kube) -> list[str]:
    """Nodes a pod without tolerations lands on (no NoSchedule taint), sorted by name."""
    return sorted(
        n.metadata.name
        for n in kube.core.list_node().items
        if not any(t.effect == "NoSchedule" for t in n.spec.taints or [])
    )


def start_pod(
    kube: Kube,
    namespace: str,
    name: str,
    image: str,
    command: Sequence[str] = ("sleep", "3600"),
    env: Sequence[dict[str, Any]] = (),
    node: str | None = None,
) -> str:
    """Start a plain non-root pod (e.g. a toolbox with curl, nslookup and the consul CLI),
    on `node` if given."""
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {"app.kubernetes.io/name": name}},
        "spec": {
            "restartPolicy": "Never",
            "terminationGracePeriodSeconds": 1,
            # Admitted in a namespace that enforces the `restricted` Pod Security level.
            "securityContext": {
                "runAsNonRoot": True,
                "runAsUser": 100,
                "runAsGroup": 1000,
                "seccompProfile": {"type": "RuntimeDefault"},
            },
            "containers": [
                {
                    "name": "consul",
                    "image": image,
                    "imagePullPolicy": "IfNotPresent",
                    "command": list(command),
                    "env": list(env),
                    # Not BestEffort: its CPU weight would be a fiftieth of a server's, and the
                    # instruments' rounds and writes would stall behind the load they measure.
                    "resources": {"requests": {"cpu": "100m", "memory": "32Mi"}},
                    "securityContext": {
                        "allowPrivilegeEscalation": False,
                        "capabilities": {"drop": ["ALL"]},
                    },
                }
            ],
        },
    }
    if node:
        pod["spec"]["nodeName"] = node
    kube.core.create_namespaced_pod(namespace, pod)
    wait_for(
        lambda: kube.core.read_namespaced_pod(name, namespace).status.phase == "Running",
        f"pod {namespace}/{name} running",
        timeout=120,
    )
    return name
