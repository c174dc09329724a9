"""Kiosk pages in the admin beyond the station list: pairing a screen, enrolling a tag by tapping
it at a kiosk, and assigning a UID from the unknown-tags inbox."""

import segno
from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from inventory.core.admin_pages import admin_page
from inventory.core.errors import DomainError
from inventory.employees.models import Employee
from inventory.items.models import Item
from inventory.items.services import enrol_tag
from kiosk import actions, pairing
from kiosk.models import Station, UnknownTag


def _page(request, template, title, opts, **context):
    context = {**admin.site.each_context(request), "title": title, "opts": opts, **context}
    return render(request, template, context)


@admin_page(
    "kiosk/station/<int:station_id>/pairing/",
    name="kiosk_station_pairing",
    permissions=["kiosk.change_station"],
)
def pairing_page(request, station_id):
    """GET names the station and offers a button; its POST makes the one-time code (opening
    the page, or a link preview of it, changes nothing) and shows its link and QR code."""
    station = get_object_or_404(Station, pk=station_id)
    url = qr = None
    if request.method == "POST":
        url = request.build_absolute_uri(pairing.pair_url(pairing.start_pairing(station)))
        # segno writes the SVG itself and escapes the URL it encodes.
        qr = mark_safe(segno.make(url, error="m").svg_inline(scale=6, dark="#111", light="#fff"))
    title = _("Pair a kiosk screen with %(name)s") % {"name": station.name}
    return _page(
        request,
        "admin/kiosk/pairing.html",
        title,
        Station._meta,
        station=station,
        url=url,
        qr=qr,
        minutes=settings.KIOSK_PAIRING_MINUTES,
    )


class EnrolForm(forms.Form):
    station = forms.ModelChoiceField(label=_("Station"), queryset=Station.objects.all())
    replace = forms.BooleanField(
        label=_("Replaces a lost tag (deactivate the old ones in the same step)"), required=False
    )


@admin_page(
    "kiosk/station/enrol/<str:kind>/<int:pk>/",
    name="kiosk_station_enrol",
    permissions=["items.add_tag"],
)
def enrol_page(request, kind, pk):
    """Enrol by tap: pick a station; the next tag tapped there within 60 s is bound."""
    model = {"employee": Employee, "item": Item}.get(kind)
    if model is None:
        return redirect("admin:index")
    owner = get_object_or_404(model, pk=pk)
    form = EnrolForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        deadline = actions.start_enrolment(
            station=form.cleaned_data["station"],
            replace=form.cleaned_data["replace"],
            **{kind: owner},
        )
        messages.info(
            request,
            _("Tap the new tag on %(station)s before %(time)s. The kiosk shows a banner.")
            % {
                "station": form.cleaned_data["station"],
                "time": timezone.localtime(deadline).strftime("%H:%M:%S"),
            },
        )
        return redirect(request.path)
    title = _("Enrol a tag for %(owner)s") % {"owner": owner}
    return _page(
        request,
        "admin/kiosk/enrol.html",
        title,
        model._meta,
        owner=owner,
        form=form,
        tags=owner.tags.all(),
    )


class AssignForm(forms.Form):
    employee = forms.ModelChoiceField(
        label=_("Employee (badge)"), queryset=Employee.objects.all(), required=False
    )
    item = forms.ModelChoiceField(label=_("Tool"), queryset=Item.objects.all(), required=False)
    replace = forms.BooleanField(
        label=_("Replaces a lost tag (deactivate the old ones in the same step)"), required=False
    )

    def clean(self):
        data = super().clean()
        if bool(data.get("employee")) == bool(data.get("item")):
            raise forms.ValidationError(_("Choose either an employee or a tool."))
        return data


@admin_page(
    "kiosk/unknowntag/assign/<str:uid>/",
    name="kiosk_unknowntag_assign",
    permissions=["items.add_tag"],
)
def assign_page(request, uid):
    form = AssignForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            tag = enrol_tag(
                uid=uid, employee=data["employee"], item=data["item"], replace=data["replace"]
            )
        except DomainError as refusal:
            form.add_error(None, refusal.message)
        except ValidationError as invalid:  # the UID in the address is not a UID
            form.add_error(None, invalid.messages)
        else:
            messages.success(
                request,
                _("%(uid)s is now enrolled to %(owner)s.")
                % {"uid": tag.uid, "owner": tag.employee or tag.item},
            )
            return redirect("admin:kiosk_unknowntag_changelist")
    title = _("Assign tag %(uid)s") % {"uid": uid}
    return _page(request, "admin/kiosk/assign.html", title, UnknownTag._meta, uid=uid, form=form)
