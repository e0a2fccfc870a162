"""Fixtures shared by the whole test suite."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared real-data directory: $DESKPULSE_DATA, else <repo>/../shared/data.

    Missing data skips the test on a developer machine, but fails it in CI (when $CI is set), so a broken
    data mount cannot turn the real-data tests into silent skips.
    """
    directory = Path(os.environ.get("DESKPULSE_DATA") or REPO_ROOT.parent / "shared" / "data")
    if not directory.is_dir():
        skip_or_fail(f"shared data directory {directory} not found; set DESKPULSE_DATA")
    return directory


def skip_or_fail(message: str) -> None:
    """Skip on a developer machine; fail in CI (when $CI is set), where missing data is a broken setup."""
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)
