from django.contrib import admin
from django.db.models import Count, Q
from django.utils.translation import gettext_lazy as _

from inventory.employees.models import Employee
from inventory.items.admin import TagInline


@admin.register(Employee)
class EmployeeAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "reading", "department", "status", "holding"]
    list_filter = ["status", "department"]
    search_fields = ["code", "name", "reading", "tags__uid"]
    inlines = [TagInline]
    fieldsets = [
        (None, {"fields": ["code", "name", "reading", "status"]}),
        (_("Contact"), {"fields": ["department", "contact", "notes"]}),
    ]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                open_loans=Count(
                    "loans",
                    filter=Q(loans__returned_at__isnull=True, loans__cancelled_at__isnull=True),
                )
            )
        )

    @admin.display(description=_("tools held"), ordering="open_loans")
    def holding(self, employee):
        return employee.open_loans
