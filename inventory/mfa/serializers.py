"""The API token endpoint asks for the second factor too: a token is as good as a login."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from rest_framework_simplejwt.serializers import TokenObtainPairSerializer

from inventory.mfa import devices, policy
from inventory.mfa.errors import CodeInvalid, CodeRequired, EnrolmentRequired


class TokenWithCodeSerializer(TokenObtainPairSerializer):
    otp = serializers.CharField(
        required=False,
        allow_blank=True,
        write_only=True,
        max_length=32,
        help_text=_(
            "The 6-digit code of the authenticator app, or a backup code: needed from users "
            "who have a second factor."
        ),
    )

    def validate(self, attrs):
        data = super().validate(attrs)  # the password; sets self.user
        code = attrs.get("otp", "")
        if policy.has_device(self.user):
            if not code.strip():
                raise CodeRequired
            if devices.verify(user=self.user, code=code) is None:
                raise CodeInvalid
        elif policy.is_required(self.user):
            raise EnrolmentRequired
        return data
