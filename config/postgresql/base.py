"""PostgreSQL as django-prometheus measures it, with a pool that is whole again as soon as the
database is back.

Before a request gets a pooled connection, one round trip proves it alive, so a connection left
stale by a restart or a network cut is not the request's failure. One found dead means the
others died with it: the pool replaces them all at once. psycopg_pool's own check (Django's
CONN_HEALTH_CHECKS) tries them one by one with growing pauses in between, which outlasts a
request's short wait for a connection, so the first requests after an outage would fail too.
"""

from django_prometheus.db.backends.postgresql import base
from psycopg_pool import ConnectionPool


class DatabaseWrapper(base.DatabaseWrapper):
    def get_new_connection(self, conn_params):
        connection = super().get_new_connection(conn_params)
        if self.pool is None:
            return connection
        try:
            ConnectionPool.check_connection(connection)
        except self.Database.Error:
            self.pool.putconn(connection)
            self.pool.drain()
            connection = super().get_new_connection(conn_params)
        return connection
