"""TLS and ACLs on together, HTTPS only, in a namespace that enforces the `restricted` Pod
Security level: each security property as a user (or an intruder) in the cluster meets it."""

from __future__ import annotations

import re
import time

import pytest

from harness.consul_api import ConsulAPI
from harness.kube import Kube, exec_in_pod, start_pod, wait_for, worker_nodes
from harness.leader_watch import LeaderWatch
from harness.release import (
    NamespaceFactory,
    Release,
    ReleaseFactory,
    assert_no_rpc_without_a_certificate,
)
from harness.render import ci_values

pytestmark = pytest.mark.cluster

# Production security: chart/ci's case, which this module's helm test covers.
SECURE = ci_values("tls-acls-https-only")
CA_FILE = "/tmp/ca.crt"


@pytest.fixture(scope="module")
def secure(namespace_factory: NamespaceFactory, release_factory: ReleaseFactory) -> Release:
    return release_factory("sec", namespace_factory("secure", "restricted"), **SECURE)


@pytest.fixture(scope="module")
def outsider(kube: Kube, secure: Release, consul_image: str) -> str:
    """A pod of the namespace that holds only the CA certificate (what any app may have)."""
    pod = start_pod(kube, secure.namespace, "outsider", consul_image)
    ca = secure.secret_value("ca", "tls.crt")
    write = ["sh", "-c", f"printf %s '{ca}' > {CA_FILE}"]
    assert exec_in_pod(kube, secure.namespace, pod, write).returncode == 0
    return pod


def ui_api(release: Release, pod: str, token: str = "") -> ConsulAPI:
    """The API through the UI Service from `pod`, checked with the CA it holds, presenting one
    of the chart's tokens (by name) or none."""
    url = f"https://{release.service('ui')}.{release.namespace}.svc:443"
    return release.api_in(pod, url, ca=CA_FILE, token=token)


def curl_exit(kube: Kube, release: Release, pod: str, *args: str) -> int:
    return exec_in_pod(
        kube, release.namespace, pod, ["curl", "-sS", "-o", "/dev/null", *args]
    ).returncode


