"""Services and Ingress (server-service.yaml, ui-service.yaml, client-service.yaml,
dns-service.yaml, ui-ingress.yaml): join, UI/API, node-local agent, DNS."""

from __future__ import annotations

from typing import Any

import pytest

from harness.render import Manifest, RenderError, find, one, render


def service(name: str, values: dict[str, Any] | None = None) -> Manifest:
    return one(render(values), "Service", name)


def test_headless_join_service_publishes_unready_servers() -> None:
    spec = service("consul-server")["spec"]
    assert spec["clusterIP"] == "None"
    assert spec["publishNotReadyAddresses"] is True
    assert spec["selector"]["app.kubernetes.io/component"] == "server"
    assert {p["port"] for p in spec["ports"]} == {8300, 8301, 8500}


def test_ui_service_defaults() -> None:
    spec = service("consul-ui")["spec"]
    assert spec["type"] == "ClusterIP"
    assert spec["selector"]["app.kubernetes.io/component"] == "server"
    (port,) = spec["ports"]
    assert (port["port"], port["targetPort"]) == (80, "http")
    assert "nodePort" not in port


@pytest.mark.parametrize("kind", ["NodePort", "LoadBalancer"])
def test_ui_service_types(kind: str) -> None:
    values = {
        "ui": {
            "service": {
                "type": kind,
                "nodePort": 30850,
                "port": 8500,
                "loadBalancerSourceRanges": ["10.0.0.0/8"],
                "annotations": {"team": "platform"},
            }
        }
    }
    svc = service("consul-ui", values)
    assert svc["spec"]["type"] == kind
    assert svc["spec"]["ports"][0]["nodePort"] == 30850
    assert svc["spec"]["ports"][0]["port"] == 8500
    assert svc["metadata"]["annotations"] == {"team": "platform"}
    assert ("loadBalancerSourceRanges" in svc["spec"]) is (kind == "LoadBalancer")


def test_ui_disabled_keeps_the_api_service() -> None:
    svc = service("consul-ui", {"ui": {"enabled": False}})
    assert svc["spec"]["ports"][0]["targetPort"] == "http"


def test_ingress() -> None:
    assert not find(render(), "Ingress")
    values = {
        "ui": {
            "ingress": {
                "enabled": True,
                "className": "nginx",
                "hosts": [{"host": "consul.corp", "paths": [{"path": "/", "pathType": "Prefix"}]}],
                "tls": [{"secretName": "consul-tls", "hosts": ["consul.corp"]}],
            }
        }
    }
    ing = one(render(values), "Ingress", "consul-ui")
    assert ing["apiVersion"] == "networking.k8s.io/v1"
    assert ing["spec"]["ingressClassName"] == "nginx"
    assert ing["spec"]["tls"] == [{"secretName": "consul-tls", "hosts": ["consul.corp"]}]
    (rule,) = ing["spec"]["rules"]
    backend = rule["http"]["paths"][0]["backend"]["service"]
    assert rule["host"] == "consul.corp"
    assert backend == {"name": "consul-ui", "port": {"name": "http"}}


def test_dns_service_maps_53_to_8600_on_every_agent() -> None:
    spec = service("consul-dns")["spec"]
    assert {(p["port"], p["targetPort"], p["protocol"]) for p in spec["ports"]} == {
        (53, "dns-tcp", "TCP"),
        (53, "dns-udp", "UDP"),
    }
    # Servers and clients carry the agent label; hook and test pods do not.
    assert spec["selector"]["consul-agent"] == "true"
    assert "app.kubernetes.io/component" not in spec["selector"]
    assert "clusterIP" not in spec


def test_dns_service_options() -> None:
    assert (
        service("consul-dns", {"dns": {"clusterIP": "10.96.0.53"}})["spec"]["clusterIP"]
        == "10.96.0.53"
    )
    assert not find(render({"dns": {"enabled": False}}), "Service", "consul-dns")


def test_only_agents_carry_the_dns_selector_label() -> None:
    pods = [d for d in render() if d["kind"] == "Pod"] + [
        d["spec"]["template"] for d in render() if d["kind"] in {"StatefulSet", "DaemonSet", "Job"}
    ]
    carriers = {
        p["metadata"]["labels"]["app.kubernetes.io/component"]
        for p in pods
        if p["metadata"]["labels"].get("consul-agent") == "true"
    }
    assert carriers == {"server", "client"}


def test_node_port_needs_a_node_port_type() -> None:
    with pytest.raises(RenderError, match=r"ui\.service\.nodePort"):
        render({"ui": {"service": {"nodePort": 30850}}})
