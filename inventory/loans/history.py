"""What the employee and tool pages show of their loans: what is out now and the latest past
loans, each in one query whatever the length of the history."""

from django.utils import timezone

from inventory.loans.models import Loan

PAST_SHOWN = 50


def loans_of(*, employee=None, item=None) -> dict:
    """Context for an employee's or a tool's page, by primary key (as the admin passes it)."""
    if not str(employee or item or "").isdigit():
        return {}  # an unknown id: the admin answers 404 itself
    own = Loan.objects.with_related().filter(
        **({"employee_id": employee} if employee else {"item_id": item})
    )
    return {
        "now": timezone.now(),
        "open_loans": list(own.open().order_by("due_at")),
        "past_loans": list(own.closed().order_by("-borrowed_at", "-pk")[:PAST_SHOWN]),
        "past_shown": PAST_SHOWN,
        "loans_filter": f"employee__id__exact={employee}"
        if employee
        else f"item__id__exact={item}",
    }
