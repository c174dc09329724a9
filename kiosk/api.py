"""The agent's API: scans and heartbeats, authenticated by the station's token."""

import uuid

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import authentication, exceptions, permissions, serializers, throttling
from rest_framework.response import Response
from rest_framework.views import APIView

from inventory.core.api.errors import error
from inventory.core.api.fields import DateTimeField
from inventory.core.api.throttles import SharedRate
from inventory.core.logging import bind_log_context
from inventory.core.uids import normalize_uid
from kiosk import broadcast, replays, tasks, tokens
from kiosk.models import AGENT_STATUS_FIELDS, Station
from kiosk.scans import Scan

MAX_EVENTS = 500


class StationTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Station <token>`; request.auth is the Station, as this process last
    looked its token up: each view checks the token again where it writes (kiosk.tokens)."""

    keyword = "Station"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode(errors="replace").split()
        if not header or header[0] != self.keyword:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Use: Authorization: Station <token>")
        station = tokens.station_for(header[1])
        if station is None:
            raise refused()
        bind_log_context(station=station.name)
        return (None, station)

    def authenticate_header(self, request):
        return self.keyword


class StationTokenScheme(OpenApiAuthenticationExtension):
    target_class = StationTokenAuthentication
    name = "stationToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Station <token>` as printed by `manage.py create_station`.",
        }


def refused() -> exceptions.AuthenticationFailed:
    return exceptions.AuthenticationFailed("Unknown or revoked station token.")


class IsStation(permissions.BasePermission):
    def has_permission(self, request, view):
        return isinstance(request.auth, Station)


class ScanEventIn(serializers.Serializer):
    id = serializers.UUIDField()
    uid = serializers.CharField(max_length=64)
    read_at = DateTimeField()


class ScanBatchIn(serializers.Serializer):
    sent_at = DateTimeField()
    # Each event is checked on its own: one malformed event is rejected, the others applied.
    events = serializers.ListField(
        child=serializers.DictField(), min_length=1, max_length=MAX_EVENTS
    )
    replay = serializers.UUIDField(
        required=False,
        help_text="The replay (named by a heartbeat's answer) these delivered taps are sent "
        "again for, after a restore.",
    )


class ScanResultOut(serializers.Serializer):
    id = serializers.CharField()
    # held: kept while the taps from before a restore come back; send it again later to learn
    # its outcome.
    status = serializers.ChoiceField(choices=["applied", "duplicate", "rejected", "held"])
    outcome = serializers.CharField(allow_null=True)
    message = serializers.CharField()


class ScanBatchOut(serializers.Serializer):
    results = ScanResultOut(many=True)


class StationThrottle(SharedRate, throttling.SimpleRateThrottle):
    """Each station's scans, and its heartbeats, counted apart (API_THROTTLE_STATION each).

    Sized so that a replay of 10,000 taps is never slowed. The agent sends its outbox (agent/
    sender.py) and a replay after a restore (agent/replay.py) in batches of BATCH_MAX taps,
    100 by default, each batch as soon as the last is answered: 10,000 taps are 100 requests.
    The outbox drained after an outage is as many again, taps held during a replay are asked
    about every 2 s (30 a minute), and people tap at most about once a second (60): even if
    the server answered in no time, that is 100 + 100 + 30 + 60 = 290 requests, within one
    minute's 600, and a Pi takes far longer than a minute to apply 20,000 taps. A BATCH_MAX
    below 17 could pass 600 a minute; the agent then waits and sends again (a 429 is retried
    with its backoff, never dropped). Heartbeats come every HEARTBEAT_SECONDS (15; at least 1,
    which is 60 a minute). Measured with this throttle on (tests/perf/agent_replay.py, two busy
    cores, PostgreSQL and Redis): 10,000 taps took 69 s posted back to back (87 requests a
    minute) and 158 s through the agent (38 a minute), none refused.
    """

    scope = "station"

    def get_cache_key(self, request, view):
        station = request.auth
        if not isinstance(station, Station):
            return None
        return self.cache_format % {"scope": f"station-{view.throttle_name}", "ident": station.pk}


class AgentView(APIView):
    authentication_classes = [StationTokenAuthentication]
    permission_classes = [IsStation]
    # Not the per-address or per-user throttles: a station is neither.
    throttle_classes = [StationThrottle]


