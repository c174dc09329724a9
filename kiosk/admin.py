import segno
from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Exists, Max, OuterRef
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from inventory.employees.models import Employee
from inventory.items.models import Item, Tag
from inventory.items.services import enrol_tag
from inventory.loans.exceptions import DomainError
from inventory.readonly_admin import ReadOnlyAdmin
from kiosk import actions, pairing
from kiosk.models import AGENT_STATUS_FIELDS, ScanEvent, Station


@admin.register(Station)
class StationAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "location",
        "online",
        "last_seen_at",
        "reader",
        "outbox_depth",
        "agent_version",
        "hostname",
    ]
    search_fields = ["name", "location", "hostname"]
    actions = ["rotate_tokens", "revoke_tokens", "unpair_browsers"]
    readonly_fields = [
        "links",
        "last_seen_at",
        *AGENT_STATUS_FIELDS,
        "token_created_at",
        "revoked_at",
    ]

    def get_fields(self, request, obj=None):
        return ["name", "location"] if obj is None else ["name", "location", *self.readonly_fields]

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj else []

    def has_delete_permission(self, request, obj=None):
        # Scans and loans point at stations; a station that is gone stays as history.
        return obj is not None and not obj.scans.exists() and not obj.loans.exists()

    def save_model(self, request, obj, form, change):
        if change:
            # Only what the form changed: the rest of the row (the open session, undo, a token
            # rotated meanwhile) belongs to the tap path, which writes it with the row locked.
            obj.save(update_fields=form.changed_data)
            return
        station, token, code = actions.create_station(name=obj.name, location=obj.location)
        obj.pk = station.pk
        self.message_user(
            request,
            format_html(
                "{} <code>{}</code><br>{} <a href='{}'>{}</a>",
                _("Agent token (copy it now, it is shown only once):"),
                token,
                _("Pairing link for the kiosk's browser:"),
                pairing.pair_url(code),
                pairing.pair_url(code),
            ),
            messages.SUCCESS,
        )

    @admin.display(description=_("online"), boolean=True)
    def online(self, station):
        return station.is_online()

    @admin.display(description=_("reader"))
    def reader(self, station):
        if station.reader_connected is None:
            return "—"
        return station.reader_name if station.reader_connected else _("disconnected")

    @admin.display(description=_("links"))
    def links(self, station):
        return format_html(
            "<a class='button' href='{}'>{}</a> <a class='button' href='{}'>{}</a>",
            reverse("admin:kiosk_station_pairing", args=[station.pk]),
            _("Pairing link and QR code"),
            f"{reverse('kiosk:screen')}?station={station.pk}",
            _("Watch this kiosk's screen"),
        )

    def get_urls(self):
        return [
            path(
                "<int:station_id>/pairing/",
                self.admin_site.admin_view(self.pairing_view),
                name="kiosk_station_pairing",
            ),
            path(
                "enrol/<str:kind>/<int:pk>/",
                self.admin_site.admin_view(self.enrol_view),
                name="kiosk_station_enrol",
            ),
            *super().get_urls(),
        ]

    def pairing_view(self, request, station_id):
        if not self.has_change_permission(request):
            return redirect("admin:index")
        station = get_object_or_404(Station, pk=station_id)
        url = request.build_absolute_uri(pairing.pair_url(pairing.start_pairing(station)))
        # segno writes the SVG itself and escapes the URL it encodes.
        qr = mark_safe(segno.make(url, error="m").svg_inline(scale=6, dark="#111", light="#fff"))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Pair a kiosk screen with %(name)s") % {"name": station.name},
            "station": station,
            "url": url,
            "qr": qr,
            "opts": self.model._meta,
        }
        return render(request, "admin/kiosk/pairing.html", context)

    def enrol_view(self, request, kind, pk):
        """Enrol by tap: pick a station; the next tag tapped there within 60 s is bound."""
        model = {"employee": Employee, "item": Item}.get(kind)
        if model is None or not request.user.has_perm("items.add_tag"):
            return redirect("admin:index")
        owner = get_object_or_404(model, pk=pk)
        form = EnrolForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            deadline = actions.start_enrolment(
                station=form.cleaned_data["station"],
                replace=form.cleaned_data["replace"],
                **{kind: owner},
            )
            self.message_user(
                request,
                _("Tap the new tag on %(station)s before %(time)s. The kiosk shows a banner.")
                % {
                    "station": form.cleaned_data["station"],
                    "time": timezone.localtime(deadline).strftime("%H:%M:%S"),
                },
                messages.INFO,
            )
            return redirect(request.path)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Enrol a tag for %(owner)s") % {"owner": owner},
            "owner": owner,
            "form": form,
            "tags": owner.tags.all(),
            "opts": model._meta,
        }
        return render(request, "admin/kiosk/enrol.html", context)

    @admin.action(description=_("Issue new agent tokens (the old ones stop working)"))
    def rotate_tokens(self, request, queryset):
        for station in queryset:
            token = actions.rotate_token(station=station)
            self.message_user(
                request,
                format_html("{}: <code>{}</code>", station.name, token),
                messages.WARNING,
            )

    @admin.action(description=_("Revoke agent tokens"))
    def revoke_tokens(self, request, queryset):
        for station in queryset:
            actions.revoke_token(station=station)
        self.message_user(request, _("Tokens revoked."), messages.SUCCESS)

    @admin.action(description=_("Unpair all browsers of these kiosks"))
    def unpair_browsers(self, request, queryset):
        for station in queryset:
            pairing.unpair_all(station)
        self.message_user(request, _("Browsers unpaired."), messages.SUCCESS)


