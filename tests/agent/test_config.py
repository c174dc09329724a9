from pathlib import Path

import pytest

from agent.config import ConfigError, load_config, load_local_settings

VALID = {"SERVER_URL": "https://toolcrib.local", "STATION_TOKEN": "secret"}


def problems(environ: dict, env_file: Path | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(environ, env_file)
    return caught.value.problems


def test_defaults_fill_everything_but_the_server_and_token():
    config = load_config(VALID)

    assert config.reader == "pcsc"
    assert config.debounce_seconds == 2.0
    assert config.batch_max == 100
    assert config.heartbeat_seconds == 15.0
    assert config.status_port == 7071
    assert str(config.outbox_path) == "/var/lib/toolcrib-agent/outbox.db"
    assert config.ca_bundle is None
    assert config.allow_insecure_http is False


def test_the_config_is_frozen():
    config = load_config(VALID)

    with pytest.raises(AttributeError):
        config.batch_max = 5


def test_the_token_never_appears_in_the_repr():
    assert "secret" not in repr(load_config(VALID))


def test_reports_every_problem_at_once_one_line_each():
    found = problems({"READER": "nfc", "BATCH_MAX": "0", "DEBOUNCE_SECONDS": "soon"})

    assert len(found) == 5
    assert any(p.startswith("SERVER_URL: required") for p in found)
    assert any(p.startswith("STATION_TOKEN: required") for p in found)
    assert "READER: 'nfc' must be one of pcsc, stdin" in found
    assert "BATCH_MAX: 0 must be between 1 and 500" in found
    assert "DEBOUNCE_SECONDS: 'soon' is not a float number" in found
    assert all("\n" not in p for p in found)


def test_refuses_plain_http_unless_allowed():
    [problem] = problems({**VALID, "SERVER_URL": "http://toolcrib.local"})

    assert "plain http" in problem and "ALLOW_INSECURE_HTTP=1" in problem
    assert load_config({**VALID, "SERVER_URL": "http://s", "ALLOW_INSECURE_HTTP": "1"})


def test_refuses_a_server_url_that_is_not_a_web_address():
    [problem] = problems({**VALID, "SERVER_URL": "toolcrib.local"})

    assert problem.startswith("SERVER_URL: 'toolcrib.local' must look like https://")


@pytest.mark.parametrize("port", ["99999", "abc"])
def test_refuses_a_server_url_with_a_port_that_is_not_one(port):
    [problem] = problems({**VALID, "SERVER_URL": f"https://toolcrib.local:{port}"})

    assert "not a port number" in problem


@pytest.mark.parametrize("key", ["DEBOUNCE_SECONDS", "HEARTBEAT_SECONDS"])
def test_refuses_a_number_that_is_not_a_number(key):
    # nan passes any "below the minimum" test: debouncing off, heartbeats in a tight loop.
    [problem] = problems({**VALID, key: "nan"})

    assert problem.startswith(f"{key}: nan must be between")


def test_batch_max_cannot_exceed_what_the_server_accepts():
    assert problems({**VALID, "BATCH_MAX": "501"}) == ["BATCH_MAX: 501 must be between 1 and 500"]


def test_the_server_origin_drops_path_and_keeps_a_port():
    assert load_config(VALID).server_origin == "https://toolcrib.local"
    config = load_config({**VALID, "SERVER_URL": "https://Toolcrib.local:8443/crib/"})
    assert config.server_origin == "https://toolcrib.local:8443"
    assert config.server_url == "https://Toolcrib.local:8443/crib"


@pytest.mark.parametrize(
    ("server_url", "origin"),
    [
        ("https://toolcrib.local:443", "https://toolcrib.local"),
        ("http://127.0.0.1:80/", "http://127.0.0.1"),
        ("https://user@toolcrib.local", "https://toolcrib.local"),
        ("https://[FD00::1]:8443", "https://[fd00::1]:8443"),
    ],
)
def test_the_server_origin_is_spelt_as_the_browser_sends_it(server_url, origin):
    # The status endpoint compares it with the page's Origin header, which never names the
    # scheme's default port or a user.
    config = load_config({**VALID, "SERVER_URL": server_url, "ALLOW_INSECURE_HTTP": "1"})

    assert config.server_origin == origin


def test_reads_the_token_from_a_file(tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text("from-file\n")

    config = load_config({"SERVER_URL": "https://s", "STATION_TOKEN_FILE": str(token_file)})

    assert config.station_token == "from-file"


def test_a_missing_or_empty_token_file_is_a_problem(tmp_path):
    (tmp_path / "empty").write_text("\n")
    missing = problems({"SERVER_URL": "https://s", "STATION_TOKEN_FILE": str(tmp_path / "nope")})
    empty = problems({"SERVER_URL": "https://s", "STATION_TOKEN_FILE": str(tmp_path / "empty")})

    assert missing == [
        f"STATION_TOKEN_FILE: cannot read {tmp_path / 'nope'} (No such file or directory)"
    ]
    assert empty == [f"STATION_TOKEN_FILE: {tmp_path / 'empty'} is empty"]


def test_token_and_token_file_together_are_ambiguous(tmp_path):
    found = problems({**VALID, "STATION_TOKEN_FILE": str(tmp_path / "token")})

    assert found == ["STATION_TOKEN and STATION_TOKEN_FILE: set only one of them"]


def test_a_ca_bundle_must_exist(tmp_path):
    found = problems({**VALID, "CA_BUNDLE": str(tmp_path / "root.crt")})

    assert found == [f"CA_BUNDLE: {tmp_path / 'root.crt'} is not a readable file"]


def test_reads_an_env_file_and_the_environment_wins(tmp_path):
    env_file = tmp_path / "agent.env"
    env_file.write_text(
        "# kiosk 3\n\nSERVER_URL=https://toolcrib.local\nSTATION_TOKEN='quoted'\n"
        "READER=stdin\nBATCH_MAX=50\n"
    )

    config = load_config({"BATCH_MAX": "7", "UNRELATED": "x"}, env_file)

    assert config.station_token == "quoted"
    assert config.reader == "stdin"
    assert config.batch_max == 7


def test_an_env_file_with_a_misspelt_key_or_a_bad_line_is_refused(tmp_path):
    env_file = tmp_path / "agent.env"
    env_file.write_text("SERVR_URL=https://toolcrib.local\njust words\n")

    found = problems({}, env_file)

    assert found == [
        f"env file {env_file} line 1: unknown setting SERVR_URL",
        f"env file {env_file} line 2: expected KEY=VALUE, got 'just words'",
    ]


def test_the_status_command_needs_only_the_port_and_the_outbox(tmp_path):
    settings = load_local_settings({"STATUS_PORT": "7999", "OUTBOX_PATH": str(tmp_path / "o.db")})

    assert settings.status_port == 7999
    assert settings.outbox_path == tmp_path / "o.db"
