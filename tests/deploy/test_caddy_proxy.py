"""The project's own Caddyfile in front of a real daphne, over real TLS from Caddy's internal CA:
static files from disk, the kiosk page and its pairing, a tap posted by an agent reaching the
kiosk's WebSocket, the security headers, and /metrics closed to everyone but the scraper."""

import datetime
import functools
import json
import os
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid

import pytest
from websockets.sync.client import connect

from tests.deploy.tools import need
from tests.processes import ROOT, sqlite_env
from tests.processes import manage as run_manage

pytestmark = pytest.mark.timeout(180)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(check, what: str, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def serves_tls(port: int, root_cert) -> bool:
    """A handshake for localhost verified by Caddy's root: Caddy writes the root first and issues
    the site's own certificate after, so a listening port and a root are not yet enough."""
    if not root_cert.exists():
        return False
    context = ssl.create_default_context(cafile=str(root_cert))
    with (
        socket.create_connection(("127.0.0.1", port), timeout=2) as sock,
        context.wrap_socket(sock, server_hostname="localhost"),
    ):
        return True


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("caddy-stack")
    caddy_bin = need("caddy")
    https_port, daphne_port = free_port(), free_port()
    origin = f"https://localhost:{https_port}"
    env = sqlite_env(
        tmp,
        DEBUG="0",
        ALLOWED_HOSTS="localhost",
        CSRF_TRUSTED_ORIGINS=origin,
        SITE_URL=origin,
        # Production's HTTPS settings: they only hold if Caddy's X-Forwarded-Proto is honoured.
        SECURE_SSL_REDIRECT="1",
        SECURE_COOKIES="1",
    )
    manage = functools.partial(run_manage, env)

    manage("migrate", "--no-input", "-v0")
    manage("seed_demo")
    station = json.loads(manage("create_station", "Line 1", "--json"))
    daphne_args = ["-b", "127.0.0.1", "-p", str(daphne_port), "--proxy-headers"]
    caddy_env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp),
        "XDG_DATA_HOME": str(tmp / "data"),
        "XDG_CONFIG_HOME": str(tmp / "config"),
        "TOOLCRIB_SITE": origin,
        "TOOLCRIB_TLS": "internal",
        "TOOLCRIB_HTTP_PORT": str(free_port()),
        "TOOLCRIB_HTTPS_PORT": str(https_port),
        "TOOLCRIB_CADDY_ADMIN": "off",
        "TOOLCRIB_UPSTREAM": f"127.0.0.1:{daphne_port}",
        "TOOLCRIB_STATIC": str(ROOT / "static"),
        # A scraper address that is not us: /metrics must be refused at Caddy.
        "TOOLCRIB_METRICS_ALLOW": "192.0.2.1/32",
    }
    caddyfile = ["--config", str(ROOT / "deploy" / "Caddyfile"), "--adapter", "caddyfile"]
    # Their logs stay in the temporary folder for when a test fails.
    with open(tmp / "daphne.log", "w") as daphne_log, open(tmp / "caddy.log", "w") as caddy_log:
        daphne = subprocess.Popen(
            [sys.executable, "-m", "daphne", *daphne_args, "config.asgi:application"],
            cwd=ROOT,
            env=env,
            stdout=daphne_log,
            stderr=subprocess.STDOUT,
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
            wait_for(lambda: listening(daphne_port), "daphne")
            wait_for(lambda: serves_tls(https_port, root_cert), "caddy")
            context = ssl.create_default_context(cafile=str(root_cert))
            yield {"origin": origin, "context": context, "station": station}
        finally:
            for process in (caddy, daphne):
                process.terminate()
                process.wait(timeout=20)


def fetch(stack, path, *, method="GET", body=None, headers=None):
    request = urllib.request.Request(
        stack["origin"] + path, data=body, method=method, headers=headers or {}
    )
    opener = urllib.request.build_opener(
        urllib.request.HTTPSHandler(context=stack["context"]), NoRedirect
    )
    try:
        with opener.open(request, timeout=15) as response:
            return response.status, response.headers, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read().decode()


def test_daphne_answers_through_caddy_over_verified_tls_with_security_headers(stack):
    status, headers, body = fetch(stack, "/healthz")

    assert (status, body) == (200, "ok\n")
    assert headers["X-Request-ID"]  # from Django, so it went through to daphne
    assert "max-age=31536000" in headers["Strict-Transport-Security"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert "Server" not in headers


def test_static_files_come_from_disk_without_reaching_django(stack):
    status, headers, body = fetch(stack, "/static/kiosk/kiosk.css")

    assert status == 200
    assert body == (ROOT / "static" / "kiosk" / "kiosk.css").read_text()
    assert "X-Request-ID" not in headers


@pytest.mark.parametrize("path", ["/metrics", "/readyz"])
def test_monitoring_is_refused_at_caddy_for_an_address_not_allowed(stack, path):
    status, _, body = fetch(stack, path)

    assert status == 403
    assert body == "Forbidden"


def test_the_kiosk_page_pairs_and_its_websocket_gets_a_tap_through_caddy(stack):
    status, _, body = fetch(stack, "/kiosk/")
    assert status == 403  # an unpaired browser is told how to pair
    assert "create_station" in body

    pair_path = stack["station"]["pair_url"].removeprefix(stack["origin"])
    status, headers, _ = fetch(stack, pair_path, method="POST")
    assert status == 302
    cookie = headers["Set-Cookie"].split(";", 1)[0]
    assert "Secure" in headers["Set-Cookie"]
    status, _, page = fetch(stack, "/kiosk/", headers={"Cookie": cookie})
    assert status == 200 and "Line 1" in page

    ws_url = stack["origin"].replace("https://", "wss://") + "/ws/kiosk/"
    with connect(
        ws_url,
        ssl=stack["context"],
        origin=stack["origin"],
        additional_headers={"Cookie": cookie},
        open_timeout=15,
    ) as ws:
        now = datetime.datetime.now(datetime.UTC).isoformat()
        tap = {"id": str(uuid.uuid4()), "uid": "04DE0000000001", "read_at": now}  # demo badge
        status, _, body = fetch(
            stack,
            "/api/v1/kiosk/scans",
            method="POST",
            body=json.dumps({"sent_at": now, "events": [tap]}).encode(),
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Station {stack['station']['token']}",
            },
        )
        assert status == 200, body
        pushed = ws.recv(timeout=10)

    assert 'id="kiosk-main"' in pushed
    assert "山田 太郎" in pushed
