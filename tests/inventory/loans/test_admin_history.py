import datetime

import pytest
from django.utils import timezone

from inventory.loans import services
from inventory.loans.models import Door, Loan, LoanEvent
from tests.factories import BadgeFactory, EmployeeFactory, ItemFactory, ToolTagFactory, overdue_loan

pytestmark = pytest.mark.django_db


def test_the_overdue_list_puts_the_latest_first_with_whom_to_call(client, staff):
    slightly = overdue_loan(1, department="製造一課", contact="内線 101")
    very = overdue_loan(50, department="保全課", contact="内線 202")
    services.borrow(item=ItemFactory(), employee=EmployeeFactory(), door=Door.KIOSK)  # not due

    response = client.get("/admin/loans/loan/overdue/")

    assert [loan.pk for loan in response.context["loans"]] == [very.pk, slightly.pk]
    page = response.content.decode()
    assert page.index("内線 202") < page.index("内線 101")
    assert "保全課" in page


def test_the_overdue_list_costs_the_same_queries_for_any_length(
    client, staff, django_assert_num_queries
):
    overdue_loan(1)
    # session, user, user permissions, group permissions, the overdue loans with tool and
    # person, the qualifications running out with their holders
    with django_assert_num_queries(6):
        client.get("/admin/loans/loan/overdue/")
    for hours in range(2, 12):
        overdue_loan(hours)
    with django_assert_num_queries(6):
        assert len(client.get("/admin/loans/loan/overdue/").context["loans"]) == 11


def test_the_employee_page_shows_what_they_hold_and_their_past_loans(client, staff):
    person = EmployeeFactory()
    held = overdue_loan(3)
    Loan.objects.filter(pk=held.pk).update(employee=person)
    past = services.borrow(item=ItemFactory(name="古いノギス"), employee=person, door=Door.KIOSK)
    services.return_loan(loan=past, door=Door.KIOSK)

    page = client.get(f"/admin/employees/employee/{person.pk}/change/").content.decode()

    open_part = page[page.index('id="open-loans"') : page.index('id="past-loans"')]
    assert held.item.name in open_part and "Overdue by" in open_part
    assert "古いノギス" in page[page.index('id="past-loans"') :]


def test_the_tool_page_shows_who_has_it_and_its_history(client, staff):
    item = ItemFactory()
    first = services.borrow(item=item, employee=EmployeeFactory(name="前の人"), door=Door.KIOSK)
    services.return_loan(loan=first, door=Door.KIOSK)
    services.borrow(item=item, employee=EmployeeFactory(name="今の人"), door=Door.KIOSK)

    page = client.get(f"/admin/items/item/{item.pk}/change/").content.decode()

    assert "今の人" in page[page.index('id="open-loans"') : page.index('id="past-loans"')]
    assert "前の人" in page[page.index('id="past-loans"') :]


@pytest.mark.parametrize("kind", ["employee", "item"])
def test_the_history_on_a_page_costs_the_same_queries_for_any_length(
    client, staff, kind, django_assert_num_queries
):
    person, item = EmployeeFactory(), ItemFactory()

    def add_past_loans(count):
        for _ in range(count):
            loan = services.borrow(
                item=item if kind == "item" else ItemFactory(),
                employee=person if kind == "employee" else EmployeeFactory(),
                door=Door.KIOSK,
            )
            services.return_loan(loan=loan, door=Door.KIOSK)

    url = f"/admin/{kind}s/{kind}/{(person if kind == 'employee' else item).pk}/change/"
    add_past_loans(1)
    client.get(url)  # warm the content-type cache used by the admin log
    with CountQueries() as few:
        client.get(url)
    add_past_loans(8)
    with CountQueries() as many:
        assert len(client.get(url).context["past_loans"]) == 9
    assert many.count == few.count


class CountQueries:
    def __enter__(self):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        self._capture = CaptureQueriesContext(connection)
        self._capture.__enter__()
        return self

    def __exit__(self, *exc):
        self._capture.__exit__(*exc)
        self.count = len(self._capture.captured_queries)


