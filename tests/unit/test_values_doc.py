"""Values documentation (harness/values_doc.py): every value has a `# --` comment in values.yaml,
and the README's table and the schema's descriptions are generated from those comments."""

from __future__ import annotations

import subprocess
import sys

import yaml

from harness.render import REPO
from harness.values_doc import VALUES, Doc, documented_keys, undocumented


def test_every_value_has_a_comment() -> None:
    text = VALUES.read_text()
    assert undocumented(yaml.safe_load(text), documented_keys(text)) == []


def test_readme_and_schema_are_generated_from_the_comments() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "harness.values_doc", "--check"],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
    )
    assert proc.returncode == 0, proc.stderr


def test_comment_parser_sees_nesting_continuations_and_defaults() -> None:
    text = "a:\n  # -- inner\n  #    goes on\n  # @default -- computed\n  b: 1\n# -- outer\nc: {}\n"
    assert documented_keys(text) == {
        "a.b": Doc("inner goes on", "computed"),
        "c": Doc("outer"),
    }
    assert undocumented({"a": {"b": 1, "d": 2}, "c": {}}, {"a.b": Doc(""), "c": Doc("")}) == ["a.d"]
