"""The one Markdown table `make bench` prints: a row per figure, with the median, min and max
over its runs, and the ratio of each layout's install time to the floor's."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field


@dataclass
class Row:
    figure: str
    layout: str
    unit: str
    values: list[float] = field(default_factory=list)
    note: str = ""  # e.g. runs that never got there, and why

    def cells(self) -> list[str]:
        if not self.values:
            return ["—", "—", "—", "0"]
        return [
            fmt(statistics.median(self.values)),
            fmt(min(self.values)),
            fmt(max(self.values)),
            str(len(self.values)),
        ]


@dataclass
class Table:
    rows: list[Row] = field(default_factory=list)

    def add(self, figure: str, layout: str, unit: str, values: list[float], note: str = "") -> Row:
        row = Row(figure, layout, unit, values, note)
        self.rows.append(row)
        return row

    def markdown(self) -> str:
        lines = [
            "| figure | layout | unit | median | min | max | runs | note |",
            "|---|---|---|---:|---:|---:|---:|---|",
        ]
        for r in self.rows:
            lines.append("| " + " | ".join([r.figure, r.layout, r.unit, *r.cells(), r.note]) + " |")
        return "\n".join(lines)

    def floor_ratios(self, figure: str) -> list[str]:
        """One line per layout: its median over the floor's median (the word `floor` on each)."""
        by_layout = {r.layout: r for r in self.rows if r.figure == figure and r.values}
        floor = by_layout.get("floor")
        if not floor:
            return [f"{figure}: no floor measured, no ratio to the floor"]
        base = statistics.median(floor.values)
        return [
            f"{figure}: {layout} = {statistics.median(r.values) / base:.2f} x floor"
            f" ({fmt(statistics.median(r.values))} s / {fmt(base)} s)"
            for layout, r in by_layout.items()
            if layout != "floor"
        ]


def fmt(value: float) -> str:
    if value >= 100 or value == int(value):
        return f"{value:.0f}"
    return f"{value:.2f}" if value < 10 else f"{value:.1f}"


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (0-100), nearest rank."""
    ordered = sorted(values)
    return ordered[max(1, math.ceil(p / 100 * len(ordered))) - 1]
