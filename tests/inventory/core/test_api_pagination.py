import pytest

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
