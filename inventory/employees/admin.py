from django.contrib import admin
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from inventory.core.list_admin import ListAdmin
from inventory.employees.models import Employee
from inventory.items.admin import TagInline
from inventory.loans.history import loans_of
from inventory.loans.models import Loan


@admin.register(Employee)
class EmployeeAdmin(ListAdmin):
    list_display = ["code", "name", "reading", "department", "status", "holding"]
    list_filter = ["status", "department"]
    search_fields = ["code", "name", "reading", "tags__uid"]
    inlines = [TagInline]
    fieldsets = [
        (None, {"fields": ["code", "name", "reading", "status"]}),
        (_("Contact"), {"fields": ["department", "contact", "notes"]}),
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
