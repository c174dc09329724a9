import re
import subprocess
from pathlib import Path

from inventory.ops.metrics import DomainCollector
from tests.deploy.tools import need

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS = ROOT / "deploy" / "prometheus"


def promtool(*args):
    return subprocess.run(
        [need("promtool"), *args], capture_output=True, text=True, timeout=120, cwd=ROOT
    )


def test_promtool_accepts_the_alert_rules_and_the_example_config():
    rules = promtool("check", "rules", str(PROMETHEUS / "alerts.yml"))
    config = promtool("check", "config", str(PROMETHEUS / "prometheus.yml"))
    assert rules.returncode == 0, rules.stdout + rules.stderr
    assert config.returncode == 0, config.stdout + config.stderr


def test_each_alert_fires_on_the_series_it_is_about():
    result = promtool("test", "rules", str(Path(__file__).with_name("alerts_test.yml")))
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_required_alerts_exist():
    text = (PROMETHEUS / "alerts.yml").read_text()
    for alert in [
        "ToolcribSlowResponses",
        "ToolcribServerErrors",
        "ToolcribDiskFull",
        "ToolcribMemoryHigh",
        "ToolcribStationOffline",
        "ToolcribBackupTooOld",
    ]:
        assert f"alert: {alert}" in text


def test_rules_and_dashboard_only_use_metrics_the_server_exports():
    ours = {family.name for family in DomainCollector().describe()}
    ours = {f"{name}_total" if name == "toolcrib_scans" else name for name in ours}
    ours.add("toolcrib_tap_processing_seconds_bucket")  # the kiosk's histogram
    used = set()
    for path in [
        PROMETHEUS / "alerts.yml",
        ROOT / "deploy" / "grafana" / "toolcrib-dashboard.json",
    ]:
        used |= set(re.findall(r"\btoolcrib_[a-z_]+", path.read_text()))
    assert used - ours == set()
