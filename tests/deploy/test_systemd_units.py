import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.deploy.tools import need

ROOT = Path(__file__).resolve().parents[2]
UNITS = sorted((ROOT / "deploy" / "systemd").glob("toolcrib-*.service"))
OURS = ["toolcrib-huey.service", "toolcrib-kiosk-browser.service", "toolcrib-web.service"]


def test_the_web_huey_and_kiosk_browser_units_exist():
    assert set(OURS) <= {unit.name for unit in UNITS}


@pytest.mark.parametrize("name", OURS)
def test_systemd_analyze_verifies_the_unit(name, tmp_path):
    """The units name /opt/toolcrib; here that is a stand-in whose .venv is this venv."""
    install = tmp_path / "opt-toolcrib"
    (install / ".venv").mkdir(parents=True)
    (install / ".venv" / "bin").symlink_to(Path(sys.executable).parent)
    text = (ROOT / "deploy" / "systemd" / name).read_text().replace("/opt/toolcrib", str(install))
    unit = tmp_path / name
    unit.write_text(text)

    result = subprocess.run(
        [need("systemd-analyze"), "verify", str(unit)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "SYSTEMD_LOG_LEVEL": "warning"},
    )

    assert result.returncode == 0, result.stderr
    assert name not in result.stderr, result.stderr


def test_the_web_unit_runs_daphne_on_loopback_with_the_proxy_headers():
    text = (ROOT / "deploy" / "systemd" / "toolcrib-web.service").read_text()
    assert "--bind 127.0.0.1" in text and "--proxy-headers" in text
    assert "EnvironmentFile=/etc/toolcrib/toolcrib.env" in text


def test_the_kiosk_browser_opens_the_kiosk_page():
    text = (ROOT / "deploy" / "systemd" / "toolcrib-kiosk-browser.service").read_text()
    assert "KIOSK_URL=https://toolcrib.local/kiosk/" in text
    assert "--kiosk" in text
