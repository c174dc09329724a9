"""A database that cannot be reached is a prompt 503 that says so, for programs and for people.

The database settings make every wait short (config.env.database_from_url: connect, pooled
connection and statement timeouts); this turns the error that ends the wait into an answer.
Agents treat a 503 as "keep the taps and try again later"; browsers get a page that reloads
itself until the database is back. Nothing else changes: the request had written nothing (its
transaction could not commit), and the next one after the outage works without a restart.
"""

import logging

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string

from inventory.core.errors import DatabaseUnavailable

logger = logging.getLogger(__name__)

# Seconds after which a client may try again: a restart of PostgreSQL takes about that long.
RETRY_AFTER = 5


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        # OperationalError: no connection within the timeouts, a connection lost mid-request, a
        # statement cancelled by its timeout. InterfaceError: a connection already closed.
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        logger.warning("Database unavailable (%s %s): %s", request.method, request.path, exception)
        error = DatabaseUnavailable()
        headers = {"Retry-After": str(RETRY_AFTER)}
        if request.path.startswith("/api/"):
            return JsonResponse(
                {"code": error.code, "message": error.message}, status=error.status, headers=headers
            )
        # Rendered without the request: its context processors could reach for the database.
        page = render_to_string("503.html", {"message": error.message, "retry": RETRY_AFTER * 2})
        return HttpResponse(page, status=error.status, headers=headers)
