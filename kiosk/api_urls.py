from django.urls import path

from kiosk.api import HeartbeatView, ScanBatchView

urlpatterns = [
    path("scans", ScanBatchView.as_view(), name="kiosk-scans"),
    path("heartbeat", HeartbeatView.as_view(), name="kiosk-heartbeat"),
]
