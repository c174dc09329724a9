import pytest
from django.core.paginator import EmptyPage
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inventory.core.paging import CappedCountPaginator
from inventory.employees.models import Employee
from tests.factories import EmployeeFactory

pytestmark = pytest.mark.django_db


class CountsToFive(CappedCountPaginator):
    cap = 5


def people(count):
    EmployeeFactory.create_batch(count)
    return Employee.objects.order_by("code")


def test_a_list_up_to_the_cap_is_counted_exactly():
    paginator = CountsToFive(people(5), per_page=2)

    assert (paginator.count, paginator.count_exact, paginator.num_pages) == (5, True, 3)
    assert str(paginator.count) == "5"


def test_a_list_past_the_cap_reads_as_more_than_the_cap(django_assert_num_queries):
    paginator = CountsToFive(people(9), per_page=2)

    with django_assert_num_queries(1):
        assert (paginator.count, paginator.count_exact) == (5, False)
    assert str(paginator.count) == "5+"
    assert list(paginator.get_elided_page_range(1))[-1] == paginator.ELLIPSIS


def test_pages_past_the_counted_rows_open_and_know_whether_another_follows():
    everyone = people(9)
    paginator = CountsToFive(everyone, per_page=2)

    pages = [paginator.page(number) for number in range(1, 6)]

    assert [row for page in pages for row in page] == list(everyone)
    assert [page.has_next() for page in pages] == [True, True, True, True, False]
    assert (pages[4].start_index(), pages[4].end_index()) == (9, 9)
    assert pages[4].previous_page_number() == 4
    with pytest.raises(EmptyPage):
        paginator.page(6)
    with pytest.raises(EmptyPage):
        paginator.page(0)


class SortsFoundRows(CountsToFive):
    sort_found = True


def test_a_search_counted_exactly_is_sorted_from_the_rows_found_in_the_lists_order():
    EmployeeFactory.create_batch(2, name="同名")
    EmployeeFactory.create_batch(3, name="別名")
    # Two keys, the first with ties: the page must come out exactly as the list's own order.
    everyone = Employee.objects.order_by("-name", "code")
    plain, found = CountsToFive(everyone, per_page=2), SortsFoundRows(everyone, per_page=2)

    pages = [list(found.page(number)) for number in (1, 2, 3)]

    assert pages == [list(plain.page(number)) for number in (1, 2, 3)]
    with CaptureQueriesContext(connection) as queries:
        list(SortsFoundRows(everyone, per_page=2).page(1).object_list)
    # The count, then the page with its first key as no index serves it: the planner sorts the
    # rows the filter finds rather than walking the key's index past the rows that do not match.
    assert len(queries) == 2
    assert 'ORDER BY COALESCE("employees_employee"."name"' in queries[-1]["sql"]


def test_a_search_past_the_cap_is_read_along_the_lists_order():
    everyone = people(9)
    paginator = SortsFoundRows(everyone, per_page=2)

    with CaptureQueriesContext(connection) as queries:
        pages = [row for number in range(1, 6) for row in paginator.page(number)]

    assert pages == list(everyone)
    assert not [query for query in queries if "COALESCE" in query["sql"]]
