"""The one publisher to kiosk screens: renders the `state` partial and sends it to the station's
group. Called only from transaction.on_commit, so a screen never shows what was rolled back.

Each push is rendered once per language a screen of the station was opened in, and sent to that
language's group: a kiosk can be switched to English while the one next to it stays Japanese.
The server's language goes first, so the screens most kiosks show are not kept waiting for the
other rendering; a station whose screens never left it costs one rendering a push.
"""

import asyncio
import time

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation

from kiosk.models import ScanEvent, Station
from kiosk.screen import Card, load_station, reader_context, screen_context


def group_name(station_id: int, language: str) -> str:
    return f"kiosk.station.{station_id}.{language}"


def taps_recorded(station: Station, events: list[ScanEvent]) -> None:
    """After a batch: the station as the batch left it (no need to read it again). The last live
    tap is the result shown, also when it failed: the person must know to tap again."""
    live = [event for event in events if event.live]  # malformed events are never live
    late = sum(1 for e in events if e.status == ScanEvent.Status.APPLIED and not e.live)
    if live or late:
        publish(station, result=live[-1] if live else None, late_count=late)


def station_changed(station_id: int, *, card: Card | None = None) -> None:
    """After a button (undo, take over, report damage, done) or an enrolment started outside
    the tap path; `card` says what the button did."""
    publish(load_station(station_id), card=card)


def publish(
    station: Station,
    *,
    result: ScanEvent | None = None,
    card: Card | None = None,
    late_count: int = 0,
) -> None:
    """Push the station's current state (and a tap's or a button's result) to its screens."""
    context = screen_context(station, result=result, card=card, late_count=late_count)
    send(station, "kiosk/screen.html#state", context)


def reader_changed(station_id: int) -> None:
    """A heartbeat: refresh only the reader status, leaving a result on screen alone."""
    context = reader_context(station_id)
    send(context["station"], "kiosk/screen.html#reader", context)


def screen_opened(station_id: int, language: str) -> None:
    """A screen of the station opened in `language` (kiosk.middleware): from now on its pushes
    are rendered in that language too."""
    if language == settings.LANGUAGE_CODE:
        return
    with transaction.atomic():
        station = Station.objects.select_for_update().only("screen_languages").get(pk=station_id)
        if language not in station.screen_languages:
            station.screen_languages = [*station.screen_languages, language]
            station.save(update_fields=["screen_languages"])


# A push that has not reached the channel layer by then is given up: with Redis down or not
# answering, the tap that caused it must still be answered at once. The screen loses that push
# only; it fetches the whole state again whenever its socket reopens.
PUSH_SECONDS = 1.0


def send(station: Station, template: str, context: dict) -> None:
    deadline = time.monotonic() + PUSH_SECONDS
    for language in languages(station):
        with translation.override(language):
            html = render_to_string(template, context)
        message = {"type": "kiosk.update", "html": html}
        async_to_sync(_group_send)(group_name(station.pk, language), message, deadline)


async def _group_send(group: str, message: dict, deadline: float) -> None:
    async with asyncio.timeout(max(0.0, deadline - time.monotonic())):
        await get_channel_layer().group_send(group, message)


def languages(station: Station) -> list[str]:
    """The server's language, then the others a screen of the station was opened in."""
    opened = set(station.screen_languages) - {settings.LANGUAGE_CODE}
    return [settings.LANGUAGE_CODE, *(code for code, _name in settings.LANGUAGES if code in opened)]
