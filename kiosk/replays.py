"""Taps back after a restore: the kiosk agents send again the taps they had delivered since the
archive was taken, and the server applies them in the order they were read.

A restore opens a Replay (`open_after_restore`). From then on each heartbeat's answer asks the
agent for it until the agent says it has sent everything (`heartbeat`). While the replay
gathers, every tap that arrives, sent again or new, is held, not applied (`record`): a tool
borrowed at kiosk A at 10:00 and returned at kiosk B at 11:00 must come back as borrowed, then
returned, whichever kiosk answers first; and a tool brought back after the restore must not be
taken for a tool waiting for a badge because its borrow is not back yet. Taps read after the
restore therefore wait too, a few seconds when every kiosk answers at its next heartbeat, at
most REPLAY_WAIT_SECONDS after the first kiosk was heard.

Once every kiosk waited for has answered, or the wait is over, `apply_ready` (a background job,
kiosk.tasks, so that no heartbeat waits for it) runs the held taps through the tap path
(kiosk.scans.record_scans), merged in read order across kiosks, each kiosk's own in its agent's
order, a chunk per transaction; taps that arrive meanwhile are held and applied after them.
Taps sent again are late taps: never flashed on a screen, never undoable. The rules decide each
one, so a tap older than a loan another door opened in the meantime is refused, with its reason
kept for the restore report. A kiosk that answers after the wait has its taps applied as they
come.
"""

import datetime
import heapq
import itertools
import logging
import uuid
from collections import defaultdict

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from kiosk import tokens
from kiosk.models import HeldTap, Replay, ReplayStation, ScanEvent, Station
from kiosk.scans import Result, Scan, again, clock_shift, dated, record_scans

log = logging.getLogger(__name__)

# Taps delivered or read this long before the archive are asked for too: a kiosk's clock may be
# off by that much. Those the archive holds are answered `duplicate` and cost nothing.
MARGIN = datetime.timedelta(minutes=5)
# A kiosk heard from within this long before the archive was taken was in use: the replay
# waits for its answer. One heard from during the wait is waited for as well.
IN_USE = datetime.timedelta(days=7)
# Held taps applied per transaction: other writers (on SQLite, any write) get their turn in
# between, and no request waits on the replay's lock for long.
CHUNK = 100


def open_after_restore(
    *, archive_taken_at: datetime.datetime, now: datetime.datetime | None = None
) -> Replay:
    """Called right after a restore is committed, with the moment its data was taken."""
    now = now or timezone.now()
    with transaction.atomic():
        # A replay the restored data was still gathering (the archive was taken during one)
        # is replaced by this one, which reaches back as far: the agents send its taps again.
        # New taps it held are still waiting on their kiosks (`held` keeps them pending there).
        unfinished = list(Replay.objects.gathering().select_for_update())
        since = min([archive_taken_at - MARGIN, *(replay.since for replay in unfinished)])
        HeldTap.objects.filter(replay__in=unfinished).delete()
        Replay.objects.filter(pk__in=[replay.pk for replay in unfinished]).update(
            state=Replay.State.SUPERSEDED
        )
        replay = Replay.objects.create(
            archive_taken_at=archive_taken_at, since=since, opened_at=now
        )
        in_use = Station.objects.filter(
            revoked_at__isnull=True, last_seen_at__gte=archive_taken_at - IN_USE
        )
        ReplayStation.objects.bulk_create(
            ReplayStation(replay=replay, station=station, expected=True) for station in in_use
        )
    log.info("kiosks are asked for their taps since %s (replay %s)", since, replay.pk)
    return replay


