"""Many clients at once on PostgreSQL: each thread has its own connection, all start together."""

import threading
from collections import Counter

import pytest
from django.db import connection, transaction

from inventory.core.errors import DomainError
from inventory.employees.models import Employee
from inventory.loans import services
from inventory.loans.models import Door, Loan, LoanEvent
from tests.factories import EmployeeFactory, ItemFactory

THREADS = 20


def race(work):
    """Run work(i) in THREADS threads released at the same instant; return each outcome."""
    barrier = threading.Barrier(THREADS)
    outcomes = [None] * THREADS

    def run(i):
        try:
            barrier.wait()
            work(i)
            outcomes[i] = "ok"
        except DomainError as exc:
            outcomes[i] = exc.code
        except Exception as exc:  # anything else is a bug the assertion must show
            outcomes[i] = repr(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Counter(outcomes)


def test_twenty_people_borrowing_one_tool_at_once_make_one_loan(postgres):
    item = ItemFactory()
    people = [EmployeeFactory() for _ in range(THREADS)]

    outcomes = race(lambda i: services.borrow(item=item, employee=people[i], door=Door.KIOSK))

    assert outcomes == Counter({"ok": 1, "ITEM_ON_LOAN": THREADS - 1})
    assert Loan.objects.filter(item=item).count() == 1
    assert LoanEvent.objects.filter(kind="borrow").count() == 1


def test_twenty_returns_of_one_loan_at_once_make_one_return(postgres):
    loan = services.borrow(item=ItemFactory(), employee=EmployeeFactory(), door=Door.KIOSK)

    outcomes = race(lambda i: services.return_loan(loan=loan, door=Door.KIOSK))

    assert outcomes == Counter({"ok": 1, "LOAN_NOT_OPEN": THREADS - 1})
    assert LoanEvent.objects.filter(kind="return").count() == 1


def test_take_overs_and_undos_racing_on_one_returned_tool_never_deadlock_or_double_lend(postgres):
    # One return, then twenty kiosk buttons at once: half take the tool over, half undo the
    # return. Exactly one wins; the others are told the tool moved on.
    loan = services.borrow(item=ItemFactory(), employee=EmployeeFactory(), door=Door.KIOSK)
    returned = services.return_loan(loan=loan, door=Door.KIOSK)
    people = [EmployeeFactory() for _ in range(THREADS)]

    def work(i):
        if i % 2:
            services.take_over(returned=returned, employee=people[i], door=Door.KIOSK)
        else:
            services.reopen_loan(loan=returned, door=Door.KIOSK)

    outcomes = race(work)

    assert outcomes == Counter({"ok": 1, "TOOL_LENT_SINCE": THREADS - 1}), outcomes
    assert Loan.objects.open().filter(item=returned.item).count() == 1


def test_one_person_borrowing_at_twenty_kiosks_at_once_stays_within_the_limit(postgres, settings):
    settings.LOAN_LIMIT_PER_PERSON = 3
    person = EmployeeFactory()
    tools = [ItemFactory() for _ in range(THREADS)]

    outcomes = race(lambda i: services.borrow(item=tools[i], employee=person, door=Door.KIOSK))

    assert outcomes == Counter({"ok": 3, "LIMIT_REACHED": THREADS - 3})
    assert Loan.objects.open().filter(employee=person).count() == 3


@pytest.mark.parametrize(
    "undo",
    [
        lambda loan: services.cancel_loan(loan=loan, door=Door.ADMIN),
        lambda loan: services.correct_loan(
            loan=loan, by=None, reason="forgot", returned_at=loan.borrowed_at
        ),
    ],
    ids=["cancel", "correct"],
)
def test_undoing_a_loan_locks_the_loan_not_its_person(postgres, undo):
    """A borrow by the same person at another door locks their row while it counts what they
    hold; cancelling or correcting one of their loans reads the person but must not wait."""
    person = EmployeeFactory()
    loan = services.borrow(item=ItemFactory(), employee=person, door=Door.KIOSK)
    held, release = threading.Event(), threading.Event()

    def borrow_elsewhere():
        with transaction.atomic():
            Employee.objects.select_for_update().get(pk=person.pk)
            held.set()
            release.wait(timeout=30)
        connection.close()

    other = threading.Thread(target=borrow_elsewhere)
    other.start()
    try:
        assert held.wait(timeout=30)
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '2s'")  # waiting would be an error
            undo(loan)
    finally:
        release.set()
        other.join()

    assert not Loan.objects.open().filter(pk=loan.pk).exists()
