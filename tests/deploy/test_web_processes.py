"""deploy/web-processes: WEB_PROCESSES (default: one per core) turned into ports for systemd,
compose and Caddy; `serve` (compose) keeping a daphne process on each port behind the project's
Caddyfile; `enable` (systemd) turning the template's instances on and telling Caddy."""

import functools
import json
import os
import signal
import ssl
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from websockets.sync.client import connect

from tests.deploy.test_caddy_proxy import NoRedirect, free_port, listening, serves_tls, wait_for
from tests.deploy.tools import need
from tests.processes import ROOT, sqlite_env
from tests.processes import manage as run_manage

SCRIPT = ROOT / "deploy" / "web-processes"

pytestmark = pytest.mark.timeout(180)


def script(*args: str, **env: str) -> subprocess.CompletedProcess:
    base = {"PATH": os.environ["PATH"], "TOOLCRIB_ENV_FILE": "/nonexistent"}
    return subprocess.run(
        [str(SCRIPT), *args], env={**base, **env}, capture_output=True, text=True, timeout=30
    )


def test_one_web_process_per_core_by_default_from_port_8000():
    cores = len(os.sched_getaffinity(0))

    result = script("ports")

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [str(8000 + n) for n in range(cores)]


def test_caddy_gets_one_upstream_per_process():
    result = script("upstreams", "web", WEB_PROCESSES="3")
    assert result.stdout == "web:8000 web:8001 web:8002\n"


def test_the_setting_is_read_from_the_env_file_when_the_environment_has_none(tmp_path):
    env_file = tmp_path / "toolcrib.env"
    env_file.write_text('DEBUG=0\nWEB_PROCESSES="3"\nREDIS_URL=redis://127.0.0.1:6379/0\n')

    result = script("ports", TOOLCRIB_ENV_FILE=str(env_file))

    assert result.stdout.split() == ["8000", "8001", "8002"]


@pytest.mark.parametrize("value", ["0", "65", "two", "1.5", "-1", "08"])
def test_a_bad_count_is_refused_with_a_message_and_no_ports(value):
    for args in (["ports"], ["upstreams", "web"], ["serve", "true"]):
        result = script(*args, WEB_PROCESSES=value)

        assert result.returncode == 2
        assert result.stdout == ""
        assert f"WEB_PROCESSES={value} is not a whole number from 1 to 64" in result.stderr


