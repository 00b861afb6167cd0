"""`make bench`: this chart beside the seed write-ups' hand-made layouts and the floor, on the
kind cluster of `make cluster`; prints one Markdown table (median, min and max over the runs),
each layout's install time as a ratio to the floor, and the goals met or missed.

    python bench/bench.py [--runs 3] [--sections install,failover,restart,load,tiers]
                          [--layouts chart,seed-000,seed-003,floor] [--sizes 100,1000,5000]
                          [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from layouts import Chart, Floor, Layout, seed
from load import load
from scenarios import deployed, failover, install_to_healthy, rolling_restart
from table import Table

from harness.kube import CACHE, Kube, kubeconfig
from harness.release import CONSUL_IMAGE
from harness.render import REPO

SECTIONS = ("install", "failover", "restart", "load", "tiers")
LAYOUTS = ("chart", "seed-000", "seed-003", "floor")
TIMINGS = CACHE / "timings.jsonl"


def arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per figure (at least 1)")
    parser.add_argument("--sections", default=",".join(SECTIONS), help="comma-separated")
    parser.add_argument("--layouts", default=",".join(LAYOUTS), help="comma-separated")
    parser.add_argument("--sizes", default="100,1000,5000", help="service counts, ascending")
    parser.add_argument("--out", help="also write the report to this file")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error(f"--runs={args.runs}: give 1 or more (3 or more for a median worth quoting)")
    args.sections = [s for s in args.sections.split(",") if s]
    unknown = [s for s in args.sections if s not in SECTIONS]
    if unknown or not args.sections:
        parser.error(f"--sections: unknown {unknown or 'empty'}; choose from {','.join(SECTIONS)}")
    args.layouts = [s for s in args.layouts.split(",") if s]
    unknown = [s for s in args.layouts if s not in LAYOUTS]
    if unknown or not args.layouts:
        parser.error(f"--layouts: unknown {unknown or 'empty'}; choose from {','.join(LAYOUTS)}")
    try:
        args.sizes = [int(s) for s in args.sizes.split(",")]
    except ValueError:
        parser.error(f"--sizes={args.sizes}: give whole numbers, e.g. 100,1000,5000")
    if args.sizes != sorted(set(args.sizes)) or args.sizes[0] < 1:
        parser.error(f"--sizes={args.sizes}: give distinct positive counts in ascending order")
    return args


def layouts(kube: Kube, image: str, names: list[str]) -> dict[str, Callable[[], Layout]]:
    makers: dict[str, Callable[[], Layout]] = {
        "chart": lambda: Chart(kube, image),
        "seed-000": lambda: seed(kube, image, "seed-000"),
        "seed-003": lambda: seed(kube, image, "seed-003"),
        "floor": lambda: Floor(kube, image),
    }
    return {name: makers[name] for name in names}


def run_install(makers: dict[str, Callable[[], Layout]], runs: int, table: Table) -> None:
    for name, make in makers.items():
        times, note = install_to_healthy(make, runs)
        what = "pods Running" if name == "floor" else "one leader, all voters, all members alive"
        table.add("install → healthy", name, "s", times, note or what)


def consul_layouts(makers: dict[str, Callable[[], Layout]]) -> dict[str, Callable[[], Layout]]:
    """The layouts that run Consul (all but the floor)."""
    return {name: make for name, make in makers.items() if name != "floor"}


def run_failover(makers: dict[str, Callable[[], Layout]], runs: int, table: Table) -> None:
    for name, make in consul_layouts(makers).items():
        with deployed(make()) as layout:
            for how in ("deleted", "killed"):
                result = failover(layout, how, runs)
                note = result.note
                table.add(f"leader {how} → new leader", name, "s", result.new_leader_s, note)
                table.add(f"leader {how}: leaderless", name, "s", result.leaderless_s, note)


def run_restart(makers: dict[str, Callable[[], Layout]], runs: int, table: Table) -> None:
    for name, make in consul_layouts(makers).items():
        with deployed(make()) as layout:
            result = rolling_restart(layout, runs)
            via = "writes through a client agent"
            if not layout.has_clients():
                via = "no clients: writes to servers"
        table.add("rolling restart: leaderless", name, "s", result.leaderless_s, result.note)
        answered = "; ".join(result.answers)
        table.add(
            "rolling restart: failed writes",
            name,
            "writes",
            result.failed_writes,
            f"{via}; answered {answered}" if answered else via,
        )
        table.add("rolling restart: elections", name, "count", result.elections)
        table.add("rolling restart: until healthy", name, "s", result.total_s, result.note)


def run_load(kube: Kube, image: str, sizes: list[int], runs: int, table: Table) -> None:
    with deployed(Chart(kube, image)) as chart:
        load(chart, sizes, runs, table)


def run_tiers(runs: int, table: Table) -> None:
    """The unit tier, run here `runs` times under each helm; the cluster and chaos tiers as
    `make test` last recorded them (harness/plugin.py): they take the cluster for 30 min."""
    for helm in ("helm3", "helm4"):
        times = []
        for _ in range(runs):
            cmd = [sys.executable, "-m", "pytest", "-q", "-m", "not cluster", "tests/unit"]
            env = {**os.environ, "HELM": str(REPO / ".tools" / "bin" / helm)}
            start = time.monotonic()
            subprocess.run(cmd, cwd=REPO, env=env, check=True, capture_output=True)
            times.append(time.monotonic() - start)
        table.add(f"unit tier wall time ({helm})", "chart", "s", times, "run here")
    entries = []
    if TIMINGS.exists():
        entries = [json.loads(line) for line in TIMINGS.read_text().splitlines()]
    for tier in ("cluster", "chaos"):
        passed = [e for e in entries if e["tier"] == tier and e["exit"] == 0][-max(runs, 3) :]
        note = f"no passing run recorded in {TIMINGS}: run make test"
        if passed:
            note = f"as recorded by passing runs, {passed[0]['at'][:10]} to {passed[-1]['at'][:10]}"
        table.add(f"{tier} tier wall time", "chart", "s", [e["seconds"] for e in passed], note)


def goals(table: Table) -> list[str]:
    """The goals of the benchmark issue, each met or missed, from the figures."""

    def median(figure: str, layout: str = "chart") -> float | None:
        rows = [r for r in table.rows if r.figure == figure and r.layout == layout and r.values]
        return statistics.median(rows[0].values) if rows else None

    def most(figure: str) -> float | None:
        rows = [r for r in table.rows if r.figure == figure and r.layout == "chart" and r.values]
        return max(rows[0].values) if rows else None

    out = []
    chart, floor = median("install → healthy"), median("install → healthy", "floor")
    seeds = {s: median("install → healthy", s) for s in ("seed-000", "seed-003")}
    if chart and floor:
        out.append(
            verdict(f"install ≤ 1.3 x floor ({chart / floor:.2f} x floor)", chart <= 1.3 * floor)
        )
    if chart and all(seeds.values()):
        others = ", ".join(f"{name} {value:.1f} s" for name, value in seeds.items())
        out.append(
            verdict(
                f"install faster than both seeds (chart {chart:.1f} s; {others})",
                chart < min(v for v in seeds.values() if v),
            )
        )
    for text, value, bound in [
        ("killed leader replaced in ≤ 5 s (slowest run)", most("leader killed → new leader"), 5),
        ("deleted leader: < 1 s leaderless (worst run)", most("leader deleted: leaderless"), 0.999),
        (
            "rolling restart: 0 failed writes through a client (worst run)",
            most("rolling restart: failed writes"),
            0,
        ),
    ]:
        if value is not None:
            out.append(verdict(f"{text}: {value:g}", value <= bound))
    sizes = sorted(
        {
            int(r.figure.rsplit(" at ", 1)[1].split()[0])
            for r in table.rows
            if r.figure.startswith("load: KV write p99")
        }
    )
    if len(sizes) >= 2:
        low, high = (
            median(f"load: KV write p99 (client) at {s} services") for s in (sizes[0], sizes[-1])
        )
        if low and high:
            out.append(
                verdict(
                    f"KV p99 at {sizes[-1]} ≤ 2 x at {sizes[0]} ({high:.1f} ms vs {low:.1f} ms)",
                    high <= 2 * low,
                )
            )
    return out


def verdict(text: str, met: bool) -> str:
    return f"- goal {'met' if met else 'MISSED'}: {text}"


def report(table: Table, sections: list[str]) -> str:
    ratios = table.floor_ratios("install → healthy") if "install" in sections else []
    return "\n".join([table.markdown(), "", *ratios, *goals(table)])


def main(argv: list[str]) -> int:
    args = arguments(argv)
    if set(args.sections) - {"tiers"} and not os.path.isfile(kubeconfig()):
        print(f"bench: no kubeconfig at {kubeconfig()}: run `make cluster` first", file=sys.stderr)
        return 2
    image = os.environ.get("CONSUL_IMAGE") or CONSUL_IMAGE
    table = Table()
    for section in args.sections:
        print(f"bench: {section} …", file=sys.stderr, flush=True)
        if section == "tiers":
            run_tiers(args.runs, table)
        elif section == "load":
            run_load(Kube.connect(), image, args.sizes, args.runs, table)
        else:
            run = {"install": run_install, "failover": run_failover, "restart": run_restart}
            run[section](layouts(Kube.connect(), image, args.layouts), args.runs, table)
        # Each section's figures are kept as they come: a long run cut short still has them.
        if args.out:
            Path(args.out).write_text(report(table, args.sections) + "\n")
    print(report(table, args.sections))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
