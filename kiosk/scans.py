"""Recording a batch of scans from a station's agent: the one door through which taps enter.

Each batch runs in one transaction that locks the station row, so the taps of one kiosk are
interpreted strictly one after another, in the order they were read, whichever server process
receives them. Event ids come from the agent: a replayed event is answered with its original
outcome and never applied twice (the primary key is the backstop).
"""

import datetime
import functools
import logging
import time
import uuid
from dataclasses import dataclass, replace

from django.conf import settings
from django.db import DatabaseError, transaction
from django.utils.translation import gettext as _

from inventory.items.models import Tag
from kiosk import broadcast, rules, state, tokens
from kiosk.metrics import TAP_SECONDS
from kiosk.models import ScanEvent, Station

log = logging.getLogger(__name__)

# A kiosk Pi has no real-time clock; beyond this difference its clock is not trusted.
CLOCK_TOLERANCE = datetime.timedelta(seconds=2)


@dataclass(frozen=True)
class Scan:
    """One event of a batch. `problem` is set when the agent sent something malformed."""

    id: uuid.UUID | None
    raw_id: str
    uid: str = ""
    read_at: datetime.datetime | None = None
    problem: str = ""


@dataclass(frozen=True)
class Result:
    id: str
    status: str
    outcome: str | None
    message: str

    @classmethod
    def of(cls, event: ScanEvent, status: str | None = None) -> "Result":
        return cls(str(event.id), status or event.status, event.outcome or None, event.message)


def record_scans(
    *,
    station: Station,
    scans: list[Scan],
    sent_at: datetime.datetime,
    received_at: datetime.datetime,
    replayed: bool = False,
    token_hash: str | None = None,
) -> list[Result]:
    """Apply a batch; answer one Result per scan, in the order given. `replayed` taps were sent
    again after a restore (kiosk.replays): late, whenever they were read. With `token_hash`
    (an agent's request) nothing is applied unless the station still holds that token
    (kiosk.tokens.Refused).

    A refused tap is an outcome, not an error (the use cases undo their own writes). A tap that
    hits a bug fails the batch, which is then done again with each tap in a savepoint of its
    own, so that this tap is rejected and the others are applied; savepoints for every batch
    would cost two more statements per tap.
    """
    batch = functools.partial(
        _record,
        station=station,
        scans=scans,
        sent_at=sent_at,
        received_at=received_at,
        replayed=replayed,
        token_hash=token_hash,
    )
    try:
        results, timings = batch(isolate=False)
    except DatabaseError:
        raise  # the database failed (deadlock, connection): the agent sends the batch again
    except (tokens.Refused, Station.DoesNotExist):
        raise  # the token was revoked, or the station deleted, since it was looked up
    except Exception:
        log.warning(
            "a tap of a batch from station %s failed; applying the batch tap by tap",
            station.pk,
            exc_info=True,
        )
        results, timings = batch(isolate=True)
    # Only the attempt that was committed: a batch done twice is not measured twice.
    for seconds in timings:
        TAP_SECONDS.observe(seconds)
    return results


def _record(
    *, station, scans, sent_at, received_at, replayed, token_hash, isolate: bool
) -> tuple[list[Result], list[float]]:
    """The batch's results, and how long each tap took to apply."""
    shift = clock_shift(sent_at, received_at)
    late_before = received_at - datetime.timedelta(seconds=settings.KIOSK_SESSION_SECONDS)
    results: list[Result | None] = [None] * len(scans)
    timings = []
    apply = _apply_isolated if isolate else rules.apply
    with transaction.atomic():
        # What nearly every tap and the screen push read comes along: the session's person and
        # the loan the undo button names, with its tool and person. An enrolment target is
        # loaded only by the taps that need it.
        station = state.lock(station.pk, *state.RELATED)
        if token_hash is not None:
            tokens.check(station, token_hash)
        known = ScanEvent.objects.order_by().in_bulk([scan.id for scan in scans if scan.id])
        tags = _active_tags(scans)
        new_events = []
        # The agent's order, which is its outbox sequence: the order the taps were read even
        # when the Pi's clock was stepped between them (no real-time clock; NTP at reconnect).
        for position, scan in enumerate(scans):
            if scan.problem:
                continue
            if scan.id in known:
                results[position] = again(station, known[scan.id])
                continue
            read_at = dated(scan, shift, received_at)
            if read_at is None:
                problem = _("read_at and sent_at are too far apart to be real times.")
                results[position] = _reject(
                    station, replace(scan, problem=problem), received_at, known, new_events
                )
                continue
            event = ScanEvent(
                id=scan.id,
                station=station,
                uid=scan.uid,
                read_at_raw=scan.read_at,
                read_at=read_at,
                received_at=received_at,
                status=ScanEvent.Status.APPLIED,
            )
            event.live = not replayed and event.read_at >= late_before
            started = time.perf_counter()
            apply(rules.Tap(station=station, event=event, tag=tags.get(scan.uid)))
            timings.append(time.perf_counter() - started)
            if event.outcome == ScanEvent.Outcome.ENROLLED:
                # A new tag (and, with replace, an old one retired) for the taps after it.
                tags = _active_tags(scans)
            known[scan.id] = event
            new_events.append(event)
            results[position] = Result.of(event)
        for position, scan in enumerate(scans):
            if scan.problem:
                results[position] = _reject(station, scan, received_at, known, new_events)
        ScanEvent.objects.bulk_create(new_events)
        station.last_seen_at = received_at
        state.save(station, also=("last_seen_at",))
        if new_events:
            # robust: a screen that misses a push must never undo or fail the recorded taps.
            transaction.on_commit(lambda: broadcast.taps_recorded(station, new_events), robust=True)
    return results, timings


