"""The kiosk WebSocket through the real ASGI stack (origin check, cookies, sessions).

ORM work here runs through database_sync_to_async, which hands its connection back when done:
a connection left checked out of the pool would keep the test database from being dropped.
"""

import asyncio

import pytest
from channels.db import database_sync_to_async as sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import Permission, User
from django.test import Client

from config.asgi import application
from kiosk import actions, broadcast, pairing

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


def communicator(path="/ws/kiosk/", cookies=""):
    headers = [(b"origin", b"http://localhost"), (b"host", b"localhost")]
    if cookies:
        headers.append((b"cookie", cookies.encode()))
    return WebsocketCommunicator(application, path, headers=headers)


@sync_to_async
def paired_station(name):
    station, _, code = actions.create_station(name=name)
    browser = Client()
    browser.post(pairing.pair_url(code))
    return station, f"{pairing.COOKIE}={browser.cookies[pairing.COOKIE].value}"


async def refused(ws) -> bool:
    """Closed with 4403 right after connecting: the page then reloads and says why, where a
    connection refused outright looks like a network fault that the browser retries for ever."""
    connected, _ = await ws.connect()
    return connected and await ws.receive_output(timeout=2) == {
        "type": "websocket.close",
        "code": 4403,
    }


async def test_an_unpaired_connection_is_refused():
    assert await refused(communicator())


async def test_a_paired_screen_receives_its_own_stations_pushes_only():
    mine, cookie = await paired_station("Line 1")
    other, _ = await paired_station("Line 2")
    ws = communicator(cookies=cookie)
    connected, _ = await ws.connect()
    assert connected

    await sync_to_async(broadcast.station_changed)(other.pk)
    assert await ws.receive_nothing(timeout=0.3)

    await sync_to_async(broadcast.station_changed)(mine.pk)
    html = await ws.receive_from(timeout=2)
    assert 'id="kiosk-main"' in html
    await ws.disconnect()


async def test_each_screen_receives_the_push_in_its_own_language():
    station, cookie = await paired_station("Line 5")
    screens = {
        # The language the page was rendered in; fr is not offered: the server's, ja.
        language: communicator(f"/ws/kiosk/?lang={language}", cookies=cookie)
        for language in ("en", "ja", "fr")
    }
    for ws in screens.values():
        assert (await ws.connect())[0]

    await sync_to_async(broadcast.station_changed)(station.pk)

    seen = {language: await ws.receive_from(timeout=2) for language, ws in screens.items()}
    assert "Borrow a tool in two taps" in seen["en"]
    assert "Borrow a tool in two taps" not in seen["ja"]
    assert seen["fr"] == seen["ja"]
    for ws in screens.values():
        assert await ws.receive_nothing(timeout=0.1)  # one push each, not one per language
        await ws.disconnect()


async def test_a_push_is_rendered_only_in_the_languages_its_screens_were_opened_in():
    station, cookie = await paired_station("Line 6")
    layer = get_channel_layer()
    # Listening to the English group without a screen opened in English.
    english = await layer.new_channel()
    await layer.group_add(broadcast.group_name(station.pk, "en"), english)
    japanese = communicator(cookies=cookie)
    assert (await japanese.connect())[0]

    await sync_to_async(broadcast.reader_changed)(station.pk)
    assert 'id="kiosk-reader"' in await japanese.receive_from(timeout=2)
    screen = communicator("/ws/kiosk/?lang=en", cookies=cookie)
    assert (await screen.connect())[0]
    await sync_to_async(broadcast.station_changed)(station.pk)

    assert "Borrow a tool in two taps" in await screen.receive_from(timeout=2)
    # The first push was not rendered in English: the first the group got is the second.
    first = await asyncio.wait_for(layer.receive(english), 2)
    assert 'id="kiosk-main"' in first["html"]
    await japanese.disconnect()
    await screen.disconnect()


async def test_a_foreign_origin_is_refused():
    _, cookie = await paired_station("Line 3")
    ws = WebsocketCommunicator(
        application,
        "/ws/kiosk/",
        headers=[(b"origin", b"http://evil.example"), (b"cookie", cookie.encode())],
    )
    connected, _ = await ws.connect()
    assert not connected


async def test_staff_who_may_see_stations_can_watch_one_and_others_cannot():
    station, _ = await paired_station("Line 4")

    @sync_to_async
    def session_cookie(watch=False, **flags):
        user = User.objects.create_user(f"u{len(flags)}{flags}{watch}", **flags)
        if watch:
            user.user_permissions.add(Permission.objects.get(codename="view_station"))
        browser = Client()
        browser.force_login(user)
        return f"sessionid={browser.cookies['sessionid'].value}"

    watcher = await session_cookie(watch=True, is_staff=True)
    staff = communicator(f"/ws/kiosk/?station={station.pk}", watcher)
    assert (await staff.connect())[0]
    await sync_to_async(broadcast.station_changed)(station.pk)
    assert "kiosk-main" in await staff.receive_from(timeout=2)
    await staff.disconnect()

    worker = communicator(f"/ws/kiosk/?station={station.pk}", await session_cookie())
    assert await refused(worker)
    clerk = await session_cookie(is_staff=True)  # staff, but not allowed to see stations
    assert await refused(communicator(f"/ws/kiosk/?station={station.pk}", clerk))