def heartbeat(
    *,
    station: Station,
    done: uuid.UUID | None,
    kept_since: datetime.datetime | None = None,
    now: datetime.datetime | None = None,
) -> tuple[Replay | None, bool]:
    """Each heartbeat: record the replay the agent says it finished (and how far back it still
    held taps). Returns the replay this kiosk is asked for, if any, and whether the held taps
    are now to be applied (that was the last answer awaited, or the wait is over)."""
    now = now or timezone.now()
    replay = Replay.objects.latest_asked()
    if replay is None or station.created_at > replay.opened_at:
        return None, False  # nothing to ask a kiosk made after the restore
    with transaction.atomic():
        gathering = replay.state == Replay.State.GATHERING
        if gathering:
            replay = Replay.objects.select_for_update().get(pk=replay.pk)
            gathering = replay.state == Replay.State.GATHERING
        part, _created = ReplayStation.objects.get_or_create(
            replay=replay, station=station, defaults={"expected": gathering}
        )
        if part.answered_at is None:
            if done == replay.pk:
                part.answered_at = now
                log.info("station %s sent its taps again for replay %s", station.pk, replay.pk)
            part.asked_at = part.asked_at or now
            part.kept_since = kept_since
            part.save(update_fields=["asked_at", "answered_at", "kept_since"])
        if gathering:
            _heard(replay, now)
        ready = gathering and _ready(replay, now)
    return (None if part.answered_at else replay), ready


def record(
    *,
    station: Station,
    scans: list[Scan],
    sent_at: datetime.datetime,
    received_at: datetime.datetime,
    replay_id: uuid.UUID | None = None,
    token_hash: str | None = None,
) -> list[Result]:
    """A batch from an agent, `replay_id` naming the replay its taps are sent again for:
    applied now (kiosk.scans), or held while a replay gathers. With `token_hash`, only while
    the station still holds that token (kiosk.tokens)."""
    gathering = Replay.objects.gathering()
    replayed = replay_id is not None
    batch = {"station": station, "scans": scans, "sent_at": sent_at, "received_at": received_at}
    if not replayed and not gathering.exists():
        return record_scans(**batch, token_hash=token_hash)
    if token_hash is not None:
        tokens.check(Station.objects.get(pk=station.pk), token_hash)
    with transaction.atomic():
        # Locked: a batch is either held before the replay is applied, or applied after it.
        replay = gathering.select_for_update().first()
        if replay is not None:
            results, _held = _hold(replay, replayed=replayed, **batch)
            _heard(replay, received_at)
            return results
        replay = (
            Replay.objects.filter(pk=replay_id, state=Replay.State.APPLIED).first()
            if replayed
            else None
        )
        if replay is None:
            # Not sent again, or for a replay this database does not know (a later restore
            # replaced it): late taps all the same.
            return record_scans(replayed=replayed, **batch)
        # The kiosk answers after the held taps were applied: its own are applied as they come,
        # and reported with the others.
        results, held = _hold(replay, replayed=True, **batch)
        _apply_taps(held, received_at)
        answers = {tap.event_id: tap for tap in held}
        return [
            Result(str(tap.event_id), tap.status, tap.outcome or None, tap.message)
            if (tap := answers.get(_event_id(result))) and result.status == "held"
            else result
            for result in results
        ]


def apply_ready(now: datetime.datetime | None = None) -> bool:
    """Apply the held taps of the gathering replay if every kiosk waited for has answered or
    the wait is over (also run every minute, for when no kiosk sends a heartbeat any more).
    A chunk per transaction, in read order; the replay is applied when none is left. Returns
    whether it was."""
    while True:
        with transaction.atomic():
            replay = Replay.objects.gathering().select_for_update().first()
            if replay is None or not _ready(replay, now or timezone.now()):
                return False
            held = list(replay.held.filter(applied_at__isnull=True).select_related("station"))
            if not held:
                replay.state, replay.applied_at = Replay.State.APPLIED, timezone.now()
                replay.save(update_fields=["state", "applied_at"])
                _applied(replay)
                return True
            _apply_taps(_in_read_order(held)[:CHUNK], timezone.now())


def _ready(replay: Replay, now: datetime.datetime) -> bool:
    if replay.first_heard_at is None:
        return False
    waiting = replay.stations.filter(expected=True, answered_at__isnull=True)
    return now >= replay.deadline() or not waiting.exists()


def _heard(replay: Replay, now: datetime.datetime) -> None:
    if replay.first_heard_at is None:
        replay.first_heard_at = now
        replay.save(update_fields=["first_heard_at"])


