"""A station's tap state: whose session is open, which tool waits for a badge, the last UID read,
the borrow the screen can undo, the tag being enrolled; and the time windows that bound them.

The state lives on the Station row. It is read and written only with that row locked (`lock`),
so the taps, buttons and enrolments of one kiosk happen one after another whichever server
process handles them. `save` is its one writer: every save counts one more `state_version`, by
which the kiosk page tells a state it fetched from a newer one that was pushed meanwhile.
"""

import datetime
import functools

from django.conf import settings

from inventory.items.models import Item
from kiosk.models import Station

# A UID read again within this long is the same card left on the reader, not a new tap.
REPEAT_WINDOW = datetime.timedelta(seconds=2)
# How long the screen offers to undo a borrow (a mis-tap).
UNDO_WINDOW = datetime.timedelta(seconds=60)
# How long a kiosk waits for the tag an administrator asked to enrol there.
ENROL_WINDOW = datetime.timedelta(seconds=60)

# The columns a tap, a button or an enrolment writes.
FIELDS = [
    "session_employee",
    "session_expires_at",
    "waiting_item",
    "waiting_expires_at",
    "last_uid",
    "last_uid_at",
    "undoable_loan",
    "undo_expires_at",
    "enrol_employee",
    "enrol_item",
    "enrol_replace",
    "enrol_expires_at",
]


def session_window() -> datetime.timedelta:
    """A session lasts this long after the person's last tap."""
    return datetime.timedelta(seconds=settings.KIOSK_SESSION_SECONDS)


def lock(station_id: int, *related: str) -> Station:
    """The station, its row locked until the transaction ends, with `related` rows loaded."""
    stations = Station.objects.select_for_update()
    if not related:
        return stations.get(pk=station_id)
    # Lock, then read. A row joined into the locking statement would be the one PostgreSQL saw
    # before waiting for the lock (it re-reads only the locked row): a session opened by the
    # batch we waited for would look absent.
    stations.filter(pk=station_id).values_list("pk").get()
    return Station.objects.select_related(*related).get(pk=station_id)


def save(station: Station, *, also: tuple[str, ...] = ()) -> None:
    """Write the tap state (and the `also` fields) of a station locked by `lock`."""
    station.state_version += 1  # the row is locked: nothing else counts at the same time
    station.save(update_fields=[*FIELDS, *also, "state_version"])


def snapshot(station: Station) -> dict:
    """The state's column values (session_employee_id…): reading them never loads a row."""
    return {name: getattr(station, name) for name in _attnames()}


def restore(station: Station, values: dict) -> None:
    for name, value in values.items():
        setattr(station, name, value)  # an id that changes drops its cached object


def session_employee(station: Station, at: datetime.datetime):
    """Whose session is open on the station at `at`, or None."""
    if (
        station.session_employee_id
        and station.session_expires_at
        and at < station.session_expires_at
    ):
        return station.session_employee
    return None


def waiting_item(station: Station, at: datetime.datetime) -> Item | None:
    """The tool tapped before a badge, still waiting for it at `at`, or None."""
    if station.waiting_item_id and station.waiting_expires_at and at < station.waiting_expires_at:
        return station.waiting_item
    return None


def enrolling(station: Station, at: datetime.datetime) -> bool:
    """Whether the next UID read at `at` is to be enrolled rather than taken as a tap."""
    return bool(station.enrol_expires_at and at < station.enrol_expires_at)


@functools.cache
def _attnames() -> list[str]:
    return [Station._meta.get_field(field).attname for field in FIELDS]
