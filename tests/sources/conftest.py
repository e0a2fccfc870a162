"""The Dovecot server the IMAP tests sync from (`tests/sources/dovecot.py`), one per test session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.conftest import skip_or_fail
from tests.sources.dovecot import Dovecot, dovecot_binary


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    binary = dovecot_binary()
    if binary is None:
        skip_or_fail("Dovecot is not installed (apt-get install dovecot-imapd)")
        raise AssertionError  # not reached
    server = Dovecot(binary)
    try:
        server.start()
        yield server
    finally:
        server.remove()


@pytest.fixture
def running(dovecot: Dovecot) -> Dovecot:
    """The server, started again if a test before this one left it stopped."""
    if dovecot.process is None:
        dovecot.start()
    return dovecot
