from django import forms
from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.utils import formats
from django.utils.html import format_html_join
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from inventory.core.errors import DomainError
from inventory.core.list_admin import LongListAdmin
from inventory.core.readonly_admin import ReadOnlyAdmin
from inventory.loans import services
from inventory.loans.models import ClosedDay, Door, Inspection, Loan, LoanEvent


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
    override = forms.MultipleChoiceField(
        label=_("Lend against these rules"),
        required=False,
        choices=[
            (code, format_lazy("{} ({})", label, code))
            for code, label in services.OVERRIDABLE.items()
        ],
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "Only when a rule refused and you take responsibility: the expired calibration, "
            "the missing qualification, the person's overdue tools, their loan limit, or the "
            "check before use (that you made yourself). Say why below; the history keeps it "
            "with your name."
        ),
    )
    override_reason = forms.CharField(label=_("Why"), required=False, max_length=500)

    class Meta:
        model = Loan
        fields = ["item", "employee", "due_at", "note"]

    def clean(self):
        data = super().clean()
        if data.get("override") and not data.get("override_reason", "").strip():
            self.add_error("override_reason", _("Say why the crib's rules are overridden."))
        return data

    def the_override(self) -> services.Override | None:
        codes = self.cleaned_data.get("override")
        if not codes:
            return None
        return services.Override(
            reason=self.cleaned_data["override_reason"], codes=frozenset(codes)
        )


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
            fields = ["item", "employee", "due_at", "note"]
            if request.user.has_perm(services.OVERRIDE_PERMISSION):
                fields += ["override", "override_reason"]
            return fields
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
            "inspection",
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
            self.message_user(request, f"{exc.code}: {exc.message}", messages.ERROR)
            # The form again with what was chosen, so a manager can add an override.
            again = {
                name: request.POST[name]
                for name in ("item", "employee", "note")
                if object_id is None and request.POST.get(name)
            }
            query = f"?{urlencode(again)}" if again else ""
            return HttpResponseRedirect(f"{request.path}{query}")

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
            override=form.the_override(),
        )
        obj.pk, obj.borrowed_at, obj.due_at, obj.door = (
            loan.pk,
            loan.borrowed_at,
            loan.due_at,
            loan.door,
        )
        for warning in loan.warnings:
            self.message_user(request, warning.message, messages.WARNING)

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


@admin.register(ClosedDay)
class ClosedDayAdmin(admin.ModelAdmin):
    """Holidays and shutdowns: a loan that would fall due on one is due on the next working
    day. Import a year's list from CSV with the button above the list."""

    list_display = ["date", "weekday", "name"]
    date_hierarchy = "date"
    search_fields = ["name"]

    @admin.display(description=_("weekday"), ordering="date")
    def weekday(self, day):
        return formats.date_format(day.date, "l")


@admin.register(Inspection)
class InspectionAdmin(ReadOnlyAdmin):
    list_display = ["at", "passed", "item_code", "item_name", "employee_code", "employee_name"]
    list_filter = ["passed", "door", "at"]
    date_hierarchy = "at"
    search_fields = ["item_code", "item_name", "employee_code", "employee_name"]
    fields = [
        "at",
        "passed",
        "checks",
        "item",
        "employee",
        "loan",
        "door",
        "username",
        "station_name",
    ]
    readonly_fields = fields

    @admin.display(description=_("answers"))
    def checks(self, inspection):
        return format_html_join(
            mark_safe("<br>"), "{}", ((line,) for line in Inspection.describe(inspection.answers))
        )
