from django import forms
from django.contrib import admin
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from inventory.core.list_admin import ListAdmin
from inventory.core.uids import is_uid, normalize_uid
from inventory.items.models import Item, Tag
from inventory.loans.history import loans_of
from inventory.loans.models import Loan


class TagForm(forms.ModelForm):
    class Meta:
        model = Tag
        fields = ["uid", "active", "note"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            # What a tag is never changes (as in the API): a wrong one is deactivated and the
            # right UID enrolled, so the record of who carried which card stays true.
            self.fields["uid"].disabled = True

    def clean_uid(self):
        return normalize_uid(self.cleaned_data["uid"])

    def save(self, commit=True):
        tag = super().save(commit=False)
        if "active" in self.changed_data:
            tag.set_active(tag.active)
        if commit:
            tag.save()
        return tag


class TagInline(admin.TabularInline):
    model = Tag
    form = TagForm
    fields = ["uid", "active", "note", "created_at", "deactivated_at"]
    readonly_fields = ["created_at", "deactivated_at"]
    extra = 0
    verbose_name = _("NFC tag")
    verbose_name_plural = _("NFC tags (deactivate a lost one; do not delete it)")

    def has_delete_permission(self, request, obj=None):
        return False


class OnLoanFilter(admin.SimpleListFilter):
    title = _("on loan")
    parameter_name = "on_loan"

    def lookups(self, request, model_admin):
        return [("yes", _("On loan")), ("no", _("In the crib"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(holder_code__isnull=False)
        if self.value() == "no":
            return queryset.filter(holder_code__isnull=True)
        return queryset


@admin.register(Item)
class ItemAdmin(ListAdmin):
    list_display = [
        "code",
        "name",
        "category",
        "location",
        "status",
        "calibration_due",
        "on_loan_to",
        "on_loan_since",
        "on_loan_due",
    ]
    list_filter = ["status", OnLoanFilter, "category", "location"]
    search_fields = ["code", "name", "category", "location", "tags__uid"]
    inlines = [TagInline]
    fieldsets = [
        (None, {"fields": ["code", "name", "status"]}),
        (_("Where"), {"fields": ["category", "location"]}),
        (_("Rules"), {"fields": ["calibration_due", "loan_period"]}),
        (None, {"fields": ["notes"]}),
    ]

    def get_queryset(self, request):
        open_loan = Loan.objects.open().filter(item=OuterRef("pk"))
        return (
            super()
            .get_queryset(request)
            .annotate(
                holder_code=Subquery(open_loan.values("employee__code")[:1]),
                holder_name=Subquery(open_loan.values("employee__name")[:1]),
                holder_since=Subquery(open_loan.values("borrowed_at")[:1]),
                holder_due=Subquery(open_loan.values("due_at")[:1]),
            )
        )

    def get_search_results(self, request, queryset, search_term):
        # Code, name, category, location, or a tag UID written in any spelling (1d:2e…).
        return queryset.search(search_term), False

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if field is not None:
            # Each value as the page showed it travels with the form, so "changed" means
            # changed by this manager, not by a return since the page was opened.
            field.show_hidden_initial = True
        return field

    def save_model(self, request, obj, form, change):
        if change:
            # Only what the manager changed: a page opened before the tool came back damaged
            # must not put it back to "available" when its location is corrected.
            obj.save(update_fields=[*form.changed_data, "updated_at"])
        else:
            obj.save()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), **loans_of(item=object_id)}
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.display(description=_("on loan to"), ordering="holder_name")
    def on_loan_to(self, item):
        return f"{item.holder_name} ({item.holder_code})" if item.holder_code else "—"

    @admin.display(description=_("since"), ordering="holder_since")
    def on_loan_since(self, item):
        return timezone.localtime(item.holder_since) if item.holder_since else "—"

    @admin.display(description=_("due"), ordering="holder_due")
    def on_loan_due(self, item):
        return timezone.localtime(item.holder_due) if item.holder_due else "—"


@admin.register(Tag)
class TagAdmin(ListAdmin):
    form = TagForm
    list_display = ["uid", "employee", "item", "active", "created_at", "deactivated_at"]
    list_filter = ["active"]
    search_fields = ["uid", "employee__code", "employee__name", "item__code", "item__name"]
    list_select_related = ["employee", "item"]
    autocomplete_fields = ["employee", "item"]

    def get_fields(self, request, obj=None):
        return ["uid", "employee", "item", "active", "note"]

    def get_readonly_fields(self, request, obj=None):
        return ["employee", "item"] if obj else []

    def get_search_results(self, request, queryset, search_term):
        queryset, duplicates = super().get_search_results(request, queryset, search_term)
        if is_uid(search_term.strip()):
            # "04:a1:b2…" finds the tag stored as 04A1B2…
            queryset |= self.model.objects.filter(uid=normalize_uid(search_term.strip()))
        return queryset, duplicates

    def has_delete_permission(self, request, obj=None):
        return False
