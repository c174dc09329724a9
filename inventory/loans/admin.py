from django import forms
from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from inventory.core.errors import DomainError
from inventory.core.list_admin import LongListAdmin
from inventory.core.readonly_admin import ReadOnlyAdmin
from inventory.loans import services
from inventory.loans.models import Door, Loan, LoanEvent


class StateFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return Loan.State.choices

    def queryset(self, request, queryset):
        if self.value() in Loan.State.values:
            return queryset.in_state(self.value())
        return queryset


class BorrowForm(forms.ModelForm):
    """Lending from the admin goes through services.borrow like every other door."""

    due_at = forms.DateTimeField(
        label=_("due at"),
        required=False,
        help_text=_("Leave empty for the end of the working day or the tool's loan period."),
    )

    class Meta:
        model = Loan
        fields = ["item", "employee", "due_at", "note"]


class LoanEventInline(admin.TabularInline):
    model = LoanEvent
    fields = ["at", "kind", "door", "username", "employee_name", "item_name", "details"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Loan)
class LoanAdmin(LongListAdmin):
    list_display = ["id", "item", "employee", "borrowed_at", "due_at", "state", "door"]
    list_filter = [StateFilter, "door", "borrowed_at"]
    date_hierarchy = "borrowed_at"
    search_fields = [
        "item__code",
        "item__name",
        "employee__code",
        "employee__name",
        "employee__reading",
        "item__tags__uid",
        "employee__tags__uid",
    ]
    list_select_related = ["item", "employee"]
    autocomplete_fields = ["item", "employee"]
    actions = ["return_selected", "return_selected_damaged", "cancel_selected"]
    inlines = [LoanEventInline]

    def get_inlines(self, request, obj):
        return self.inlines if obj else []

    def get_search_results(self, request, queryset, search_term):
        # Code, name, reading (kana) or any tag UID in any spelling, of the person or the tool.
        return queryset.search(search_term), False

    def lookup_allowed(self, lookup, value, request=None):
        # The employee and tool pages link to "all loans of this person / tool".
        return lookup in {"employee__id__exact", "item__id__exact"} or super().lookup_allowed(
            lookup, value, request
        )

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = BorrowForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["item", "employee", "due_at", "note"]
        return [
            "item",
            "employee",
            "borrowed_at",
            "due_at",
            "returned_at",
            "cancelled_at",
            "return_condition",
            "door",
            "borrowed_by",
            "closed_by",
            "note",
        ]

    def get_readonly_fields(self, request, obj=None):
        # Loan state changes only through the services (actions), never by editing fields.
        return self.get_fields(request, obj) if obj else []

    def has_delete_permission(self, request, obj=None):
        return False

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def save_model(self, request, obj, form, change):
        if change:
            return
        loan = services.borrow(
            item=obj.item,
            employee=obj.employee,
            door=Door.ADMIN,
            by=request.user,
            due_at=form.cleaned_data.get("due_at"),
            note=obj.note,
        )
        obj.pk, obj.borrowed_at, obj.due_at, obj.door = (
            loan.pk,
            loan.borrowed_at,
            loan.due_at,
            loan.door,
        )

    @admin.display(description=_("state"))
    def state(self, loan):
        return loan.state().label

    @admin.action(description=_("Return selected loans"), permissions=["change"])
    def return_selected(self, request, queryset):
        self._apply(request, queryset, services.return_loan)

    @admin.action(
        description=_("Return selected loans as damaged (tools go to maintenance)"),
        permissions=["change"],
    )
    def return_selected_damaged(self, request, queryset):
        self._apply(request, queryset, services.return_loan, condition=Loan.Condition.DAMAGED)

    @admin.action(description=_("Cancel selected loans (mis-taps)"), permissions=["change"])
    def cancel_selected(self, request, queryset):
        self._apply(request, queryset, services.cancel_loan, reason=_("Cancelled in the admin"))

    def _apply(self, request, queryset, use_case, **kwargs):
        done = 0
        for loan in queryset.select_related("item", "employee"):
            try:
                use_case(loan=loan, door=Door.ADMIN, by=request.user, **kwargs)
            except DomainError as exc:
                self.message_user(request, f"{loan}: {exc.message}", messages.WARNING)
            else:
                done += 1
        if done:
            self.message_user(
                request,
                ngettext("%(count)d loan updated.", "%(count)d loans updated.", done)
                % {"count": done},
                messages.SUCCESS,
            )


@admin.register(LoanEvent)
class LoanEventAdmin(LongListAdmin, ReadOnlyAdmin):
    list_display = [
        "at",
        "kind",
        "item_code",
        "item_name",
        "employee_code",
        "employee_name",
        "door",
        "username",
    ]
    list_filter = ["kind", "door", "at"]
    date_hierarchy = "at"
    search_fields = ["item_code", "item_name", "employee_code", "employee_name", "username"]

    def get_search_results(self, request, queryset, search_term):
        return queryset.search(search_term), False
