from django.contrib import admin

from inventory.ops.models import BackupRun, Notification, PeriodicRun, RestoreRun, StationAlert


class ReadOnly(admin.ModelAdmin):
    """Records of what the jobs did: shown, never edited by hand."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(BackupRun)
class BackupRunAdmin(ReadOnly):
    list_display = ["finished_at", "trigger", "succeeded", "size_bytes", "path", "error"]
    list_filter = ["succeeded", "trigger"]


@admin.register(RestoreRun)
class RestoreRunAdmin(ReadOnly):
    list_display = ["restored_at", "archive", "archive_created_at", "safety_backup"]


@admin.register(PeriodicRun)
class PeriodicRunAdmin(ReadOnly):
    list_display = ["job", "started_at", "finished_at", "succeeded", "error"]


@admin.register(Notification)
class NotificationAdmin(ReadOnly):
    list_display = ["day", "kind", "recipient", "channel", "state", "sent_at", "subject"]
    list_filter = ["kind", "state", "channel", "day"]


@admin.register(StationAlert)
class StationAlertAdmin(ReadOnly):
    list_display = ["station", "kind", "since", "raised_at", "cleared_at"]
    list_filter = ["kind", "station"]
    list_select_related = ["station"]
