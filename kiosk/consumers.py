from channels.generic.websocket import AsyncWebsocketConsumer

from kiosk.broadcast import group_name


class KioskConsumer(AsyncWebsocketConsumer):
    """Relays pushes for one station to one screen. Who may listen was decided by
    kiosk.middleware (a paired kiosk browser, or a staff user watching a station).

    Asynchronous because it touches no database: a synchronous consumer would hop to a thread
    (and check the database connections) for every push it relays."""

    async def connect(self):
        station_id = self.scope.get("kiosk_station_id")
        if station_id is None:
            # Accepted, then closed with our code: refused before accepting, the browser would
            # only see an abnormal closure and retry for ever instead of showing why.
            await self.accept()
            await self.close(code=4403)
            return
        self.group = group_name(station_id, self.scope["kiosk_language"])
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None):
        # The screen only listens; anything it sends is ignored.
        pass

    async def kiosk_update(self, event):
        await self.send(text_data=event["html"])
