"""Real engines on loopback for the portability tests: a PostgreSQL server and Spark in local mode.

PostgreSQL is started from the machine's own binaries (Debian's postgresql package: `.ci/run` installs it) in a
temporary directory on a free port; as root it runs as the `postgres` user, as PostgreSQL requires.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.conftest import skip_or_fail

from deskpulse.engines import EngineStore, connect_engine


def _postgres_binaries() -> Path | None:
    for candidate in [shutil.which("initdb"), *sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), reverse=True)]:
        if candidate:
            return Path(candidate).parent
    return None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    binaries = _postgres_binaries()
    if binaries is None:
        skip_or_fail("PostgreSQL is not installed (apt-get install postgresql)")
        raise AssertionError  # not reached
    # Directly under the system temp dir: pytest's own is private to root, and the server runs as postgres.
    directory = Path(tempfile.mkdtemp(prefix="deskpulse-postgres-"))
    as_user: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        shutil.chown(directory, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    data, port = directory / "data", _free_port()
    subprocess.run(
        [*as_user, str(binaries / "initdb"), "-D", str(data), "-A", "trust", "-U", "deskpulse"],
        check=True,
        capture_output=True,
    )
    options = f"-p {port} -k {directory} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(
        [
            *as_user,
            str(binaries / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            options,
            "-l",
            str(directory / "log"),
            "-w",
            "start",
        ],
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql://deskpulse@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [*as_user, str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"], capture_output=True
        )
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="session")
def spark() -> Iterator[EngineStore]:
    """One local Spark session for the whole run: starting one costs about ten seconds."""
    pytest.importorskip("pyspark", reason="install the spark extra: pip install -e '.[spark]'")
    if shutil.which("java") is None:
        skip_or_fail("Spark needs Java 17 (apt-get install openjdk-17-jre-headless)")
    with connect_engine("spark") as engine:
        yield engine
