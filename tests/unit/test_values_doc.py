"""Every value is documented, and the README's values table matches values.yaml."""

from __future__ import annotations

import yaml
from render import REPO
from values_doc import VALUES, documented_keys, undocumented, with_table


def test_every_value_has_a_comment() -> None:
    text = VALUES.read_text()
    assert undocumented(yaml.safe_load(text), documented_keys(text)) == []


def test_readme_table_is_current() -> None:
    readme = (REPO / "README.md").read_text()
    assert with_table(readme, VALUES.read_text()) == readme, "run `make docs`"


def test_comment_parser_sees_nesting() -> None:
    text = "a:\n  # -- inner\n  b: 1\n# -- outer\nc: {}\n"
    assert documented_keys(text) == {"a.b": "inner", "c": "outer"}
    assert undocumented({"a": {"b": 1, "d": 2}, "c": {}}, {"a.b": "", "c": ""}) == ["a.d"]
