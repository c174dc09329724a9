from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from kiosk import state
from tests.factories import EmployeeFactory, ItemFactory, LoanFactory


def locked(station) -> tuple:
    """The relations of the station as the tap path locks and reads it, and the SQL it ran:
    nothing is read on demand."""
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        station = state.lock(station.pk, *state.RELATED)
        loan = station.undoable_loan
        related = [station.session_employee, station.checklist_item, station.checklist_employee]
        related += [loan, loan.item, loan.employee] if loan else [None]
    return related, [query["sql"] for query in queries]


def test_the_read_after_the_lock_joins_only_the_relations_that_are_set(station):
    person = EmployeeFactory()
    station.session_employee = person
    station.save()

    related, (_lock, read) = locked(station)

    assert related == [person, None, None, None]
    assert read.count(" JOIN ") == 1


def test_every_relation_set_comes_with_the_read(station):
    person, item, loan = EmployeeFactory(), ItemFactory(), LoanFactory()
    station.session_employee = station.checklist_employee = person
    station.checklist_item, station.undoable_loan = item, loan
    station.save()

    related, (_lock, read) = locked(station)

    assert related == [person, item, person, loan, loan.item, loan.employee]
    assert read.count(" JOIN ") == 6
