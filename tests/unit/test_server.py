"""Server StatefulSet (server-statefulset.yaml, _server.tpl): quorum, placement, persistence,
probes, leave behaviour."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from harness.agent_pod import AgentPod
from harness.render import Manifest, agent_config, container, env_of, one, pod_spec, render

STS = "consul-server"


def server(values: dict[str, Any] | None = None) -> Manifest:
    return one(render(values), "StatefulSet", STS)


def server_config(values: dict[str, Any] | None = None) -> dict[str, Any]:
    return agent_config(render(values), "server")


def test_defaults_are_a_three_server_quorum(default_docs: tuple[Manifest, ...]) -> None:
    sts = one(default_docs, "StatefulSet", STS)
    assert sts["apiVersion"] == "apps/v1"
    assert sts["spec"]["replicas"] == 3
    assert sts["spec"]["podManagementPolicy"] == "Parallel"
    assert sts["spec"]["serviceName"] == "consul-server"
    assert server_config()["bootstrap_expect"] == 3


@pytest.mark.parametrize("replicas", [1, 3, 5, 7])
def test_bootstrap_expect_follows_replicas(replicas: int) -> None:
    values = {"server": {"replicas": replicas, "podAntiAffinityPreset": "soft"}}
    assert server(values)["spec"]["replicas"] == replicas
    config = server_config(values)
    assert config["bootstrap_expect"] == replicas
    assert config["autopilot"]["min_quorum"] == replicas // 2 + 1


def test_joins_through_the_headless_service_name() -> None:
    # The pod's DNS search path completes `<service>.<namespace>.svc` on any cluster domain.
    assert server_config()["retry_join"] == ["consul-server.consul-ns.svc"]
    other = server_config({"clusterDomain": "corp.internal"})
    assert other["retry_join"] == ["consul-server.consul-ns.svc.corp.internal"]


def test_update_partition() -> None:
    assert server()["spec"]["updateStrategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"partition": 0},
    }
    sts = server({"server": {"updatePartition": 2}})
    assert sts["spec"]["updateStrategy"]["rollingUpdate"]["partition"] == 2


def test_persistence_by_volume_claim_templates() -> None:
    sts = server()
    (claim,) = sts["spec"]["volumeClaimTemplates"]
    assert claim["metadata"]["name"] == "data"
    assert claim["spec"]["resources"]["requests"]["storage"] == "10Gi"
    assert "storageClassName" not in claim["spec"]
    assert sts["spec"]["persistentVolumeClaimRetentionPolicy"] == {
        "whenDeleted": "Retain",
        "whenScaled": "Retain",
    }
    volumes = {v["name"] for v in pod_spec(sts)["volumes"]}
    assert "data" not in volumes


def test_persistence_settings() -> None:
    values = {
        "server": {
            "persistence": {
                "size": "1Gi",
                "storageClass": "fast",
                "annotations": {"backup": "yes"},
                "retentionPolicy": {"whenDeleted": "Delete", "whenScaled": "Delete"},
            }
        }
    }
    sts = server(values)
    (claim,) = sts["spec"]["volumeClaimTemplates"]
    assert claim["spec"]["storageClassName"] == "fast"
    assert claim["spec"]["resources"]["requests"]["storage"] == "1Gi"
    assert claim["metadata"]["annotations"] == {"backup": "yes"}
    assert sts["spec"]["persistentVolumeClaimRetentionPolicy"]["whenDeleted"] == "Delete"


def test_persistence_off_uses_empty_dir() -> None:
    sts = server({"server": {"persistence": {"enabled": False}}})
    assert "volumeClaimTemplates" not in sts["spec"]
    assert "persistentVolumeClaimRetentionPolicy" not in sts["spec"]
    volumes = {v["name"]: v for v in pod_spec(sts)["volumes"]}
    assert volumes["data"] == {"name": "data", "emptyDir": {}}


@pytest.mark.parametrize("persistence", [True, False], ids=["volume", "emptydir"])
def test_servers_leave_on_terminate(persistence: bool) -> None:
    # Not leaving left a voter under a stale address during rolling restarts (see _config.tpl).
    config = server_config({"server": {"persistence": {"enabled": persistence}}})
    assert config["leave_on_terminate"] is True
    assert config["rejoin_after_leave"] is True
    assert config["skip_leave_on_interrupt"] is True


def test_data_dir_is_the_volume() -> None:
    mounts = {m["name"]: m["mountPath"] for m in container(server())["volumeMounts"]}
    assert mounts["data"] == "/consul/data"
    assert server_config()["data_dir"] == "/consul/data"


HOSTNAME = "kubernetes.io/hostname"


def test_hard_anti_affinity_by_default() -> None:
    affinity = pod_spec(server())["affinity"]
    (term,) = affinity["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert term["topologyKey"] == HOSTNAME
    assert term["labelSelector"]["matchLabels"]["app.kubernetes.io/component"] == "server"
    assert term["labelSelector"]["matchLabels"]["app.kubernetes.io/instance"] == "consul"


def test_soft_preset() -> None:
    affinity = pod_spec(server({"server": {"podAntiAffinityPreset": "soft"}}))["affinity"]
    (term,) = affinity["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"]
    assert term["weight"] == 100
    assert term["podAffinityTerm"]["topologyKey"] == HOSTNAME


def test_no_preset() -> None:
    spec = pod_spec(server({"server": {"podAntiAffinityPreset": "none"}}))
    assert "affinity" not in spec


def test_user_affinity_replaces_the_preset() -> None:
    mine = {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [
                    {"matchExpressions": [{"key": "disk", "operator": "In", "values": ["ssd"]}]}
                ]
            }
        }
    }
    spec = pod_spec(server({"server": {"affinity": mine}}))
    assert spec["affinity"] == mine


def test_topology_spread_defaults_its_selector_to_the_servers() -> None:
    spread = [
        {
            "maxSkew": 1,
            "topologyKey": "topology.kubernetes.io/zone",
            "whenUnsatisfiable": "DoNotSchedule",
        }
    ]
    (c,) = pod_spec(server({"server": {"topologySpreadConstraints": spread}}))[
        "topologySpreadConstraints"
    ]
    assert c["topologyKey"] == "topology.kubernetes.io/zone"
    assert c["labelSelector"]["matchLabels"]["app.kubernetes.io/component"] == "server"
    own = [dict(spread[0], labelSelector={"matchLabels": {"tier": "consul"}})]
    (c,) = pod_spec(server({"server": {"topologySpreadConstraints": own}}))[
        "topologySpreadConstraints"
    ]
    assert c["labelSelector"] == {"matchLabels": {"tier": "consul"}}


def test_by_default_servers_spread_softly_across_zones() -> None:
    (c,) = pod_spec(server())["topologySpreadConstraints"]
    assert {k: c[k] for k in ("maxSkew", "topologyKey", "whenUnsatisfiable")} == {
        "maxSkew": 1,
        "topologyKey": "topology.kubernetes.io/zone",
        # Soft: nodes without zones, or fewer zones than servers, still take every server.
        "whenUnsatisfiable": "ScheduleAnyway",
    }
    assert "topologySpreadConstraints" not in pod_spec(
        server({"server": {"topologySpreadConstraints": []}})
    )


def test_probes_never_restart_a_server_during_an_election() -> None:
    c = container(server())
    # Liveness must not depend on having a leader: only on the agent answering HTTP.
    assert c["livenessProbe"]["httpGet"] == {"path": "/v1/status/leader", "port": "http"}
    assert c["startupProbe"]["httpGet"]["port"] == "http"


def test_agent_command_advertises_the_pod_ip() -> None:
    c = container(server())
    assert c["command"][:4] == ["dumb-init", "--", "/bin/sh", "-ec"]
    exec_line = c["command"][-1].splitlines()[-1]
    assert exec_line.startswith("exec consul agent -config-dir=/consul/run/config ")
    assert '-advertise="$POD_IP"' in exec_line
    assert env_of(c)["POD_IP"]["fieldRef"]["fieldPath"] == "status.podIP"


@pytest.mark.parametrize("component", ["server", "client"])
def test_an_agent_runs_the_configuration_its_pod_started_with(
    agent_pod: AgentPod, component: str
) -> None:
    """A later ConfigMap (the kubelet syncs it into every pod at once) reaches no running pod,
    not even on a container restart; the next pod takes it."""
    mount = agent_pod.root / "config" / f"{component}.json"
    mount.write_text('{"log_level": "info"}')
    assert agent_pod.start(component) == '{"log_level": "info"}'
    mount.write_text('{"log_level": "debug"}')
    assert agent_pod.start(component) == '{"log_level": "info"}', "a container restart"
    shutil.rmtree(agent_pod.root / "run")
    (agent_pod.root / "run").mkdir()
    assert agent_pod.start(component) == '{"log_level": "debug"}', "a new pod"


def test_ports() -> None:
    ports = {(p["containerPort"], p["protocol"]) for p in container(server())["ports"]}
    assert ports == {
        (8300, "TCP"),
        (8301, "TCP"),
        (8301, "UDP"),
        (8500, "TCP"),
        (8600, "TCP"),
        (8600, "UDP"),
    }


def test_termination_grace_period() -> None:
    spec = pod_spec(server({"server": {"terminationGracePeriodSeconds": 90}}))
    assert spec["terminationGracePeriodSeconds"] == 90


def test_scheduling_and_pod_metadata_values() -> None:
    values = {
        "server": {
            "nodeSelector": {"pool": "consul"},
            "tolerations": [{"key": "dedicated", "operator": "Exists", "effect": "NoSchedule"}],
            "priorityClassName": "system-cluster-critical",
            "podLabels": {"team": "platform"},
            "podAnnotations": {"note": "x"},
        }
    }
    template = server(values)["spec"]["template"]
    assert template["spec"]["nodeSelector"] == {"pool": "consul"}
    assert template["spec"]["tolerations"][0]["key"] == "dedicated"
    assert template["spec"]["priorityClassName"] == "system-cluster-critical"
    assert template["metadata"]["labels"]["team"] == "platform"
    assert template["metadata"]["annotations"]["note"] == "x"


def test_extras_are_added() -> None:
    values = {
        "server": {
            "extraEnv": [{"name": "FOO", "value": "bar"}],
            "extraVolumes": [{"name": "extra", "emptyDir": {}}],
            "extraVolumeMounts": [{"name": "extra", "mountPath": "/extra"}],
            "extraContainers": [{"name": "sidecar", "image": "busybox:1.36"}],
        }
    }
    spec = pod_spec(server(values))
    assert {"name": "FOO", "value": "bar"} in spec["containers"][0]["env"]
    assert {"name": "extra", "emptyDir": {}} in spec["volumes"]
    assert {"name": "extra", "mountPath": "/extra"} in spec["containers"][0]["volumeMounts"]
    assert [c["name"] for c in spec["containers"]] == ["consul", "sidecar"]


def test_image_defaults_to_app_version_and_is_configurable() -> None:
    c = container(server())
    assert c["image"] == "hashicorp/consul:1.22.7"
    assert c["imagePullPolicy"] == "IfNotPresent"
    values = {
        "image": {"repository": "mirror.local/consul", "tag": "1.22.6", "pullPolicy": "Always"},
        "imagePullSecrets": [{"name": "regcred"}],
    }
    sts = server(values)
    assert container(sts)["image"] == "mirror.local/consul:1.22.6"
    assert container(sts)["imagePullPolicy"] == "Always"
    assert pod_spec(sts)["imagePullSecrets"] == [{"name": "regcred"}]


def test_a_digest_pins_the_image_over_the_tag() -> None:
    digest = "sha256:" + "ab" * 32
    values = {"image": {"tag": "1.22.6", "digest": digest}}
    docs = render(values)
    images = {
        c["image"]
        for d in docs
        if d["kind"] in {"StatefulSet", "DaemonSet", "Job"}
        for c in pod_spec(d)["containers"]
    }
    assert images == {f"hashicorp/consul@{digest}"}
    assert one(docs, "Pod", "consul-test")["spec"]["containers"][0]["image"] == images.pop()


def test_resources_are_values() -> None:
    assert container(server())["resources"]["limits"] == {"memory": "512Mi"}
    values = {"server": {"resources": {"requests": {"cpu": "1", "memory": "1Gi"}}}}
    assert container(server(values))["resources"]["requests"] == {"cpu": "1", "memory": "1Gi"}


RAFT = [  # node, ID, address, voter: an IPv6 cluster, listed out of ordinal order
    ("consul-server-2", "id-2", "[fd00::2]:8300", True),
    ("consul-server-10", "id-10", "[fd00::10]:8300", True),
    ("consul-server-1", "id-1", "[fd00::1]:8300", True),
    ("consul-server-0", "id-0", "[fd00::0]:8300", False),
]


def run_with_stubs(
    tmp_path: Path, command: list[str], hostname: str, leader: str | None
) -> tuple[int, list[str]]:
    """Runs a rendered server command (its shell and flags as rendered) against stub curl (the
    raft configuration of RAFT, or a failure when there is no leader) and stub consul; returns
    its exit status and each consul command it ran, in order."""
    if not shutil.which("jq"):
        pytest.fail("the server script tests run the scripts and need jq: apt-get install jq")
    servers = [
        {"Node": n, "ID": i, "Address": a, "Voter": v, "Leader": n == leader} for n, i, a, v in RAFT
    ]
    (tmp_path / "raft.json").write_text(json.dumps({"Servers": servers}))
    stubs = {
        "curl": f'cat "{tmp_path}/raft.json"' if leader else "exit 22",
        "consul": f'echo "$@" >>"{tmp_path}/consul.args"',
    }
    for name, body in stubs.items():
        (tmp_path / name).write_text(f"#!/bin/sh\n{body}\n")
        (tmp_path / name).chmod(0o755)
    env = {"PATH": f"{tmp_path}:{os.environ['PATH']}", "HOSTNAME": hostname}
    proc = subprocess.run(command, env=env, capture_output=True, text=True)
    args = tmp_path / "consul.args"
    return proc.returncode, args.read_text().splitlines() if args.exists() else []


@pytest.mark.parametrize(
    ("hostname", "leader", "expected"),
    [
        # The lowest-ordinal other voter: a scale-down stops the highest ordinals.
        ("consul-server-2", "consul-server-2", ["operator raft transfer-leader -id=id-1", "leave"]),
        ("consul-server-1", "consul-server-1", ["operator raft transfer-leader -id=id-2", "leave"]),
        ("consul-server-1", "consul-server-2", ["leave"]),
        ("consul-server-1", None, ["leave"]),
    ],
    ids=["leader-ipv6", "leader-skips-non-voter", "follower", "api-down"],
)
def test_a_stopping_server_hands_leadership_over_and_then_leaves(
    tmp_path: Path, hostname: str, leader: str | None, expected: list[str]
) -> None:
    # The leave is the API's, so no signal during it can cut it short; every server leaves,
    # even one that could not read the raft configuration.
    command = container(server())["lifecycle"]["preStop"]["exec"]["command"]
    assert run_with_stubs(tmp_path, command, hostname, leader) == (0, expected)


ME = "5c1d0d3e-0000-4000-8000-000000000001"
PEER = "5c1d0d3e-0000-4000-8000-000000000002"


@pytest.mark.parametrize(
    ("suffrage", "last_contact", "ready"),
    [
        pytest.param("Voter", "0", True, id="leader"),
        pytest.param("Voter", "35.2ms", True, id="follower"),
        pytest.param("Voter", "850µs", True, id="follower-just-heard"),
        pytest.param("Voter", "9.8s", True, id="during-an-election"),
        pytest.param("Voter", "12.3s", False, id="cut-off"),
        pytest.param("Voter", "1m2.5s", False, id="cut-off-for-minutes"),
        pytest.param("Voter", "never", False, id="restarted-not-heard-yet"),
        pytest.param("Nonvoter", "20ms", False, id="not-promoted-yet"),
        pytest.param(None, "20ms", False, id="not-in-the-configuration"),
    ],
)
def test_a_server_is_ready_while_it_votes_and_hears_from_a_leader(
    tmp_path: Path, suffrage: str | None, last_contact: str, ready: bool
) -> None:
    """The readiness probe, run as the kubelet runs it, on what /v1/agent/self answers: judged
    from the server's own raft state, so an election (no leader to ask) leaves it ready."""
    servers = [f"{{Suffrage:Voter ID:{PEER} Address:10.244.2.7:8300}}"]
    if suffrage:
        servers.append(f"{{Suffrage:{suffrage} ID:{ME} Address:10.244.1.5:8300}}")
    self_ = {
        "Config": {"NodeID": ME},
        "Stats": {
            "raft": {"latest_configuration": f"[{' '.join(servers)}]", "last_contact": last_contact}
        },
    }
    (tmp_path / "self.json").write_text(json.dumps(self_))
    curl = tmp_path / "curl"
    curl.write_text(
        "#!/bin/sh\nfor url; do :; done\n"
        f'[ "$url" = "$CONSUL_HTTP_ADDR/v1/agent/self" ] && cat {tmp_path}/self.json\n'
    )
    curl.chmod(0o755)
    probe = container(server())["readinessProbe"]["exec"]["command"]
    env = {"PATH": f"{tmp_path}:/usr/bin:/bin", "CONSUL_HTTP_ADDR": "http://127.0.0.1:8500"}
    proc = subprocess.run(probe, env=env, capture_output=True, text=True, timeout=10, check=False)
    assert (proc.returncode == 0) is ready, proc.stderr


