"""A PostgreSQL cluster of its own, with WAL archiving by pgBackRest, for the point-in-time
recovery test and benchmark: made with initdb as the postgres user in a temporary folder, on a
free port of 127.0.0.1, configured with the files in deploy/ and removed afterwards. The
machine's own cluster, its /etc/pgbackrest.conf and /var/lib/pgbackrest are never touched:
every pgBackRest path comes from the environment, which overrides the configuration file.
"""

import glob
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.live_server import free_port

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
STANZA = "toolcrib"


class Missing(Exception):
    """What this machine lacks to run a scratch cluster."""


def postgres_bin() -> Path:
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4])
    )
    if not found:
        raise Missing("needs the PostgreSQL server (/usr/lib/postgresql/<version>/bin/initdb)")
    return Path(found[-1]).parent


class ScratchCluster:
    def __init__(self):
        if os.geteuid() != 0:
            raise Missing("needs root, to run initdb and pgBackRest as the postgres user")
        if shutil.which("pgbackrest") is None:
            raise Missing("needs pgbackrest: make test installs it (Makefile APT_PACKAGES)")
        self.bin = postgres_bin()
        # Under /tmp, not pytest's folder: the postgres user must be able to reach it.
        self.root = Path(tempfile.mkdtemp(prefix="toolcrib-pitr-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.config = self.root / "pgbackrest.conf"
        shutil.copy(DEPLOY / "pgbackrest" / "pgbackrest.conf", self.config)
        for name in ("sock", "repo", "log", "lock", "spool"):
            (self.root / name).mkdir()
        shutil.chown(self.root, "postgres", "postgres")
        for path in self.root.rglob("*"):
            shutil.chown(path, "postgres", "postgres")
        self.env = {
            "PATH": os.environ["PATH"],
            "LANG": "C.UTF-8",
            "PGBACKREST_CONFIG": str(self.config),
            "PGBACKREST_REPO1_PATH": str(self.root / "repo"),
            "PGBACKREST_LOG_PATH": str(self.root / "log"),
            "PGBACKREST_LOCK_PATH": str(self.root / "lock"),
            "PGBACKREST_SPOOL_PATH": str(self.root / "spool"),
            "PGBACKREST_PG1_PATH": str(self.data),
            "PGBACKREST_PG1_PORT": str(self.port),
            "PGBACKREST_PG1_SOCKET_PATH": str(self.root / "sock"),
        }

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/toolcrib"

    def run(self, *command: str, timeout: float = 300) -> str:
        """A command as the postgres user, with the cluster's pgBackRest environment."""
        result = subprocess.run(
            [
                "runuser",
                "-u",
                "postgres",
                "--",
                "env",
                *(f"{k}={v}" for k, v in self.env.items()),
                *command,
            ],
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=self.root,
        )
        if result.returncode:
            raise RuntimeError(f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    def create(self) -> "ScratchCluster":
        """initdb, the deploy/ settings, start, the pgBackRest stanza, the database."""
        self.run(
            str(self.bin / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "--no-sync",
            "-E",
            "UTF8",
        )
        pitr = self.root / "toolcrib-pitr.conf"
        shutil.copy(DEPLOY / "postgresql" / "toolcrib-pitr.conf", pitr)
        shutil.chown(pitr, "postgres", "postgres")
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write(
                f"\nport = {self.port}\nlisten_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.root / 'sock'}'\n"
                # A scratch cluster need not survive a power cut; the WAL it archives is the same.
                "fsync = off\n"
                f"include '{pitr}'\n"
            )
        self.start()
        self.run("pgbackrest", f"--stanza={STANZA}", "stanza-create")
        self.run("pgbackrest", f"--stanza={STANZA}", "check")
        self.sql("CREATE DATABASE toolcrib", database="postgres")
        return self

    def start(self) -> None:
        self.run(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.root / "log" / "postgres.log"),
            "-w",
            "-t",
            "120",
            "start",
        )

    def stop(self, mode: str = "fast") -> None:
        if (self.data / "postmaster.pid").exists():
            self.run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def backup(self, kind: str = "full") -> None:
        self.run("pgbackrest", f"--stanza={STANZA}", f"--type={kind}", "backup")

    def sql(self, statement: str, database: str = "toolcrib") -> str:
        return self.run(
            str(self.bin / "psql"),
            "-h",
            str(self.root / "sock"),
            "-p",
            str(self.port),
            "-d",
            database,
            "-AtX",
            "-v",
            "ON_ERROR_STOP=1",
            "-c",
            statement,
        ).strip()

    def lose_the_disk(self) -> None:
        """What a dead disk leaves: no server, no data folder (the repository is elsewhere)."""
        self.stop("immediate")
        shutil.rmtree(self.data)
        self.data.mkdir(mode=0o700)
        shutil.chown(self.data, "postgres", "postgres")

    def restore(self, *target: str) -> None:
        """pgBackRest restore, as far as the archive goes or to a target (--type=time
        --target=...), then start and wait until recovery has ended and the server takes
        writes."""
        promote = ("--target-action=promote",) if target else ()
        self.run("pgbackrest", f"--stanza={STANZA}", *target, *promote, "restore")
        self.start()
        deadline = time.monotonic() + 300
        while self.sql("SELECT pg_is_in_recovery()", database="postgres") != "f":
            if time.monotonic() > deadline:
                raise RuntimeError("recovery did not end within 5 minutes")
            time.sleep(0.1)

    def remove(self) -> None:
        try:
            self.stop("immediate")
        except (RuntimeError, subprocess.TimeoutExpired) as error:
            print(f"scratch cluster did not stop: {error}", file=sys.stderr)
        shutil.rmtree(self.root, ignore_errors=True)

    def django_env(self) -> dict[str, str]:
        """manage.py on this cluster (no Redis: nothing here publishes)."""
        return {
            **{k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}},
            "DATABASE_URL": self.url,
            "DATABASE_POOL_SIZE": "0",
            "VAR_DIR": str(self.root / "var"),
        }
