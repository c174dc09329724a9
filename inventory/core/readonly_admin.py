from django.contrib import admin


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records of what happened (history, scans, job runs): shown, never edited by hand."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
