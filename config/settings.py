"""The one settings module. Every value that differs between machines comes from the environment.

The embedded default (no variables set but DEBUG=1) runs on a SQLite file under var/, the
in-memory channel layer and a SQLite huey. Production sets DATABASE_URL and REDIS_URL; see
deploy/env.example for every variable and README.md for the table.
"""

import hashlib
import hmac
import secrets
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import redis
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from huey import RedisHuey, SqliteHuey
from huey.serializer import SignedSerializer

from config.env import (
    database_from_url,
    email_from_url,
    env_bool,
    env_choice,
    env_int,
    env_list,
    env_networks,
    env_rate,
    env_str,
    env_time,
    env_url,
    env_weekdays,
)
from config.startup import DEV_SECRET_KEY

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VAR_DIR") or BASE_DIR / "var")
# Local state (SQLite files, collected static files, backups) lives here, git-ignored.
(VAR_DIR / "static").mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DEBUG", False)

# Required to serve unless DEBUG=1: config.startup refuses a missing or known key at startup.
# Without one, commands that only read the code (makemigrations --check) get a throwaway key.
SECRET_KEY = env_str("SECRET_KEY") or (DEV_SECRET_KEY if DEBUG else secrets.token_urlsafe(50))

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# Absolute base URL used where a link leaves the browser (pairing URLs printed by commands).
SITE_URL = env_str("SITE_URL").rstrip("/")

INSTALLED_APPS = [
    "daphne",
    "config.apps.AdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "rest_framework",
    "rest_framework_simplejwt",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_prometheus",
    "django_htmx",
    "csp",
    "template_partials",
    "django_filters",
    "huey.contrib.djhuey",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "inventory.employees",
    "inventory.items",
    "inventory.loans",
    "inventory.masterdata",
    "kiosk",
    "inventory.ops",
    "inventory.mfa",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "inventory.core.logging.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Outside every middleware that answers by itself (the 503 page), so each page carries it.
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): whether this session showed its second factor.
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "inventory.core.outages.DatabaseUnavailableMiddleware",
    # Turns a login that django-axes refused into the lockout page (inventory.core.lockout).
    "axes.middleware.AxesMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    }
]

DATABASES = {
    "default": database_from_url(
        env_str("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'db.sqlite3'}",
        base_dir=BASE_DIR,
        pool_size=env_int("DATABASE_POOL_SIZE", 20, minimum=0),
        # libpq's own minimum is 2 s.
        connect_timeout=env_int("DATABASE_CONNECT_TIMEOUT", 2, minimum=2),
        statement_timeout=env_int("DATABASE_STATEMENT_TIMEOUT", 10, minimum=0),
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL")
# Redis that is down or does not answer must be an error within seconds, never a wait: a tap
# is applied without its push, a job runner retries. Keepalives find a dead peer on idle
# connections; replies (huey's blocking pop answers within 1 s) come within socket_timeout.
REDIS_CONNECTION = {"socket_connect_timeout": 2, "socket_timeout": 5, "socket_keepalive": True}
if REDIS_URL:
    REDIS_DB = redis.ConnectionPool.from_url(REDIS_URL).connection_kwargs.get("db", 0)
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {
                "hosts": [{"address": REDIS_URL, **REDIS_CONNECTION}],
                # Redis pub/sub ignores the database number: two installations sharing a Redis
                # on different databases would show each other's pushes on stations with the
                # same ids, unless their channel names differ too.
                "prefix": f"asgi{REDIS_DB}",
            },
        }
    }
else:
    # Only reaches consumers inside this process: fine for one daphne, never for a worker.
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# What every process must count together (API throttles, failed logins): a count kept in each
# process's memory multiplies with the processes. Redis when there is one; otherwise a table in
# the database (inventory.ops.models.CacheEntry), which the embedded setup already has.
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "inventory.core.redis_cache.SharedPoolRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "toolcrib",
            # Shorter than the channel layer's: a throttle asks the cache on every API request,
            # and a Redis that does not answer must cost a tap a fraction of a second, not five
            # (inventory.core.api.throttles lets the request through then).
            "OPTIONS": {**REDIS_CONNECTION, "socket_connect_timeout": 1, "socket_timeout": 0.25},
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "toolcrib_cache",
            # Django culls a third of the table past MAX_ENTRIES (300 by default): a flood of
            # made-up user names would then erase the failure counts of the real ones.
            "OPTIONS": {"MAX_ENTRIES": 1_000_000},
        }
    }

