"""Values documentation from one source: the `# --` comments in chart/values.yaml.

`make docs` (python -m harness.values_doc) writes them into the README's values table (key, type,
default, description) and into the `description` of each value in chart/values.schema.json, so
the two can never say different things. `--check` changes nothing and exits 1 when either is
out of date; the unit tier runs it.

A comment is `# -- text` right above a key, continued on `#` lines; `# @default -- text` after
it replaces the literal default in the table with what the chart computes (e.g. the appVersion).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
VALUES = REPO / "chart" / "values.yaml"
SCHEMA = REPO / "chart" / "values.schema.json"
README = REPO / "README.md"
START, END = "<!-- values-table:start -->", "<!-- values-table:end -->"
KEY_LINE = re.compile(r"^(?P<indent> *)(?P<key>[A-Za-z0-9_.-]+):")
DEFAULT = "# @default --"


@dataclass
class Doc:
    description: str
    default: str | None = None  # what the chart computes, where the literal default says little


def documented_keys(text: str) -> dict[str, Doc]:
    """Dotted key path -> its `# --` comment (continued on `#` lines) and `@default`."""
    docs: dict[str, Doc] = {}
    stack: list[tuple[int, str]] = []
    pending: Doc | None = None
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("# --"):
            pending = Doc(stripped.removeprefix("# --").strip())
            continue
        if pending is not None and stripped.startswith(DEFAULT):
            pending.default = stripped.removeprefix(DEFAULT).strip()
            continue
        if pending is not None and stripped.startswith("#"):
            pending.description += " " + stripped.removeprefix("#").strip()
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


def undocumented(values: dict[str, Any], docs: dict[str, Doc], prefix: str = "") -> list[str]:
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


def resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = schema["definitions"][node["$ref"].removeprefix("#/definitions/")]
    return node


def declaration(schema: dict[str, Any], path: str) -> dict[str, Any]:
    """The schema node under `properties` that declares a value path (a $ref left as is)."""
    node = schema
    for key in path.split("."):
        node = resolve(schema, node)["properties"][key]
    return node


def type_of(schema: dict[str, Any], path: str) -> str:
    node = resolve(schema, declaration(schema, path))
    if "type" in node:
        kinds = node["type"] if isinstance(node["type"], list) else [node["type"]]
        return " or ".join(kinds)
    if "enum" in node:
        return "string"
    alternatives = node.get("oneOf") or node.get("anyOf") or []
    return " or ".join(type_of_node(schema, a) for a in alternatives) or "any"


def type_of_node(schema: dict[str, Any], node: dict[str, Any]) -> str:
    node = resolve(schema, node)
    return str(node.get("type", "any"))


def table(values_text: str, schema: dict[str, Any]) -> str:
    values = yaml.safe_load(values_text)
    rows = ["| Key | Type | Default | Description |", "| --- | --- | --- | --- |"]
    for path, doc in documented_keys(values_text).items():
        default = doc.default or f"`{json.dumps(lookup(values, path), separators=(', ', ': '))}`"
        cell = doc.description.replace("|", r"\|")
        rows.append(f"| `{path}` | {type_of(schema, path)} | {default} | {cell} |")
    return "\n".join(rows)


def with_table(readme: str, values_text: str, schema: dict[str, Any]) -> str:
    head, rest = readme.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{table(values_text, schema)}\n{END}{tail}"


def with_descriptions(schema: dict[str, Any], values_text: str) -> dict[str, Any]:
    """The schema with each documented value's description set to its comment."""
    out = json.loads(json.dumps(schema))
    for path, doc in documented_keys(values_text).items():
        node = declaration(out, path)
        rest = {k: v for k, v in node.items() if k != "description"}
        node.clear()
        node.update({"description": doc.description, **rest})
    return out


def schema_text(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def outputs() -> Iterator[tuple[Path, str]]:
    """Each generated file with the text it must have."""
    values_text = VALUES.read_text()
    schema = with_descriptions(json.loads(SCHEMA.read_text()), values_text)
    yield SCHEMA, schema_text(schema)
    yield README, with_table(README.read_text(), values_text, schema)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if stale")
    args = parser.parse_args()
    text = VALUES.read_text()
    missing = undocumented(yaml.safe_load(text), documented_keys(text))
    if missing:
        print(f"values without a '# --' comment: {', '.join(missing)}", file=sys.stderr)
        return 1
    stale = [path for path, content in outputs() if path.read_text() != content]
    if args.check:
        for path in stale:
            print(f"{path.relative_to(REPO)} is out of date: run `make docs`", file=sys.stderr)
        return 1 if stale else 0
    for path, content in outputs():
        path.write_text(content)
    return 0


if __name__ == "__main__":
    sys.exit(main())
