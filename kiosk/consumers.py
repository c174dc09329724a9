from asgiref.sync import async_to_sync
from channels.generic.websocket import WebsocketConsumer

from kiosk.broadcast import group_name


class KioskConsumer(WebsocketConsumer):
    """Relays pushes for one station to one screen. Who may listen was decided by
    kiosk.middleware (a paired kiosk browser, or a staff user watching a station)."""

    def connect(self):
        station_id = self.scope.get("kiosk_station_id")
        if station_id is None:
            self.close(code=4403)
            return
        self.group = group_name(station_id)
        async_to_sync(self.channel_layer.group_add)(self.group, self.channel_name)
        self.accept()

    def disconnect(self, code):
        if hasattr(self, "group"):
            async_to_sync(self.channel_layer.group_discard)(self.group, self.channel_name)

    def receive(self, text_data=None, bytes_data=None):
        # The screen only listens; anything it sends is ignored.
        pass

    def kiosk_update(self, event):
        html = event["html"]
        self.send(text_data=html.get(self.scope.get("kiosk_language")) or next(iter(html.values())))
