"""One helm release of the chart in the kind cluster: installed, upgraded and tested with the
real helm, its objects named as the chart itself names them (overrides respected), and its
agents' HTTP API at hand."""

from __future__ import annotations

import base64
import json
import re
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import yaml
from kubernetes import client

from harness.consul_api import LOCAL_AGENT, ConsulAPI
from harness.kube import Kube, exec_in_pod, run, start_pod, wait_for
from harness.render import CHART, Manifest, helm, merge_values, render, secret_files

# Where an agent keeps its gossip keyrings (its data dir's serf/), rewritten at every change.
KEYRING_FILES = {"lan": "local.keyring", "wan": "remote.keyring"}
# api_in's `ca` for an HTTPS certificate not to check (a client agent's, from auto-encrypt).
UNCHECKED = "-k"
# The image the chart deploys by default; toolbox pods use it too (curl, nslookup, consul).
CONSUL_IMAGE = (
    f"hashicorp/consul:{yaml.safe_load((CHART / 'Chart.yaml').read_text())['appVersion']}"
)


@dataclass
class Release:
    """One helm release of the chart; `values` are those of its last successful deploy."""

    kube: Kube
    name: str
    namespace: str
    values: dict[str, Any] = field(default_factory=dict)
    # The helm that installs, upgrades, rolls back and tests it (the tier's own by default).
    helm: str = field(default_factory=helm)

    def manifests(self) -> tuple[Manifest, ...]:
        """What the chart renders for this release's values (no cluster: `lookup` sees nothing)."""
        return render(self.values, release=self.name, namespace=self.namespace)

    def name_of(self, kind: str, component: str) -> str:
        """The name the chart gives the object of a kind and component (overrides respected)."""
        (name,) = [
            d["metadata"]["name"]
            for d in self.manifests()
            if d["kind"] == kind
            and d["metadata"]["labels"].get("app.kubernetes.io/component") == component
        ]
        return name

    def service(self, component: str) -> str:
        """The Service of a component: server (headless), ui, dns or client (node-local)."""
        return self.name_of("Service", component)

    @property
    def fullname(self) -> str:
        """The chart's name prefix for this release's objects."""
        return self.statefulset.removesuffix("-server")

    def named(self, suffix: str) -> str:
        """The name the chart gives one of the release's objects: `<fullname>-<suffix>`, e.g.
        "backup" (the CronJob), "autopilot" (a Job), "server-tls" (a Secret)."""
        return f"{self.fullname}-{suffix}"

    @property
    def statefulset(self) -> str:
        return self.name_of("StatefulSet", "server")

    def server_pod(self, ordinal: int) -> str:
        return f"{self.statefulset}-{ordinal}"

    def server_shell(self, script: str, ordinal: int = 0) -> str:
        """A shell script in a server, its consul CLI set up (the CA, the management token)."""
        result = exec_in_pod(
            self.kube, self.namespace, self.server_pod(ordinal), ["sh", "-ec", script]
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    @property
    def image(self) -> str:
        """The Consul image the servers run; toolbox, watch and writer pods use it too."""
        return self.pods("server")[0].spec.containers[0].image

    def gossip_secret(self) -> str:
        """The Secret the agents read their gossip key from."""
        sts = next(d for d in self.manifests() if d["kind"] == "StatefulSet")
        return secret_files(sts)["gossip-key"][0]

    def gossip_key(self) -> str:
        """The gossip key in the release's Secret (made by the chart's secrets-init hook)."""
        return self._decoded(self.gossip_secret(), "key")

    def _selector(self, component: str) -> str:
        return f"app.kubernetes.io/instance={self.name},app.kubernetes.io/component={component}"

    def pods(self, component: str) -> list[client.V1Pod]:
        selector = self._selector(component)
        pods = self.kube.core.list_namespaced_pod(self.namespace, label_selector=selector).items
        return sorted(pods, key=lambda p: p.metadata.name)

    def job(self, component: str) -> client.V1Job:
        """The one Job of a component (acl-init, named by a hash of its spec)."""
        selector = self._selector(component)
        (job,) = self.kube.batch.list_namespaced_job(self.namespace, label_selector=selector).items
        return job

    def keyrings(self) -> dict[str, dict[str, list[str]]]:
        """Pod name -> pool ("lan"; "wan" on servers) -> the keys that agent holds, its primary
        first, as it wrote them to its data dir. Read from each agent itself: the keyring API's
        listing is a query to every member that fails whole when one answer misses its deadline
        (HTTP 500, "5/6 nodes reported success"), as a busy machine sees about once a run."""
        rings: dict[str, dict[str, list[str]]] = {}
        for component in ("server", "client"):
            pools = KEYRING_FILES if component == "server" else {"lan": KEYRING_FILES["lan"]}
            for pod in self.pods(component):
                name = pod.metadata.name
                rings[name] = {}
                for pool, file in pools.items():
                    cmd = ["cat", f"/consul/data/serf/{file}"]
                    result = exec_in_pod(self.kube, self.namespace, name, cmd, "consul")
                    assert result.returncode == 0, f"{name}: {result.stderr}"
                    rings[name][pool] = json.loads(result.stdout)
        return rings

    def incarnations(self, component: str) -> dict[str, tuple[str, int]]:
        """Pod name -> (UID, restarts of all its containers): changes when a pod of the
        component is replaced or any of its containers restarts."""
        return {
            p.metadata.name: (
                p.metadata.uid,
                sum(c.restart_count for c in p.status.container_statuses),
            )
            for p in self.pods(component)
        }

    def api(self, component: str, index: int = 0) -> ConsulAPI:
        """The HTTP API of an agent, from inside its own pod (pods sorted by name), over
        HTTPS with TLS on and with the management token with ACLs on."""
        pod = self.pods(component)[index].metadata.name
        if not self.tls:
            return self.api_in(pod, token="management")
        # A client's HTTPS certificate comes from auto-encrypt (the Connect CA), not the CA.
        ca = "/consul/secrets/ca.crt" if component == "server" else UNCHECKED
        return self.api_in(pod, "https://127.0.0.1:8501", ca=ca, token="management")

    def api_in(
        self, pod: str, url: str = LOCAL_AGENT, *, ca: str = "", token: str = ""
    ) -> ConsulAPI:
        """The HTTP API at `url` (the pod's own agent over plain HTTP unless given), through
        curl in `pod` of the release's namespace: `ca` is the CA file in that pod that HTTPS is
        checked with (UNCHECKED: not checked), `token` the name of the chart's ACL token to
        present ("management", "metrics", ...; none with ACLs off, or when not given)."""
        args = ("-k",) if ca == UNCHECKED else ("--cacert", ca) if ca else ()
        if token:
            args += self.token_args(token)
        return ConsulAPI(self.kube, self.namespace, pod, url, curl_args=args)

    @property
    def tls(self) -> bool:
        return bool(self.values.get("tls", {}).get("enabled"))

    def secret_value(self, component: str, key: str) -> str:
        """One entry of a Secret the chart made, e.g. ("acl-management", "token")."""
        return self._decoded(self.named(component), key)

    def _decoded(self, secret: str, key: str) -> str:
        data = self.kube.core.read_namespaced_secret(secret, self.namespace).data
        return base64.b64decode(data[key]).decode()

    def token(self, name: str = "management") -> str:
        """One of the chart's ACL tokens; "" with ACLs off (Consul then takes no token)."""
        if not self.values.get("acl", {}).get("enabled"):
            return ""
        return self.secret_value(f"acl-{name}", "token")

    def token_args(self, token: str = "management") -> tuple[str, ...]:
        """curl arguments presenting one of the chart's ACL tokens; none with ACLs off."""
        secret = self.token(token)
        return ("-H", f"X-Consul-Token: {secret}") if secret else ()

    def install(
        self, check: bool = True, flags: Sequence[str] = ("--wait",), **overrides: Any
    ) -> subprocess.CompletedProcess[str]:
        """`helm install --wait`; `flags` replaces `--wait` (e.g. `--no-hooks`)."""
        return self._deploy("install", overrides, check, flags)

    def upgrade(
        self, check: bool = True, chart: Path = CHART, **overrides: Any
    ) -> subprocess.CompletedProcess[str]:
        """`helm upgrade --wait` (to `chart`, this one unless given); with check=False a refused
        upgrade is returned, not raised."""
        return self._deploy("upgrade", overrides, check, chart=chart)

    def _deploy(
        self,
        verb: str,
        overrides: dict[str, Any],
        check: bool = True,
        flags: Sequence[str] = ("--wait",),
        chart: Path = CHART,
    ) -> subprocess.CompletedProcess[str]:
        values = merge_values(self.values, overrides)
        cmd = [self.helm, verb, self.name, str(chart), "--namespace", self.namespace]
        cmd += ["--create-namespace", "--timeout", "10m", *flags, "--values", "-"]
        proc = run(cmd, stdin=yaml.safe_dump(values), check=check)
        if proc.returncode == 0:
            self.values = values
        return proc

    def rollback(self, revision: int, check: bool = True) -> subprocess.CompletedProcess[str]:
        """`helm rollback --wait` to a revision; `values` become that revision's."""
        cmd = [self.helm, "rollback", self.name, str(revision), "--namespace", self.namespace]
        proc = run([*cmd, "--wait", "--timeout", "10m"], check=check, timeout=900)
        if proc.returncode == 0:
            self.values = self._helm_json("get", "values") or {}
        return proc

    @property
    def revision(self) -> int:
        """The release's current revision, as `helm status` gives it."""
        return int(self._helm_json("status")["version"])

    def _helm_json(self, *verb: str) -> Any:
        cmd = [self.helm, *verb, self.name, "--namespace", self.namespace, "--output", "json"]
        return json.loads(run(cmd).stdout)

    def assert_helm_test_passes(self) -> None:
        """`helm test` passes, and its pod got as far as its last step, the KV round trip (a pod
        that exits 0 early would pass `helm test` alone)."""
        out = run(
            [self.helm, "test", self.name, "--namespace", self.namespace, "--logs"], timeout=300
        )
        # helm 3 prints the pod's log on stdout, helm 4 on stderr.
        assert "KV round trip ok" in out.stdout + out.stderr, out.stdout + out.stderr

    def uninstall(self, check: bool = True) -> subprocess.CompletedProcess[str]:
        return run(
            [self.helm, "uninstall", self.name, "--namespace", self.namespace, "--wait"],
            timeout=600,
            check=check,
        )

    def wait_until_agents_gone(self) -> None:
        """After an uninstall: the old server and client pods have finished leaving. (A
        reinstall while they were still terminating once found no leader in 10 minutes.)"""
        selector = (
            f"app.kubernetes.io/instance={self.name},app.kubernetes.io/component in (server,client)"
        )
        wait_for(
            lambda: (
                not self.kube.core.list_namespaced_pod(
                    self.namespace, label_selector=selector
                ).items
            ),
            "the old agents to go",
            timeout=180,
        )


def assert_no_rpc_without_a_certificate(release: Release, image: str) -> None:
    """An agent that holds the gossip key but no certificate sees the servers through gossip,
    and they refuse its RPC: only the missing certificate keeps it out."""
    kube = release.kube
    key = release.gossip_key()
    join = f"{release.service('server')}.{release.namespace}.svc"
    agent = [
        "consul", "agent", "-data-dir=/tmp/data", "-node=no-cert", "-bind=$(POD_IP)",
        f"-retry-join={join}", "-encrypt=$(KEY)", "-client=127.0.0.1",
    ]  # fmt: skip
    env = [
        {"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
        {"name": "KEY", "value": key},
    ]
    start_pod(kube, release.namespace, "no-cert", image, agent, env)
    intruder = release.api_in("no-cert")
    wait_for(
        lambda: any(m["Tags"]["role"] == "consul" for m in intruder.members()),
        "the agent without a certificate to see the servers through gossip",
        timeout=90,
    )
    resp = intruder.request("GET", "/v1/catalog/nodes")
    assert resp.status == 500, f"RPC without a certificate answered {resp.status}: {resp.body}"
    ip = kube.core.read_namespaced_pod("no-cert", release.namespace).status.pod_ip
    logs = "".join(
        kube.core.read_namespaced_pod_log(p.metadata.name, release.namespace)
        for p in release.pods("server")
    )
    assert re.search(rf"Non-TLS connection attempted.*from={re.escape(ip)}:", logs), (
        "the servers did not refuse the plain RPC connection"
    )
    kube.core.delete_namespaced_pod("no-cert", release.namespace, grace_period_seconds=0)


def image_values(image: str) -> dict[str, dict[str, str]]:
    """The chart's image values for an image reference `repository:tag`."""
    repository, _, tag = image.rpartition(":")
    return {"image": {"repository": repository, "tag": tag}}


class NamespaceFactory(Protocol):
    """The namespace_factory fixture (harness/plugin.py): a fresh namespace named after
    `prefix`, enforcing a Pod Security level; deleted after the module."""

    def __call__(self, prefix: str, pod_security: str = "restricted") -> str: ...


class ReleaseFactory(Protocol):
    """The release_factory fixture (harness/plugin.py): a release of the chart in `namespace`
    with `values`, installed with `helm install --wait` unless install=False (with `helm`, a helm
    binary, if given); uninstalled after the module."""

    def __call__(
        self,
        name: str,
        namespace: str,
        *,
        install: bool = True,
        helm: str | None = None,
        **values: Any,
    ) -> Release: ...
