"""The deploy files agree with the agent's own defaults, so a kiosk set up by the notes works."""

import configparser
from pathlib import Path

from agent.config import DEFAULT_OUTBOX_PATH, DEFAULT_STATUS_PORT, KNOWN_KEYS, read_env_file

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def unit() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str
    parser.read(DEPLOY / "systemd" / "toolcrib-agent.service")
    return parser


def test_the_example_env_file_uses_only_settings_the_agent_knows():
    values = read_env_file(DEPLOY / "agent.env.example")

    assert set(values) <= KNOWN_KEYS
    assert {"SERVER_URL", "STATION_TOKEN", "CA_BUNDLE", "READER"} <= set(values)
    assert values["STATUS_PORT"] == str(DEFAULT_STATUS_PORT)


def test_the_service_keeps_the_outbox_in_its_state_directory():
    service = unit()["Service"]

    assert Path(DEFAULT_OUTBOX_PATH).parent == Path("/var/lib") / service["StateDirectory"]


def test_the_service_restarts_always_as_an_unprivileged_user():
    service = unit()["Service"]

    assert service["Restart"] == "always"
    assert service["User"] == "toolcrib-agent"
    # The agent reads its settings file itself: it refuses a misspelt key, which systemd's
    # EnvironmentFile= would pass on unchecked.
    assert "EnvironmentFile" not in service
    assert service["ExecStart"].endswith("python -m agent --env-file /etc/toolcrib/agent.env")


def test_the_agent_starts_without_waiting_for_a_network():
    # Taps are read and kept with or without one.
    assert not any("network-online" in value for value in unit()["Unit"].values())


def test_the_hardening_leaves_the_pcscd_socket_reachable():
    service = unit()["Service"]

    assert "AF_UNIX" in service["RestrictAddressFamilies"].split()
    assert service.get("PrivateNetwork", "no") == "no"
    assert "/run/pcscd" not in service.get("InaccessiblePaths", "")
