from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.db.models import Count, OuterRef, Subquery
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from inventory.core.errors import DomainError
from inventory.core.list_admin import ListAdmin
from inventory.core.uids import is_uid, normalize_uid
from inventory.items.models import Calibration, Category, Item, Tag
from inventory.items.services import next_due_after, record_calibration
from inventory.loans.history import loans_of
from inventory.loans.models import Loan


class TagForm(forms.ModelForm):
    class Meta:
        model = Tag
        fields = ["uid", "active", "note"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and "uid" in self.fields:  # a Viewer's form has no fields
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


class CalibrationInline(admin.TabularInline):
    """The instrument's calibrations, newest first; a new one is recorded from the calibration
    list (it moves the due date on, or sends a failed instrument to maintenance)."""

    model = Calibration
    fields = [
        "calibrated_on",
        "result",
        "certificate_number",
        "calibrated_by",
        "next_due",
        "certificate_link",
        "recorded_by",
    ]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("certificate file"))
    def certificate_link(self, calibration):
        return _certificate_link(calibration)


def _certificate_link(calibration):
    if not calibration.certificate:
        return "—"
    url = reverse("admin:items_calibration_certificate", args=[calibration.pk])
    return format_html('<a href="{}">{}</a>', url, _("Open the file"))


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
    # Half of Django's 100: nine columns a row, its holder among them, and the rows are most of
    # the page's time (with 3,000 tools, 100 rows were 50-80 ms of a busy server's CPU). The
    # search and the filters find a tool sooner than paging.
    list_per_page = 50
    inlines = [TagInline, CalibrationInline]
    fieldsets = [
        (None, {"fields": ["code", "name", "status"]}),
        (_("Where"), {"fields": ["category", "category_rules", "location"]}),
        (
            _("Rules"),
            {"fields": ["loan_period", "calibration_due", "calibration_interval"]},
        ),
        (None, {"fields": ["notes"]}),
    ]
    readonly_fields = ["category_rules"]

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

    @admin.display(description=_("rules of its category"))
    def category_rules(self, item):
        category = Category.objects.filter(name=item.category).first() if item.category else None
        if category is None:
            return _("None: any active person may borrow it, without a check before use.")
        url = reverse("admin:items_category_change", args=[category.pk])
        return format_html('<a href="{}">{}</a>', url, _rules_text(category))

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


def _rules_text(category: Category) -> str:
    rules = []
    if category.loan_limit:
        rules.append(_("at most %(limit)d per person") % {"limit": category.loan_limit})
    elif category.loan_limit == 0:
        rules.append(_("no loan limit"))
    if category.qualification_id:
        rules.append(_("needs “%(name)s”") % {"name": category.qualification})
    if category.checks:
        rules.append(_("%(count)d checks before use") % {"count": len(category.checks)})
    return "; ".join(str(rule) for rule in rules) or str(_("none yet"))


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    """The crib's rules per category of tools. A rule applies to the tools whose category is
    written exactly as its name; the tool count shows a name that matches no tool."""

    list_display = ["name", "tools", "loan_limit", "qualification", "check_count"]
    list_select_related = ["qualification"]
    search_fields = ["name"]
    fields = ["name", "loan_limit", "qualification", "checklist"]

    def get_queryset(self, request):
        tools = (
            Item.objects.filter(category=OuterRef("name"))
            .order_by()
            .values("category")
            .annotate(n=Count("pk"))
            .values("n")
        )
        return super().get_queryset(request).annotate(tool_count=Subquery(tools))

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "name":
            # The categories the tools already carry, to pick from as the name is typed.
            names = Item.objects.exclude(category="").values_list("category", flat=True)
            field.widget.attrs["list"] = "item-categories"
            field.help_text = format_html(
                '{}<datalist id="item-categories">{}</datalist>',
                field.help_text,
                format_html_join("", '<option value="{}">', ((n,) for n in names.distinct())),
            )
        return field

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            if change and "name" in form.changed_data:
                # The tools follow their category's new name, so its rules still apply.
                moved = Item.objects.filter(category=form.initial["name"]).update(
                    category=obj.name, updated_at=timezone.now()
                )
                if moved:
                    self.message_user(
                        request,
                        _("%(count)d tools now have the category “%(name)s”.")
                        % {"count": moved, "name": obj.name},
                    )
            obj.save()

    @admin.display(description=_("tools"), ordering="tool_count")
    def tools(self, category):
        return category.tool_count or 0

    @admin.display(description=_("checks before use"))
    def check_count(self, category):
        return len(category.checks)


CERTIFICATE_MAX_BYTES = 10 * 1024 * 1024


class CalibrationForm(forms.ModelForm):
    class Meta:
        model = Calibration
        fields = [
            "item",
            "calibrated_on",
            "result",
            "certificate_number",
            "calibrated_by",
            "next_due",
            "certificate",
            "note",
        ]

    def clean_certificate(self):
        upload = self.cleaned_data.get("certificate")
        if upload and upload.size > CERTIFICATE_MAX_BYTES:
            raise forms.ValidationError(_("The file is larger than 10 MB."))
        return upload

    def clean(self):
        data = super().clean()
        if not self.errors:
            try:
                next_due_after(
                    data["item"],
                    calibrated_on=data["calibrated_on"],
                    passed=data["result"] == Calibration.Result.PASSED,
                    next_due=data.get("next_due"),
                )
            except DomainError as exc:
                raise forms.ValidationError(exc.message) from None
        return data


@admin.register(Calibration)
class CalibrationAdmin(admin.ModelAdmin):
    """Recording a calibration goes through items.services.record_calibration: a pass moves
    the instrument's due date on, a fail sends it to maintenance. Records are kept as made."""

    form = CalibrationForm
    list_display = [
        "calibrated_on",
        "item",
        "result",
        "certificate_number",
        "calibrated_by",
        "next_due",
        "certificate_link",
    ]
    list_filter = ["result", "calibrated_on"]
    list_select_related = ["item"]
    search_fields = ["item__code", "item__name", "certificate_number", "calibrated_by"]
    autocomplete_fields = ["item"]
    date_hierarchy = "calibrated_on"

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return [*self.form.Meta.fields, "certificate_link", "recorded_at", "recorded_by"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return self.form.Meta.fields
        return self.get_readonly_fields(request, obj)

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def get_changeform_initial_data(self, request):
        return {
            "calibrated_on": timezone.localdate(),
            **super().get_changeform_initial_data(request),
        }

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        record = record_calibration(
            item=data["item"],
            calibrated_on=data["calibrated_on"],
            passed=data["result"] == Calibration.Result.PASSED,
            certificate_number=data["certificate_number"],
            calibrated_by=data["calibrated_by"],
            next_due=data["next_due"],
            certificate=data["certificate"] or None,
            note=data["note"],
            by=request.user,
        )
        obj.pk = record.pk
        if not record.passed:
            self.message_user(
                request,
                _("%(item)s failed its calibration and was sent to maintenance.")
                % {"item": record.item},
                messages.WARNING,
            )

    @admin.display(description=_("certificate file"))
    def certificate_link(self, calibration):
        return _certificate_link(calibration)
