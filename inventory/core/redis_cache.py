"""Django's Redis cache with one connection pool per process.

Django keeps a cache object per request context (`django.core.cache.caches`), and under ASGI
every request is a context of its own: with Django's RedisCache each request made a new pool and
a new connection to Redis for its throttle count (a TCP connect, and redis-py reading its own
version from the package metadata): 6 % of daphne's samples under a stream of taps, of 9 % for
the whole throttle (py-spy, tests/perf/kiosk_latency.py --profile). Here every cache object
of the process with the same settings shares one client, and so one pool: redis-py's pools are
thread-safe and start afresh in a forked child.
"""

import threading

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from django.utils.functional import cached_property

_clients: dict[str, RedisCacheClient] = {}
_lock = threading.Lock()


class SharedPoolRedisCache(RedisCache):
    @cached_property
    def _cache(self) -> RedisCacheClient:
        key = repr((self._servers, sorted(self._options.items())))
        with _lock:
            if key not in _clients:
                _clients[key] = self._class(self._servers, **self._options)
            return _clients[key]
