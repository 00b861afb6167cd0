"""The table `make test` ends with (harness/run_table.py): each target with the sessions it ran,
and the run's own wall time as the total, which counts the time between targets too."""

from __future__ import annotations

from harness.run_table import table

SESSION = {"seconds": 30.0, "passed": 3, "failed": 1, "error": 0, "skipped": 0, "exit": 1}
EVIDENCE = "/cache/evidence/20261206T000000Z-idle-test"


def test_each_target_lists_its_sessions_and_their_evidence() -> None:
    lines = table(
        [
            {"target": "lint", "seconds": 10, "exit": 0},
            {"tier": "idle", **SESSION, "evidence": [EVIDENCE]},
            {"target": "test-idle", "seconds": 400, "exit": 1},
        ]
    )
    assert lines[2] == "| **lint** | 0m 10s | | | | | 0 | |"
    assert lines[3] == "| **test-idle** | 6m 40s | | | | | 1 | |"
    assert lines[4] == f"| idle | 0m 30s | 3 | 1 | 0 | 0 | 1 | {EVIDENCE} |"
    assert lines[-1] == "| **make test** | 6m 50s | | | | | 1 | |"


def test_the_total_is_the_run_s_own_clock_where_it_gave_it() -> None:
    targets = [
        {"target": "lint", "seconds": 60, "exit": 0},
        {"target": "test-idle", "seconds": 400, "exit": 0},
    ]
    assert table(targets)[-1] == "| **make test** | 7m 40s | | | | | 0 | |"
    assert table([*targets, {"wall": 470}])[-1] == "| **make test** | 7m 50s | | | | | 0 | |"
