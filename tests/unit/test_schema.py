"""The values schema (chart/values.schema.json).

Every file of tests/fixtures/values/invalid/ holds one realistic mistake and names, on its first
line (`# expect: server.replicas`), the field helm's refusal must point at: a dotted path, or
only the key itself for a key that does not exist (`# expect: replica`); its second line
(`# says: <a Kubernetes quantity such as 10Gi, 512Mi or 500m>`) is the wording the refusal must
carry, which says in words what is allowed. Every file of valid/
holds non-default values that must render. The schema itself is checked with jsonschema too, so
that a schema helm happens to tolerate but which says something else is caught.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft7Validator, ValidationError

from harness.render import CHART, RenderError, merge_values, render

SCHEMA_FILE = CHART / "values.schema.json"
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "values"
INVALID = sorted((FIXTURES / "invalid").glob("*.yaml"))
VALID = sorted((FIXTURES / "valid").glob("*.yaml"))
EXPECT = re.compile(r"# expect: ([A-Za-z0-9_.-]+)\n# says: (.+)\n")
# What a refusal must never show a user instead of words.
UNWORDED = ("does not match pattern", "'not' failed", "'allOf' failed", "'anyOf' failed")
# The first line of helm 3's and helm 4's message when values fail the schema.
SCHEMA_REFUSAL = "values don't meet the specifications of the schema(s)"

Schema = dict[str, Any]


@cache
def schema() -> Schema:
    return json.loads(SCHEMA_FILE.read_text())


@cache
def defaults() -> dict[str, Any]:
    return yaml.safe_load((CHART / "values.yaml").read_text())


def validator() -> Draft7Validator:
    """Validates like helm does: `format` is asserted (draft-07 validators in helm do)."""
    return Draft7Validator(schema(), format_checker=Draft7Validator.FORMAT_CHECKER)


def expected_field(path: Path) -> str:
    return expectation(path)[0]


def expectation(path: Path) -> tuple[str, str]:
    """(field, wording) from the first two lines of an invalid-values fixture."""
    match = EXPECT.match(path.read_text())
    assert match, f"{path.name}: must start `# expect: <dotted.field.path>` then `# says: <words>`"
    return match.group(1), match.group(2)


def effective_values(path: Path) -> dict[str, Any]:
    return merge_values(defaults(), yaml.safe_load(path.read_text()) or {})


def error_mentions(error: ValidationError, field: str) -> bool:
    """Whether a jsonschema error is about this dotted path (or, for a bare key, unknown key)."""
    if error.validator == "additionalProperties":
        return f"'{field}'" in error.message
    return ".".join(str(p) for p in error.absolute_path) == field


def helm_mentions(stderr: str, field: str) -> bool:
    """Whether helm's message points at the field.

    helm 3 and helm 4 give the location as a JSON pointer (`at '/server/replicas': ...`) and
    list unknown keys quoted (`at '/server': additional properties 'replica' not allowed`).
    """
    pointer = "/" + field.replace(".", "/")
    return f"'{pointer}'" in stderr or ("." not in field and f"'{field}'" in stderr)


def resolve(node: Schema) -> Schema:
    """Follows the local `$ref`s (`#/definitions/...`) of a schema node."""
    while "$ref" in node:
        ref = node["$ref"]
        assert ref.startswith("#/"), f"only local references are expected, got {ref}"
        target: Any = schema()
        for part in ref[2:].split("/"):
            target = target[part]
        node = target
    return node


def value_paths(value: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Every key path of a values tree; a list's items are walked under the segment `[]`."""
    if isinstance(value, Mapping):
        for key, child in value.items():
            yield (*path, key)
            yield from value_paths(child, (*path, key))
    elif isinstance(value, list):
        for item in value:
            yield from value_paths(item, (*path, "[]"))


def schema_node(path: tuple[str, ...]) -> Schema | None:
    """The schema of a values path through `properties` and `items`; None if not declared."""
    node = resolve(schema())
    for segment in path:
        child = node.get("items") if segment == "[]" else node.get("properties", {}).get(segment)
        if not isinstance(child, dict):
            return None
        node = resolve(child)
    return node