class EnrolForm(forms.Form):
    station = forms.ModelChoiceField(label=_("Station"), queryset=Station.objects.all())
    replace = forms.BooleanField(
        label=_("Replaces a lost tag (deactivate the old ones in the same step)"), required=False
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


class UnknownTag(ScanEvent):
    class Meta:
        proxy = True
        verbose_name = _("unknown tag")
        verbose_name_plural = _("unknown tags inbox")


@admin.register(UnknownTag)
class UnknownTagAdmin(admin.ModelAdmin):
    """UIDs tapped at a kiosk that belong to nobody yet, with a way to assign them."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return request.user.has_perm("items.add_tag")

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        enrolled = Tag.objects.active().filter(uid=OuterRef("uid"))
        rows = (
            ScanEvent.objects.filter(outcome=ScanEvent.Outcome.UNKNOWN_TAG)
            .exclude(Exists(enrolled))
            .values("uid")
            .annotate(taps=Count("id"), last=Max("read_at"))
            .order_by("-last")
        )
        context = {
            **self.admin_site.each_context(request),
            "title": _("Unknown tags"),
            "rows": rows[:200],
            "opts": self.model._meta,
        }
        return render(request, "admin/kiosk/unknown_tags.html", context)

    def get_urls(self):
        return [
            path(
                "assign/<str:uid>/",
                self.admin_site.admin_view(self.assign_view),
                name="kiosk_unknowntag_assign",
            ),
            *super().get_urls(),
        ]

    def assign_view(self, request, uid):
        if not self.has_change_permission(request):
            return redirect("admin:index")
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
                self.message_user(
                    request,
                    _("%(uid)s is now enrolled to %(owner)s.")
                    % {"uid": tag.uid, "owner": tag.employee or tag.item},
                    messages.SUCCESS,
                )
                return redirect("admin:kiosk_unknowntag_changelist")
        context = {
            **self.admin_site.each_context(request),
            "title": _("Assign tag %(uid)s") % {"uid": uid},
            "uid": uid,
            "form": form,
            "opts": self.model._meta,
        }
        return render(request, "admin/kiosk/assign.html", context)


@admin.register(ScanEvent)
class ScanEventAdmin(ReadOnlyAdmin):
    list_display = ["read_at", "station", "uid", "outcome", "status", "live", "employee", "item"]
    list_filter = ["station", "outcome", "status", "live", "read_at"]
    date_hierarchy = "read_at"
    search_fields = ["uid", "employee__name", "employee__code", "item__name", "item__code"]
    list_select_related = ["station", "employee", "item"]
