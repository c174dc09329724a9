from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Exists, Max, OuterRef
from django.shortcuts import render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from inventory.core.list_admin import ListAdmin, LongListAdmin
from inventory.core.readonly_admin import ReadOnlyAdmin
from inventory.items.models import Tag
from kiosk import actions, pairing
from kiosk.models import AGENT_STATUS_FIELDS, ScanEvent, Station, UnknownTag


@admin.register(Station)
class StationAdmin(ListAdmin):
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
        # One at a time (no bulk delete), with the delete permission, and only while nothing
        # points at it: scans and loans keep their station as history.
        return (
            obj is not None
            and super().has_delete_permission(request, obj)
            and not obj.scans.exists()
            and not obj.loans.exists()
        )

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

    # Each takes a kiosk over or out of service: the change permission, not just the view one
    # (a Viewer who could rotate a token would read the new one and tap as that kiosk).
    @admin.action(
        description=_("Issue new agent tokens (the old ones stop working)"), permissions=["change"]
    )
    def rotate_tokens(self, request, queryset):
        for station in queryset:
            token = actions.rotate_token(station=station)
            self.message_user(
                request,
                format_html("{}: <code>{}</code>", station.name, token),
                messages.WARNING,
            )

    @admin.action(description=_("Revoke agent tokens"), permissions=["change"])
    def revoke_tokens(self, request, queryset):
        for station in queryset:
            actions.revoke_token(station=station)
        self.message_user(request, _("Tokens revoked."), messages.SUCCESS)

    @admin.action(description=_("Unpair all browsers of these kiosks"), permissions=["change"])
    def unpair_browsers(self, request, queryset):
        for station in queryset:
            pairing.unpair_all(station)
        self.message_user(request, _("Browsers unpaired."), messages.SUCCESS)


@admin.register(UnknownTag)
class UnknownTagAdmin(admin.ModelAdmin):
    """UIDs tapped at a kiosk that belong to nobody yet, with a way to assign them."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        # The taps themselves are history; a UID is assigned on its own page (admin_views).
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        # Replaces Django's list, and with it the list's own permission check.
        if not self.has_view_permission(request):
            raise PermissionDenied
        enrolled = Tag.objects.active().filter(uid=OuterRef("uid"))
        rows = (
            ScanEvent.objects.filter(outcome=ScanEvent.Outcome.UNKNOWN_TAG)
            .exclude(Exists(enrolled))
            .values("uid")
            .annotate(taps=Count("*"), last=Max("read_at"))
            .order_by("-last")
        )
        context = {
            **self.admin_site.each_context(request),
            "title": _("Unknown tags"),
            "rows": rows[:200],
            "opts": self.model._meta,
        }
        return render(request, "admin/kiosk/unknown_tags.html", context)


@admin.register(ScanEvent)
class ScanEventAdmin(LongListAdmin, ReadOnlyAdmin):
    list_display = ["read_at", "station", "uid", "outcome", "status", "live", "employee", "item"]
    list_filter = ["station", "outcome", "status", "live", "read_at"]
    date_hierarchy = "read_at"
    search_fields = ["uid", "employee__name", "employee__code", "item__name", "item__code"]
    list_select_related = ["station", "employee", "item"]

    def get_search_results(self, request, queryset, search_term):
        # A UID in any spelling, or the person's or tool's code, name, reading or tag UID.
        return queryset.search(search_term), False
