import pytest
from django.core.paginator import EmptyPage

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
