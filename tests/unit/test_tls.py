"""TLS (_tls.tpl, tls.* values): RPC verified both ways, HTTPS on 8501, HTTP off on request,
the CA's key never in a client pod, and every consumer of the API following the switch."""

from __future__ import annotations

from typing import Any

import pytest

from harness.render import (
    Manifest,
    agent_config,
    container,
    env_of,
    find,
    get,
    one,
    render,
    secret_files,
)

TLS = {"tls": {"enabled": True}}
HTTPS_ONLY = {"tls": {"enabled": True, "httpsOnly": True}}


def test_off_by_default(default_docs: tuple[Manifest, ...]) -> None:
    for component in ("server", "client"):
        config = agent_config(default_docs, component)
        assert "tls" not in config and "auto_encrypt" not in config
        assert config["ports"]["http"] == 8500 and "https" not in config["ports"]


def test_servers_verify_rpc_both_ways_and_leave_https_open_to_tools() -> None:
    config = agent_config(render(TLS), "server")
    assert config["tls"] == {
        "defaults": {
            "ca_file": "/consul/secrets/ca.crt",
            "cert_file": "/consul/secrets/server.crt",
            "key_file": "/consul/secrets/server.key",
            "verify_outgoing": True,
        },
        # verify_incoming on HTTPS would refuse probes, the UI and every tool without a client
        # certificate: it is set on internal RPC only.
        "internal_rpc": {"verify_incoming": True, "verify_server_hostname": True},
    }
    assert config["auto_encrypt"] == {"allow_tls": True}
    assert config["auto_reload_config"] is True
    assert config["ports"] == {"dns": 8600, "http": 8500, "https": 8501, "serf_lan": 8301}


def test_clients_get_their_certificate_from_the_servers() -> None:
    docs = render(TLS)
    config = agent_config(docs, "client")
    assert config["auto_encrypt"] == {"tls": True}
    assert config["tls"]["defaults"] == {
        "ca_file": "/consul/secrets/ca.crt",
        "verify_outgoing": True,
    }
    assert config["tls"]["internal_rpc"] == {"verify_server_hostname": True}
    daemonset = one(docs, "DaemonSet")
    assert secret_files(daemonset)["ca.crt"] == ("consul-ca", "tls.crt")
    keys = {key for _, key in secret_files(daemonset).values()}
    assert "tls.key" not in keys, "the CA's key (or any key) must never reach a client pod"


def test_servers_mount_their_certificate_and_only_the_ca_certificate() -> None:
    files = secret_files(one(render(TLS), "StatefulSet"))
    assert files["ca.crt"] == ("consul-ca", "tls.crt")
    assert files["server.crt"] == ("consul-server-tls", "tls.crt")
    assert files["server.key"] == ("consul-server-tls", "tls.key")
    assert ("consul-ca", "tls.key") not in files.values()


def test_the_server_certificate_names() -> None:
    job = one(render(TLS), "Job", "consul-secrets-init")
    env = env_of(container(job))
    names = env["SERVER_NAMES"].split(",")
    for service in ("consul-server", "consul-ui"):
        assert {
            service,
            f"{service}.consul-ns",
            f"{service}.consul-ns.svc",
            f"{service}.consul-ns.svc.cluster.local",
        } <= set(names)
    assert "*.consul-server.consul-ns.svc" in names and "::1" in names
    # `consul tls cert create -server` adds server.<dc>.<domain>, localhost and 127.0.0.1.
    assert (env["DATACENTER"], env["DOMAIN"]) == ("dc1", "consul")
    extra = render({"tls": {"enabled": True, "server": {"extraSANs": ["consul.example.com"]}}})
    job = one(extra, "Job", "consul-secrets-init")
    assert env_of(container(job))["SERVER_NAMES"].endswith(",consul.example.com")


