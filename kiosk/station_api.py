"""Kiosk stations, read-only, for monitoring: what each agent last reported. Secrets (the
token hash, pairing codes) and the tap state are never part of it."""

from drf_spectacular.utils import OpenApiExample, extend_schema_serializer
from rest_framework import serializers, viewsets

from kiosk.models import AGENT_STATUS_FIELDS, Station


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "A healthy kiosk",
            response_only=True,
            value={
                "id": 1,
                "name": "第1工具室",
                "location": "A棟 1F",
                "last_seen_at": "2026-11-24T10:15:03+09:00",
                "reader_connected": True,
                "reader_name": "SONY FeliCa RC-S300/P",
                "outbox_depth": 0,
                "oldest_pending_seconds": None,
                "agent_version": "1.0.0",
                "hostname": "kiosk-1",
                "uptime_seconds": 86400.0,
                "cpu_temperature": 48.2,
                "heartbeat_seconds": 15.0,
                "revoked": False,
                "created_at": "2026-11-01T09:00:00+09:00",
            },
        )
    ]
)
class StationSerializer(serializers.ModelSerializer):
    revoked = serializers.SerializerMethodField(help_text="The agent token was revoked.")

    class Meta:
        model = Station
        fields = [
            "id",
            "name",
            "location",
            "last_seen_at",
            *AGENT_STATUS_FIELDS,
            "revoked",
            "created_at",
        ]

    def get_revoked(self, station) -> bool:
        return station.revoked_at is not None


class StationViewSet(viewsets.ReadOnlyModelViewSet):
    """Stations (kiosks) with their last heartbeat, reader and outbox depth."""

    queryset = Station.objects.order_by("name")
    serializer_class = StationSerializer
    filterset_fields = ["reader_connected"]
