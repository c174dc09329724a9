import pytest
from django.contrib.auth.models import Group, User
from django.db import connection


@pytest.fixture
def manager(db):
    user = User.objects.create_user("manager", password="manager-pass-123")
    user.groups.add(Group.objects.get(name="Managers"))
    return user


@pytest.fixture
def viewer(db):
    user = User.objects.create_user("viewer", password="viewer-pass-123")
    user.groups.add(Group.objects.get(name="Viewers"))
    return user


@pytest.fixture
def staff(manager, client):
    """The manager logged in to the admin, whose pages the test reads in English."""
    manager.is_staff = True
    manager.save()
    client.force_login(manager)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return manager


@pytest.fixture
def english(request):
    """Messages are Japanese by default; tests that read their words ask for English, both in
    this process and from the test clients they use (pages follow Accept-Language)."""
    from django.utils import translation

    for name in ("client", "admin_client", "api"):
        if name in request.fixturenames:
            request.getfixturevalue(name).defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def postgres(transactional_db):
    """Row locks and many real connections at once: only PostgreSQL proves those."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://…")


@pytest.fixture
def api():
    """An API client; `api.as_user(user)` authenticates with a real JWT access token."""
    from rest_framework.test import APIClient
    from rest_framework_simplejwt.tokens import RefreshToken

    class Client(APIClient):
        def as_user(self, user):
            token = RefreshToken.for_user(user).access_token
            self.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
            return self

    return Client()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """pytest-django's set-up, plus a clean hand-back: a thread of an async test (Channels'
    executor) can still hold a connection to the test database when the session ends, and
    PostgreSQL refuses to drop a database that has one."""
    yield
    from django.db import connection

    if connection.vendor == "postgresql":
        with django_db_blocker.unblock(), connection._nodb_cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                [connection.settings_dict["NAME"]],
            )


@pytest.fixture(autouse=True)
def _fresh_cache(settings):
    """Throttle counts and failed logins live in the cache: each test starts with none, so no
    test is throttled or locked out by the tests before it.

    Without Redis the cache is a database table, whose queries would join the exact query
    counts of the API tests; in this process it is then kept in memory. The table itself is
    proved by tests/config/test_login_lockout_processes.py, whose servers use it."""
    from django.core.cache import cache

    if "DatabaseCache" in settings.CACHES["default"]["BACKEND"]:
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    cache.clear()


@pytest.fixture
def unreachable_database(transactional_db):
    """Make the default connection reconnect to somewhere it cannot reach, for real. The open
    connection is set aside, not closed: closing would drop SQLite's in-memory test database."""
    saved_settings, saved_connection = dict(connection.settings_dict), connection.connection
    if connection.vendor == "postgresql":
        # Without the pool, which would hand out one of its open connections.
        options = {k: v for k, v in connection.settings_dict["OPTIONS"].items() if k != "pool"}
        connection.settings_dict.update(HOST="127.0.0.1", PORT="1", OPTIONS=options)
    else:
        connection.settings_dict["NAME"] = "/nonexistent-folder/db.sqlite3"
    connection.connection = None
    yield
    connection.settings_dict.update(saved_settings)
    connection.connection = saved_connection
