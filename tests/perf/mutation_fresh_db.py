"""pytest plugin for tests/perf/mutation.py: each test session starts afresh in the process.

mutmut runs pytest several times in one process, then once per mutant in a fork of it.
- Django ignores close() on an in-memory SQLite test database, so its connections (the main
  thread's, and the one asgiref's worker thread opened for the async tests) stay open on it, and
  the next session began with what the last one left: after a transactional test's flush,
  without the groups and permissions the migrations create; tests needing them failed.
- A fork has no threads but its own: asgiref's worker thread, which runs the async tests' ORM
  calls, is gone there, and those calls waited for it until the tests timed out.
"""

import gc
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import SyncToAsync
from django.db.backends.base.base import BaseDatabaseWrapper


def pytest_sessionstart(session):
    # Every thread's wrapper, found without asking the threads (in a fork they are gone). By
    # type(), not isinstance(): that asks a dead weak proxy among the objects for its class.
    for wrapper in gc.get_objects():
        if issubclass(type(wrapper), BaseDatabaseWrapper) and wrapper.connection is not None:
            wrapper.connection.close()  # the last one closed drops the in-memory database
            wrapper.connection = None
    if any(not thread.is_alive() for thread in SyncToAsync.single_thread_executor._threads):
        SyncToAsync.single_thread_executor = ThreadPoolExecutor(max_workers=1)
