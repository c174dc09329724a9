"""Kiosk stations, read-only, for monitoring: what each agent last reported. Secrets (the
token hash, pairing codes) and the tap state are never part of it."""

from rest_framework import serializers, viewsets

from kiosk.models import Station


class StationSerializer(serializers.ModelSerializer):
    revoked = serializers.SerializerMethodField(help_text="The agent token was revoked.")

    class Meta:
        model = Station
        fields = [
            "id",
            "name",
            "location",
            "last_seen_at",
            "reader_connected",
            "reader_name",
            "outbox_depth",
            "oldest_pending_seconds",
            "agent_version",
            "hostname",
            "uptime_seconds",
            "cpu_temperature",
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
