from django.contrib import admin
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from inventory.core.list_admin import ListAdmin
from inventory.employees.models import Employee, HeldQualification, Qualification, Shift
from inventory.items.admin import TagInline
from inventory.loans.history import loans_of
from inventory.loans.models import Loan


class HeldQualificationInline(admin.TabularInline):
    model = HeldQualification
    fields = ["qualification", "expires_on"]
    extra = 0
    verbose_name_plural = _(
        "Qualifications (tools of a category that requires one are lent only while it is valid)"
    )


@admin.register(Employee)
class EmployeeAdmin(ListAdmin):
    list_display = ["code", "name", "reading", "department", "shift", "status", "holding"]
    list_filter = ["status", "department", "shift", "qualifications__qualification"]
    list_select_related = ["shift"]
    search_fields = ["code", "name", "reading", "tags__uid"]
    inlines = [TagInline, HeldQualificationInline]
    fieldsets = [
        (None, {"fields": ["code", "name", "reading", "status"]}),
        (_("Contact"), {"fields": ["department", "contact", "notes"]}),
        (_("Work"), {"fields": ["shift"]}),
    ]

    def get_queryset(self, request):
        held = Loan.objects.open().filter(employee=OuterRef("pk")).order_by()
        count = held.values("employee").annotate(n=Count("pk")).values("n")
        return super().get_queryset(request).annotate(open_loans=Coalesce(Subquery(count), 0))

    def get_search_results(self, request, queryset, search_term):
        # Code, name, reading (kana), or a badge UID written in any spelling (04:a1…).
        return queryset.search(search_term), False

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), **loans_of(employee=object_id)}
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.display(description=_("tools held"), ordering="open_loans")
    def holding(self, employee):
        return employee.open_loans


@admin.register(Qualification)
class QualificationAdmin(admin.ModelAdmin):
    """Trainings and licences. A category that requires one lends its tools only to people
    who hold it, not expired (NOT_QUALIFIED otherwise); the overdue page lists those running
    out within 30 days."""

    list_display = ["name", "holders_count"]
    search_fields = ["name"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(holder_count=Count("holders"))

    @admin.display(description=_("held by"), ordering="holder_count")
    def holders_count(self, qualification):
        return qualification.holder_count


@admin.register(Shift)
class ShiftAdmin(admin.ModelAdmin):
    """The loans of the people on a shift fall due at its end (on a working day that is not a
    closed day) instead of LOAN_DUE_TIME; a night shift ends the morning after it began."""

    list_display = ["name", "starts_at", "ends_at", "crosses_midnight"]

    @admin.display(description=_("ends the next day"), boolean=True)
    def crosses_midnight(self, shift):
        return shift.crosses_midnight