def _hold(
    replay: Replay, *, station, scans, sent_at, received_at, replayed: bool
) -> tuple[list[Result], list[HeldTap]]:
    """Answer each scan: `duplicate` when the database has it, `held` when it is kept in the
    replay, `rejected` when it is malformed. Returns the answers and the taps held now."""
    shift = clock_shift(sent_at, received_at)
    ids = [scan.id for scan in scans if scan.id]
    known = ScanEvent.objects.in_bulk(ids)
    held_ids = set(
        HeldTap.objects.filter(replay=replay, event_id__in=ids).values_list("event_id", flat=True)
    )
    results: list[Result | None] = [None] * len(scans)
    new: list[HeldTap] = []
    malformed = []
    for position, scan in enumerate(scans):
        read_at = None if scan.problem else dated(scan, shift, received_at)
        if scan.id in known:
            results[position] = again(station, known[scan.id])
        elif read_at is None:
            malformed.append(position)
        else:
            if scan.id not in held_ids:
                held_ids.add(scan.id)
                new.append(
                    HeldTap(
                        replay=replay,
                        station=station,
                        event_id=scan.id,
                        uid=scan.uid,
                        read_at_raw=scan.read_at,
                        read_at=read_at,
                        received_at=received_at,
                        replayed=replayed,
                    )
                )
            results[position] = Result(
                str(scan.id),
                "held",
                None,
                _(
                    "Kept until every kiosk has sent again its taps from before the restore; "
                    "applied in a moment."
                ),
            )
    if malformed:
        # Refused as in any batch (and kept as evidence there): there is nothing to hold.
        refused = record_scans(
            station=station,
            scans=[scans[position] for position in malformed],
            sent_at=sent_at,
            received_at=received_at,
        )
        for position, result in zip(malformed, refused, strict=True):
            results[position] = result
    HeldTap.objects.bulk_create(new)
    if replayed:
        part, _created = ReplayStation.objects.get_or_create(replay=replay, station=station)
        ReplayStation.objects.filter(pk=part.pk).update(
            sent=F("sent") + len(scans),
            duplicates=F("duplicates") + sum(1 for scan in scans if scan.id in known),
        )
    return results, new


def _applied(replay: Replay) -> None:
    held = replay.held.count()
    silent = replay.stations.filter(expected=True, answered_at__isnull=True).select_related(
        "station"
    )
    names = ", ".join(part.station.name for part in silent)
    if names:
        log.warning(
            "replay %s applied %d held taps without an answer from: %s", replay.pk, held, names
        )
    else:
        log.info("replay %s applied %d held taps", replay.pk, held)


def _in_read_order(held: list[HeldTap]) -> list[HeldTap]:
    """Merged by read time across kiosks. Each kiosk's taps keep its agent's order: those sent
    again (delivered before the restore) first, then those read since, each as they arrived;
    the merge keeps that order even where a kiosk's clock was stepped."""
    by_station: dict[int, list[HeldTap]] = defaultdict(list)
    for tap in held:
        by_station[tap.station_id].append(tap)
    queues = [
        sorted(taps, key=lambda tap: (not tap.replayed, tap.pk)) for taps in by_station.values()
    ]
    return list(heapq.merge(*queues, key=lambda tap: tap.read_at))


def _apply_taps(held: list[HeldTap], now: datetime.datetime) -> None:
    """Through the tap path, in the order given: one batch per run of one kiosk's taps."""
    for (_station, replayed), run in itertools.groupby(
        held, key=lambda tap: (tap.station_id, tap.replayed)
    ):
        run = list(run)
        results = record_scans(
            station=run[0].station,
            scans=[
                Scan(id=tap.event_id, raw_id=str(tap.event_id), uid=tap.uid, read_at=tap.read_at)
                for tap in run
            ],
            sent_at=now,
            received_at=now,
            replayed=replayed,
        )
        for tap, result in zip(run, results, strict=True):
            tap.applied_at, tap.status = now, result.status
            tap.outcome, tap.message = result.outcome or "", result.message
    HeldTap.objects.bulk_update(held, ["applied_at", "status", "outcome", "message"])


def _event_id(result: Result) -> uuid.UUID | None:
    try:
        return uuid.UUID(result.id)
    except ValueError:
        return None
