"""Fixtures of the unit tier (the render fixtures are the harness plugin's)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.agent_pod import AgentPod, make_agent_pod


@pytest.fixture
def agent_pod(tmp_path: Path) -> AgentPod:
    """An agent container's command, run here against a stub agent (harness/agent_pod.py)."""
    return make_agent_pod(tmp_path)