def test_https_only_turns_plain_http_off_everywhere() -> None:
    docs = render(merge_networkpolicy(HTTPS_ONLY))
    assert agent_config(docs, "server")["ports"]["http"] == -1
    assert agent_config(docs, "client")["ports"]["http"] == -1
    server = container(one(docs, "StatefulSet"))
    for probe in ("startupProbe", "livenessProbe"):
        assert server[probe]["httpGet"] == {
            "path": "/v1/status/leader",
            "port": "https",
            "scheme": "HTTPS",
        }
    for name in ("consul-ui", "consul-client"):
        assert [
            p["name"] for p in one(docs, "Service", name)["spec"]["ports"] if "http" in p["name"]
        ] == ["https"]
    policy_ports = {
        p["port"] for rule in one(docs, "NetworkPolicy")["spec"]["ingress"] for p in rule["ports"]
    }
    assert 8501 in policy_ports and 8500 not in policy_ports
    backend = get(one(docs, "Ingress"), "spec.rules[0].http.paths[0].backend.service.port.name")
    assert backend == "https"
    test_env = env_of(container(one(docs, "Pod")))
    assert test_env["CONSUL_HTTP_ADDR"] == "https://consul-ui:443"
    assert test_env["CONSUL_CACERT"] == "/consul/secrets/ca.crt"


def merge_networkpolicy(values: dict[str, Any]) -> dict[str, Any]:
    return {**values, "networkPolicy": {"enabled": True}, "ui": {"ingress": {"enabled": True}}}


def test_with_http_kept_both_ports_are_served() -> None:
    docs = render(TLS)
    ports = [p["name"] for p in one(docs, "Service", "consul-ui")["spec"]["ports"]]
    assert ports == ["http", "https"]
    server = container(one(docs, "StatefulSet"))
    assert server["livenessProbe"]["httpGet"]["port"] == "http"
    assert {"name": "https", "containerPort": 8501, "protocol": "TCP"} in server["ports"]


@pytest.mark.parametrize("component", ["server", "client"])
def test_the_cli_in_agent_pods_talks_https(component: str) -> None:
    workload = one(render(TLS), "StatefulSet" if component == "server" else "DaemonSet")
    env = env_of(container(workload))
    assert env["CONSUL_HTTP_ADDR"] == "https://127.0.0.1:8501"
    if component == "server":
        assert env["CONSUL_CACERT"] == "/consul/secrets/ca.crt"
    else:
        # The client's own HTTPS certificate is signed by the Connect CA, on its loopback.
        assert env["CONSUL_HTTP_SSL_VERIFY"] == "false"


def test_user_certificates() -> None:
    values = {
        "tls": {
            "enabled": True,
            "ca": {"existingSecret": "corp-ca"},
            "server": {"existingSecret": "consul-cert"},
        }
    }
    docs = render(values)
    files = secret_files(one(docs, "StatefulSet"))
    assert files["ca.crt"] == ("corp-ca", "tls.crt")
    assert files["server.key"] == ("consul-cert", "tls.key")
    # The gossip key is still made; no certificate is, and the hook never reads the user's
    # Secrets (its Role could not).
    job = one(docs, "Job", "consul-secrets-init")
    env = set(env_of(container(job)))
    assert "GOSSIP_SECRET" in env and not env & {"CA_SECRET", "SERVER_SECRET"}
    (get,) = [r for r in one(docs, "Role", "consul-secrets-init")["rules"] if r["verbs"] == ["get"]]
    assert get["resourceNames"] == ["consul-gossip-key"]
    assert not find(docs, "Secret")


def test_service_monitor_scrapes_https_with_the_metrics_token() -> None:
    values = {
        **TLS,
        "acl": {"enabled": True},
        "metrics": {"enabled": True, "serviceMonitor": {"enabled": True}},
    }
    (endpoint,) = one(render(values), "ServiceMonitor")["spec"]["endpoints"]
    assert (endpoint["port"], endpoint["scheme"]) == ("https", "https")
    assert endpoint["tlsConfig"] == {
        "ca": {"secret": {"name": "consul-ca", "key": "tls.crt"}},
        "serverName": "server.dc1.consul",
    }
    assert endpoint["authorization"]["credentials"] == {
        "name": "consul-acl-metrics",
        "key": "token",
    }


@pytest.mark.parametrize(
    ("outgoing", "incoming"),
    [(False, False), (True, False)],
    ids=["step-1-certificates", "step-2-outgoing"],
)
def test_the_steps_that_turn_tls_on_in_a_running_release(outgoing: bool, incoming: bool) -> None:
    values = {"tls": {"enabled": True, "verifyOutgoing": outgoing, "verifyIncoming": incoming}}
    docs = render(values)
    server = agent_config(docs, "server")["tls"]
    assert server["defaults"]["verify_outgoing"] is outgoing
    assert server["internal_rpc"] == {
        "verify_incoming": incoming,
        "verify_server_hostname": outgoing,
    }
    client = agent_config(docs, "client")["tls"]
    assert client["defaults"]["verify_outgoing"] is outgoing
