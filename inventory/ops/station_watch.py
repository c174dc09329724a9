"""Station watch: tell the managers once when a kiosk goes quiet or loses its reader, and once
when it is back.

Run every minute. The offline condition is read straight from the last heartbeat (or, for a
station never heard from, from its creation: Station.is_silent); a reader's
disconnection is only known from the heartbeats that report it, so its start is when the watch
first saw it (up to a minute late). Each transition is one conditional UPDATE or one INSERT
under a partial unique constraint, so overlapping runs cannot tell anyone twice; messages go out
after the commit.
"""

import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from inventory.ops.jobs import notify
from inventory.ops.jobs.runs import last_restore_at
from inventory.ops.models import StationAlert
from kiosk.models import Station

logger = logging.getLogger(__name__)


def watch_stations(*, now=None) -> list[str]:
    """Raise and clear station alerts; returns what was announced (for the log and tests)."""
    now = now or timezone.now()
    limit = Station.offline_after()
    restored = last_restore_at()
    open_alerts = {
        (alert.station_id, alert.kind): alert
        for alert in StationAlert.objects.filter(cleared_at__isnull=True)
    }
    announced = []
    stations = Station.objects.filter(revoked_at__isnull=True)
    fields = ("name", "created_at", "last_seen_at", "reader_connected", "reader_name")
    for station in stations.only(*fields):
        offline = station.is_silent(now, restored=restored)
        since = station.silent_since(restored=restored)
        watch = _Watch(station, now=now, limit=limit, restored=restored, announced=announced)
        watch.track(StationAlert.Kind.OFFLINE, active=offline, since=since, alerts=open_alerts)
        if not offline:  # an offline station's reader state is stale: leave it as it is
            reader_off = station.reader_connected is False
            watch.track(StationAlert.Kind.READER, active=reader_off, since=now, alerts=open_alerts)
    return announced


class _Watch:
    def __init__(self, station, *, now, limit, restored, announced):
        self.station, self.now, self.limit = station, now, limit
        self.restored, self.announced = restored, announced

    def track(self, kind, *, active, since, alerts) -> None:
        alert = alerts.get((self.station.pk, kind))
        if active:
            if alert is None:
                alert = self._open(kind, since)
            if (
                alert is not None
                and alert.raised_at is None
                and self.now - alert.since >= self.limit
            ):
                raised = StationAlert.objects.filter(pk=alert.pk, raised_at__isnull=True).update(
                    raised_at=self.now
                )
                if raised:
                    self._announce(kind, raised=True, since=alert.since)
        elif alert is not None:
            if alert.raised_at is None:
                # Over before anyone was told: nothing to say.
                StationAlert.objects.filter(pk=alert.pk, raised_at__isnull=True).delete()
                return
            cleared = StationAlert.objects.filter(pk=alert.pk, cleared_at__isnull=True).update(
                cleared_at=self.now
            )
            stale = self.restored is not None and alert.raised_at < self.restored
            if cleared and not stale:
                self._announce(kind, raised=False, since=alert.since)

    def _open(self, kind, since):
        try:
            with transaction.atomic():
                return StationAlert.objects.create(station=self.station, kind=kind, since=since)
        except IntegrityError:
            return None  # another watch run opened it a moment ago and will raise it

    def _announce(self, kind, *, raised, since) -> None:
        with translation.override(settings.LANGUAGE_CODE):
            subject, body = _message(self.station, kind, raised=raised, since=since, now=self.now)
        self.announced.append(subject)
        log = logger.warning if raised else logger.info
        log("%s", subject, extra={"station": self.station.name})
        transaction.on_commit(lambda: notify.tell_managers(subject=subject, body=body))


def _message(station, kind, *, raised, since, now):
    when = formats.date_format(timezone.localtime(since), "SHORT_DATETIME_FORMAT")
    minutes = max(1, round((now - since).total_seconds() / 60))
    names = {"station": station.name, "since": when, "minutes": minutes}
    if kind == StationAlert.Kind.OFFLINE and raised and station.last_seen_at is None:
        return (
            _("Toolcrib: station %(station)s is offline") % names,
            _(
                "Station %(station)s has sent no heartbeat since it was created (%(since)s). "
                "Check that its agent runs, with the token printed when the station was "
                "created, and that it reaches the server."
            )
            % names,
        )
    if kind == StationAlert.Kind.OFFLINE and raised:
        return (
            _("Toolcrib: station %(station)s is offline") % names,
            _(
                "No heartbeat from station %(station)s since %(since)s. Check its power and "
                "network; taps made meanwhile are kept on the kiosk and sent when it is back."
            )
            % names,
        )
    if kind == StationAlert.Kind.OFFLINE:
        return (
            _("Toolcrib: station %(station)s is back online") % names,
            _("Station %(station)s is sending heartbeats again after %(minutes)d minutes.") % names,
        )
    if raised:
        return (
            _("Toolcrib: the reader of station %(station)s is disconnected") % names,
            _(
                "Station %(station)s reports no NFC reader since %(since)s. Check the reader's "
                "USB cable; taps cannot be read until it is back."
            )
            % names,
        )
    return (
        _("Toolcrib: the reader of station %(station)s is connected again") % names,
        _("The reader of station %(station)s works again after %(minutes)d minutes.") % names,
    )
