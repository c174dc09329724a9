"""The staff dashboard: loans, stations and backups at a glance; what came back after a
restore."""

import logging

from axes import utils as axes
from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.utils import formats
from django.utils.translation import gettext_lazy as _

from inventory.core.admin_pages import admin_page
from inventory.ops import dashboard as numbers
from inventory.ops.backups.report import report
from inventory.ops.charts import bar_chart
from inventory.ops.models import RestoreRun

logger = logging.getLogger(__name__)


@admin_page("dashboard/", name="ops_dashboard", permissions=["loans.view_loan"])
def dashboard(request):
    board = numbers.build()
    per_day = bar_chart(
        [(formats.date_format(day, "n/j"), count) for day, count in board.per_day], label_every=5
    )
    per_hour = bar_chart([(hour, count) for hour, count in board.per_hour], label_every=3)
    most = max((count for _code, _name, count in board.top_tools), default=0)
    context = {
        **admin.site.each_context(request),
        "title": _("Dashboard"),
        "board": board,
        "per_day": per_day,
        "per_hour": per_hour,
        "top_tools": [
            (code, name, count, 100 * count // most if most else 0)
            for code, name, count in board.top_tools
        ],
        "stations": [(station, board.station_is_stale(station)) for station in board.stations],
        "backup_late": board.backup_is_late(),
    }
    return TemplateResponse(request, "admin/ops/dashboard.html", context)


@admin_page(
    "ops/restorerun/<int:pk>/report/",
    name="ops_restorerun_report",
    permissions=["ops.view_restorerun"],
)
def restore_report(request, pk):
    """What the kiosks sent back after a restore, and what did not come back."""
    restore = get_object_or_404(RestoreRun.objects.select_related("replay"), pk=pk)
    context = {
        **admin.site.each_context(request),
        "title": _("What came back after the restore"),
        "opts": RestoreRun._meta,
        "report": report(restore),
        "wait_seconds": settings.REPLAY_WAIT_SECONDS,
    }
    return TemplateResponse(request, "admin/ops/restore_report.html", context)


class UnlockLoginForm(forms.Form):
    username = forms.CharField(label=_("User name"), max_length=150, required=False)
    address = forms.GenericIPAddressField(label=_("Computer's address"), required=False)

    def clean(self):
        data = super().clean()
        if not self.errors and not data.get("username") and not data.get("address"):
            raise forms.ValidationError(_("Give a user name, an address, or both."))
        return data


@admin_page("unlock-login/", name="unlock_login", permissions=["auth.change_user"])
def unlock_login(request):
    """Lifts a login lockout before its wait is over (deploy/README.md, "Lockout recovery"):
    the failures counted for a user name and for an address, as the reset commands do."""
    form = UnlockLoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        username, address = form.cleaned_data["username"], form.cleaned_data["address"]
        if username:
            axes.reset(username=username)
        if address:
            axes.reset(ip=address)
        logger.warning("%s unlocked the login of %r / %r", request.user, username, address)
        messages.success(
            request,
            _("Unlocked: %(who)s can log in again.")
            % {"who": " / ".join(part for part in (username, address) if part)},
        )
        return redirect("admin:unlock_login")
    context = {
        **admin.site.each_context(request),
        "title": _("Unlock a login"),
        "form": form,
        "failure_limit": settings.AXES_FAILURE_LIMIT,
        "minutes": settings.LOGIN_LOCKOUT_MINUTES,
    }
    return TemplateResponse(request, "admin/ops/unlock_login.html", context)
