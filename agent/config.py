"""Settings from environment variables and an optional env file, checked once at start.

Every problem is collected so that a person fixing /etc/toolcrib/agent.env sees all of them in one
run, one line each, instead of fixing them one restart at a time.
"""

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

DEFAULT_OUTBOX_PATH = "/var/lib/toolcrib-agent/outbox.db"
DEFAULT_STATUS_PORT = 7071
READERS = ("pcsc", "stdin")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
KNOWN_KEYS = frozenset(
    {
        "SERVER_URL",
        "STATION_TOKEN",
        "STATION_TOKEN_FILE",
        "OUTBOX_PATH",
        "READER",
        "READER_NAME",
        "DEBOUNCE_SECONDS",
        "BATCH_MAX",
        "HEARTBEAT_SECONDS",
        "CA_BUNDLE",
        "STATUS_PORT",
        "ALLOW_INSECURE_HTTP",
        "RETENTION_DAYS",
        "LOG_LEVEL",
    }
)
# The server refuses batches of more than 500 events.
SERVER_BATCH_LIMIT = 500


class ConfigError(Exception):
    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Config:
    server_url: str
    station_token: str = field(repr=False)
    outbox_path: Path
    reader: str
    reader_name: str | None
    debounce_seconds: float
    batch_max: int
    heartbeat_seconds: float
    ca_bundle: Path | None
    status_port: int
    allow_insecure_http: bool
    retention_days: int
    log_level: str

    @property
    def server_origin(self) -> str:
        """The kiosk page's origin, the only one allowed to read the status endpoint, spelt as
        the browser's Origin header: no user, no path, no default port."""
        parts = urlsplit(self.server_url)
        host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
        default_port = {"https": 443, "http": 80}.get(parts.scheme)
        port = f":{parts.port}" if parts.port and parts.port != default_port else ""
        return f"{parts.scheme}://{host}{port}"


@dataclass(frozen=True)
class LocalSettings:
    """What `python -m agent status` needs: it must work without the token or the server URL."""

    outbox_path: Path
    status_port: int