def declared(path: tuple[str, ...]) -> Schema | None:
    """The unresolved schema node declaring the last segment of a key path (for description)."""
    parent = schema_node(path[:-1])
    if parent is None:
        return None
    child = parent.get("properties", {}).get(path[-1])
    return child if isinstance(child, dict) else None


def test_fixture_sets_are_there() -> None:
    assert len(INVALID) >= 35, "tests/fixtures/values/invalid/ lost its files"
    assert len(VALID) >= 6, "tests/fixtures/values/valid/ lost its files"


def test_schema_is_a_valid_draft7_schema() -> None:
    assert schema()["$schema"] == "http://json-schema.org/draft-07/schema#"
    Draft7Validator.check_schema(schema())


def test_defaults_validate() -> None:
    errors = [f"{e.json_path}: {e.message}" for e in validator().iter_errors(defaults())]
    assert not errors, errors


def test_defaults_render() -> None:
    assert render()


def user_named(path: tuple[str, ...]) -> bool:
    """A key the user names inside a free map (labels, selectors), which the schema cannot list."""
    parent = schema_node(path[:-1])
    return parent is not None and parent.get("type") == "object" and "properties" not in parent


def test_every_value_is_in_the_schema() -> None:
    paths = [p for p in value_paths(defaults()) if not user_named(p)]
    missing = [".".join(p) for p in paths if schema_node(p) is None]
    assert not missing, f"values.yaml keys with no schema under `properties`: {missing}"
    undescribed = [
        ".".join(p) for p in paths if p[-1] != "[]" and "description" not in (declared(p) or {})
    ]
    assert not undescribed, f"schema properties without a description: {undescribed}"


def test_unknown_keys_are_refused_everywhere() -> None:
    """Each object of values.yaml with fixed keys refuses a key it does not know."""
    open_objects = []
    for path in [(), *value_paths(defaults())]:
        node = schema_node(path)
        if node is None or node.get("type") != "object" or not node.get("properties"):
            continue
        if node.get("additionalProperties") is not False:
            open_objects.append(".".join(path) or "(root)")
    # Resource lists name a few well-known resources but take any (GPUs, hugepages...).
    resource_lists = {
        f"{r}.{k}"
        for r in (
            "server.resources",
            "client.resources",
            "client.rejoinResources",
            "backup.resources",
            "jobs.resources",
        )
        for k in ("requests", "limits")
    }
    assert set(open_objects) <= resource_lists, open_objects


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_invalid_values_are_refused_by_helm(path: Path) -> None:
    field, wording = expectation(path)
    with pytest.raises(RenderError) as refused:
        render(values_files=[path])
    stderr = refused.value.stderr
    assert SCHEMA_REFUSAL in stderr, f"refused, but not by the schema:\n{stderr}"
    assert helm_mentions(stderr, field), f"helm's message does not name {field}:\n{stderr}"
    assert wording in stderr, f"helm's message lacks the words {wording!r}:\n{stderr}"
    assert not any(u in stderr for u in UNWORDED), f"a refusal without words:\n{stderr}"


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_invalid_values_hold_one_mistake(path: Path) -> None:
    """jsonschema finds the mistake the file is about, and nothing else: its errors (one
    mistake can break two rules) are all at the field the file names."""
    field = expected_field(path)
    errors = list(validator().iter_errors(effective_values(path)))
    assert errors, "jsonschema accepts these values"
    stray = [f"{e.json_path}: {e.message}" for e in errors if not error_mentions(e, field)]
    assert not stray, stray


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_valid_values_validate(path: Path) -> None:
    errors = [
        f"{e.json_path}: {e.message}" for e in validator().iter_errors(effective_values(path))
    ]
    assert not errors, errors


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_valid_values_render(path: Path) -> None:
    assert render(values_files=[path])
