"""Fixtures shared by every tier."""

from __future__ import annotations

import pytest
from render import Manifest, render


@pytest.fixture(scope="session")
def default_docs() -> tuple[Manifest, ...]:
    """The chart rendered with its default values."""
    return render()