HUEY_IMMEDIATE = env_bool("HUEY_IMMEDIATE", False)
# huey's messages are pickles: signed, so whoever can write to a passwordless Redis cannot make
# the consumer unpickle (run) what they like. The key is derived from SECRET_KEY (never the key
# itself); web and huey processes share it through the same environment file.
HUEY_SIGNING_KEY = (
    env_str("HUEY_SIGNING_KEY")
    or hmac.new(
        SECRET_KEY.encode(), b"toolcrib huey message signing key v1", hashlib.sha256
    ).hexdigest()
)
_huey_options = {
    "immediate": HUEY_IMMEDIATE,
    "serializer": SignedSerializer(secret=HUEY_SIGNING_KEY, salt="toolcrib-huey"),
}
if REDIS_URL:
    HUEY = RedisHuey(
        "toolcrib",
        connection_pool=redis.ConnectionPool.from_url(REDIS_URL, **REDIS_CONNECTION),
        **_huey_options,
    )
else:
    HUEY = SqliteHuey("toolcrib", filename=str(VAR_DIR / "huey.sqlite3"), **_huey_options)

# django-axes refuses a login (admin or API token) after LOGIN_FAILURE_LIMIT failures for the
# same user name, or from the same address, until LOGIN_LOCKOUT_MINUTES after the last one (a
# try while locked out starts the wait again). Counted in the cache above, so every process
# agrees; deploy/README.md says how to unlock sooner.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_HANDLER = "inventory.core.lockout.SharedCacheHandler"
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
LOGIN_LOCKOUT_MINUTES = env_int("LOGIN_LOCKOUT_MINUTES", 15, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=LOGIN_LOCKOUT_MINUTES)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_LOCKOUT_CALLABLE = "inventory.core.lockout.lockout_response"
# The counts live in the cache; axes' admin pages list its database tables, which stay empty.
AXES_ENABLE_ADMIN = False
AXES_DISABLE_ACCESS_LOG = True
# The address is REMOTE_ADDR: daphne --proxy-headers has put there the one Caddy saw.
# The log names the user name and address of each failure and lockout (never the password), so
# whoever unlocks knows what to reset; no start-up line on every manage.py command.
AXES_SENSITIVE_PARAMETERS = []
AXES_VERBOSE = False

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = env_str("LANGUAGE_CODE", "ja")
LANGUAGES = [("ja", _("Japanese")), ("en", _("English"))]
if LANGUAGE_CODE not in dict(LANGUAGES):
    raise ImproperlyConfigured(f"LANGUAGE_CODE must be one of ja, en, not {LANGUAGE_CODE!r}")
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["config.formats"]  # English times in 24 hours, as the kiosk shows them
TIME_ZONE = env_str("TIME_ZONE", "Asia/Tokyo")
USE_I18N = True
USE_TZ = True

# A loan without its own period is due at this local time: today, or the next working day when
# taken later or on a day off (a tool taken on Friday evening is not overdue all weekend).
LOAN_DUE_TIME = env_time("LOAN_DUE_TIME", "18:00")
LOAN_WORKING_DAYS = env_weekdays("LOAN_WORKING_DAYS", "mon,tue,wed,thu,fri")
# The crib's rules at the moment of lending (inventory/loans/services.py); a manager may lend
# against each with a reason. 0 = no limit; categories may set their own in the admin.
LOAN_LIMIT_PER_PERSON = env_int("LOAN_LIMIT_PER_PERSON", 0, minimum=0)
LOAN_BLOCK_WHEN_OVERDUE = env_bool("LOAN_BLOCK_WHEN_OVERDUE", False)
# Borrowing an instrument this close to its calibration due date warns (the loan is made).
CALIBRATION_WARN_DAYS = env_int("CALIBRATION_WARN_DAYS", 14, minimum=0)

