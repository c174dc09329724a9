"""The user list shows who has a second factor, and a superuser (anyone who may change users)
can reset it. django-otp's own device admin is taken away: it shows a TOTP secret as a QR code
to anyone who may view devices, and the reset here is the one way to manage them."""

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from inventory.mfa import devices, sessions

User = get_user_model()

for model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(model):
        admin.site.unregister(model)

if admin.site.is_registered(User):
    admin.site.unregister(User)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = (*DjangoUserAdmin.list_display, "has_second_factor")
    actions = ["reset_second_factor"]

    def get_queryset(self, request):
        phones = TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)
        return super().get_queryset(request).annotate(has_phone=Exists(phones))

    @admin.display(boolean=True, description=_("Second factor"), ordering="has_phone")
    def has_second_factor(self, user):
        return user.has_phone

    @admin.action(description=_("Reset the second factor"), permissions=["change"])
    def reset_second_factor(self, request, queryset):
        """For a lost or replaced phone: the person sets up a new one at their next login
        (required for superusers and Managers). Their open sessions and API tokens end too."""
        people = list(queryset)
        for user in people:
            devices.reset(user=user)
            sessions.end_other_sessions(user, keep=request.session.session_key)
            sessions.revoke_api_tokens(user)
            self.log_change(request, user, str(_("Reset the second factor")))
        messages.success(
            request,
            ngettext(
                "Reset the second factor of %(count)d user: they set up a new one at their next "
                "login.",
                "Reset the second factor of %(count)d users: they set up a new one at their next "
                "login.",
                len(people),
            )
            % {"count": len(people)},
        )