def read_env_file(path: Path) -> dict[str, str]:
    """Read KEY=VALUE lines (systemd EnvironmentFile style, without its escapes)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([f"env file {path}: cannot read it ({exc.strerror})"]) from exc
    values: dict[str, str] = {}
    problems = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not key:
            problems.append(f"env file {path} line {number}: expected KEY=VALUE, got {raw!r}")
            continue
        if key not in KNOWN_KEYS:
            # A misspelt optional key would otherwise silently fall back to its default.
            problems.append(f"env file {path} line {number}: unknown setting {key}")
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key] = value
    if problems:
        raise ConfigError(problems)
    return values


def merged_settings(environ: Mapping[str, str], env_file: Path | None) -> dict[str, str]:
    """The env file gives defaults; the process environment wins, as with docker compose."""
    values = read_env_file(env_file) if env_file else {}
    values.update({key: value for key, value in environ.items() if key in KNOWN_KEYS})
    return values


class _Parser:
    def __init__(self, values: Mapping[str, str]):
        self.values = values
        self.problems: list[str] = []

    def text(self, key: str) -> str | None:
        value = self.values.get(key, "").strip()
        return value or None

    def number(self, key: str, default, kind, minimum, maximum=None):
        raw = self.text(key)
        if raw is None:
            return default
        try:
            value = kind(raw)
        except ValueError:
            self.problems.append(f"{key}: {raw!r} is not a {kind.__name__} number")
            return default
        # Written as "not inside" so that nan, which compares false with everything, is out.
        if not (minimum <= value and (maximum is None or value <= maximum)):
            upper = f" and {maximum}" if maximum is not None else ""
            between = f"between {minimum}{upper}" if upper else f"at least {minimum}"
            self.problems.append(f"{key}: {raw} must be {between}")
        return value

    def flag(self, key: str) -> bool:
        raw = (self.text(key) or "0").lower()
        if raw in ("1", "true", "yes", "on"):
            return True
        if raw not in ("0", "false", "no", "off"):
            self.problems.append(f"{key}: {raw!r} must be 1 or 0")
        return False

    def path(self, key: str, default: str) -> Path:
        return Path(self.text(key) or default)


def load_config(environ: Mapping[str, str] = os.environ, env_file: Path | None = None) -> Config:
    parser = _Parser(merged_settings(environ, env_file))
    allow_insecure_http = parser.flag("ALLOW_INSECURE_HTTP")
    server_url = _server_url(parser, allow_insecure_http)
    token = _station_token(parser)
    reader = (parser.text("READER") or "pcsc").lower()
    if reader not in READERS:
        parser.problems.append(f"READER: {reader!r} must be one of {', '.join(READERS)}")
    ca_bundle = parser.text("CA_BUNDLE")
    if ca_bundle and not Path(ca_bundle).is_file():
        parser.problems.append(f"CA_BUNDLE: {ca_bundle} is not a readable file")
    log_level = (parser.text("LOG_LEVEL") or "INFO").upper()
    if log_level not in LOG_LEVELS:
        parser.problems.append(f"LOG_LEVEL: {log_level!r} must be one of {', '.join(LOG_LEVELS)}")
    config = Config(
        server_url=server_url,
        station_token=token,
        outbox_path=parser.path("OUTBOX_PATH", DEFAULT_OUTBOX_PATH),
        reader=reader,
        reader_name=parser.text("READER_NAME"),
        debounce_seconds=parser.number("DEBOUNCE_SECONDS", 2.0, float, 0.0, 60.0),
        batch_max=parser.number("BATCH_MAX", 100, int, 1, SERVER_BATCH_LIMIT),
        heartbeat_seconds=parser.number("HEARTBEAT_SECONDS", 15.0, float, 1.0, 3600.0),
        ca_bundle=Path(ca_bundle) if ca_bundle else None,
        status_port=parser.number("STATUS_PORT", DEFAULT_STATUS_PORT, int, 1, 65535),
        allow_insecure_http=allow_insecure_http,
        retention_days=parser.number("RETENTION_DAYS", 30, int, 1, 3650),
        log_level=log_level,
    )
    if parser.problems:
        raise ConfigError(parser.problems)
    return config


def load_local_settings(
    environ: Mapping[str, str] = os.environ, env_file: Path | None = None
) -> LocalSettings:
    parser = _Parser(merged_settings(environ, env_file))
    settings = LocalSettings(
        outbox_path=parser.path("OUTBOX_PATH", DEFAULT_OUTBOX_PATH),
        status_port=parser.number("STATUS_PORT", DEFAULT_STATUS_PORT, int, 1, 65535),
    )
    if parser.problems:
        raise ConfigError(parser.problems)
    return settings


def _server_url(parser: _Parser, allow_insecure_http: bool) -> str:
    raw = parser.text("SERVER_URL")
    if raw is None:
        parser.problems.append("SERVER_URL: required, e.g. https://toolcrib.local")
        return ""
    parts = urlsplit(raw)
    try:
        parts.port  # noqa: B018 -- raises for a port that is not a number from 0 to 65535
    except ValueError:
        parser.problems.append(f"SERVER_URL: {raw!r} has a port that is not a port number")
        return raw
    if parts.scheme not in ("https", "http") or not parts.hostname:
        parser.problems.append(f"SERVER_URL: {raw!r} must look like https://toolcrib.local")
    elif parts.scheme == "http" and not allow_insecure_http:
        parser.problems.append(
            f"SERVER_URL: {raw} is plain http; the station token would travel in clear text. "
            "Use https, or set ALLOW_INSECURE_HTTP=1 for a test set-up"
        )
    elif parts.query or parts.fragment:
        parser.problems.append(f"SERVER_URL: {raw!r} must not have a query or fragment")
    return raw.rstrip("/")


def _station_token(parser: _Parser) -> str:
    token = parser.text("STATION_TOKEN")
    token_file = parser.text("STATION_TOKEN_FILE")
    if token and token_file:
        parser.problems.append("STATION_TOKEN and STATION_TOKEN_FILE: set only one of them")
        return ""
    if token_file:
        try:
            token = Path(token_file).read_text(encoding="utf-8").strip()
        except OSError as exc:
            parser.problems.append(f"STATION_TOKEN_FILE: cannot read {token_file} ({exc.strerror})")
            return ""
        if not token:
            parser.problems.append(f"STATION_TOKEN_FILE: {token_file} is empty")
    elif not token:
        parser.problems.append(
            "STATION_TOKEN: required (or STATION_TOKEN_FILE); it is shown once by "
            "`create_station` or the admin's 'Issue new agent tokens'"
        )
    if token and any(ch.isspace() for ch in token):
        parser.problems.append("STATION_TOKEN: must not contain spaces or line breaks")
    return token or ""