@pytest.mark.parametrize("term", ["やまだ", "e777", "04:a1:b2:c3", "1d 2e 3f 40"])
def test_searches_by_code_reading_and_uid_in_any_spelling(client, staff, term):
    yamada = EmployeeFactory(code="E777", reading="やまだ たろう")
    BadgeFactory(employee=yamada, uid="04A1B2C3")
    wrench = ItemFactory()
    ToolTagFactory(item=wrench, uid="1D2E3F40")
    mine = services.borrow(item=wrench, employee=yamada, door=Door.KIOSK)
    services.borrow(item=ItemFactory(), employee=EmployeeFactory(), door=Door.KIOSK)

    loans = client.get("/admin/loans/loan/", {"q": term}).context["cl"].result_list
    assert [loan.pk for loan in loans] == [mine.pk]
    if term != "1d 2e 3f 40":
        people = client.get("/admin/employees/employee/", {"q": term}).context["cl"].result_list
        assert list(people) == [yamada]
    else:
        tools = client.get("/admin/items/item/", {"q": term}).context["cl"].result_list
        assert list(tools) == [wrench]
        tags = client.get("/admin/items/tag/", {"q": "1d:2e:3f:40"}).context["cl"].result_list
        assert [tag.uid for tag in tags] == ["1D2E3F40"]


def test_a_manager_corrects_a_forgotten_return_from_the_loan_page(client, staff):
    loan = overdue_loan(5)
    returned = timezone.localtime() - datetime.timedelta(hours=5, minutes=30)

    page = client.get(f"/admin/loans/loan/{loan.pk}/change/").content.decode()
    assert f"/admin/loans/loan/{loan.pk}/correct/" in page
    form = client.get(f"/admin/loans/loan/{loan.pk}/correct/").context["form"]
    data = {
        f"{name}_{part}": value
        for name in ("borrowed_at", "due_at")
        for part, value in enumerate(
            [
                form.initial[name].astimezone(timezone.get_current_timezone()).strftime(fmt)
                for fmt in ("%Y-%m-%d", "%H:%M:%S.%f")
            ]
        )
    }
    response = client.post(
        f"/admin/loans/loan/{loan.pk}/correct/",
        {
            **data,
            "returned_at_0": returned.strftime("%Y-%m-%d"),
            "returned_at_1": returned.strftime("%H:%M:%S"),
            "reason": "棚に戻っていた",
        },
    )

    assert response.status_code == 302, response.context["form"].errors
    loan.refresh_from_db()
    assert loan.returned_at == returned.replace(microsecond=0)
    correction = LoanEvent.objects.get(kind="correction")
    assert (correction.username, correction.details["reason"]) == ("manager", "棚に戻っていた")
    assert set(correction.details["after"]) == {"returned_at"}


def test_a_refused_correction_shows_the_reason_and_changes_nothing(client, staff):
    loan = overdue_loan(5)
    response = client.post(
        f"/admin/loans/loan/{loan.pk}/correct/",
        {
            "borrowed_at_0": "2999-01-01",
            "borrowed_at_1": "10:00",
            "due_at_0": "2999-01-02",
            "due_at_1": "10:00",
            "reason": "typo",
        },
    )
    assert response.status_code == 200
    assert "future" in response.content.decode()
    assert not LoanEvent.objects.filter(kind="correction").exists()


def test_a_viewer_cannot_correct(client, viewer):
    viewer.is_staff = True
    viewer.save()
    client.force_login(viewer)
    assert client.get(f"/admin/loans/loan/{overdue_loan(1).pk}/correct/").status_code == 403


def test_the_admin_export_streams_the_filtered_loans(client, staff):
    overdue = overdue_loan(2)
    services.borrow(item=ItemFactory(), employee=EmployeeFactory(), door=Door.KIOSK)

    assert client.get("/admin/loans/loan/export/").status_code == 200
    response = client.get("/admin/loans/loan/export/", {"download": "1", "state": "overdue"})

    text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert [line.split(",")[0] for line in text.splitlines()[1:]] == [str(overdue.pk)]
    bad = client.get("/admin/loans/loan/export/", {"download": "1", "date_from": "yesterday"})
    assert bad.status_code == 200 and bad.context["form"].errors
