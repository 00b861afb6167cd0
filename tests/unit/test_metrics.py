"""Prometheus metrics and the ServiceMonitor (servicemonitor.yaml, _config.tpl telemetry)."""

from __future__ import annotations

from harness.render import find, one, render


def test_service_monitor() -> None:
    assert not find(render({"metrics": {"enabled": True}}), "ServiceMonitor")
    values = {
        "metrics": {
            "enabled": True,
            "serviceMonitor": {"enabled": True, "interval": "15s", "labels": {"release": "prom"}},
        }
    }
    sm = one(render(values), "ServiceMonitor", "consul-server")
    assert sm["metadata"]["labels"]["release"] == "prom"
    (endpoint,) = sm["spec"]["endpoints"]
    assert endpoint["path"] == "/v1/agent/metrics"
    assert endpoint["params"] == {"format": ["prometheus"]}
    assert endpoint["interval"] == "15s"
    assert sm["spec"]["selector"]["matchLabels"]["app.kubernetes.io/component"] == "server"