def test_enable_turns_on_one_instance_per_port_turns_off_the_rest_and_tells_caddy(tmp_path):
    """systemctl is a stand-in that writes down what it was asked."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    asked = tmp_path / "asked"
    fake = bin_dir / "systemctl"
    fake.write_text(f'#!/bin/sh\necho "$*" >> {asked}\n')
    fake.chmod(0o755)
    units = tmp_path / "system"
    wants = units / "toolcrib-web.target.wants"
    wants.mkdir(parents=True)
    for port in (8000, 8002):  # 8002 was on when the host ran three
        (wants / f"toolcrib-web@{port}.service").symlink_to("/nonexistent")
    env_file = tmp_path / "toolcrib.env"
    env_file.write_text("WEB_PROCESSES=2\nTOOLCRIB_UPSTREAM=127.0.0.1:8000\n")

    result = script(
        "enable",
        PATH=f"{bin_dir}:{os.environ['PATH']}",
        TOOLCRIB_ENV_FILE=str(env_file),
        TOOLCRIB_UNIT_DIR=str(units),
    )

    assert result.returncode == 0, result.stderr
    assert asked.read_text().splitlines() == [
        "enable toolcrib-web.target",
        "enable toolcrib-web@8000.service",
        "enable toolcrib-web@8001.service",
        "disable --now toolcrib-web@8002.service",
        "daemon-reload",
        "start toolcrib-web.target",
        "try-restart caddy.service",
    ]
    drop_in = (units / "caddy.service.d" / "toolcrib-upstream.conf").read_text()
    assert 'Environment="TOOLCRIB_UPSTREAM=127.0.0.1:8000 127.0.0.1:8001"' in drop_in
    assert "TOOLCRIB_UPSTREAM in" in result.stderr  # the env file's own list would win: said


def free_ports(count: int) -> int:
    """The first of `count` consecutive free ports."""
    while True:
        first = free_port()
        if first + count < 65536 and not any(listening(first + n) for n in range(count)):
            return first


def answers(port: int) -> bool:
    """/healthz straight from one process, with the Host name Caddy's health checks send."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/healthz", headers={"Host": "localhost"}
    )
    with urllib.request.urlopen(request, timeout=2) as response:
        return response.status == 200


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """Two daphne processes started by `web-processes serve` as compose starts them, behind the
    project's Caddyfile with the upstreams `web-processes upstreams` gives."""
    tmp = tmp_path_factory.mktemp("web-processes")
    caddy_bin = need("caddy")
    first, https_port = free_ports(2), free_port()
    origin = f"https://localhost:{https_port}"
    env = sqlite_env(
        tmp,
        DEBUG="0",
        ALLOWED_HOSTS="localhost",
        CSRF_TRUSTED_ORIGINS=origin,
        SITE_URL=origin,
        WEB_PROCESSES="2",
        WEB_FIRST_PORT=str(first),
    )
    manage = functools.partial(run_manage, env)
    manage("migrate", "--no-input", "-v0")
    station = json.loads(manage("create_station", "Line 1", "--json"))
    # Each process writes its own access log, named after its port (the last argument).
    daphne = tmp / "daphne"
    daphne.write_text(
        "#!/bin/sh\nfor port; do :; done\n"
        f'exec {sys.executable} -m daphne --access-log "{tmp}/access-$port.log" "$@"\n'
    )
    daphne.chmod(0o755)
    upstreams = subprocess.run(
        [SCRIPT, "upstreams", "127.0.0.1"], env=env, capture_output=True, text=True, check=True
    ).stdout.strip()
    caddy_env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp),
        "XDG_DATA_HOME": str(tmp / "data"),
        "XDG_CONFIG_HOME": str(tmp / "config"),
        "TOOLCRIB_SITE": origin,
        "TOOLCRIB_HTTP_PORT": str(free_port()),
        "TOOLCRIB_HTTPS_PORT": str(https_port),
        "TOOLCRIB_CADDY_ADMIN": "off",
        "TOOLCRIB_UPSTREAM": upstreams,
        "TOOLCRIB_STATIC": str(ROOT / "static"),
    }
    caddyfile = ["--config", str(ROOT / "deploy" / "Caddyfile"), "--adapter", "caddyfile"]
    with open(tmp / "serve.log", "w") as serve_log, open(tmp / "caddy.log", "w") as caddy_log:
        serve = subprocess.Popen(
            [SCRIPT, "serve", daphne, "--bind", "127.0.0.1", "config.asgi:application"],
            cwd=ROOT,
            env=env,
            stdout=serve_log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        caddy = subprocess.Popen(
            [caddy_bin, "run", *caddyfile],
            cwd=tmp,
            env=caddy_env,
            stdout=caddy_log,
            stderr=subprocess.STDOUT,
        )
        try:
            root_cert = tmp / "data" / "caddy" / "pki" / "authorities" / "local" / "root.crt"
            for port in (first, first + 1):
                wait_for(lambda port=port: answers(port), f"daphne on {port}")
            wait_for(lambda: serves_tls(https_port, root_cert), "caddy")
            for port in (first, first + 1):
                wait_for(lambda port=port: caddy_sees_up(tmp / "caddy.log", port), "healthy")
            yield {
                "origin": origin,
                "ports": (first, first + 1),
                "serve": serve,
                "station": station,
                "tmp": tmp,
                "context": ssl.create_default_context(cafile=str(root_cert)),
            }
        finally:
            caddy.terminate()
            caddy.wait(timeout=20)
            if serve.poll() is None:
                os.killpg(serve.pid, signal.SIGKILL)
                serve.wait()


def caddy_sees_up(log: Path, port: int) -> bool:
    """Caddy's health checks found the process up (it started before the process did)."""
    seen = []
    for line in log.read_text().splitlines():
        entry = json.loads(line) if line.startswith("{") else {}
        checker = entry.get("logger", "").endswith("health_checker.active")
        if checker and entry.get("host") == f"127.0.0.1:{port}":
            seen.append(entry["msg"])
    return not seen or seen[-1] == "host is up"


def fetch(stack, path: str, method: str = "GET"):
    """(status, headers) of a request through Caddy."""
    opener = urllib.request.build_opener(
        urllib.request.HTTPSHandler(context=stack["context"]), NoRedirect
    )
    request = urllib.request.Request(stack["origin"] + path, method=method)
    try:
        with opener.open(request, timeout=15) as response:
            return response.status, response.headers
    except urllib.error.HTTPError as error:
        return error.code, error.headers


def process_on(port: int) -> int:
    """The pid of the daphne process serving `port`."""
    for folder in Path("/proc").iterdir():
        try:
            command = (folder / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"daphne" in command[2:3] and command[-3:-1] == [b"--port", str(port).encode()]:
            return int(folder.name)
    raise AssertionError(f"no daphne process on port {port}")


def test_kiosk_websockets_through_caddy_are_spread_over_the_processes(stack):
    pair_path = stack["station"]["pair_url"].removeprefix(stack["origin"])
    status, headers = fetch(stack, pair_path, method="POST")
    assert status == 302
    cookie = headers["Set-Cookie"].split(";", 1)[0]

    def screen():
        return connect(
            stack["origin"].replace("https://", "wss://") + "/ws/kiosk/",
            ssl=stack["context"],
            origin=stack["origin"],
            additional_headers={"Cookie": cookie},
            open_timeout=15,
        )

    # least_conn: the second screen goes to the process that does not hold the first.
    with screen(), screen():
        logs = [stack["tmp"] / f"access-{port}.log" for port in stack["ports"]]
        wait_for(
            lambda: all("WSCONNECT /ws/kiosk/" in log.read_text() for log in logs),
            "a screen on each process",
            timeout=10,
        )


def test_a_process_that_dies_is_skipped_by_caddy_and_started_again(stack):
    port = stack["ports"][0]
    dead = process_on(port)
    os.kill(dead, signal.SIGKILL)

    statuses = [fetch(stack, "/healthz")[0] for _ in range(10)]

    assert statuses == [200] * 10
    wait_for(lambda: answers(port), f"daphne on {port} again")
    assert process_on(port) != dead
    assert (
        f"the web process on port {port} ended: starting it again"
        in (stack["tmp"] / "serve.log").read_text()
    )


def test_stopping_it_stops_every_process(stack):
    stack["serve"].send_signal(signal.SIGTERM)

    assert stack["serve"].wait(timeout=30) == 0
    assert not any(listening(port) for port in stack["ports"])
