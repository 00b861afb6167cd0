"""Agent configuration (_config.tpl, server-configmap.yaml, client-configmap.yaml) and the
checksums that roll pods when it changes."""

from __future__ import annotations

from typing import Any

import pytest

from harness.render import agent_config, container, env_of, get, one, render


def config_of(component: str, values: dict[str, Any] | None = None) -> dict[str, Any]:
    return agent_config(render(values), component)


def checksum(kind: str, name: str, values: dict[str, Any] | None = None) -> str:
    return get(
        one(render(values), kind, name), 'spec.template.metadata.annotations."checksum/config"'
    )


@pytest.mark.parametrize("component", ["server", "client"])
def test_production_defaults(component: str) -> None:
    config = config_of(component)
    assert config["datacenter"] == "dc1"
    assert config["domain"] == "consul"
    assert config["disable_update_check"] is True
    assert "recursors" not in config
    assert config["client_addr"] == "0.0.0.0"
    assert config["ports"]["http"] == 8500
    assert config["ports"]["dns"] == 8600
    assert config["server"] is (component == "server")
    assert "telemetry" not in config
    assert "encrypt" not in config, "the gossip key must never be in a ConfigMap"


@pytest.mark.parametrize("component", ["server", "client"])
def test_consul_settings(component: str) -> None:
    values = {
        "consul": {
            "datacenter": "eu-west",
            "domain": "corp",
            "recursors": ["10.0.0.10", "10.0.0.11"],
            "logLevel": "debug",
            "logJson": True,
        }
    }
    config = config_of(component, values)
    assert config["datacenter"] == "eu-west"
    assert config["domain"] == "corp"
    assert config["recursors"] == ["10.0.0.10", "10.0.0.11"]
    assert config["log_level"] == "debug"
    assert config["log_json"] is True


@pytest.mark.parametrize("component", ["server", "client"])
def test_extra_config_is_merged_deeply(component: str) -> None:
    extra = {
        "ports": {"grpc": 8502},
        "limits": {"http_max_conns_per_client": 500},
        "log_level": "warn",
    }
    config = config_of(component, {component: {"extraConfig": extra}})
    assert config["ports"] == {"http": 8500, "dns": 8600, "serf_lan": 8301, "grpc": 8502}
    assert config["limits"] == {"http_max_conns_per_client": 500}
    assert config["log_level"] == "warn"


@pytest.mark.parametrize("component", ["server", "client"])
def test_prometheus_telemetry(component: str) -> None:
    config = config_of(component, {"metrics": {"enabled": True, "retentionTime": "5m"}})
    assert config["telemetry"] == {"prometheus_retention_time": "5m", "disable_hostname": True}


@pytest.mark.parametrize(("enabled", "expected"), [(True, True), (False, False)])
def test_ui_switch_only_changes_the_ui(enabled: bool, expected: bool) -> None:
    values = {"ui": {"enabled": enabled}}
    assert config_of("server", values)["ui_config"] == {"enabled": expected}
    assert config_of("client", values)["ui_config"] == {"enabled": False}
    assert config_of("server", values)["client_addr"] == "0.0.0.0"


def test_a_server_only_change_never_restarts_clients() -> None:
    changed = {"server": {"extraConfig": {"raft_snapshot_threshold": 16384}}}
    assert checksum("StatefulSet", "consul-server", changed) != checksum(
        "StatefulSet", "consul-server"
    )
    assert checksum("DaemonSet", "consul-client", changed) == checksum("DaemonSet", "consul-client")


def test_a_shared_change_rolls_both() -> None:
    changed = {"consul": {"logLevel": "debug"}}
    assert checksum("StatefulSet", "consul-server", changed) != checksum(
        "StatefulSet", "consul-server"
    )
    assert checksum("DaemonSet", "consul-client", changed) != checksum("DaemonSet", "consul-client")


def test_scaling_servers_does_not_restart_clients() -> None:
    scaled = {"server": {"replicas": 5}}
    before = one(render(), "DaemonSet", "consul-client")["spec"]["template"]
    after = one(render(scaled), "DaemonSet", "consul-client")["spec"]["template"]
    assert after == before


@pytest.mark.parametrize(
    ("component", "kind"), [("server", "StatefulSet"), ("client", "DaemonSet")]
)
def test_the_go_runtime_knows_the_memory_limit(component: str, kind: str) -> None:
    env = env_of(container(one(render(), kind), "consul"))
    limit = {"resourceFieldRef": {"containerName": "consul", "resource": "limits.memory"}}
    assert env["GOMEMLIMIT"] == limit
    # Without a limit the field would be the node's memory: no GOMEMLIMIT then.
    unlimited = render({component: {"resources": {"limits": None}}})
    assert "GOMEMLIMIT" not in env_of(container(one(unlimited, kind), "consul"))
