"""The admin's lists, through the loans list (a list of a year of history, with actions)."""

import datetime

import pytest
from django.contrib import admin
from django.contrib.admin.templatetags import admin_urls
from django.contrib.admin.templatetags.admin_list import date_hierarchy
from django.db import connection
from django.test.html import parse_html
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from inventory.core.paging import CappedCountPaginator
from inventory.loans.admin import LoanAdmin
from inventory.loans.models import Loan
from tests.factories import LoanFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser(client, django_user_model):
    user = django_user_model.objects.create_superuser("boss", "boss@example.com", "boss-pass-1")
    client.force_login(user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return user


def loans_on(*days):
    for day in days:
        moment = timezone.make_aware(datetime.datetime.combine(day, datetime.time(10)))
        LoanFactory(borrowed_at=moment)


def changelist(client, **params):
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/admin/loans/loan/", params)
    assert response.status_code == 200
    return response, [query["sql"] for query in queries.captured_queries]


def test_a_long_list_is_counted_once_and_no_further_than_the_cap(client, superuser, monkeypatch):
    monkeypatch.setattr(CappedCountPaginator, "cap", 3)
    loans_on(*[datetime.date(2026, 5, day) for day in range(1, 6)])

    response, sql = changelist(client)

    counts = [statement for statement in sql if "COUNT(" in statement.upper()]
    assert len(counts) == 1 and "LIMIT 4" in counts[0].upper()
    assert "3+ loans" in response.content.decode()
    assert len(response.context["cl"].result_list) == 5


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"borrowed_at__year": "2026"},
        {"borrowed_at__year": "2026", "borrowed_at__month": "5"},
        {"borrowed_at__year": "2026", "borrowed_at__month": "5", "borrowed_at__day": "2"},
        {"state": "open"},
    ],
)
def test_the_date_hierarchy_of_a_long_list_shows_djangos_links_without_reading_every_row(
    client, superuser, monkeypatch, params
):
    monkeypatch.setattr(CappedCountPaginator, "cap", 1)
    loans_on(
        datetime.date(2025, 12, 31),
        datetime.date(2026, 5, 2),
        datetime.date(2026, 5, 2),
        datetime.date(2026, 5, 20),
        datetime.date(2026, 7, 1),
    )

    response, sql = changelist(client, **params)

    cl = response.context["cl"]
    assert not cl.paginator.count_exact
    assert cl.date_links == djangos_links(response.wsgi_request)
    assert not [statement for statement in sql if "DISTINCT" in statement.upper()]


def test_the_date_hierarchy_of_a_short_list_is_djangos_without_its_walk_to_the_first_row(
    client, superuser
):
    loans_on(datetime.date(2026, 5, 2), datetime.date(2026, 5, 20))

    response, sql = changelist(client, state="open")

    cl = response.context["cl"]
    assert cl.date_links == djangos_links(response.wsgi_request)
    # The first and last row of the whole table are the two ends of an index; of the open loans
    # (or any filtered list) they are a walk along it until a row passes the filter.
    bounds = [statement for statement in sql if "MIN(" in statement.upper()]
    assert bounds and not [statement for statement in bounds if "WHERE" in statement.upper()]


def djangos_links(request) -> dict:
    """The date hierarchy Django itself shows for the same request (reading every row)."""
    plain = type(
        "PlainLoanAdmin",
        (admin.ModelAdmin,),
        {"date_hierarchy": "borrowed_at", "list_filter": LoanAdmin.list_filter},
    )(Loan, admin.site)
    return date_hierarchy(plain.get_changelist_instance(request))


def test_the_row_checkbox_is_the_one_django_draws():
    loan = LoanFactory()
    loans = LoanAdmin(Loan, admin.site)

    ours = loans.action_checkbox(loan)

    assert parse_html(ours) == parse_html(admin.ModelAdmin.action_checkbox(loans, loan))


def test_a_long_list_shows_fifty_rows_a_page(client, superuser):
    loans_on(*[datetime.date(2026, 5, 1) + datetime.timedelta(days=n) for n in range(51)])

    first, _ = changelist(client)
    second, _ = changelist(client, p="2")

    assert len(first.context["cl"].result_list) == 50
    assert len(second.context["cl"].result_list) == 1


def test_a_row_links_to_its_page_with_the_lists_filters_without_resolving_each_row(
    client, superuser, monkeypatch
):
    loans_on(datetime.date(2026, 5, 2), datetime.date(2026, 5, 3))
    resolved, resolve = [], admin_urls.resolve
    monkeypatch.setattr(admin_urls, "resolve", lambda url: resolved.append(url) or resolve(url))

    response, _ = changelist(client, door__exact="api", q="")

    # The page's own links (add, the filters) may resolve theirs; the rows did not.
    assert not [url for url in resolved if "/change/" in url]
    cl = response.context["cl"]
    links = {loan.pk: cl.url_for_result(loan) for loan in cl.result_list}
    djangos = {
        loan.pk: admin_urls.add_preserved_filters(
            {"preserved_filters": cl.row_filters, "opts": cl.opts},
            reverse("admin:loans_loan_change", args=[loan.pk]),
        )
        for loan in cl.result_list
    }
    page = response.content.decode()
    assert links == djangos and all(f'href="{escape(url)}"' in page for url in links.values())
    assert "_changelist_filters=door__exact%3Dapi" in links[cl.result_list[0].pk]
