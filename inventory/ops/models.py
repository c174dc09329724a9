import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class BackupRunQuerySet(models.QuerySet):
    def last_success(self) -> "BackupRun | None":
        return self.filter(succeeded=True).order_by("-finished_at").first()

    def is_late(self, now: datetime.datetime | None = None) -> bool:
        """No successful backup within BACKUP_MAX_AGE_HOURS (a day and a margin for a slow
        night): the dashboard marks it, /readyz fails, the alert rule fires."""
        last = self.last_success()
        limit = datetime.timedelta(hours=settings.BACKUP_MAX_AGE_HOURS)
        return last is None or (now or timezone.now()) - last.finished_at > limit


class BackupRun(models.Model):
    """The outcome of one backup, whoever started it: the admin lists them, /readyz and
    /metrics read the last successful one."""

    class Trigger(models.TextChoices):
        SCHEDULED = "scheduled", _("Nightly")
        COMMAND = "command", _("Command")
        PRE_RESTORE = "pre_restore", _("Before a restore")

    trigger = models.CharField(_("started by"), max_length=16, choices=Trigger.choices)
    started_at = models.DateTimeField(_("started"))
    finished_at = models.DateTimeField(_("finished"))
    succeeded = models.BooleanField(_("succeeded"))
    path = models.CharField(_("archive"), max_length=500, blank=True)
    size_bytes = models.BigIntegerField(_("size (bytes)"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)

    objects = BackupRunQuerySet.as_manager()

    class Meta:
        verbose_name = _("backup")
        verbose_name_plural = _("backups")
        ordering = ["-finished_at"]
        indexes = [models.Index(fields=["succeeded", "-finished_at"], name="backup_success_idx")]

    def __str__(self) -> str:
        return self.path or self.error[:60]


class RestoreRun(models.Model):
    """Written into the restored database right after a restore. Jobs that notify people honour
    the latest one: what happened before it was already dealt with on the old data."""

    restored_at = models.DateTimeField(_("restored"))
    archive = models.CharField(_("archive"), max_length=500)
    archive_created_at = models.DateTimeField(_("archive taken"))
    safety_backup = models.CharField(_("safety backup"), max_length=500, blank=True)
    restored_by = models.CharField(_("restored by"), max_length=150, blank=True)
    # The kiosks' taps since the archive, asked for after this restore.
    replay = models.OneToOneField(
        "kiosk.Replay",
        verbose_name=_("tap replay"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="restore",
    )

    class Meta:
        verbose_name = _("restore")
        verbose_name_plural = _("restores")
        ordering = ["-restored_at"]

    def __str__(self) -> str:
        return self.archive


class PeriodicRun(models.Model):
    """The last run of each periodic job: /readyz tells from it whether the huey consumer runs."""

    job = models.CharField(_("job"), max_length=100, unique=True)
    started_at = models.DateTimeField(_("started"))
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    succeeded = models.BooleanField(_("succeeded"), null=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("scheduled job")
        verbose_name_plural = _("scheduled jobs")
        ordering = ["job"]

    def __str__(self) -> str:
        return self.job


class Notification(models.Model):
    """One digest or summary, claimed before it is sent: the unique key is what makes a retried
    or restarted job send it at most once a day."""

    class Kind(models.TextChoices):
        OVERDUE_DIGEST = "overdue_digest", _("Overdue digest")
        MANAGER_SUMMARY = "manager_summary", _("Managers' summary")
        DUE_SOON = "due_soon", _("Due soon")

    class Channel(models.TextChoices):
        EMAIL = "email", _("E-mail")
        WEBHOOK = "webhook", _("Webhook")

    class State(models.TextChoices):
        CLAIMED = "claimed", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    # The employee's id for a digest, "managers" for the summary, the loan's id for due soon.
    recipient = models.CharField(_("recipient"), max_length=50)
    day = models.DateField(_("day"))
    # Each channel on its own row: a webhook that fails is retried without e-mailing twice.
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    state = models.CharField(_("state"), max_length=10, choices=State.choices)
    claimed_at = models.DateTimeField(_("claimed"))
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-day", "kind", "recipient"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "recipient", "day", "channel"],
                name="one_notification_per_recipient_day_channel",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.recipient} {self.day} ({self.channel})"


class StationAlert(models.Model):
    """A station that stopped sending heartbeats, or whose reader is unplugged.

    `since` is when the condition was first seen; the alert is raised (people are told) once it
    has lasted long enough, and cleared (told again) when it ends. One open alert per station and
    kind is a database rule, so two overlapping watch runs cannot raise it twice.
    """

    class Kind(models.TextChoices):
        OFFLINE = "offline", _("Station offline")
        READER = "reader", _("Reader disconnected")

    station = models.ForeignKey(
        "kiosk.Station",
        verbose_name=_("station"),
        on_delete=models.PROTECT,
        related_name="ops_alerts",
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    since = models.DateTimeField(_("since"))
    raised_at = models.DateTimeField(_("raised"), null=True, blank=True)
    cleared_at = models.DateTimeField(_("cleared"), null=True, blank=True)

    class Meta:
        verbose_name = _("station alert")
        verbose_name_plural = _("station alerts")
        ordering = ["-since"]
        constraints = [
            models.UniqueConstraint(
                fields=["station", "kind"],
                condition=Q(cleared_at__isnull=True),
                name="one_open_alert_per_station_kind",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.station_id}"


class PrunedScans(models.Model):
    """How many scans of each outcome were pruned, so `toolcrib_scans_total` (counted from the
    table at scrape time) never goes down when old scans are deleted."""

    outcome = models.CharField(max_length=20, unique=True)
    count = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("pruned scans")
        verbose_name_plural = _("pruned scans")

    def __str__(self) -> str:
        return f"{self.outcome}: {self.count}"


class CacheEntry(models.Model):
    """The table of Django's database cache (settings.CACHES without Redis): the API's throttle
    counts and the failed logins, shared by every process. A model rather than
    `createcachetable`, so that migrate makes it wherever the server is installed. The columns
    are the ones Django's DatabaseCache reads and writes; nothing else uses this model."""

    cache_key = models.CharField(max_length=255, primary_key=True)
    value = models.TextField()
    expires = models.DateTimeField(db_index=True)

    class Meta:
        db_table = "toolcrib_cache"
        verbose_name = _("cache entry")
        verbose_name_plural = _("cache entries")

    def __str__(self):
        return self.cache_key
