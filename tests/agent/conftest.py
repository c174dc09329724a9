import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from agent.config import Config, load_config
from agent.outbox import Outbox
from tests.agent.fake_server import TOKEN, FakeServer

REPO = Path(__file__).resolve().parents[2]


def wait_until(condition: Callable[[], object], timeout: float = 10.0, step: float = 0.02):
    """Poll instead of sleeping: returns the first truthy value, or fails after the timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(step)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def fake_server():
    server = FakeServer().start()
    yield server
    server.stop()


@pytest.fixture
def make_config(tmp_path, fake_server) -> Callable[..., Config]:
    def make(**overrides) -> Config:
        config = load_config(
            {
                "SERVER_URL": fake_server.url,
                "ALLOW_INSECURE_HTTP": "1",
                "STATION_TOKEN": TOKEN,
                "OUTBOX_PATH": str(tmp_path / "outbox.db"),
                "READER": "stdin",
                "STATUS_PORT": str(free_port()),
            }
        )
        return replace(config, **overrides)

    return make


class AgentProcess:
    """`python -m agent` in a subprocess, its log collected line by line."""

    def __init__(self, env: dict[str, str], stdin: bool = False):
        self.status_port = int(env["STATUS_PORT"])
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            [sys.executable, "-m", "agent"],
            cwd=REPO,
            env=env,
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        threading.Thread(target=self._collect, daemon=True).start()

    def _collect(self) -> None:
        for line in self.process.stderr:
            self.lines.append(line.rstrip("\n"))

    def tap(self, *uids: str) -> None:
        self.process.stdin.write("".join(f"{uid}\n" for uid in uids))
        self.process.stdin.flush()

    def status(self) -> dict | None:
        url = f"http://127.0.0.1:{self.status_port}/status"
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                return json.load(answer)
        except OSError:
            return None

    def wait_for_status(self, condition: Callable[[dict], bool], timeout: float = 10.0) -> dict:
        return wait_until(lambda: (s := self.status()) is not None and condition(s) and s, timeout)

    def wait_for_log(self, text: str, timeout: float = 10.0) -> str:
        return wait_until(
            lambda: next((line for line in self.lines if text in line), None), timeout
        )

    def log(self) -> str:
        return "\n".join(self.lines)

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


@pytest.fixture
def agent_env(tmp_path, fake_server) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in {"JOURNAL_STREAM"}}
    env.update(
        SERVER_URL=fake_server.url,
        ALLOW_INSECURE_HTTP="1",
        STATION_TOKEN=TOKEN,
        OUTBOX_PATH=str(tmp_path / "outbox.db"),
        READER="stdin",
        STATUS_PORT=str(free_port()),
        DEBOUNCE_SECONDS="0",
        PYTHONUNBUFFERED="1",
    )
    return env


@pytest.fixture
def start_agent(agent_env):
    started: list[AgentProcess] = []

    def start(stdin: bool = False, **overrides: str) -> AgentProcess:
        agent = AgentProcess({**agent_env, **overrides}, stdin=stdin)
        started.append(agent)
        return agent

    yield start
    for agent in started:
        agent.stop()


@pytest.fixture
def outbox(tmp_path):
    box = Outbox(tmp_path / "outbox.db")
    yield box
    box.close()
