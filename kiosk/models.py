import datetime
import hashlib
import secrets
import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from inventory.core.uids import is_uid, normalize_uid
from inventory.employees.models import Employee
from inventory.items.models import Item
from inventory.loans.models import Loan, matching_people_and_tools

# A heartbeat on its way (the network, a busy server) is late by this much at most.
HEARTBEAT_SLACK_SECONDS = 5


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class StationQuerySet(models.QuerySet):
    def by_token(self, token: str):
        """The station an agent token belongs to, if it is neither unknown nor revoked."""
        return self.filter(token_hash=hash_secret(token), revoked_at__isnull=True).first()


# What an agent reports in each heartbeat, in the order people read it.
AGENT_STATUS_FIELDS = [
    "reader_connected",
    "reader_name",
    "outbox_depth",
    "oldest_pending_seconds",
    "agent_version",
    "hostname",
    "uptime_seconds",
    "cpu_temperature",
    "heartbeat_seconds",
    "replayable_since",
]


class Change(models.TextChoices):
    """What a station's last change to a loan was."""

    BORROW = "borrow", _("Borrow")
    RETURN = "return", _("Return")
    TAKE_OVER = "take_over", _("Take-over")


class Station(models.Model):
    """A kiosk: one Raspberry Pi with its reader, its agent and its screen.

    Besides what it is, the row holds the tap state of the kiosk (whose session is open, which
    tool waits for a badge, the last UID read): scans of one station are applied with this row
    locked, so they are interpreted one at a time and in order.
    """

    name = models.CharField(_("name"), max_length=100, unique=True)
    location = models.CharField(_("location"), max_length=100, blank=True)
    # The agent's token is shown once; only its SHA-256 is kept.
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    token_created_at = models.DateTimeField(_("token issued"), default=timezone.now)
    revoked_at = models.DateTimeField(_("token revoked"), null=True, blank=True)
    # One-time code that binds a kiosk browser to this station; bumping the generation
    # unpairs every browser paired before.
    pairing_code_hash = models.CharField(max_length=64, blank=True, editable=False)
    pairing_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    browser_generation = models.PositiveIntegerField(default=1, editable=False)
    # The languages besides the server's that a screen of this station was opened in (a kiosk
    # switched to English, a manager watching in it): its pushes are rendered in those too
    # (kiosk.broadcast). Never pruned: a screen may stay open for weeks.
    screen_languages = models.JSONField(default=list, editable=False)

    # What the agent last reported in its heartbeat.
    last_seen_at = models.DateTimeField(_("last heartbeat"), null=True, blank=True)
    heartbeat_seconds = models.FloatField(
        _("heartbeat interval (s)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(3600)],
    )
    reader_connected = models.BooleanField(_("reader connected"), null=True, blank=True)
    reader_name = models.CharField(_("reader"), max_length=200, blank=True)
    outbox_depth = models.PositiveIntegerField(_("taps waiting"), null=True, blank=True)
    oldest_pending_seconds = models.FloatField(_("oldest waiting (s)"), null=True, blank=True)
    agent_version = models.CharField(_("agent version"), max_length=50, blank=True)
    hostname = models.CharField(_("host name"), max_length=100, blank=True)
    uptime_seconds = models.FloatField(_("uptime (s)"), null=True, blank=True)
    cpu_temperature = models.FloatField(_("CPU temperature (°C)"), null=True, blank=True)
    # The agent still holds every tap it delivered since then: how far back it can replay.
    replayable_since = models.DateTimeField(_("can replay taps since"), null=True, blank=True)

    # Tap state, read and written only with the row locked.
    session_employee = models.ForeignKey(
        Employee, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    session_expires_at = models.DateTimeField(null=True, blank=True)
    # The tools tapped before a badge (ids, in the order tapped): the badge borrows them all.
    waiting_items = models.JSONField(default=list, blank=True)
    waiting_expires_at = models.DateTimeField(null=True, blank=True)
    last_uid = models.CharField(max_length=20, blank=True)
    last_uid_at = models.DateTimeField(null=True, blank=True)
    # The station's last change (a borrow, a return or a take-over), which its screen offers to
    # undo for a while; after a return also to report damage or, in a session, to take over.
    undoable_loan = models.ForeignKey(
        Loan, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    undo_change = models.CharField(max_length=16, choices=Change.choices, blank=True)
    undo_expires_at = models.DateTimeField(null=True, blank=True)
    # Enrolment by tap: the next UID read here is bound to this person or tool.
    enrol_employee = models.ForeignKey(
        Employee, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    enrol_item = models.ForeignKey(
        Item, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    enrol_replace = models.BooleanField(default=False)
    enrol_expires_at = models.DateTimeField(null=True, blank=True)
    # The check before use the screen asks: this person tapped this tool, whose category wants
    # these checks answered before it is lent. The checks are kept as they were asked, so the
    # question reads the same on every refresh without reading the category again.
    checklist_item = models.ForeignKey(
        Item, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    checklist_employee = models.ForeignKey(
        Employee, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    checklist_checks = models.JSONField(default=list, blank=True)
    checklist_expires_at = models.DateTimeField(null=True, blank=True)
    # Counts the changes of the tap state: a screen that fetched the state shows that answer
    # only if no newer state was pushed to it while the request was on its way.
    state_version = models.PositiveBigIntegerField(default=0, editable=False)

    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = StationQuerySet.as_manager()

    class Meta:
        verbose_name = _("station")
        verbose_name_plural = _("stations")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @staticmethod
    def offline_after() -> datetime.timedelta:
        return datetime.timedelta(seconds=settings.STATION_OFFLINE_SECONDS)

    def reader_silent_after(self) -> datetime.timedelta:
        """How long the kiosk screen waits for the agent's next heartbeat before it tells the
        person at it that taps may not be read: about two missed heartbeats of the interval the
        agent reports, never longer than the station takes to be called offline (`is_online`,
        which the admin and the alerts use). An agent that never said its interval: that."""
        if self.heartbeat_seconds is None:
            return self.offline_after()
        missed = datetime.timedelta(seconds=2 * self.heartbeat_seconds + HEARTBEAT_SLACK_SECONDS)
        return min(missed, self.offline_after())

    def last_heard(self, *, restored: datetime.datetime | None = None):
        """The agent's last heartbeat, None when it was never heard from. After a restore the
        heartbeat times came back with the archive: then no earlier than the restore."""
        if self.last_seen_at is None or restored is None:
            return self.last_seen_at
        return max(self.last_seen_at, restored)

    def silent_since(self, *, restored: datetime.datetime | None = None) -> datetime.datetime:
        """Since when nothing was heard from the station: its last heartbeat or, when it never
        sent one, its creation (after a restore, no earlier than the restore)."""
        heard = self.last_heard(restored=restored)
        if heard is not None:
            return heard
        return max(self.created_at, restored) if restored else self.created_at

    def is_silent(
        self,
        now: datetime.datetime | None = None,
        *,
        restored: datetime.datetime | None = None,
    ) -> bool:
        """Nothing heard for STATION_OFFLINE_SECONDS: what raises the station's offline alert.
        A station never heard from is silent that long after its creation (an agent never
        started, or started with a wrong token), not from the start."""
        silent = (now or timezone.now()) - self.silent_since(restored=restored)
        return silent >= self.offline_after()

    def is_online(
        self,
        now: datetime.datetime | None = None,
        *,
        restored: datetime.datetime | None = None,
    ) -> bool:
        """Heard from within STATION_OFFLINE_SECONDS: the one meaning of online for the admin,
        the dashboard, the station alerts and the kiosk screen."""
        heard = self.last_heard(restored=restored)
        return heard is not None and not self.is_silent(now, restored=restored)

    def issue_token(self) -> str:
        """A new agent token (the old one stops working); returned once, stored hashed."""
        token = secrets.token_urlsafe(32)
        self.token_hash = hash_secret(token)
        self.token_created_at = timezone.now()
        self.revoked_at = None
        return token


class ScanEventQuerySet(models.QuerySet):
    def search(self, term: str):
        """Taps of a UID (written in any spelling), or of the people and tools the search box
        finds (code, name, reading, the UID of a tag they carry)."""
        term = term.strip()
        if not term:
            return self
        people, tools = matching_people_and_tools(term, "pk")
        match = Q(employee__in=people) | Q(item__in=tools)
        if is_uid(term):
            # Taps of a tag that someone owns are found through that person or tool above.
            match |= Q(uid=normalize_uid(term), employee__isnull=True, item__isnull=True)
        return self.filter(match)


class ScanEvent(models.Model):
    """One tap as the agent reported it, with what the server made of it. The id comes from
    the agent, so a replayed event is recognised and never applied twice."""

    class Status(models.TextChoices):
        APPLIED = "applied", _("Applied")
        REJECTED = "rejected", _("Rejected")

    class Outcome(models.TextChoices):
        SESSION_STARTED = "session_started", _("Session started")
        SESSION_ENDED = "session_ended", _("Session ended")
        BORROWED = "borrowed", _("Borrowed")
        RETURNED = "returned", _("Returned")
        HANDOVER = "handover", _("Handed over")
        AWAITING_BADGE = "awaiting_badge", _("Waiting for a badge")
        # Not lent yet: the screen asks the tool's check before use (kiosk.actions answers it).
        CHECKLIST = "checklist", _("Check before use asked")
        REFUSED = "refused", _("Refused")
        UNKNOWN_TAG = "unknown_tag", _("Unknown tag")
        IGNORED_REPEAT = "ignored_repeat", _("Repeat ignored")
        ENROLLED = "enrolled", _("Tag enrolled")

    id = models.UUIDField(primary_key=True, editable=False)
    station = models.ForeignKey(
        Station, verbose_name=_("station"), on_delete=models.PROTECT, related_name="scans"
    )
    uid = models.CharField(_("UID"), max_length=64)
    read_at_raw = models.DateTimeField(_("read at (kiosk clock)"))
    read_at = models.DateTimeField(_("read at"), db_index=True)
    received_at = models.DateTimeField(_("received"), default=timezone.now)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices)
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices, blank=True)
    message = models.TextField(_("message"), blank=True)
    # Shown on the screen as it happened, or recorded late (replayed after an outage).
    live = models.BooleanField(_("shown live"), default=True)
    employee = models.ForeignKey(
        Employee, on_delete=models.PROTECT, null=True, blank=True, related_name="scans"
    )
    item = models.ForeignKey(
        Item, on_delete=models.PROTECT, null=True, blank=True, related_name="scans"
    )
    loan = models.ForeignKey(
        Loan, on_delete=models.PROTECT, null=True, blank=True, related_name="scans"
    )

    objects = ScanEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("scan")
        verbose_name_plural = _("scans")
        ordering = ["-read_at"]
        indexes = [
            models.Index(fields=["station", "-read_at"], name="scan_station_time_idx"),
            # The admin's filters and the unknown-tags inbox ask for the rare taps among
            # millions: these indexes hold only those, so a tap that borrows or returns (nearly
            # all of them) writes none of them.
            models.Index(
                fields=["outcome", "-read_at"],
                # The inbox counts the unknown tags' taps by UID from this index alone.
                include=["uid"],
                condition=~Q(outcome__in=["borrowed", "returned", "session_started"]),
                name="scan_rare_outcome_time_idx",
            ),
            models.Index(
                fields=["-read_at"], condition=Q(status="rejected"), name="scan_rejected_time_idx"
            ),
            models.Index(fields=["-read_at"], condition=Q(live=False), name="scan_late_time_idx"),
            # A UID searched for: the taps of a tag nobody owned (the others are found through
            # their person or tool).
            models.Index(
                fields=["uid"],
                condition=Q(employee__isnull=True, item__isnull=True),
                name="scan_unowned_uid_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.uid} @ {self.station_id}: {self.outcome or self.status}"


class UnknownTag(ScanEvent):
    """The admin's inbox of UIDs tapped at a kiosk that belong to nobody yet (a proxy: the
    scans themselves, listed by UID)."""

    class Meta:
        proxy = True
        verbose_name = _("unknown tag")
        verbose_name_plural = _("unknown tags inbox")


class ReplayQuerySet(models.QuerySet):
    def gathering(self):
        return self.filter(state=Replay.State.GATHERING)

    def latest_asked(self) -> "Replay | None":
        """The replay heartbeats ask for: the newest one not replaced by a later restore."""
        return self.exclude(state=Replay.State.SUPERSEDED).order_by("-opened_at").first()


class Replay(models.Model):
    """After a restore, the kiosk agents send again the taps they had delivered since the
    archive was taken. They are held here until every kiosk in use has answered (or the wait is
    over), then applied together in the order they were read (kiosk.replays)."""

    class State(models.TextChoices):
        GATHERING = "gathering", _("Gathering the kiosks' taps")
        APPLIED = "applied", _("Applied")
        SUPERSEDED = "superseded", _("Replaced by a later restore")

    # A UUID, not a counter: agents remember the replays they answered, and a database restored
    # again could hand out the same number for a new one.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    archive_taken_at = models.DateTimeField(_("archive taken"))
    # Taps delivered or read from this moment on are asked for: the archive's time less a margin
    # for the kiosks' clocks (a tap the archive holds is answered `duplicate`).
    since = models.DateTimeField(_("taps since"))
    opened_at = models.DateTimeField(_("opened"))
    # The wait for the kiosks counts from the first agent heard after the restore: a server
    # restored while stopped must not time out before any kiosk could answer.
    first_heard_at = models.DateTimeField(_("first kiosk heard"), null=True, blank=True)
    applied_at = models.DateTimeField(_("applied"), null=True, blank=True)
    state = models.CharField(
        _("state"), max_length=16, choices=State.choices, default=State.GATHERING
    )

    objects = ReplayQuerySet.as_manager()

    class Meta:
        verbose_name = _("tap replay")
        verbose_name_plural = _("tap replays")
        ordering = ["-opened_at"]
        constraints = [
            # Taps are held in one place: two restores at once leave one replay gathering.
            models.UniqueConstraint(
                fields=["state"],
                condition=models.Q(state="gathering"),
                name="one_gathering_replay",
            )
        ]

    def __str__(self) -> str:
        return f"{self.since:%Y-%m-%d %H:%M} ({self.state})"

    def deadline(self) -> datetime.datetime | None:
        """When the held taps are applied without the kiosks that have not answered."""
        if self.first_heard_at is None:
            return None
        return self.first_heard_at + datetime.timedelta(seconds=settings.REPLAY_WAIT_SECONDS)


class ReplayStation(models.Model):
    """One kiosk's part in a replay: whether it was waited for, asked and answered."""

    replay = models.ForeignKey(Replay, on_delete=models.CASCADE, related_name="stations")
    station = models.ForeignKey(
        Station, verbose_name=_("station"), on_delete=models.PROTECT, related_name="+"
    )
    # In use before the archive was taken: the replay waits for its answer. A kiosk heard from
    # during the wait is waited for too.
    expected = models.BooleanField(_("waited for"), default=False)
    asked_at = models.DateTimeField(_("asked"), null=True, blank=True)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    # What the agent said it still held when asked: taps it delivered before were pruned.
    kept_since = models.DateTimeField(_("held taps since"), null=True, blank=True)
    sent = models.PositiveIntegerField(_("taps sent again"), default=0)
    duplicates = models.PositiveIntegerField(_("already in the restored data"), default=0)

    class Meta:
        verbose_name = _("kiosk of a tap replay")
        verbose_name_plural = _("kiosks of a tap replay")
        ordering = ["station__name"]
        constraints = [
            models.UniqueConstraint(fields=["replay", "station"], name="one_row_per_replay_station")
        ]

    def __str__(self) -> str:
        return f"{self.station_id} in {self.replay_id}"


class HeldTap(models.Model):
    """A tap that came while a replay gathered: sent again by its agent (`replayed`) or new.
    Kept here, not applied, until the replay applies every held tap in read order; then it
    carries the answer the tap got."""

    replay = models.ForeignKey(Replay, on_delete=models.CASCADE, related_name="held")
    station = models.ForeignKey(
        Station, verbose_name=_("station"), on_delete=models.PROTECT, related_name="+"
    )
    event_id = models.UUIDField(_("event id"))
    uid = models.CharField(_("UID"), max_length=64)
    read_at_raw = models.DateTimeField(_("read at (kiosk clock)"))
    read_at = models.DateTimeField(_("read at"))
    received_at = models.DateTimeField(_("received"))
    replayed = models.BooleanField(_("sent again"), default=False)
    applied_at = models.DateTimeField(_("applied"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=16, blank=True)
    outcome = models.CharField(_("outcome"), max_length=20, blank=True)
    message = models.TextField(_("message"), blank=True)

    class Meta:
        verbose_name = _("held tap")
        verbose_name_plural = _("held taps")
        # The primary key is the order of arrival, which is each agent's own order.
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["replay", "event_id"], name="one_held_tap_per_event")
        ]

    def __str__(self) -> str:
        return f"{self.uid} @ {self.station_id} ({self.status or 'held'})"
