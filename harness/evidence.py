"""What a failed cluster or chaos test leaves behind: before its namespaces go, a folder under
$CACHE/evidence (outside the clone, so a later session on the same machine still finds it) with
the releases' helm status, history and values, every object, event and pod description, every
container's logs (the previous run's too), what each server's Consul says of raft, autopilot and
the members, and the raw rounds of the leader watch and the writers the test ran.

Without it a chance failure cannot be explained: the namespace, its pods and their logs were
deleted with the test, and three chance failures stayed unexplained that way.
"""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

from harness.kube import CACHE, Kube, exec_in_pod, run

EVIDENCE = CACHE / "evidence"
# Enough for every failure of a few bad runs of the whole suite; a folder is a few MiB.
KEEP = 30

# Namespaces this process made and has not deleted yet (the tests' own, in module fixtures).
LIVE_NAMESPACES: list[str] = []
# Raw logs of the instruments (leader watch, writers) of the running test, by instrument (a
# test may run the same pod name twice): their pods are deleted when the scenario ends, so they
# keep their rounds here.
INSTRUMENTS: dict[int, tuple[str, str]] = {}

# Each server's view, through its own CLI (set up in the container: address, CA, token).
CONSUL_VIEWS = {
    "consul-info.txt": "consul info",
    "raft-peers.txt": "consul operator raft list-peers",
    "autopilot-state.txt": "consul operator autopilot state",
    "members.txt": "consul members",
}


def record_instrument(instrument: object, name: str, log: str) -> None:
    INSTRUMENTS[id(instrument)] = (name, log)


def collect(kube: Kube, test: str, tier: str) -> Path:
    """Write the folder for a failed test and return its path; never raises for a part that
    could not be read (the part's file then says why)."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    folder = EVIDENCE / f"{stamp}-{tier}-{re.sub(r'[^A-Za-z0-9_.-]+', '_', test)[:120]}"
    folder.mkdir(parents=True, exist_ok=True)
    for i, (name, log) in enumerate(INSTRUMENTS.values()):
        (folder / "instruments").mkdir(exist_ok=True)
        (folder / "instruments" / f"{i:02d}-{name}.log").write_text(log)
    for namespace in LIVE_NAMESPACES:
        try:
            _namespace(kube, namespace, folder / namespace)
        except Exception as e:  # a namespace already going: keep what was written, say why
            (folder / namespace / "not-collected.txt").write_text(f"{e!r}\n")
    prune()
    return folder


def prune() -> None:
    """Keep the newest KEEP folders (names start with their UTC time)."""
    folders = sorted(p for p in EVIDENCE.iterdir() if p.is_dir())
    for old in folders[:-KEEP]:
        shutil.rmtree(old, ignore_errors=True)


def _cli(folder: Path, name: str, cmd: list[str]) -> str:
    proc = run(cmd, timeout=120, check=False)
    text = proc.stdout + (f"\n# exit {proc.returncode}\n{proc.stderr}" if proc.returncode else "")
    (folder / name).write_text(text)
    return proc.stdout


def _namespace(kube: Kube, namespace: str, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    ns = ["--namespace", namespace]
    releases = _cli(folder, "helm-list.txt", ["helm", "list", "--all", "--short", *ns]).split()
    for release in releases:
        _cli(folder, f"helm-status-{release}.txt", ["helm", "status", release, *ns])
        _cli(folder, f"helm-history-{release}.txt", ["helm", "history", release, *ns])
        _cli(
            folder, f"helm-values-{release}.yaml", ["helm", "get", "values", "--all", release, *ns]
        )
    kinds = "all,pvc,configmaps,serviceaccounts,networkpolicies,poddisruptionbudgets"
    _cli(folder, "objects.txt", ["kubectl", "get", kinds, "-o", "wide", *ns])
    sort = "--sort-by=.metadata.creationTimestamp"
    _cli(folder, "events.txt", ["kubectl", "get", "events", "-o", "wide", sort, *ns])
    _cli(folder, "pods-described.txt", ["kubectl", "describe", "pods", *ns])
    pods = kube.core.list_namespaced_pod(namespace).items
    logs = folder / "logs"
    logs.mkdir(exist_ok=True)
    for pod in pods:
        statuses = (pod.status.init_container_statuses or []) + (
            pod.status.container_statuses or []
        )
        for status in statuses:
            base = ["kubectl", "logs", pod.metadata.name, "-c", status.name, "--timestamps", *ns]
            _cli(logs, f"{pod.metadata.name}.{status.name}.log", base)
            if status.restart_count:
                previous = f"{pod.metadata.name}.{status.name}.previous.log"
                _cli(logs, previous, [*base, "--previous"])
        component = (pod.metadata.labels or {}).get("app.kubernetes.io/component")
        if component == "server" and pod.status.phase == "Running":
            _server_views(kube, namespace, pod.metadata.name, folder / "consul")


def _server_views(kube: Kube, namespace: str, pod: str, folder: Path) -> None:
    folder.mkdir(exist_ok=True)
    for name, command in CONSUL_VIEWS.items():
        try:
            result = exec_in_pod(kube, namespace, pod, ["sh", "-c", f"timeout 10 {command} 2>&1"])
            text = f"{result.stdout}{result.stderr}# exit {result.returncode}\n"
        except Exception as e:  # the pod went while we asked
            text = f"{e!r}\n"
        (folder / f"{pod}.{name}").write_text(text)
