"""Every refusal of the domain, each with a stable code for machines and a translated message
for people (rendered in the language active when it is read). Raised by the use cases of every
app; the API answers them as JSON, the kiosk shows them, the admin writes them as messages."""

from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _


def _interpolate(template, params) -> str:
    return str(template) % params


# A translatable text with parameters that is translated when shown, not when raised: a kiosk
# switched to English renders a refusal that was raised while Japanese was active.
interpolate_lazy = lazy(_interpolate, str)


class DomainError(Exception):
    code = "DOMAIN_ERROR"
    status = 409
    template = _("The request could not be completed.")

    def __init__(self, template=None, **params):
        if template is not None:
            self.template = template
        self.params = params
        super().__init__(self.code)

    @property
    def message(self) -> str:
        return str(self.template) % self.params if self.params else str(self.template)

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class ItemOnLoan(DomainError):
    code = "ITEM_ON_LOAN"
    template = _(
        "%(item)s is already on loan to %(holder)s since %(since)s. "
        "Ask them to return it first, or tap their tool at a kiosk while your badge is active "
        "to take it over."
    )


class ItemNotLoanable(DomainError):
    code = "ITEM_NOT_LOANABLE"
    template = _("%(item)s cannot be borrowed: %(reason)s")


class EmployeeNotActive(DomainError):
    code = "EMPLOYEE_NOT_ACTIVE"
    template = _("%(employee)s is %(status)s and cannot borrow tools. Please ask a manager.")


class LoanNotOpen(DomainError):
    code = "LOAN_NOT_OPEN"
    template = _("This loan was already %(state)s; nothing was changed.")


class UidNotEnrolled(DomainError):
    code = "UNKNOWN_TAG"
    status = 404
    template = _("Tag %(uid)s is not registered. Ask a manager to enrol it to a badge or a tool.")


class NotFound(DomainError):
    code = "NOT_FOUND"
    status = 404
    template = _("%(what)s “%(ref)s” was not found.")


class InvalidRequest(DomainError):
    code = "INVALID"
    status = 400
    template = _("%(reason)s")


class TagInUse(DomainError):
    code = "TAG_IN_USE"
    template = _(
        "Tag %(uid)s is already enrolled to %(owner)s. Deactivate that tag first if the card "
        "really changed hands."
    )


class TapBeforeLoan(DomainError):
    code = "TAP_BEFORE_LOAN"
    template = _(
        "This tap was read before %(item)s was lent to %(holder)s (%(since)s) elsewhere, so it "
        "was not applied. If the tool changed hands in between, record that in the admin."
    )


class DatabaseUnavailable(DomainError):
    """Not a refusal of the request but of the moment: the database cannot be reached (down,
    restarting, unreachable) or did not answer in time. Nothing was changed."""

    code = "DATABASE_UNAVAILABLE"
    status = 503
    template = _(
        "The server cannot reach its database at the moment, so nothing was changed. It works "
        "again by itself as soon as the database is back: try again in a minute. Kiosks keep "
        "their taps and send them then."
    )
