"""Who may open a kiosk WebSocket, decided before the consumer runs (so it stays ORM-free)."""

from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from django.conf import settings

from kiosk import broadcast, pairing
from kiosk.models import Station


class KioskAuthMiddleware:
    """Sets scope["kiosk_station_id"] for a paired kiosk browser, or for staff who may watch
    (pairing.may_watch) and asked for `?station=<id>`; and scope["kiosk_language"] from
    `?lang=`, the language the page was rendered in (whether it came from the cookie or the
    browser's settings)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        cookies = scope.get("cookies", {})
        query = parse_qs(scope.get("query_string", b"").decode())
        language = query.get("lang", [""])[0]
        if language not in dict(settings.LANGUAGES):
            language = settings.LANGUAGE_CODE
        station_id = await self._station_id(scope, cookies, query, language)
        scope = {**scope, "kiosk_station_id": station_id, "kiosk_language": language}
        return await self.app(scope, receive, send)

    @database_sync_to_async
    def _station_id(self, scope, cookies, query, language):
        station_id = self._allowed_station_id(scope, cookies, query)
        if station_id is not None:
            broadcast.screen_opened(station_id, language)
        return station_id

    def _allowed_station_id(self, scope, cookies, query):
        station = pairing.station_from_cookie(cookies.get(pairing.COOKIE))
        if station is not None:
            return station.pk
        user = scope.get("user")
        wanted = query.get("station", [""])[0]
        if pairing.may_watch(user) and wanted.isdecimal():
            return Station.objects.filter(pk=int(wanted)).values_list("pk", flat=True).first()
        return None
