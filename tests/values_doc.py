"""The README's values table, generated from the `# --` comments in chart/values.yaml.

`python tests/values_doc.py --write README.md` (make docs) rewrites the table between the
markers; the unit tier checks the README is current and that every value is documented.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

import yaml

VALUES = Path(__file__).resolve().parent.parent / "chart" / "values.yaml"
START, END = "<!-- values-table:start -->", "<!-- values-table:end -->"
KEY_LINE = re.compile(r"^(?P<indent> *)(?P<key>[A-Za-z0-9_.-]+):")


def documented_keys(text: str) -> dict[str, str]:
    """Dotted key path -> the `# --` comment right above it (continued on `#` lines)."""
    docs: dict[str, str] = {}
    stack: list[tuple[int, str]] = []
    pending: str | None = None
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("# --"):
            pending = stripped.removeprefix("# --").strip()
            continue
        if pending is not None and stripped.startswith("#"):  # the comment goes on
            pending += " " + stripped.removeprefix("#").strip()
            continue
        match = KEY_LINE.match(line)
        if not match:
            continue
        indent = len(match["indent"])
        while stack and stack[-1][0] >= indent:
            stack.pop()
        stack.append((indent, match["key"]))
        if pending is not None:
            docs[".".join(k for _, k in stack)] = pending
        pending = None
    return docs


def undocumented(values: dict[str, Any], docs: dict[str, str], prefix: str = "") -> list[str]:
    """Value paths with no comment: a documented key covers everything below it."""
    missing = []
    for key, value in values.items():
        path = f"{prefix}{key}"
        if path in docs:
            continue
        if isinstance(value, dict) and value:
            missing += undocumented(value, docs, f"{path}.")
        else:
            missing.append(path)
    return missing


def lookup(values: dict[str, Any], path: str) -> Any:
    for key in path.split("."):
        values = values[key]
    return values


def table(text: str) -> str:
    values = yaml.safe_load(text)
    rows = ["| Key | Default | Description |", "| --- | --- | --- |"]
    for path, description in documented_keys(text).items():
        default = json.dumps(lookup(values, path), separators=(", ", ": "))
        cell = description.replace("|", r"\|")
        rows.append(f"| `{path}` | `{default}` | {cell} |")
    return "\n".join(rows)


def with_table(readme: str, values_text: str) -> str:
    head, rest = readme.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{table(values_text)}\n{END}{tail}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", type=Path, required=True, help="README to update in place")
    args = parser.parse_args()
    text = VALUES.read_text()
    missing = undocumented(yaml.safe_load(text), documented_keys(text))
    if missing:
        print(f"values without a '# --' comment: {', '.join(missing)}", file=sys.stderr)
        return 1
    readme = args.write.read_text()
    if START not in readme or END not in readme:
        print(f"{args.write} lacks the markers {START} and {END}", file=sys.stderr)
        return 1
    args.write.write_text(with_table(readme, text))
    return 0


if __name__ == "__main__":
    sys.exit(main())