# Kiosk: a badge tap opens a session that lasts this long after the person's last tap.
KIOSK_SESSION_SECONDS = env_int("KIOSK_SESSION_SECONDS", 30, minimum=5)
# Demo mode puts tap buttons for the demo badges and tools on the kiosk screen: anyone at the
# screen could borrow as anyone, so a server with DEBUG=0 refuses to start with it
# (config.startup).
KIOSK_DEMO = env_bool("KIOSK_DEMO", False)
# A pairing code (admin: the station's pairing page) works once and this long.
KIOSK_PAIRING_MINUTES = env_int("KIOSK_PAIRING_MINUTES", 15, minimum=1)
# Where the kiosk page finds its local agent while the server is unreachable.
KIOSK_AGENT_STATUS_URL = env_str("KIOSK_AGENT_STATUS_URL", "http://127.0.0.1:7071/status")

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = VAR_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# The embedded setup serves static files straight from the source tree, so `make run` needs no
# collectstatic step; behind Caddy, Caddy serves STATIC_ROOT and this path is never reached.
WHITENOISE_USE_FINDERS = True

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework_simplejwt.authentication.JWTAuthentication",
        "inventory.mfa.authentication.SessionWithSecondFactor",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["inventory.core.api.permissions.ReadOrManage"],
    "DEFAULT_PAGINATION_CLASS": "inventory.core.api.pagination.Pagination",
    "DEFAULT_SCHEMA_CLASS": "inventory.core.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "inventory.core.api.errors.exception_handler",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PARSER_CLASSES": ["inventory.core.api.parsers.JSONParser"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    # Counted in the cache every process shares (CACHES); each rate per client address (anon),
    # per user (user), per station (the agent's scans and heartbeats, each on its own).
    "DEFAULT_THROTTLE_CLASSES": [
        "inventory.core.api.throttles.AnonThrottle",
        "inventory.core.api.throttles.UserThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env_rate("API_THROTTLE_ANON", "60/minute"),
        "user": env_rate("API_THROTTLE_USER", "600/minute"),
        # kiosk.api.StationThrottle says why this lets a replay of 10,000 taps through.
        "station": env_rate("API_THROTTLE_STATION", "600/minute"),
    },
}
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=15),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=7),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    # Tokens carry a digest of the password: changing it (a stolen laptop, a person leaving)
    # ends every token issued before, refresh tokens included.
    "CHECK_REVOKE_TOKEN": True,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Toolcrib API",
    "DESCRIPTION": "Tool check-out and return: employees, tools, tags, loans.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {"ReturnConditionEnum": "inventory.loans.models.Loan.Condition"},
}
# DRF's own browsable API pages: the JSON renderer first, as by default.
REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"] = [
    "rest_framework.renderers.JSONRenderer",
    "inventory.core.api.renderers.BrowsableAPIRenderer",
]

# Content-Security-Policy, enforced on every page (django-csp): scripts and styles come only from
# our own static files, never inline, so markup that slips into a page (a tool's name, an
# imported CSV cell) can neither run nor restyle it. Data for scripts travels in data-*
# attributes or json_script. 'self' covers the kiosk's ws:// or wss:// to this host (CSP 3);
# the kiosk page also asks its local agent for its status while the server is unreachable.
_agent = urlsplit(KIOSK_AGENT_STATUS_URL)
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        # Swagger UI's and the admin's stylesheets draw some icons as data: URIs.
        "img-src": [SELF, "data:"],
        "connect-src": [SELF, *([f"{_agent.scheme}://{_agent.netloc}"] if _agent.netloc else [])],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# Superusers and Managers must show a TOTP code (or a backup code) after the password
# (inventory.mfa). Off with DEBUG=1 so that `make run` logs straight in; anyone may enrol anyway.
MFA_REQUIRED = env_bool("MFA_REQUIRED", not DEBUG)
# The name an authenticator app shows beside the account.
OTP_TOTP_ISSUER = "Toolcrib"

