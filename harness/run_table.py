"""The table `make test` ends with (hack/test-all.sh): for each make target of the run, its wall
time and exit, and under it each pytest session it ran, with its counts and the evidence folders
of its failures. Reads the run's JSON lines (make targets and pytest sessions, in order, and the
run's own wall time last)."""

from __future__ import annotations

import json
import sys
from pathlib import Path


def table(entries: list[dict]) -> list[str]:
    lines = [
        "| tier | wall time | passed | failed | errors | skipped | exit | evidence of failures |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    sessions: list[dict] = []
    for e in entries:
        if "tier" in e:  # a pytest session, written before the make target that ran it ends
            sessions.append(e)
            continue
        if "target" not in e:
            continue
        lines.append(f"| **{e['target']}** | {minutes(e['seconds'])} | | | | | {e['exit']} | |")
        for s in sessions:
            evidence = "<br>".join(s["evidence"]) or ("" if s["exit"] == 0 else "none collected")
            lines.append(
                f"| {s['tier']} | {minutes(s['seconds'])} | {s['passed']} | {s['failed']} "
                f"| {s['error']} | {s['skipped']} | {s['exit']} | {evidence} |"
            )
        sessions = []
    # The run's own clock, where it gave it: it counts the time between targets too.
    walls = [e["wall"] for e in entries if "wall" in e]
    total = walls[-1] if walls else sum(e["seconds"] for e in entries if "target" in e)
    failed = [e["target"] for e in entries if "target" in e and e["exit"]]
    lines.append(f"| **make test** | {minutes(total)} | | | | | {1 if failed else 0} | |")
    return lines


def minutes(seconds: float) -> str:
    return f"{int(seconds) // 60}m {int(seconds) % 60:02d}s"


def main(path: str) -> None:
    entries = [json.loads(line) for line in Path(path).read_text().splitlines() if line]
    print("\n" + "\n".join(table(entries)))
    print(f"\n(this run: {path})")


if __name__ == "__main__":
    main(*sys.argv[1:])
