"""Reading the history: what the employee and tool pages show of their loans (what is out now
and the latest past loans, each in one query whatever the length of the history), and the search
over history entries shared by the admin and the API."""

from django.db.models import Q
from django.utils import timezone

from inventory.employees.models import Employee
from inventory.items.models import Item
from inventory.loans.models import OPEN, Loan

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
        "open_loans": list(own.filter(OPEN).order_by("due_at")),
        "past_loans": list(own.exclude(OPEN).order_by("-borrowed_at", "-pk")[:PAST_SHOWN]),
        "past_shown": PAST_SHOWN,
        "loans_filter": f"employee__id__exact={employee}"
        if employee
        else f"item__id__exact={item}",
    }


def search_events(events, term: str):
    """History entries by the names and codes they recorded (and who recorded them), or by
    today's records of the same loans (reading in kana, tag UIDs in any spelling)."""
    term = term.strip()
    if not term:
        return events
    return events.filter(
        Q(employee_code__icontains=term)
        | Q(employee_name__icontains=term)
        | Q(item_code__icontains=term)
        | Q(item_name__icontains=term)
        | Q(username__icontains=term)
        | Q(loan__employee__in=Employee.objects.search(term))
        | Q(loan__item__in=Item.objects.search(term))
    )
