import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.deploy.tools import need

ROOT = Path(__file__).resolve().parents[2]
UNITS = sorted((ROOT / "deploy" / "systemd").glob("toolcrib-*.service"))
# The web unit is a template: one instance per port (deploy/web-processes).
OURS = ["toolcrib-huey.service", "toolcrib-kiosk-browser.service", "toolcrib-web@.service"]
INSTANCES = {"toolcrib-web@.service": "toolcrib-web@8001.service"}


def test_the_web_huey_and_kiosk_browser_units_exist():
    assert set(OURS) <= {unit.name for unit in UNITS}


def verify(*units: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [need("systemd-analyze"), "verify", *map(str, units)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "SYSTEMD_LOG_LEVEL": "warning"},
    )


@pytest.mark.parametrize("name", OURS)
def test_systemd_analyze_verifies_the_unit(name, tmp_path):
    """The units name /opt/toolcrib; here that is a stand-in whose .venv is this venv."""
    install = tmp_path / "opt-toolcrib"
    (install / ".venv").mkdir(parents=True)
    (install / ".venv" / "bin").symlink_to(Path(sys.executable).parent)
    text = (ROOT / "deploy" / "systemd" / name).read_text().replace("/opt/toolcrib", str(install))
    unit = tmp_path / INSTANCES.get(name, name)
    unit.write_text(text)
    # The web processes' target beside them: the huey unit is ordered after it.
    target = tmp_path / "toolcrib-web.target"
    target.write_text((ROOT / "deploy" / "systemd" / target.name).read_text())

    result = verify(unit, target)

    assert result.returncode == 0, result.stderr
    assert unit.name not in result.stderr and target.name not in result.stderr, result.stderr


def test_each_web_process_runs_daphne_on_loopback_on_its_own_port_with_the_proxy_headers():
    text = (ROOT / "deploy" / "systemd" / "toolcrib-web@.service").read_text()
    assert "--bind 127.0.0.1 --port %i" in text and "--proxy-headers" in text
    assert "EnvironmentFile=/etc/toolcrib/toolcrib.env" in text


def test_the_web_processes_start_and_restart_together_and_migrate_one_at_a_time():
    text = (ROOT / "deploy" / "systemd" / "toolcrib-web@.service").read_text()
    target = (ROOT / "deploy" / "systemd" / "toolcrib-web.target").read_text()
    assert "PartOf=toolcrib-web.target" in text  # systemctl restart toolcrib-web.target
    assert text.rstrip().endswith("[Install]\nWantedBy=toolcrib-web.target")
    assert target.rstrip().endswith("[Install]\nWantedBy=multi-user.target")
    starts = [line for line in text.splitlines() if line.startswith("ExecStartPre=")]
    assert len(starts) == 2 and all(
        line.startswith("ExecStartPre=/usr/bin/flock /opt/toolcrib/var ") for line in starts
    )
    huey = (ROOT / "deploy" / "systemd" / "toolcrib-huey.service").read_text()
    assert "toolcrib-web.target" in huey and "toolcrib-web.service" not in huey


def test_the_kiosk_browser_opens_the_kiosk_page():
    text = (ROOT / "deploy" / "systemd" / "toolcrib-kiosk-browser.service").read_text()
    assert "KIOSK_URL=https://toolcrib.local/kiosk/" in text
    assert "--kiosk" in text


@pytest.mark.parametrize("kind", ["full", "diff"])
def test_the_database_backup_timers_start_pgbackrest_and_systemd_verifies_both(kind, tmp_path):
    """The weekly full and nightly differential backups that point-in-time recovery starts from."""
    need("pgbackrest")  # systemd-analyze checks that ExecStart's program exists
    timer = ROOT / "deploy" / "systemd" / f"toolcrib-pgbackrest-{kind}.timer"
    assert f"Unit=toolcrib-pgbackrest@{kind}.service" in timer.read_text()
    template = (ROOT / "deploy" / "systemd" / "toolcrib-pgbackrest@.service").read_text()
    instance = tmp_path / f"toolcrib-pgbackrest@{kind}.service"
    instance.write_text(template)
    (tmp_path / timer.name).write_text(timer.read_text())

    result = verify(tmp_path / timer.name, instance)

    assert result.returncode == 0, result.stderr
    assert "toolcrib-pgbackrest" not in result.stderr, result.stderr
    assert "--type=%i backup" in template
