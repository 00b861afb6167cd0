"""Render-and-apply, as a GitOps tool does it (Argo CD's way, which README tells users to
follow): `helm template` renders (no cluster, so no `lookup`, and the revision is always 1); the
pre-install hooks run first, as PreSync hooks (an earlier one deleted: before-hook-creation),
and are waited for; every other object is applied server-side; the post-install hooks run last,
as PostSync hooks, once the workloads are rolled out. Test hooks and rollback hooks are left out
(Argo CD's skipTests; it runs no rollback hook). A Job the new render no longer has is pruned,
as Argo CD prunes (a Job is the only object of the chart whose name follows its content)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import yaml

from harness.kube import Kube, run
from harness.render import Manifest, render

HOOK = "helm.sh/hook"
INSTANCE = "app.kubernetes.io/instance"


def _phase(doc: Manifest) -> str:
    hooks = doc["metadata"].get("annotations", {}).get(HOOK, "").split(",")
    if hooks == [""]:
        return "sync"
    if "pre-install" in hooks:
        return "pre"
    if "post-install" in hooks:
        return "post"
    return "skip"


def _apply(docs: Iterable[Manifest]) -> None:
    run(
        ["kubectl", "apply", "--server-side", "--field-manager=gitops", "-f", "-"],
        stdin=yaml.safe_dump_all(list(docs)),
    )


def _run_hooks(namespace: str, docs: list[Manifest]) -> None:
    jobs = [d["metadata"]["name"] for d in docs if d["kind"] == "Job"]
    for name in jobs:
        run(["kubectl", "-n", namespace, "delete", "job", name, "--ignore-not-found", "--wait"])
    _apply(docs)
    for name in jobs:
        run(
            [
                "kubectl",
                "-n",
                namespace,
                "wait",
                "--for=condition=complete",
                f"job/{name}",
                "--timeout=600s",
            ],
            timeout=660,
        )


def sync(kube: Kube, name: str, namespace: str, values: dict[str, Any]) -> None:
    """One sync of the release `name` with these values; raises with kubectl's output if any
    apply is refused (an immutable field, say)."""
    docs = render(values, release=name, namespace=namespace)
    phases: dict[str, list[Manifest]] = {"pre": [], "sync": [], "post": [], "skip": []}
    for doc in docs:
        phases[_phase(doc)].append(doc)
    _run_hooks(namespace, phases["pre"])
    _apply(phases["sync"])
    wanted = {d["metadata"]["name"] for d in phases["sync"] if d["kind"] == "Job"}
    for job in kube.batch.list_namespaced_job(namespace, label_selector=f"{INSTANCE}={name}").items:
        hook = (job.metadata.annotations or {}).get(HOOK)
        if not hook and job.metadata.name not in wanted:
            run(["kubectl", "-n", namespace, "delete", "job", job.metadata.name, "--wait"])
    for doc in phases["sync"]:
        if doc["kind"] in ("StatefulSet", "DaemonSet"):
            kind = doc["kind"].lower()
            run(
                [
                    "kubectl",
                    "-n",
                    namespace,
                    "rollout",
                    "status",
                    f"{kind}/{doc['metadata']['name']}",
                    "--timeout=600s",
                ],
                timeout=660,
            )
    _run_hooks(namespace, phases["post"])
