"""What a restore got back from the kiosks: the admin's restore report reads it from here."""

import datetime
from dataclasses import dataclass

from django.db.models import Count, Q

from inventory.ops.models import RestoreRun
from kiosk.models import HeldTap, Replay, ReplayStation, ScanEvent

REFUSED = Q(outcome=ScanEvent.Outcome.REFUSED) | Q(status=ScanEvent.Status.REJECTED)


@dataclass(frozen=True)
class Kiosk:
    part: ReplayStation
    recovered: int  # sent again, not in the restored data, applied
    refused: int
    # Taps read there after the restore that waited for the replay.
    held_new: int
    # The kiosk held taps only since after the archive was taken: the ones it had delivered
    # between the two cannot come back.
    kept_too_little: bool

    @property
    def silent(self) -> bool:
        """Waited for and never answered."""
        return self.part.expected and self.part.answered_at is None


@dataclass(frozen=True)
class Report:
    restore: RestoreRun
    replay: Replay | None
    kiosks: list[Kiosk]
    refused: list[HeldTap]

    @property
    def silent(self) -> list[Kiosk]:
        return [kiosk for kiosk in self.kiosks if kiosk.silent]

    @property
    def kept_too_little(self) -> list[Kiosk]:
        return [kiosk for kiosk in self.kiosks if kiosk.kept_too_little]

    @property
    def deadline(self) -> datetime.datetime | None:
        return self.replay.deadline() if self.replay else None


def report(restore: RestoreRun) -> Report:
    """Queries: the replay's kiosks with their stations, the held taps counted per kiosk, and
    the refused ones with their kiosks."""
    replay = restore.replay
    if replay is None:  # a restore recorded before replays existed
        return Report(restore=restore, replay=None, kiosks=[], refused=[])
    counts = {
        row["station"]: row
        for row in replay.held.values("station").annotate(
            recovered=Count(
                "pk", filter=Q(replayed=True, status=ScanEvent.Status.APPLIED) & ~REFUSED
            ),
            refused=Count("pk", filter=Q(replayed=True) & REFUSED),
            held_new=Count("pk", filter=Q(replayed=False)),
        )
    }
    kiosks = []
    for part in replay.stations.select_related("station"):
        row = counts.get(part.station_id, {})
        kept_since = part.kept_since or part.station.replayable_since
        kiosks.append(
            Kiosk(
                part=part,
                recovered=row.get("recovered", 0),
                refused=row.get("refused", 0),
                held_new=row.get("held_new", 0),
                kept_too_little=kept_since is not None and kept_since > replay.archive_taken_at,
            )
        )
    refused = list(
        replay.held.filter(REFUSED, replayed=True)
        .select_related("station")
        .order_by("read_at", "pk")
    )
    return Report(restore=restore, replay=replay, kiosks=kiosks, refused=refused)
