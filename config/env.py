"""Typed readers for environment variables.

Every helper raises ImproperlyConfigured on a value it cannot understand: a typo in a
systemd EnvironmentFile must stop the server at start, not silently fall back to a default.
"""

import ipaddress
import os
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be 1/0, true/false, yes/no or on/off, not {raw!r}")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {value}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [part.strip() for part in raw.split(",") if part.strip()]


def env_time(name: str, default: str) -> tuple[int, int]:
    """An "HH:MM" local wall-clock time."""
    raw = env_str(name, default)
    try:
        hours, minutes = (int(part) for part in raw.split(":"))
    except ValueError:
        raise ImproperlyConfigured(f"{name} must look like 18:00, not {raw!r}") from None
    if not (0 <= hours < 24 and 0 <= minutes < 60):
        raise ImproperlyConfigured(f"{name} must be a time of day between 00:00 and 23:59")
    return hours, minutes


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def env_weekdays(name: str, default: str) -> frozenset[int]:
    """Days of the week written "mon,tue,wed": their numbers (Monday 0), at least one."""
    raw = env_str(name, default)
    days = [part.strip().lower() for part in raw.split(",") if part.strip()]
    if not days or any(day not in WEEKDAYS for day in days):
        raise ImproperlyConfigured(f"{name} must name days among {','.join(WEEKDAYS)}, not {raw!r}")
    return frozenset(WEEKDAYS.index(day) for day in days)


def database_from_url(
    url: str,
    *,
    base_dir: Path,
    pool_size: int = 20,
    connect_timeout: int = 2,
    statement_timeout: int = 10,
) -> dict:
    """Django DATABASES entry from `postgres://user:pass@host:port/name` or `sqlite:///path`.

    Engines are django-prometheus' wrappers so query counts and latencies reach /metrics
    (PostgreSQL's with a pool that recovers at once after an outage: config/postgresql).

    PostgreSQL fails fast: connecting, or waiting for a pooled connection, gives up after
    `connect_timeout` seconds, and a statement after `statement_timeout` (0: never), so a
    database that is down or stuck is a prompt 503 and not a request hanging for half a minute.
    """
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        # sqlite:///var/db.sqlite3 is relative to the project; sqlite:////abs/path is absolute.
        path = unquote(parts.path[1:] if parts.path.startswith("/") else parts.path)
        if not path:
            raise ImproperlyConfigured("DATABASE_URL sqlite:/// needs a file path")
        name = Path(path) if Path(path).is_absolute() else base_dir / path
        return {
            "ENGINE": "django_prometheus.db.backends.sqlite3",
            "NAME": name,
            "OPTIONS": {
                # IMMEDIATE takes the write lock at BEGIN: SQLite has no row locks, so this is
                # what serialises two concurrent borrows of the same tool on the embedded setup.
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    if parts.scheme in {"postgres", "postgresql"}:
        if not parts.path.strip("/"):
            raise ImproperlyConfigured("DATABASE_URL must name the database: postgres://…/name")
        options = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        pool = {
            "min_size": 2,
            "max_size": pool_size,
            # A request waits this long for a connection: longer means the database is
            # unreachable (or every connection is stuck), which is a 503, not a wait.
            "timeout": connect_timeout,
            # The pool retries a lost connection with growing pauses; giving up after a few
            # seconds lets the next request start again from a short pause, so the server is
            # back within seconds of the database, however long the outage was.
            "reconnect_timeout": 5,
        }
        return {
            "ENGINE": "config.postgresql",
            "NAME": unquote(parts.path.strip("/")),
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(parts.port or ""),
            # Under ASGI each request runs in its own thread, so per-thread persistent
            # connections are never reused; a pool shared by the process is (0: no pool).
            "OPTIONS": {
                **({"pool": pool} if pool_size else {}),
                "connect_timeout": connect_timeout,
                # A server that vanished without closing its connections (power cut, cable):
                # idle connections are found dead by TCP keepalives within 25 s, and one
                # waiting for an answer once 10 s of sent data go unacknowledged.
                "keepalives": 1,
                "keepalives_idle": 10,
                "keepalives_interval": 5,
                "keepalives_count": 3,
                "tcp_user_timeout": 10_000,
                "options": f"-c statement_timeout={statement_timeout * 1000}",
                # Parameters go apart from the statement (psycopg quotes nothing in Python), and
                # a statement a connection runs again and again, as the tap path's are, is
                # parsed and planned once: 8 % less CPU per tap (tests/perf/tap_cpu.py).
                "server_side_binding": True,
                "prepare_threshold": 5,
                **options,
            },
        }
    raise ImproperlyConfigured(
        f"DATABASE_URL must start with postgres:// or sqlite:///, not {url.split(':')[0]!r}"
    )


def email_from_url(url: str) -> dict:
    """Django's e-mail settings from one URL.

    `smtp://user:pass@host:25` (plain), `smtp+starttls://…:587`, `smtps://…:465` (TLS from the
    start), or `console:` (messages go to the log, the default until a mail server is set).
    """
    parts = urlsplit(url)
    if parts.scheme == "console":
        return {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}
    ports = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}
    if parts.scheme not in ports or not parts.hostname:
        raise ImproperlyConfigured(
            "EMAIL_URL must look like smtp+starttls://user:password@mail.example:587 "
            f"(or smtp://, smtps://, console:), not {url.split(':')[0]!r}"
        )
    return {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": parts.hostname,
        "EMAIL_PORT": parts.port or ports[parts.scheme],
        "EMAIL_HOST_USER": unquote(parts.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
        "EMAIL_USE_TLS": parts.scheme == "smtp+starttls",
        "EMAIL_USE_SSL": parts.scheme == "smtps",
        "EMAIL_TIMEOUT": 30,
    }


def env_url(name: str, *, schemes: tuple[str, ...] = ("http", "https")) -> str:
    """An optional absolute URL (empty when unset)."""
    raw = env_str(name)
    if raw and (urlsplit(raw).scheme not in schemes or not urlsplit(raw).hostname):
        raise ImproperlyConfigured(f"{name} must be an absolute {'/'.join(schemes)} URL")
    return raw


def env_networks(name: str, default: list[str]) -> list:
    """Comma-separated IP addresses or networks (`127.0.0.1`, `10.0.0.0/24`, `::1`)."""
    values = env_list(name, default)
    try:
        return [ipaddress.ip_network(value, strict=False) for value in values]
    except ValueError as error:
        raise ImproperlyConfigured(f"{name}: {error}") from None


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = env_str(name, default).lower()
    if value not in choices:
        raise ImproperlyConfigured(f"{name} must be one of {', '.join(choices)}, not {value!r}")
    return value


def env_rate(name: str, default: str) -> str:
    """A request rate as DRF's throttles read it: `<count>/<second|minute|hour|day>`."""
    raw = env_str(name, default)
    count, _, period = raw.partition("/")
    if not count.isdigit() or int(count) < 1 or period not in {"second", "minute", "hour", "day"}:
        raise ImproperlyConfigured(f"{name} must look like 600/minute, not {raw!r}")
    return raw