def clock_shift(
    sent_at: datetime.datetime, received_at: datetime.datetime
) -> datetime.timedelta | None:
    """How far the kiosk's clock is behind the server's, when it is too far to ignore."""
    return received_at - sent_at if abs(received_at - sent_at) > CLOCK_TOLERANCE else None


def dated(
    scan: Scan, shift: datetime.timedelta | None, received_at: datetime.datetime
) -> datetime.datetime | None:
    """When the tap was read on the server's clock; None when that is no real time."""
    try:
        # Never later than its arrival: a Pi whose clock ran ahead and was corrected before
        # sending must not date loans in the future.
        return min(scan.read_at + shift if shift else scan.read_at, received_at)
    except OverflowError:
        return None


def _active_tags(scans: list[Scan]) -> dict[str, Tag]:
    uids = {scan.uid for scan in scans if not scan.problem}
    return {
        tag.uid: tag
        for tag in Tag.objects.active().filter(uid__in=uids).select_related("employee", "item")
    }


def again(station: Station, event: ScanEvent) -> Result:
    """An event id already recorded: its original answer, never a second application."""
    if event.station_id != station.pk:
        # Ids are the agent's UUIDs: only a broken or hostile agent reuses another's.
        return Result(
            str(event.id), "rejected", None, _("This event id was used by another station.")
        )
    # A rejected event stays rejected when resent (its first answer may have been lost).
    rejected = event.status == ScanEvent.Status.REJECTED
    return Result.of(event, "rejected" if rejected else "duplicate")


def _apply_isolated(tap: rules.Tap) -> None:
    """A tap in a savepoint of its own: if it fails, the batch's other taps stay applied."""
    # The station's state as it was before this tap: a tap that fails must not leave it half
    # changed (the savepoint undoes the rows, not this object).
    before = state.snapshot(tap.station)
    try:
        with transaction.atomic():
            rules.apply(tap)
    except DatabaseError:
        raise
    except Exception:
        # A bug must not wedge a kiosk's queue forever: record the tap as rejected (visible in
        # the admin and in the agent's outbox) and let the taps behind it through.
        log.exception("tap %s on station %s could not be applied", tap.event.id, tap.station.pk)
        state.restore(tap.station, before)
        tap.event.status = ScanEvent.Status.REJECTED
        tap.event.outcome, tap.event.loan = "", None
        tap.event.message = _(
            "This tap could not be recorded. Tap again; if it fails again, tell the tool crib "
            "(the error was logged)."
        )


def _reject(station, scan: Scan, received_at, known, new_events) -> Result:
    """Malformed events are answered `rejected`; those with a usable id are kept as evidence."""
    message = _("Rejected: %(problem)s") % {"problem": scan.problem}
    if scan.id is not None and scan.read_at is not None and scan.id not in known:
        event = ScanEvent(
            id=scan.id,
            station=station,
            uid=scan.uid[:64],
            read_at_raw=scan.read_at,
            read_at=scan.read_at,
            received_at=received_at,
            status=ScanEvent.Status.REJECTED,
            message=message,
            live=False,
        )
        known[scan.id] = event
        new_events.append(event)
    return Result(scan.raw_id, "rejected", None, message)
