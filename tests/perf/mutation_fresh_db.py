"""pytest plugin for tests/perf/mutation.py: each test session starts afresh in the process.

mutmut runs pytest several times in one process, then once per mutant in a fork of it.
- Django ignores close() on an in-memory SQLite test database, so its connections (the main
  thread's, and the one asgiref's worker thread opened for the async tests) stay open on it, and
  the next session began with what the last one left: after a transactional test's flush,
  without the groups and permissions the migrations create; tests needing them failed.
- A session names its test database after the settings' name, which the session before it
  already changed to its own test database's: on PostgreSQL (--reuse-db) the second session's
  test_test_… database was made empty, and the backups, which connect by the settings' name,
  dumped it while the ORM still used the first one.
- Logging's stream handler writes to the stderr of the session that configured it, which pytest
  closed when that session ended: every later log line was a "--- Logging error ---" in the
  output that tests reading stderr compare.
- A fork has no threads but its own: asgiref's worker thread, which runs the async tests' ORM
  calls, is gone there, and those calls waited for it until the tests timed out.
"""

import gc
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import SyncToAsync
from django.conf import settings
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils.log import configure_logging

# Each database's name before any session made it a test database's.
NAMES = {}


def pytest_sessionstart(session):
    configure_logging(settings.LOGGING_CONFIG, settings.LOGGING)
    NAMES.update({a: db["NAME"] for a, db in settings.DATABASES.items() if a not in NAMES})
    for alias, name in NAMES.items():
        settings.DATABASES[alias]["NAME"] = name
    # Every thread's wrapper, found without asking the threads (in a fork they are gone). By
    # type(), not isinstance(): that asks a dead weak proxy among the objects for its class.
    for wrapper in gc.get_objects():
        if not issubclass(type(wrapper), BaseDatabaseWrapper):
            continue
        if wrapper.connection is not None:
            wrapper.connection.close()  # the last one closed drops the in-memory database
            wrapper.connection = None
        if wrapper.alias in NAMES:
            wrapper.settings_dict["NAME"] = NAMES[wrapper.alias]
    if any(not thread.is_alive() for thread in SyncToAsync.single_thread_executor._threads):
        SyncToAsync.single_thread_executor = ThreadPoolExecutor(max_workers=1)
