"""Fixtures of the mail tests: the real corpora of the shared data directory."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from tests.conftest import skip_or_fail


@pytest.fixture(scope="session")
def require_corpus(shared_data: Path) -> Callable[[str], Path]:
    """A corpus directory under the shared data by name; a missing one skips the test, or fails it in CI."""

    def require(name: str) -> Path:
        directory = shared_data / name
        if not directory.is_dir():
            skip_or_fail(f"corpus {name} is missing from {shared_data}")
        return directory

    return require
