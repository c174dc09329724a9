"""config.asgi serves HTTP with the whole middleware chain and the view in one worker thread."""

import threading

import pytest
from asgiref import sync
from asgiref.testing import ApplicationCommunicator
from django.http import HttpResponse
from django.urls import path

from config.asgi import application

pytestmark = [pytest.mark.asyncio, pytest.mark.urls(__name__)]

seen = {}


def sync_view(request):
    seen["view"] = threading.get_ident()
    return HttpResponse("sync")


async def async_view(request):
    return HttpResponse("async")


urlpatterns = [path("sync/", sync_view), path("async/", async_view)]


async def get(url: str) -> tuple[int, bytes]:
    scope = {
        "type": "http",
        "http_version": "1.1",
        "method": "GET",
        "path": url,
        "query_string": b"",
        "headers": [(b"host", b"localhost")],
    }
    app = ApplicationCommunicator(application, scope)
    await app.send_input({"type": "http.request", "body": b""})
    start = await app.receive_output(timeout=5)
    body = await app.receive_output(timeout=5)
    return start["status"], body["body"]


async def test_a_synchronous_view_runs_off_the_event_loop():
    assert await get("/sync/") == (200, b"sync")
    assert seen["view"] != threading.get_ident()


async def test_a_request_hops_to_a_thread_once_and_never_back(monkeypatch):
    # Each hop is a thread switch plus an event-loop round on the request's path.
    hops = {"to_thread": 0, "to_loop": 0}
    to_thread, to_loop = sync.SyncToAsync.__call__, sync.AsyncToSync.__call__

    def counted(name, call):
        def wrapper(self, *args, **kwargs):
            hops[name] += 1
            return call(self, *args, **kwargs)

        return wrapper

    monkeypatch.setattr(sync.SyncToAsync, "__call__", counted("to_thread", to_thread))
    monkeypatch.setattr(sync.AsyncToSync, "__call__", counted("to_loop", to_loop))
    await get("/sync/")
    # The request_started signal's receivers, then the chain (Django's handler alone: 5 and 1).
    assert hops == {"to_thread": 2, "to_loop": 0}


async def test_an_asynchronous_view_still_works_below_the_synchronous_chain():
    assert await get("/async/") == (200, b"async")
