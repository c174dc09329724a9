"""Loan pages in the admin beyond the model's own: the overdue list, the CSV exports, the
correction form and the import of closed days."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AdminSplitDateTime
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from inventory.core.admin_pages import admin_page
from inventory.core.csv_text import csv_download
from inventory.core.errors import DomainError
from inventory.employees.models import QUALIFICATION_WARN, HeldQualification
from inventory.loans import services
from inventory.loans.calendar import import_closed_days
from inventory.loans.export import (
    export_inspections,
    export_loans,
    inspections_to_export,
    loans_to_export,
)
from inventory.loans.models import ClosedDay, Door, Inspection, Loan
from kiosk.models import Station

# A year of closed days is a few hundred bytes; anything much larger is the wrong file.
MAX_UPLOAD = 1024 * 1024


def _page(request, template, title, opts=Loan._meta, **context):
    return TemplateResponse(
        request,
        template,
        {**admin.site.each_context(request), "title": title, "opts": opts, **context},
    )


@admin_page("loans/loan/overdue/", name="loans_loan_overdue", permissions=["loans.view_loan"])
def overdue(request):
    """Open loans past due, the latest first, with whom to call; and, for those who may see
    them, the qualifications running out soon. One query each for any length."""
    now = timezone.now()
    loans = Loan.objects.overdue(now).with_related().order_by("due_at", "pk")
    expiring = None
    if request.user.has_perm("employees.view_heldqualification"):
        expiring = HeldQualification.objects.expiring(timezone.localdate(now))
    return _page(
        request,
        "admin/loans/overdue.html",
        _("Overdue tools"),
        loans=loans,
        now=now,
        expiring=expiring,
        warn_days=QUALIFICATION_WARN.days,
    )


class ExportForm(forms.Form):
    date_from = forms.DateField(label=_("Borrowed from"), required=False)
    date_to = forms.DateField(label=_("Borrowed until"), required=False)
    employee = forms.CharField(label=_("Employee code"), required=False, max_length=32)
    item = forms.CharField(label=_("Tool code"), required=False, max_length=32)
    station = forms.ModelChoiceField(
        label=_("Station"), queryset=None, required=False, empty_label=_("All stations")
    )
    state = forms.ChoiceField(
        label=_("State"), required=False, choices=[("", _("All loans")), *Loan.State.choices]
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["station"].queryset = Station.objects.only("name")
        for name in ("date_from", "date_to"):
            self.fields[name].widget = forms.DateInput(attrs={"type": "date"})

    def filters(self) -> dict:
        data = dict(self.cleaned_data)
        data["station"] = data["station"].pk if data["station"] else None
        return data


@admin_page("loans/loan/export/", name="loans_loan_export", permissions=["loans.view_loan"])
def export(request):
    form = ExportForm(request.GET if "download" in request.GET else None)
    if not form.is_valid():
        return _page(request, "admin/loans/export.html", _("Export loan history"), form=form)
    return csv_download(request, export_loans(loans_to_export(**form.filters())), name="loans")


class CorrectForm(forms.Form):
    borrowed_at = forms.SplitDateTimeField(label=_("Borrowed at"), widget=AdminSplitDateTime)
    due_at = forms.SplitDateTimeField(label=_("Due at"), widget=AdminSplitDateTime)
    returned_at = forms.SplitDateTimeField(
        label=_("Returned at"),
        widget=AdminSplitDateTime,
        required=False,
        help_text=_("Fill in to record a return that nobody tapped."),
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=500,
        help_text=_("Kept in the history with your name, e.g. “returned at 12:00, not tapped”."),
    )


@admin_page(
    "loans/loan/<int:object_id>/correct/",
    name="loans_loan_correct",
    permissions=["loans.change_loan"],
)
def correct(request, object_id):
    loan = get_object_or_404(Loan.objects.with_related(), pk=object_id)
    initial = {
        "borrowed_at": loan.borrowed_at,
        "due_at": loan.due_at,
        "returned_at": loan.returned_at,
    }
    form = CorrectForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        changed = {
            name: form.cleaned_data[name]
            for name in initial
            if name in form.changed_data and form.cleaned_data[name] is not None
        }
        try:
            services.correct_loan(
                loan=loan,
                by=request.user,
                reason=form.cleaned_data["reason"],
                door=Door.ADMIN,
                **changed,
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("The loan was corrected; the history keeps both times."))
            return redirect("admin:loans_loan_change", loan.pk)
    return _page(
        request,
        "admin/loans/correct.html",
        _("Correct loan %(loan)s") % {"loan": loan},
        form=form,
        loan=loan,
        media=form.media,
    )


class DateRangeForm(forms.Form):
    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("Until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


@admin_page(
    "loans/inspection/export/",
    name="loans_inspection_export",
    permissions=["loans.view_inspection"],
)
def export_inspections_csv(request):
    form = DateRangeForm(request.GET if "download" in request.GET else None)
    if not form.is_valid():
        return _page(
            request,
            "admin/loans/export.html",
            _("Export checks before use"),
            opts=Inspection._meta,
            form=form,
        )
    return csv_download(
        request, export_inspections(inspections_to_export(**form.cleaned_data)), name="checks"
    )


class ClosedDaysForm(forms.Form):
    file = forms.FileField(
        label=_("CSV of dates"),
        help_text=_(
            "One date per line (2026-05-03 or 2026/5/3), optionally its name in the next "
            "column; a header line is skipped. The national holidays file of the Cabinet Office "
            "(syukujitsu.csv) works as downloaded."
        ),
    )


@admin_page(
    "loans/closedday/import/", name="loans_closedday_import", permissions=["loans.add_closedday"]
)
def import_closed_days_csv(request):
    form = ClosedDaysForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size > MAX_UPLOAD:
            form.add_error("file", _("The file is larger than 1 MB: is it really a list of dates?"))
        else:
            result = import_closed_days(upload.read())
            for problem in result.problems:
                form.add_error("file", problem)
            if not result.problems:
                messages.success(
                    request,
                    _("Closed days: %(added)d added, %(renamed)d renamed, %(unchanged)d known.")
                    % {
                        "added": result.added,
                        "renamed": result.renamed,
                        "unchanged": result.unchanged,
                    },
                )
                return redirect("admin:loans_closedday_changelist")
    return _page(
        request,
        "admin/loans/closed_days_import.html",
        _("Import closed days"),
        opts=ClosedDay._meta,
        form=form,
    )
