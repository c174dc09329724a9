import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


def env_example() -> list[str]:
    names = []
    for line in (DEPLOY / "env.example").read_text().splitlines():
        if line and not line.startswith("#"):
            names.append(line.split("=", 1)[0])
    return names


def settings_variables() -> set[str]:
    """Every variable config/settings.py reads through the env helpers."""
    source = (ROOT / "config" / "settings.py").read_text()
    return set(re.findall(r'env_[a-z]+\(\s*"([A-Z_]+)"', source))


def compose():
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def test_compose_has_the_five_services_and_the_worker_is_the_web_image():
    services = compose()["services"]
    assert set(services) == {"postgres", "redis", "web", "huey", "caddy"}
    assert services["huey"]["image"] == services["web"]["image"]
    assert "run_huey" in services["huey"]["command"]
    assert "daphne" in " ".join(services["web"]["command"])


def test_compose_runs_the_web_processes_and_gives_caddy_their_ports_from_one_script():
    services = compose()["services"]
    web, caddy = " ".join(services["web"]["command"]), " ".join(services["caddy"]["command"])
    assert "exec deploy/web-processes serve daphne " in web
    assert "./web-processes:/usr/local/bin/web-processes:ro" in services["caddy"]["volumes"]
    assert "$(web-processes upstreams web)" in caddy.replace("$$", "$")
    assert "TOOLCRIB_UPSTREAM" not in services["caddy"]["environment"]
    # Both count the same setting (empty: the cores, which both containers see alike).
    for service in (services["web"], services["caddy"]):
        assert service["environment"]["WEB_PROCESSES"] == "${WEB_PROCESSES:-}"


def test_the_compose_database_archives_its_wal_with_the_settings_shipped_in_deploy():
    postgres = compose()["services"]["postgres"]
    dockerfile = ROOT / postgres["build"]["dockerfile"]
    copied = re.findall(r"^COPY (\S+) (\S+)$", dockerfile.read_text(), re.M)
    assert {source for source, _ in copied} == {
        "deploy/pgbackrest/pgbackrest.conf",
        "deploy/postgresql/toolcrib-pitr.conf",
        "deploy/postgres/archive-wal.sh",
    }
    assert all((ROOT / source).is_file() for source, _ in copied)
    init = (DEPLOY / "postgres" / "archive-wal.sh").read_text()
    assert "include '/etc/postgresql/toolcrib-pitr.conf'" in init
    assert "pgbackrest:/var/lib/pgbackrest" in postgres["volumes"]


def test_the_worker_has_a_health_check_of_its_own_not_the_web_servers():
    huey = compose()["services"]["huey"]
    # Without one it inherits the image's HEALTHCHECK, which asks for /healthz on port 8000
    # where nothing listens in this container: it was always "unhealthy".
    assert huey["healthcheck"]["test"] == [
        "CMD", "python", "manage.py", "health", "database", "huey"
    ]  # fmt: skip


def test_compose_names_every_variable_of_env_example():
    text = (DEPLOY / "compose.yaml").read_text()
    named = set(re.findall(r"^\s+([A-Z_]+):", text, re.M)) | set(re.findall(r"\$\{([A-Z_]+)", text))
    assert set(env_example()) - named == set()


def test_every_variable_compose_substitutes_is_in_env_example():
    text = (DEPLOY / "compose.yaml").read_text()
    assert set(re.findall(r"\$\{([A-Z_]+)", text)) - set(env_example()) == set()


def test_env_example_lists_each_variable_once_and_every_setting():
    names = env_example()
    assert len(names) == len(set(names))
    assert settings_variables() - set(names) == set()


def test_the_readme_configuration_table_lists_every_setting():
    readme = (ROOT / "README.md").read_text()
    rows = set(re.findall(r"^\| `([A-Z_]+)` \|", readme, re.M))
    assert settings_variables() - rows == set()


def test_the_settings_start_with_the_values_of_env_example(tmp_path):
    """The file is meant to be copied and filled in: its values must all be understood."""
    values = {}
    for line in (DEPLOY / "env.example").read_text().splitlines():
        if line and not line.startswith("#"):
            name, value = line.split("=", 1)
            values[name] = value.strip('"')
    values.update(SECRET_KEY="filled-in-by-the-operator-" + "x" * 40, VAR_DIR=str(tmp_path))
    result = subprocess.run(
        [sys.executable, "-c", "import config.settings"],
        cwd=ROOT,
        env={"PATH": os.environ["PATH"], **values},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr


def test_every_way_of_starting_daphne_keeps_kiosk_websockets_open_past_a_day():
    # daphne closes a WebSocket after 24 hours by default, with a code browsers do not retry.
    starts = {
        "Makefile": ROOT / "Makefile",
        "systemd": DEPLOY / "systemd" / "toolcrib-web@.service",
        "Dockerfile": DEPLOY / "Dockerfile",
        "compose": DEPLOY / "compose.yaml",
    }
    for name, path in starts.items():
        text = path.read_text().replace('", "', " ").replace('"', "")
        commands = [line for line in text.replace("\\\n", " ").splitlines() if "daphne " in line]
        commands = [c for c in commands if "config.asgi:application" in c]
        assert commands, name
        for command in commands:
            assert "--websocket_timeout -1" in " ".join(command.split()), (name, command)
