"""A real server for end-to-end tests and benchmarks: daphne in its own process, on its own
database (a fresh PostgreSQL database when DATABASE_URL points at PostgreSQL, else a SQLite
file), with the test run's REDIS_URL when there is one.

The test process itself never touches that database: it drives the server over HTTP and
WebSocket, and through `manage.py` commands run against the same environment.

`service_env` is what only the long-running processes see (daphne, and the huey consumer when
`huey=True`): the fault tests point them at a proxy in front of PostgreSQL or Redis, while
`manage` commands keep the direct route to read what the server recorded.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    def __init__(
        self,
        name: str,
        *,
        env: dict | None = None,
        processes: int = 1,
        daphne_args: tuple[str, ...] = (),
        service_env: dict | None = None,
        huey: bool = False,
    ):
        self.name = name
        self.daphne_args = daphne_args
        self.service_env = service_env or {}
        self.huey = huey
        self.huey_process: subprocess.Popen | None = None
        self.var = Path(tempfile.mkdtemp(prefix=f"toolcrib-{name}-"))
        self.ports = [free_port() for _ in range(processes)]
        self.processes: list[subprocess.Popen] = []
        self._logs = []
        self._keep = False
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "SECRET_KEY": "live-server-tests-only-secret-key-0123456789-abcdefghij",
            "DEBUG": "0",
            "SECURE_SSL_REDIRECT": "0",
            "SECURE_COOKIES": "0",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "VAR_DIR": str(self.var),
            "DATABASE_URL": self._database_url(),
            "HUEY_IMMEDIATE": "1",
            "DATABASE_POOL_SIZE": "20",
            "LOG_LEVEL": "WARNING",
            **(env or {}),
        }

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.ports[0]}"

    def urls(self) -> list[str]:
        return [f"http://127.0.0.1:{port}" for port in self.ports]

    def _database_url(self) -> str:
        url = os.environ.get("DATABASE_URL", "")
        if url.startswith(("postgres://", "postgresql://")):
            parts = urlsplit(url)
            self._pg_admin = urlunsplit(parts._replace(path="/postgres"))
            self._pg_name = f"{parts.path.strip('/')}_live_{self.name}"
            return urlunsplit(parts._replace(path=f"/{self._pg_name}"))
        self._pg_name = None
        return f"sqlite:///{self.var / 'db.sqlite3'}"

    def _recreate_database(self) -> None:
        self._drop_database(create=True)

    def _drop_database(self, create: bool = False) -> None:
        if not self._pg_name:
            return
        import psycopg

        with psycopg.connect(self._pg_admin, autocommit=True) as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                [self._pg_name],
            )
            conn.execute(f'DROP DATABASE IF EXISTS "{self._pg_name}"')
            if create:
                conn.execute(f'CREATE DATABASE "{self._pg_name}"')

    def manage(self, *args: str, env: dict | None = None) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
        )
        if result.returncode:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stderr}")
        return result.stdout

    def setup(self) -> "LiveServer":
        self._recreate_database()
        self.manage("migrate", "--noinput", "-v0")
        return self

    def start(self) -> "LiveServer":
        self.processes = [self._daphne(port) for port in self.ports]
        for url in self.urls():
            self._wait_until_serving(url)
        if self.huey:
            self.start_huey()
        return self

    def _daphne(self, port: int) -> subprocess.Popen:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "daphne",
                "-b",
                "127.0.0.1",
                "-p",
                str(port),
                "--websocket_timeout",
                "-1",
                *self.daphne_args,
                "config.asgi:application",
            ],
            cwd=ROOT,
            env={**self.env, **self.service_env},
            stdout=subprocess.DEVNULL,
            stderr=self._log(f"daphne-{port}.log"),
        )

    def start_huey(self) -> None:
        """The job runner, as in production: a consumer of its own, tasks not run inline."""
        self.huey_process = subprocess.Popen(
            [sys.executable, "manage.py", "run_huey", "--workers", "1", "--worker-type", "thread"],
            cwd=ROOT,
            env={**self.env, **self.service_env, "HUEY_IMMEDIATE": "0", "LOG_LEVEL": "INFO"},
            stdout=subprocess.DEVNULL,
            stderr=self._log("huey.log"),
        )

    def kill(self, index: int) -> None:
        """SIGKILL one daphne process, as the kernel's OOM killer or a power cut would."""
        self.processes[index].kill()
        self.processes[index].wait()

    def restart(self, index: int) -> None:
        """Start the daphne process of `ports[index]` again after `kill`."""
        self.processes[index] = self._daphne(self.ports[index])
        self._wait_until_serving(self.urls()[index])

    def _wait_until_serving(self, url: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                urllib.request.urlopen(f"{url}/kiosk/", timeout=2)
                return
            except urllib.error.HTTPError:
                return  # 403 for an unpaired browser: the server answers
            except OSError:
                if time.monotonic() > deadline:
                    self._keep = True
                    raise RuntimeError(f"daphne did not start at {url}: see {self.var}") from None
                time.sleep(0.1)

    def _log(self, name: str):
        log = open(self.var / name, "ab")  # noqa: SIM115 -- closed in stop()
        self._logs.append(log)
        return log

    def stop(self) -> None:
        """Stops daphne; `start` serves the same database again."""
        running = [*self.processes, *([self.huey_process] if self.huey_process else [])]
        if any(process.poll() is not None for process in running):
            self._keep = True  # it ended by itself: its log says why
        for process in running:
            process.send_signal(signal.SIGTERM)
        for process in running:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        self.processes = []
        self.huey_process = None
        for log in self._logs:
            log.close()
        self._logs = []

    def remove(self) -> None:
        """Stops daphne and removes its folder and database, unless a daphne process ended by
        itself or never served: then they stay for the person reading the failure."""
        self.stop()
        if self._keep:
            print(f"the live server's logs are kept in {self.var}", file=sys.stderr)
            return
        shutil.rmtree(self.var, ignore_errors=True)
        self._drop_database()

    def __enter__(self) -> "LiveServer":
        return self.setup().start()

    def __exit__(self, *exc) -> None:
        self.remove()
