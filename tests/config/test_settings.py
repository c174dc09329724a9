import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import database_from_url, env_bool, env_int, env_rate, env_time, env_weekdays

ROOT = Path(__file__).resolve().parents[2]


def load_settings(**env):
    """Import config.settings in a fresh interpreter with exactly this environment."""
    return run_python("import config.settings", **env)


def run_python(code, *args, **env):
    clean = {"PATH": os.environ["PATH"], "VAR_DIR": os.environ["VAR_DIR"], **env}
    return subprocess.run(
        [sys.executable, *(["-c", code] if code else []), *args],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
    )


@pytest.mark.parametrize(
    "secret", ["", "django-insecure-abc", "insecure-development-key-only-for-DEBUG=1"]
)
def test_production_refuses_to_start_without_a_real_secret_key(secret):
    result = run_python("import config.asgi", SECRET_KEY=secret)
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr
    assert "secrets.token_urlsafe" in result.stderr


def test_debug_may_run_without_a_secret_key():
    assert run_python("import config.asgi", DEBUG="1").returncode == 0


def test_production_refuses_to_start_in_demo_mode():
    result = run_python("import config.asgi", SECRET_KEY="x" * 50, KIOSK_DEMO="1")
    assert result.returncode != 0
    assert "KIOSK_DEMO=1 is refused with DEBUG=0" in result.stderr
    assert run_python("import config.asgi", DEBUG="1", KIOSK_DEMO="1").returncode == 0


def test_commands_that_only_read_the_code_run_without_a_secret_key():
    result = run_python(None, "manage.py", "makemigrations", "--check", "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "No changes detected" in result.stdout


def test_a_typo_in_a_boolean_stops_the_start():
    result = load_settings(DEBUG="yes please")
    assert result.returncode != 0
    assert "DEBUG must be 1/0" in result.stderr


def test_env_helpers_raise_on_garbage(monkeypatch):
    monkeypatch.setenv("X_BOOL", "maybe")
    monkeypatch.setenv("X_INT", "ten")
    monkeypatch.setenv("X_TIME", "25:00")
    monkeypatch.setenv("X_DAYS", "mon,tues")
    monkeypatch.setenv("X_NO_DAYS", " , ")
    for read in (
        lambda: env_bool("X_BOOL"),
        lambda: env_int("X_INT", 1),
        lambda: env_time("X_TIME", "18:00"),
        lambda: env_weekdays("X_DAYS", "mon"),
        lambda: env_weekdays("X_NO_DAYS", "mon"),
    ):
        with pytest.raises(ImproperlyConfigured):
            read()


def test_working_days_are_read_by_name(monkeypatch):
    monkeypatch.setenv("X_DAYS", " Mon, sat ")
    assert env_weekdays("X_DAYS", "mon") == {0, 5}
    assert env_weekdays("X_UNSET", "mon,tue,wed,thu,fri") == {0, 1, 2, 3, 4}


def test_database_urls_for_both_vendors():
    pg = database_from_url("postgres://u:p%40ss@db.local:5433/crib?sslmode=require", base_dir=ROOT)
    assert (pg["NAME"], pg["USER"], pg["PASSWORD"], pg["HOST"], pg["PORT"]) == (
        "crib",
        "u",
        "p@ss",
        "db.local",
        "5433",
    )
    assert pg["OPTIONS"]["sslmode"] == "require"
    assert pg["OPTIONS"]["pool"]["max_size"] == 20
    no_pool = database_from_url("postgres://db/crib", base_dir=ROOT, pool_size=0)
    assert "pool" not in no_pool["OPTIONS"]
    lite = database_from_url("sqlite:///var/x.sqlite3", base_dir=ROOT)
    assert lite["NAME"] == ROOT / "var/x.sqlite3"
    assert database_from_url("sqlite:////tmp/x.db", base_dir=ROOT)["NAME"] == Path("/tmp/x.db")
    with pytest.raises(ImproperlyConfigured):
        database_from_url("mysql://x/y", base_dir=ROOT)


@pytest.mark.parametrize("rate", ["lots", "0/minute", "600/min", "600/fortnight", "/minute"])
def test_a_throttle_rate_that_is_not_count_per_period_stops_the_start(monkeypatch, rate):
    monkeypatch.setenv("X_RATE", rate)
    with pytest.raises(ImproperlyConfigured, match="X_RATE must look like 600/minute"):
        env_rate("X_RATE", "60/minute")


def test_a_throttle_rate_is_read_as_drf_reads_it(monkeypatch):
    monkeypatch.setenv("X_RATE", " 1200/hour ")
    assert env_rate("X_RATE", "60/minute") == "1200/hour"
    assert env_rate("X_UNSET", "60/minute") == "60/minute"


def test_the_shared_cache_is_redis_with_redis_url_and_the_database_table_without():
    code = "from django.conf import settings; print(settings.CACHES['default']['BACKEND'])"
    common = {"DJANGO_SETTINGS_MODULE": "config.settings", "DEBUG": "1"}
    with_redis = run_python(
        f"import django; django.setup(); {code}", REDIS_URL="redis://127.0.0.1:6379/9", **common
    )
    without = run_python(f"import django; django.setup(); {code}", **common)

    assert with_redis.stdout.strip() == "inventory.core.redis_cache.SharedPoolRedisCache"
    assert without.stdout.strip() == "django.core.cache.backends.db.DatabaseCache"
