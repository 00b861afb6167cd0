"""A small client of the Consul HTTP API, reached from inside the cluster.

Requests run as `curl` in a pod through the Kubernetes exec API: against the agent of that pod
(`http://127.0.0.1:8500`) or against any Service URL, so the tests see what a pod in the cluster
sees, through the same Services.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

from harness.kube import Kube, exec_in_pod

LOCAL_AGENT = "http://127.0.0.1:8500"


@dataclass(frozen=True)
class Response:
    status: int
    body: str

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class ConsulAPI:
    kube: Kube
    namespace: str
    pod: str
    base_url: str = LOCAL_AGENT
    container: str = "consul"
    # e.g. the CA (`--cacert`) and a token header, for a release with TLS or ACLs on.
    curl_args: tuple[str, ...] = ()

    def request(self, method: str, path: str, body: str | None = None) -> Response:
        cmd = ["curl", "-sS", *self.curl_args, "-X", method, "-w", "\n%{http_code}"]
        cmd.append(f"{self.base_url}{path}")
        if body is not None:
            cmd += ["--data-binary", body]
        result = exec_in_pod(self.kube, self.namespace, self.pod, cmd, self.container)
        if result.returncode != 0:
            raise ConnectionError(f"curl {method} {self.base_url}{path}: {result.stderr.strip()}")
        text, _, status = result.stdout.rpartition("\n")
        return Response(int(status), text)

    def get(self, path: str) -> Any:
        resp = self.request("GET", path)
        assert resp.status == 200, f"GET {path}: HTTP {resp.status} {resp.body}"
        return resp.json()

    def leader(self) -> str:
        return self.get("/v1/status/leader")

    def raft_servers(self) -> list[dict[str, Any]]:
        return self.get("/v1/operator/raft/configuration")["Servers"]

    def metrics(self) -> dict[str, Any]:
        """The agent's telemetry of its last complete 10-second interval (Consul's in-memory
        sink), with the interval's start as `Timestamp`."""
        return self.get("/v1/agent/metrics")

    def members(self) -> list[dict[str, Any]]:
        return self.get("/v1/agent/members")

    def kv_put(self, key: str, value: str, cas: int | None = None) -> bool:
        query = f"?cas={cas}" if cas is not None else ""
        resp = self.request("PUT", f"/v1/kv/{key}{query}", value)
        assert resp.status == 200, f"PUT {key}: HTTP {resp.status} {resp.body}"
        return resp.json() is True

    def kv_entry(self, key: str) -> dict[str, Any] | None:
        resp = self.request("GET", f"/v1/kv/{key}")
        if resp.status == 404:
            return None
        assert resp.status == 200, f"GET {key}: HTTP {resp.status} {resp.body}"
        (entry,) = resp.json()
        return entry

    def kv_get(self, key: str) -> str | None:
        entry = self.kv_entry(key)
        return None if entry is None else base64.b64decode(entry["Value"] or "").decode()

    def kv_delete(self, key: str) -> bool:
        resp = self.request("DELETE", f"/v1/kv/{key}")
        assert resp.status == 200, f"DELETE {key}: HTTP {resp.status} {resp.body}"
        return resp.json() is True

    def register_service(self, service: dict[str, Any]) -> Response:
        return self.request("PUT", "/v1/agent/service/register", json.dumps(service))

    def deregister_service(self, service_id: str) -> Response:
        return self.request("PUT", f"/v1/agent/service/deregister/{service_id}")

    def catalog_service(self, name: str) -> list[dict[str, Any]]:
        return self.get(f"/v1/catalog/service/{name}")
