import datetime
import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from inventory.employees.models import Employee
from inventory.items.models import Item
from inventory.loans.models import Loan


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
]


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

    # What the agent last reported in its heartbeat.
    last_seen_at = models.DateTimeField(_("last heartbeat"), null=True, blank=True)
    reader_connected = models.BooleanField(_("reader connected"), null=True, blank=True)
    reader_name = models.CharField(_("reader"), max_length=200, blank=True)
    outbox_depth = models.PositiveIntegerField(_("taps waiting"), null=True, blank=True)
    oldest_pending_seconds = models.FloatField(_("oldest waiting (s)"), null=True, blank=True)
    agent_version = models.CharField(_("agent version"), max_length=50, blank=True)
    hostname = models.CharField(_("host name"), max_length=100, blank=True)
    uptime_seconds = models.FloatField(_("uptime (s)"), null=True, blank=True)
    cpu_temperature = models.FloatField(_("CPU temperature (°C)"), null=True, blank=True)

    # Tap state, read and written only with the row locked.
    session_employee = models.ForeignKey(
        Employee, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    session_expires_at = models.DateTimeField(null=True, blank=True)
    waiting_item = models.ForeignKey(
        Item, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    waiting_expires_at = models.DateTimeField(null=True, blank=True)
    last_uid = models.CharField(max_length=20, blank=True)
    last_uid_at = models.DateTimeField(null=True, blank=True)
    undoable_loan = models.ForeignKey(
        Loan, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
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

    class Meta:
        verbose_name = _("scan")
        verbose_name_plural = _("scans")
        ordering = ["-read_at"]
        indexes = [models.Index(fields=["station", "-read_at"], name="scan_station_time_idx")]

    def __str__(self) -> str:
        return f"{self.uid} @ {self.station_id}: {self.outcome or self.status}"


class UnknownTag(ScanEvent):
    """The admin's inbox of UIDs tapped at a kiosk that belong to nobody yet (a proxy: the
    scans themselves, listed by UID)."""

    class Meta:
        proxy = True
        verbose_name = _("unknown tag")
        verbose_name_plural = _("unknown tags inbox")
