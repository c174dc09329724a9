import json
import os
import subprocess
from pathlib import Path

from tests.deploy.tools import need

CADDYFILE = Path(__file__).resolve().parents[2] / "deploy" / "Caddyfile"


def caddy(tmp_path, command, **env):
    return subprocess.run(
        [need("caddy"), command, "--config", str(CADDYFILE), "--adapter", "caddyfile"],
        env={"PATH": os.environ["PATH"], "HOME": str(tmp_path), **env},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_caddyfile_is_valid_for_a_lan_with_the_internal_ca(tmp_path):
    result = caddy(tmp_path, "validate")
    assert result.returncode == 0, result.stderr
    assert "Valid configuration" in result.stdout + result.stderr


def test_a_domain_gets_acme_and_several_upstreams_share_the_load(tmp_path):
    result = caddy(
        tmp_path,
        "adapt",
        TOOLCRIB_SITE="toolcrib.example.com",
        TOOLCRIB_TLS="ops@example.com",
        TOOLCRIB_UPSTREAM="10.0.0.2:8000 10.0.0.3:8000",
    )
    assert result.returncode == 0, result.stderr
    config = json.loads(result.stdout.splitlines()[0])
    text = json.dumps(config)
    assert '"dial": "10.0.0.2:8000"' in text and '"dial": "10.0.0.3:8000"' in text
    issuers = config["apps"]["tls"]["automation"]["policies"][0]["issuers"]
    assert {"module": "acme", "email": "ops@example.com"} in issuers
    assert '"toolcrib.example.com"' in text


def test_the_lan_default_uses_the_internal_issuer_and_sets_security_headers(tmp_path):
    result = caddy(tmp_path, "adapt")
    config = json.loads(result.stdout.splitlines()[0])
    issuers = config["apps"]["tls"]["automation"]["policies"][0]["issuers"]
    assert issuers == [{"module": "internal"}]
    text = json.dumps(config)
    for header in ["Strict-Transport-Security", "X-Content-Type-Options", "X-Frame-Options"]:
        assert header in text


def test_the_web_processes_are_balanced_and_checked_on_healthz_as_localhost(tmp_path):
    result = caddy(tmp_path, "adapt", TOOLCRIB_UPSTREAM="127.0.0.1:8000 127.0.0.1:8001")
    config = json.loads(result.stdout.splitlines()[0])
    proxies = []

    def collect(node):
        if isinstance(node, dict):
            if node.get("handler") == "reverse_proxy" and "load_balancing" in node:
                proxies.append(node)
            for value in node.values():
                collect(value)
        elif isinstance(node, list):
            for value in node:
                collect(value)

    collect(config)
    (proxy,) = proxies  # the one for pages, the API and the kiosk's WebSocket
    assert [upstream["dial"] for upstream in proxy["upstreams"]] == [
        "127.0.0.1:8000",
        "127.0.0.1:8001",
    ]
    assert proxy["load_balancing"]["selection_policy"] == {"policy": "least_conn"}
    active = proxy["health_checks"]["active"]
    # /healthz never reads the database; Host: a name ALLOWED_HOSTS keeps (README).
    assert active["uri"] == "/healthz" and active["headers"] == {"Host": ["localhost"]}
