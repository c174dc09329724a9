from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from inventory.core.readonly_admin import ReadOnlyAdmin
from inventory.ops.models import BackupRun, Notification, PeriodicRun, RestoreRun, StationAlert


@admin.register(BackupRun)
class BackupRunAdmin(ReadOnlyAdmin):
    list_display = ["finished_at", "trigger", "succeeded", "size_bytes", "path", "error"]
    list_filter = ["succeeded", "trigger"]


@admin.register(RestoreRun)
class RestoreRunAdmin(ReadOnlyAdmin):
    list_display = ["restored_at", "archive", "archive_created_at", "safety_backup", "report"]

    @admin.display(description=_("kiosks' taps"))
    def report(self, restore):
        return format_html(
            "<a href='{}'>{}</a>",
            reverse("admin:ops_restorerun_report", args=[restore.pk]),
            _("What came back"),
        )


@admin.register(PeriodicRun)
class PeriodicRunAdmin(ReadOnlyAdmin):
    list_display = ["job", "started_at", "finished_at", "succeeded", "error"]


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ["day", "kind", "recipient", "channel", "state", "sent_at", "subject"]
    list_filter = ["kind", "state", "channel", "day"]


@admin.register(StationAlert)
class StationAlertAdmin(ReadOnlyAdmin):
    list_display = ["station", "kind", "since", "raised_at", "cleared_at"]
    list_filter = ["kind", "station"]
    list_select_related = ["station"]
