"""An agent container's rendered command, run on this host as its container runs it, against a
stub agent: what the command does before it execs the agent (secrets, node ID, the data dir
check, the config copy) is tested without a cluster."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.render import container, one, render

# The agent a pod's command execs, as a stub: prints the config files of the dir it was given.
STUB_AGENT = (
    '#!/bin/sh\nfor a; do case "$a" in -config-dir=*) d="${a#*=}";; esac; done\ncat "$d"/*.json\n'
)


@dataclass
class AgentPod:
    """An agent container's rendered command, run on this host as the container runs it: its
    /consul/ is `root` (config/ the ConfigMap mount, data/, run/ and secrets/), and the agent
    it execs a stub. `start` is one container start; emptying run/ makes it a new pod."""

    root: Path

    def start(self, component: str, values: dict[str, Any] | None = None) -> str:
        kind = "StatefulSet" if component == "server" else "DaemonSet"
        script = container(one(render(values), kind))["command"][-1]
        env = {
            "PATH": f"{self.root / 'bin'}:/usr/bin:/bin",
            "HOSTNAME": "consul-server-0",
            "NODE_NAME": "worker",
        }
        proc = subprocess.run(
            ["sh", "-ec", script.replace("/consul/", f"{self.root}/")],
            env=env,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr
        return proc.stdout + proc.stderr


def make_agent_pod(root: Path) -> AgentPod:
    """A fresh /consul/ tree under `root`, with a gossip key and the stub agent."""
    for d in ("config", "data", "run", "secrets", "bin"):
        (root / d).mkdir()
    (root / "secrets" / "gossip-key").write_text("bmV3LWtleQ==\n")
    agent = root / "bin" / "consul"
    agent.write_text(STUB_AGENT)
    agent.chmod(0o755)
    return AgentPod(root)
