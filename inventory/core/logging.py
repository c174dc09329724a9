"""Request id and station on every log record, and one JSON object per line when asked.

The middleware gives each request an id (the caller's `X-Request-ID` when it sends a sane one,
so Caddy's or an agent's id follows the request through) and echoes it in the response. Code
that learns which station a request concerns calls `bind_log_context(station=...)`. Both live
in context variables, so they follow the request into `sync_to_async` threads and never leak
into the next request.
"""

import contextvars
import json
import logging
import re
import uuid
from datetime import UTC, datetime

from asgiref.sync import iscoroutinefunction, markcoroutinefunction

_request_id = contextvars.ContextVar("request_id", default="-")
_station = contextvars.ContextVar("station", default="-")
# Anything else is replaced: the id ends up in logs and headers, so no spaces or control bytes.
_SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
HEADER = "X-Request-ID"


def bind_log_context(*, station=None, request_id=None) -> None:
    """Name the station (its name or id) and/or the request id for the records that follow."""
    if station is not None:
        _station.set(str(station))
    if request_id is not None:
        _request_id.set(str(request_id))


def current_request_id() -> str:
    return _request_id.get()


class RequestIdMiddleware:
    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request):
        if iscoroutinefunction(self):
            return self._acall(request)
        tokens = self._start(request)
        try:
            return self._finish(self.get_response(request))
        finally:
            self._reset(tokens)

    async def _acall(self, request):
        tokens = self._start(request)
        try:
            return self._finish(await self.get_response(request))
        finally:
            self._reset(tokens)

    def _start(self, request):
        incoming = request.headers.get(HEADER, "")
        request_id = incoming if _SANE_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        return _request_id.set(request_id), _station.set("-")

    def _finish(self, response):
        response[HEADER] = _request_id.get()
        return response

    def _reset(self, tokens):
        _request_id.reset(tokens[0])
        _station.reset(tokens[1])


class ContextFilter(logging.Filter):
    """Adds `request_id` and `station` to every record (a handler filter, so it covers all
    loggers, Django's and libraries' included); a station given with `extra=` wins."""

    def filter(self, record):
        record.request_id = getattr(record, "request_id", None) or _request_id.get()
        record.station = getattr(record, "station", None) or _station.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record):
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
            "station": getattr(record, "station", "-"),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)