class ScanBatchView(AgentView):
    throttle_name = "scans"

    def initial(self, request, *args, **kwargs):
        # Taken before authentication reads the database: a wait for a connection there (the
        # database just back, the pool reconnecting) is not the kiosk's clock running slow,
        # and must not shift the batch's read times (record_scans compares sent_at with it).
        self.received_at = timezone.now()
        super().initial(request, *args, **kwargs)

    @extend_schema(
        request=ScanBatchIn,
        responses={200: ScanBatchOut, 400: error("Not a batch."), 401: error("Bad token.")},
        examples=[
            OpenApiExample(
                "One tap",
                request_only=True,
                value={
                    "sent_at": "2026-11-24T00:30:00.120Z",
                    "events": [
                        {
                            "id": "6f1c2b8e-2f51-4c1e-9a4c-0c1b7f0e9d11",
                            "uid": "04A1B2C3D4E5F6",
                            "read_at": "2026-11-24T00:30:00.050Z",
                        }
                    ],
                },
            )
        ],
    )
    def post(self, request):
        received_at = self.received_at
        batch = ScanBatchIn(data=request.data)
        batch.is_valid(raise_exception=True)
        try:
            results = replays.record(
                station=request.auth,
                scans=[_scan(raw) for raw in batch.validated_data["events"]],
                sent_at=batch.validated_data["sent_at"],
                received_at=received_at,
                replay_id=batch.validated_data.get("replay"),
                token_hash=request.auth.token_hash,
            )
        except (tokens.Refused, Station.DoesNotExist):
            tokens.forget(request.auth.token_hash)
            raise refused() from None
        return Response({"results": [result.__dict__ for result in results]})


def _scan(raw: dict) -> Scan:
    raw_id = str(raw.get("id", ""))
    event = ScanEventIn(data=raw)
    if not event.is_valid():
        try:
            event_id = uuid.UUID(raw_id)
        except ValueError:
            event_id = None
        problems = "; ".join(f"{field}: {errors[0]}" for field, errors in event.errors.items())
        return Scan(id=event_id, raw_id=raw_id, uid=str(raw.get("uid", "")), problem=problems)
    data = event.validated_data
    try:
        uid = normalize_uid(data["uid"])
    except ValidationError as invalid:
        return Scan(
            id=data["id"],
            raw_id=raw_id,
            uid=data["uid"],
            read_at=data["read_at"],
            problem=" ".join(invalid.messages),
        )
    return Scan(id=data["id"], raw_id=raw_id, uid=uid, read_at=data["read_at"])


class HeartbeatIn(serializers.ModelSerializer):
    replay_done = serializers.UUIDField(
        required=False,
        allow_null=True,
        help_text="The last replay this agent has sent all its taps again for.",
    )

    class Meta:
        model = Station
        fields = [*AGENT_STATUS_FIELDS, "replay_done"]
        extra_kwargs = {
            "reader_name": {"allow_null": True},
            "agent_version": {"allow_null": True},
            "hostname": {"allow_null": True},
            "replayable_since": {
                "allow_null": True,
                "help_text": "The agent still holds every tap it delivered since then.",
            },
        }


class ReplayRequestOut(serializers.Serializer):
    id = serializers.UUIDField()
    since = serializers.DateTimeField(
        help_text="Send again, in outbox order and marked with this id, every delivered tap "
        "read or delivered at or after this moment."
    )


class HeartbeatOut(serializers.Serializer):
    replay = ReplayRequestOut(allow_null=True, help_text="After a restore; null otherwise.")


class HeartbeatView(AgentView):
    throttle_name = "heartbeat"

    @extend_schema(
        request=HeartbeatIn,
        responses={
            200: HeartbeatOut,
            400: error("Bad status fields."),
            401: error("Bad token."),
        },
    )
    def post(self, request):
        status = HeartbeatIn(data=request.data, partial=True)
        status.is_valid(raise_exception=True)
        done = status.validated_data.pop("replay_done", None)
        fields = {
            # Text columns store "unknown" as empty, not NULL.
            key: "" if value is None and key in TEXT_FIELDS else value
            for key, value in status.validated_data.items()
        }
        now = timezone.now()
        station = request.auth
        # Written only while the station holds the token: it may have been revoked since this
        # process looked it up.
        holder = Station.objects.filter(
            pk=station.pk, token_hash=station.token_hash, revoked_at__isnull=True
        )
        if not holder.update(last_seen_at=now, **fields):
            tokens.forget(station.token_hash)
            raise refused()
        # robust: with the channel layer down the heartbeat is still recorded and answered.
        transaction.on_commit(lambda: broadcast.reader_changed(station.pk), robust=True)
        replay, ready = replays.heartbeat(
            station=station, done=done, kept_since=fields.get("replayable_since"), now=now
        )
        if ready:
            tasks.apply_replay()
        # Agents from before replays read only the status code: 200 is a success for them too.
        return Response(HeartbeatOut({"replay": replay}).data)


TEXT_FIELDS = {"reader_name", "agent_version", "hostname"}
