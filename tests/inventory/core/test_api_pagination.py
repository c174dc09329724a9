import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inventory.core.paging import CappedCountPaginator
from tests.factories import EmployeeFactory

pytestmark = pytest.mark.django_db


def test_a_list_says_whether_its_count_is_exact_and_next_leads_past_the_count(
    api, viewer, monkeypatch
):
    monkeypatch.setattr(CappedCountPaginator, "cap", 3)
    codes = sorted(employee.code for employee in EmployeeFactory.create_batch(5))
    api.as_user(viewer)

    first = api.get("/api/v1/employees/", {"page_size": 2}).json()
    assert (first["count"], first["count_exact"]) == (3, False)
    seen, url = [], "/api/v1/employees/?page_size=2"
    while url:
        body = api.get(url).json()
        seen += [row["code"] for row in body["results"]]
        url = body["next"]
    assert seen == codes

    small = api.get("/api/v1/employees/", {"status": "inactive"}).json()
    assert (small["count"], small["count_exact"]) == (0, True)


def test_the_schema_documents_the_inexact_count(client):
    schema = client.get("/api/schema/", {"format": "json"}).json()

    page = schema["components"]["schemas"]["PaginatedLoanList"]
    assert "count_exact" in page["required"]
    assert page["properties"]["count_exact"]["type"] == "boolean"
    assert "10000" in page["properties"]["count"]["description"]


def test_a_search_counted_exactly_is_sorted_from_the_rows_found_in_the_lists_order(api, viewer):
    EmployeeFactory.create_batch(3, name="佐藤 一郎")
    EmployeeFactory.create_batch(2, name="鈴木 花子")
    api.as_user(viewer)

    with CaptureQueriesContext(connection) as queries:
        found = api.get("/api/v1/employees/", {"search": "佐藤", "page_size": 2}).json()
    # The page sorted by its first key as no index holds it (inventory.core.paging); read
    # before the next request, which empties the connection's log.
    assert [query for query in queries if "ORDER BY COALESCE(" in query["sql"]]
    listed = api.get("/api/v1/employees/", {"page_size": 50}).json()

    satos = [row["code"] for row in listed["results"] if row["name"].startswith("佐藤")]
    assert [row["code"] for row in found["results"]] == satos[:2]