def served_certificate(kube: Kube, release: Release, pod: str, host: str) -> str:
    """The certificate a server presents on 8501 as curl reports it (subject, serial, names)."""
    cmd = ["curl", "-sS", "--cacert", CA_FILE, "-o", "/dev/null", "-w", "%{certs}"]
    result = exec_in_pod(
        kube, release.namespace, pod, [*cmd, f"https://{host}:8501/v1/status/leader"]
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.split("-----BEGIN CERTIFICATE-----")[0]


def test_every_pod_is_admitted_under_restricted(kube: Kube, secure: Release) -> None:
    namespace = secure.namespace
    labels = kube.core.read_namespace(namespace).metadata.labels
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    refused = [
        e.message
        for e in kube.core.list_namespaced_event(namespace).items
        if e.reason == "FailedCreate"
    ]
    assert not refused, refused
    # A client agent on every node without a NoSchedule taint (the DaemonSet's own count would
    # only repeat what it managed to create).
    for component, expected in [("server", 3), ("client", len(worker_nodes(kube)))]:
        pods = secure.pods(component)
        assert len(pods) == expected and expected > 0
        assert all(p.status.phase == "Running" for p in pods)
    assert secure.job("acl-init").status.succeeded == 1


def test_plain_http_is_off(kube: Kube, secure: Release, outsider: str) -> None:
    server_ip = secure.pods("server")[0].status.pod_ip
    # curl exit 7: nothing listens on 8500 any more.
    assert curl_exit(kube, secure, outsider, "--max-time", "5", f"http://{server_ip}:8500/") == 7
    ui = kube.core.read_namespaced_service(secure.service("ui"), secure.namespace)
    assert [(p.name, p.port) for p in ui.spec.ports] == [("https", 443)]


def test_https_is_verified_with_the_ca(kube: Kube, secure: Release, outsider: str) -> None:
    url = f"https://{secure.service('ui')}.{secure.namespace}.svc:443/v1/status/leader"
    # curl exit 60: the server's certificate is not signed by a CA the system trusts.
    assert curl_exit(kube, secure, outsider, url) == 60
    api = ui_api(secure, outsider)
    assert api.leader()
    ui = api.request("GET", "/ui/")
    assert ui.status == 200 and "<title>Consul" in ui.body, "the web UI is served over HTTPS"


def test_anonymous_is_denied_and_the_management_token_works(
    kube: Kube, secure: Release, outsider: str
) -> None:
    anonymous = ui_api(secure, outsider)
    assert anonymous.request("PUT", "/v1/kv/security/anon", "x").status == 403
    assert anonymous.request("GET", "/v1/agent/members").body.strip() == "[]"
    manager = ui_api(secure, outsider, "management")
    assert manager.kv_put("security/managed", "yes")
    assert manager.kv_get("security/managed") == "yes"


def test_each_chart_token_has_its_rights_only(kube: Kube, secure: Release, outsider: str) -> None:
    metrics = ui_api(secure, outsider, "metrics")
    resp = metrics.request("GET", "/v1/agent/metrics?format=prometheus")
    assert resp.status == 200 and "consul_raft" in resp.body
    assert metrics.request("PUT", "/v1/kv/security/by-metrics", "x").status == 403
    anonymous = ui_api(secure, outsider)
    assert anonymous.request("GET", "/v1/agent/metrics?format=prometheus").status == 403
    tester = ui_api(secure, outsider, "test")
    assert tester.kv_put("helm-test/by-test-token", "x")
    assert tester.request("PUT", "/v1/kv/security/by-test-token", "x").status == 403


def test_every_member_is_alive_under_deny(secure: Release) -> None:
    members = secure.api("server").members()
    clients = {p.spec.node_name for p in secure.pods("client")}
    assert {m["Name"] for m in members if m["Status"] == 1} >= clients
    assert sum(1 for m in members if m["Tags"]["role"] == "consul" and m["Status"] == 1) == 3


def test_dns_answers_through_the_dns_token(kube: Kube, secure: Release, outsider: str) -> None:
    dns_ip = kube.core.read_namespaced_service(
        secure.service("dns"), secure.namespace
    ).spec.cluster_ip
    result = exec_in_pod(
        kube, secure.namespace, outsider, ["nslookup", "consul.service.consul", dns_ip]
    )
    assert result.returncode == 0, result.stdout + result.stderr
    server_ips = {p.status.pod_ip for p in secure.pods("server")}
    answered = set(re.findall(r"Address: (\S+)", result.stdout.split("Name:", 1)[-1]))
    assert answered == server_ips


def test_helm_test_passes(secure: Release) -> None:
    secure.assert_helm_test_passes()


def test_an_agent_without_a_certificate_gets_no_rpc(
    kube: Kube, secure: Release, consul_image: str
) -> None:
    assert_no_rpc_without_a_certificate(secure, consul_image)


def chart_secrets(kube: Kube, release: Release) -> dict[str, dict[str, str]]:
    selector = f"app.kubernetes.io/instance={release.name}"
    items = kube.core.list_namespaced_secret(release.namespace, label_selector=selector).items
    return {s.metadata.name: dict(s.data) for s in items}


@pytest.mark.quiet
def test_the_leader_hands_over_under_deny(kube: Kube, secure: Release) -> None:
    leader_ip = secure.api("server").leader().rsplit(":", 1)[0]
    (leader,) = [p.metadata.name for p in secure.pods("server") if p.status.pod_ip == leader_ip]
    with LeaderWatch(secure) as watch:
        kube.core.delete_namespaced_pod(leader, secure.namespace)
        wait_for(
            lambda: watch.current_leader() not in ("", f"{leader_ip}:8300"),
            "a new leader",
            timeout=60,
            interval=1,
        )
    # The preStop hand-over needs operator:write: without its token an election would follow.
    watch.assert_leaderless_below(1)
    wait_for(
        lambda: (
            all(s["Voter"] for s in secure.api("server").raft_servers())
            and len(secure.api("server").raft_servers()) == 3
        ),
        "the replaced server to be a voter again",
        timeout=300,
    )


def test_upgrades_keep_the_ca_the_certificate_and_every_token(
    kube: Kube, secure: Release, outsider: str
) -> None:
    before = chart_secrets(kube, secure)
    assert len(before) == 8, sorted(before)
    sync = secure.job("acl-init")
    # Every upgrade runs the hooks again, and they must keep everything. (Servers restarted
    # onto the kept Secrets: the reinstall below, and the chaos tier's rolling upgrade.)
    secure.upgrade(ui={"service": {"annotations": {"upgraded": "1"}}})
    assert chart_secrets(kube, secure) == before
    api = ui_api(secure, outsider, "management")
    assert api.kv_get("security/managed") == "yes"
    # The ACL sync is named by its spec, which this upgrade left alone: its finished Job stays,
    # and nothing runs again.
    assert secure.job("acl-init").metadata.uid == sync.metadata.uid
    secure.assert_helm_test_passes()
    # New names: the server certificate alone is reissued, and the servers read it without a
    # restart.
    incarnations = secure.incarnations("server")
    server = secure.server_pod(0) + "." + secure.service("server") + "." + secure.namespace + ".svc"
    served_before = served_certificate(kube, secure, outsider, server)
    secure.upgrade(tls={"server": {"extraSANs": ["consul.example.com"]}})
    after = chart_secrets(kube, secure)
    tls_secret = secure.named("server-tls")
    assert after[tls_secret]["tls.crt"] != before[tls_secret]["tls.crt"]
    assert {k: v for k, v in after.items() if k != tls_secret} == {
        k: v for k, v in before.items() if k != tls_secret
    }
    assert "consul.example.com" not in served_before
    wait_for(
        lambda: "consul.example.com" in served_certificate(kube, secure, outsider, server),
        "the servers to serve the reissued certificate",
        timeout=240,
        interval=5,
    )
    assert secure.incarnations("server") == incarnations
    # Near expiry (forced as README says, by the annotation the hook reads), it is reissued too.
    near_expiry = {"metadata": {"annotations": {"consul-chart.io/not-after": "0"}}}
    kube.core.patch_namespaced_secret(tls_secret, secure.namespace, near_expiry)
    secure.upgrade()
    renewed = chart_secrets(kube, secure)
    assert renewed[tls_secret]["tls.crt"] != after[tls_secret]["tls.crt"]
    assert renewed[secure.named("ca")] == before[secure.named("ca")]


def test_held_back_servers_keep_their_configuration_and_the_upgrade_does_not_hang(
    kube: Kube, secure: Release
) -> None:
    # updatePartition=3 holds every server back: the upgrade must return once the clients are
    # ready, not wait on a Job.
    incarnations = secure.incarnations("server")
    secure.upgrade(server={"updatePartition": 3, "extraConfig": {"log_level": "debug"}})
    assert secure.incarnations("server") == incarnations
    # The new configuration reaches each server's ConfigMap mount (an annotation makes the
    # kubelet sync the pod now, not at its next periodic sync), and no server not rolled yet
    # takes it, though auto_reload_config is on (TLS): none logs at debug level, while each
    # logs a debug line for every HTTP request, its readiness probe's every 5 s included.
    servers = [secure.server_pod(i) for i in range(3)]
    for pod in servers:
        patch = {"metadata": {"annotations": {"consul-chart.test/sync": "1"}}}
        kube.core.patch_namespaced_pod(pod, secure.namespace, patch)
        wait_for(
            lambda p=pod: (
                '"debug"'
                in exec_in_pod(
                    kube, secure.namespace, p, ["cat", "/consul/config/server.json"]
                ).stdout
            ),
            "the kubelet to sync the server's ConfigMap mount",
            timeout=180,
        )
    synced = time.monotonic()
    # auto_reload_config looks at its files every 200 ms (agent/config/file_watcher.go).
    time.sleep(8)
    since = int(time.monotonic() - synced) + 1
    for pod in servers:
        log = kube.core.read_namespaced_pod_log(
            pod, secure.namespace, container="consul", since_seconds=since
        )
        assert "[DEBUG]" not in log, f"{pod} took the new log_level before its turn:\n{log}"
    # Back to the values the servers run (null deletes a value, as in helm): the StatefulSet's
    # update revision is their current one again, so nothing rolls.
    secure.upgrade(server={"updatePartition": None, "extraConfig": None})
    assert secure.incarnations("server") == incarnations


def test_reinstall_onto_the_old_volumes_keeps_data_and_tokens(
    kube: Kube, secure: Release, outsider: str
) -> None:
    before = chart_secrets(kube, secure)
    secure.uninstall()
    assert chart_secrets(kube, secure) == before, "uninstall must keep the CA, key and tokens"
    secure.wait_until_agents_gone()
    secure.install()
    api = ui_api(secure, outsider, "management")
    assert wait_for(lambda: api.kv_get("security/managed"), "the old data", timeout=120) == "yes"
    secure.assert_helm_test_passes()


@pytest.mark.parametrize(
    "values",
    [{"tls": {"enabled": True}}, {"acl": {"enabled": True}}],
    ids=["tls-alone", "acls-alone"],
)
def test_each_switch_alone(
    kube: Kube,
    namespace_factory: NamespaceFactory,
    release_factory: ReleaseFactory,
    values: dict[str, dict[str, bool]],
) -> None:
    release = release_factory("alone", namespace_factory("alone"), **values)
    release.assert_helm_test_passes()
    server = release.api("server")
    if release.tls:
        # Plain HTTP stays on beside HTTPS, and both reach the same cluster.
        plain = release.api_in(server.pod)
        assert plain.leader() == server.leader() != ""
        assert server.kv_put("alone/tls", "yes") and plain.kv_get("alone/tls") == "yes"
    else:
        anonymous = release.api_in(server.pod)
        assert anonymous.request("PUT", "/v1/kv/alone/acl", "x").status == 403
        assert server.kv_put("alone/acl", "yes")
    release.uninstall()
