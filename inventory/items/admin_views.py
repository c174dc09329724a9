"""Instrument pages in the admin: the calibration due list (and its CSV), and the certificate
files, which are served only to those who may see calibrations (MEDIA_ROOT is not public)."""

import datetime

from django import forms
from django.conf import settings
from django.contrib import admin
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from inventory.core.admin_pages import admin_page
from inventory.core.csv_text import csv_download, stream_csv
from inventory.items.models import Calibration, Item


class DueForm(forms.Form):
    days = forms.IntegerField(
        label=_("Due within (days)"),
        min_value=0,
        max_value=3660,
        required=False,
        help_text=_("Instruments already overdue are always listed."),
    )


@admin_page(
    "items/item/calibration-due/",
    name="items_item_calibration_due",
    permissions=["items.view_item"],
)
def calibration_due(request):
    """Instruments due for calibration within CALIBRATION_WARN_DAYS (or the days asked for),
    overdue ones first; as a page or, with `download`, as CSV."""
    form = DueForm(request.GET or None)
    days = settings.CALIBRATION_WARN_DAYS
    if form.is_valid() and form.cleaned_data["days"] is not None:
        days = form.cleaned_data["days"]
    today = timezone.localdate()
    instruments = Item.objects.calibration_due_by(today + datetime.timedelta(days=days))
    if "download" in request.GET:
        return csv_download(request, _due_csv(instruments, today), name="calibration-due")
    return TemplateResponse(
        request,
        "admin/items/calibration_due.html",
        {
            **admin.site.each_context(request),
            "title": _("Calibration due"),
            "opts": Item._meta,
            "form": form,
            "days": days,
            "today": today,
            "instruments": instruments,
        },
    )


def _due_csv(instruments, today: datetime.date):
    header = [
        _("Tool code"),
        _("Name"),
        _("Category"),
        _("Storage location"),
        _("Status"),
        _("Calibration due"),
        _("Days left"),
        _("Calibration interval (months)"),
    ]
    rows = (
        [
            item.code,
            item.name,
            item.category,
            item.location,
            item.get_status_display(),
            item.calibration_due.isoformat(),
            (item.calibration_due - today).days,
            item.calibration_interval or "",
        ]
        for item in instruments
    )
    return stream_csv(header, rows)


@admin_page(
    "items/calibration/<int:pk>/certificate/",
    name="items_calibration_certificate",
    permissions=["items.view_calibration"],
)
def certificate(request, pk):
    calibration = get_object_or_404(Calibration, pk=pk)
    if not calibration.certificate:
        raise Http404
    try:
        return FileResponse(calibration.certificate.open("rb"), as_attachment=False)
    except FileNotFoundError:
        raise Http404 from None