# The admin's messages carry new agent tokens and pairing links: kept in the session (on the
# server), not in the messages cookie, which is signed but readable.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# Caddy terminates TLS and says so in X-Forwarded-Proto; daphne listens on loopback only.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
# Probes and the metrics scraper talk to daphne directly over loopback HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
# Preloading is for public domains; a factory LAN host must never be baked into browsers.
SILENCED_SYSTEM_CHECKS = ["security.W021"]
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # The scans' covering index (INCLUDE) is a PostgreSQL speed-up; SQLite keeps its key columns
    # and the warning would greet every `make run`.
    SILENCED_SYSTEM_CHECKS.append("models.W040")
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# One JSON object per line (LOG_FORMAT=json) for journald/Loki; every record carries the request
# id and the station it concerns (inventory/core/logging.py).
LOG_FORMAT = env_choice("LOG_FORMAT", "plain", ("plain", "json"))
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "inventory.core.logging.ContextFilter"}},
    "formatters": {
        "plain": {"format": "%(levelname)s %(name)s [%(request_id)s %(station)s] %(message)s"},
        "json": {"()": "inventory.core.logging.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["context"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO").upper()},
    # Configured here, run_huey adds no handler of its own: one line per message, in our format.
    "loggers": {"huey": {"handlers": ["console"], "level": "INFO", "propagate": False}},
}

# Operations (inventory/ops): backups, scheduled jobs, notifications, health and metrics.
BACKUP_DIR = Path(env_str("BACKUP_DIR") or VAR_DIR / "backups")
BACKUP_KEEP = env_int("BACKUP_KEEP", 30, minimum=1)
BACKUP_TIME = env_time("BACKUP_TIME", "02:30")
# /readyz and the alert rule call a backup stale after a day plus a margin for a slow night.
BACKUP_MAX_AGE_HOURS = env_int("BACKUP_MAX_AGE_HOURS", 26, minimum=1)
# Signs every archive's manifest; restore and verify_backup refuse archives that do not verify.
# Empty: a key derived from SECRET_KEY. A disaster-recovery server given the same value (or the
# same SECRET_KEY) restores its predecessor's archives (deploy/README.md, "Backup keys").
BACKUP_SIGNING_KEY = env_str("BACKUP_SIGNING_KEY")
# Set: archives are encrypted as a whole (AES-256-GCM); without it no archive can be read back.
BACKUP_ENCRYPTION_KEY = env_str("BACKUP_ENCRYPTION_KEY")
for _name in ("BACKUP_SIGNING_KEY", "BACKUP_ENCRYPTION_KEY"):
    if globals()[_name] and len(globals()[_name]) < 32:
        raise ImproperlyConfigured(
            f"{_name} must be at least 32 random characters, e.g. from "
            "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`."
        )
# Raw taps are pruned after this; loans and their history are never pruned.
SCAN_RETENTION_DAYS = env_int("SCAN_RETENTION_DAYS", 365, minimum=1)
REMINDER_TIME = env_time("REMINDER_TIME", "08:30")
# Tell the holder this many minutes before a loan falls due, once per loan (0 = never).
REMINDER_BEFORE_DUE_MINUTES = env_int("REMINDER_BEFORE_DUE_MINUTES", 0, minimum=0)
REMINDER_WEBHOOK_URL = env_url("REMINDER_WEBHOOK_URL")
REMINDER_MANAGER_EMAILS = env_list("REMINDER_MANAGER_EMAILS", [])
STATION_OFFLINE_SECONDS = env_int("STATION_OFFLINE_SECONDS", 120, minimum=30)
# After a restore the kiosks' taps are held until every kiosk in use has sent its own again,
# or until this long after the first kiosk was heard (kiosk.replays).
REPLAY_WAIT_SECONDS = env_int("REPLAY_WAIT_SECONDS", 120, minimum=10)
READY_HUEY_MAX_AGE_SECONDS = env_int("READY_HUEY_MAX_AGE_SECONDS", 300, minimum=60)
READY_MIN_FREE_DISK_PERCENT = env_int("READY_MIN_FREE_DISK_PERCENT", 10, minimum=0)
METRICS_ALLOWED_IPS = env_networks("METRICS_ALLOWED_IPS", ["127.0.0.1", "::1"])
METRICS_TOKEN = env_str("METRICS_TOKEN")

EMAIL_URL = env_str("EMAIL_URL", "console:")
# EMAIL_BACKEND, EMAIL_HOST, EMAIL_PORT, EMAIL_HOST_USER/PASSWORD, EMAIL_USE_TLS/SSL.
globals().update(email_from_url(EMAIL_URL))
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "toolcrib@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
