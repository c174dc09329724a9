"""The token endpoint's refusals, in the API's error shape (inventory.core.api.errors)."""

from django.utils.translation import gettext_lazy as _

from inventory.core.errors import DomainError


class CodeRequired(DomainError):
    code = "OTP_REQUIRED"
    status = 401
    template = _(
        "This account has a second factor: send the 6-digit code from the authenticator app "
        "(or a backup code) in the field otp."
    )


class CodeInvalid(DomainError):
    code = "OTP_INVALID"
    status = 401
    template = _(
        "The code is wrong, expired or already used. Wait for the next code in the "
        "authenticator app and try again."
    )


class EnrolmentRequired(DomainError):
    code = "OTP_ENROLMENT_REQUIRED"
    status = 403
    template = _(
        "This account must have a second factor. Log in to the admin once to set up the "
        "authenticator app, then ask for a token again."
    )