def test_probe_commands_end_before_their_probes_time_out() -> None:
    c = container(server())
    assert "--max-time 3" in c["readinessProbe"]["exec"]["command"][-1]
    assert c["readinessProbe"]["timeoutSeconds"] == 5
    for probe in ("startupProbe", "livenessProbe"):
        assert "httpGet" in c[probe], "kubelet bounds an HTTP probe itself"
    pre_stop = c["lifecycle"]["preStop"]["exec"]["command"][-1]
    assert "--max-time 3" in pre_stop and "timeout 10 consul" in pre_stop


def test_scaling_does_not_roll_the_servers_that_stay() -> None:
    # bootstrap_expect and the autopilot seed change with replicas but matter only at first
    # bootstrap: they are out of the checksum, so a scale changes nothing in the pod template.
    three = server({"server": {"podAntiAffinityPreset": "soft"}})
    five = server({"server": {"replicas": 5, "podAntiAffinityPreset": "soft"}})
    assert three["spec"]["template"] == five["spec"]["template"]
    log = server({"consul": {"logLevel": "debug"}})
    assert log["spec"]["template"] != server()["spec"]["template"], "a config change still rolls"


def pod_template_checksum(values: dict[str, Any]) -> str:
    return server(values)["metadata"]["annotations"]["checksum/pod-template"]


def test_the_pod_template_checksum_changes_with_the_template_only() -> None:
    """What the upgrade-time check (consul.validate.installed) compares: a scale-down alone must
    leave it, any change that rolls the servers must not."""
    three = pod_template_checksum({})
    assert pod_template_checksum({"server": {"replicas": 5}}) == three
    rolls = [
        {"server": {"resources": {"limits": {"memory": "1Gi"}}}},
        {"image": {"tag": "1.22.6"}},
        {"consul": {"logLevel": "debug"}},
    ]
    assert all(pod_template_checksum(values) != three for values in rolls)
