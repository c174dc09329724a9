"""The API token endpoint asks for the second factor too: a token is as good as a login."""

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
        # The API docs are in English, like the rest of the schema.
        help_text=(
            "The 6-digit code of the authenticator app, or a backup code: needed from users "
            "who have a second factor (401 OTP_REQUIRED without it, OTP_INVALID when wrong; "
            "403 OTP_ENROLMENT_REQUIRED for someone who must enrol in the admin first)."
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
