"""Every refusal of the domain, each with a stable code for machines and a translated message
for people (rendered in the language active when it is read). Raised by the use cases of every
app; the API answers them as JSON, the kiosk shows them, the admin writes them as messages.

Warnings are the other kind of news: the change went through, but someone should act soon (an
instrument nearly due for calibration). The use cases return them with what they made.
"""

from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _


def _interpolate(template, params) -> str:
    return str(template) % params


# A translatable text with parameters that is translated when shown, not when raised: a kiosk
# switched to English renders a refusal that was raised while Japanese was active.
interpolate_lazy = lazy(_interpolate, str)


class _Translated:
    code = ""
    template = _("The request could not be completed.")

    def __init__(self, template=None, **params):
        if template is not None:
            self.template = template
        self.params = params

    @property
    def message(self) -> str:
        return str(self.template) % self.params if self.params else str(self.template)


class DomainError(_Translated, Exception):
    code = "DOMAIN_ERROR"
    status = 409

    def __init__(self, template=None, **params):
        _Translated.__init__(self, template, **params)
        Exception.__init__(self, self.code)

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class DomainWarning(_Translated):
    """Not raised: returned with the record the use case made (`loan.warnings`)."""

    code = "WARNING"

    def as_dict(self) -> dict:
        return {"code": self.code, "message": self.message}


class ItemOnLoan(DomainError):
    code = "ITEM_ON_LOAN"
    template = _(
        "%(item)s is already on loan to %(holder)s since %(since)s. "
        "Ask them to return it first, or tap it at a kiosk to return it and press “Take over”."
    )


class ItemNotLoanable(DomainError):
    code = "ITEM_NOT_LOANABLE"
    template = _("%(item)s cannot be borrowed: %(reason)s")


class CalibrationExpired(ItemNotLoanable):
    code = "CALIBRATION_EXPIRED"
    template = _(
        "%(item)s cannot be borrowed: its calibration was due on %(date)s. Take another one, "
        "and leave this one at the tool crib for calibration."
    )


class EmployeeNotActive(DomainError):
    code = "EMPLOYEE_NOT_ACTIVE"
    template = _("%(employee)s is %(status)s and cannot borrow tools. Please ask a manager.")


class LoanNotOpen(DomainError):
    code = "LOAN_NOT_OPEN"
    template = _("This loan was already %(state)s; nothing was changed.")


class ToolLentSince(DomainError):
    code = "TOOL_LENT_SINCE"
    template = _(
        "%(item)s was lent again, or its return undone, since it came back; nothing was changed. "
        "Ask the tool crib if something is wrong."
    )


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


# The crib's rules at the moment of lending. A manager may lend against each of these (with a
# reason, kept in the loan's history); nobody can against the refusals above.


class LimitReached(DomainError):
    code = "LIMIT_REACHED"
    template = _(
        "%(employee)s holds %(count)d tools (%(tools)s) and may hold at most %(limit)d. "
        "Return one first, or ask a manager."
    )
    IN_CATEGORY = _(
        "%(employee)s holds %(count)d tools of “%(category)s” (%(tools)s) and may hold at most "
        "%(limit)d of them. Return one first, or ask a manager."
    )


class HasOverdue(DomainError):
    code = "HAS_OVERDUE"
    template = _(
        "%(employee)s has overdue tools: %(tools)s. Return them before borrowing more, or ask "
        "a manager."
    )


class NotQualified(DomainError):
    code = "NOT_QUALIFIED"
    template = _(
        "%(employee)s may not borrow %(item)s: it needs the qualification “%(qualification)s”. "
        "Ask a manager to record it once you are trained."
    )
    EXPIRED = _(
        "%(employee)s may not borrow %(item)s: the qualification “%(qualification)s” expired on "
        "%(date)s. Ask a manager to record it again once renewed."
    )


class InspectionRequired(DomainError):
    code = "INSPECTION_REQUIRED"
    template = _("%(item)s is checked before each use: answer its %(count)d checks to borrow it.")


class InspectionFailed(DomainError):
    code = "INSPECTION_FAILED"
    template = _(
        "%(item)s failed its check before use (%(failed)s) and was sent to maintenance. Leave "
        "it at the tool crib and take another one."
    )


class OverrideNotAllowed(DomainError):
    code = "OVERRIDE_NOT_ALLOWED"
    status = 403
    template = _("Only a manager may lend against the crib's rules. Ask one to do it.")


# Warnings.


class CalibrationDueSoon(DomainWarning):
    code = "CALIBRATION_DUE_SOON"
    template = _(
        "%(item)s is due for calibration on %(date)s: bring it back to the tool crib by then."
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
