import pytest

from inventory.loans import services
from inventory.loans.models import Door
from tests.factories import EmployeeFactory, ItemFactory, ToolTagFactory

pytestmark = pytest.mark.django_db


def test_an_item_says_who_holds_it(api, viewer):
    item = ItemFactory(code="TO0001")
    tag = ToolTagFactory(item=item)
    holder = EmployeeFactory(code="E0001", name="山田")
    loan = services.borrow(item=item, employee=holder, door=Door.API)

    body = api.as_user(viewer).get("/api/v1/items/TO0001/").json()

    assert body["uids"] == [tag.uid]
    assert body["on_loan"]["loan"] == loan.pk
    assert body["on_loan"]["employee_code"] == "E0001"
    assert body["on_loan"]["employee_name"] == "山田"


def test_filters_by_status_search_and_on_loan(api, viewer):
    lent = ItemFactory(code="TO0001", name="ノギス")
    ItemFactory(code="TO0002", status="maintenance")
    services.borrow(item=lent, employee=EmployeeFactory(), door=Door.API)
    api.as_user(viewer)

    def codes(**params):
        return [row["code"] for row in api.get("/api/v1/items/", params).json()["results"]]

    assert codes(status="maintenance") == ["TO0002"]
    assert codes(search="ノギス") == ["TO0001"]
    assert codes(on_loan="true") == ["TO0001"]
    assert codes(on_loan="false") == ["TO0002"]


def test_the_item_list_costs_the_same_queries_for_any_page_size(
    api, viewer, django_assert_num_queries
):
    for _ in range(6):
        services.borrow(item=ItemFactory(), employee=EmployeeFactory(), door=Door.API)
        ToolTagFactory()
    api.as_user(viewer)
    # user, user permissions, group permissions, count, page, prefetch tags, prefetch open loans
    for size in (2, 12):
        with django_assert_num_queries(7):
            assert api.get("/api/v1/items/", {"page_size": size}).status_code == 200


@pytest.mark.parametrize("period", ["0", "-1 00:00:00", "400 00:00:00", "999999999 00:00:00"])
def test_a_loan_period_out_of_range_is_400_and_changes_nothing(api, manager, period):
    item = ItemFactory(code="T1")

    response = api.as_user(manager).patch(f"/api/v1/items/{item.code}/", {"loan_period": period})

    assert response.status_code == 400, response.content
    assert "loan_period" in response.json()["fields"]
    item.refresh_from_db()
    assert item.loan_period is None


def test_a_loan_period_of_a_year_is_accepted_and_sets_the_due_time(api, manager):
    item = ItemFactory(code="T1")
    api.as_user(manager).patch(f"/api/v1/items/{item.code}/", {"loan_period": "366 00:00:00"})

    loan = services.borrow(item=item, employee=EmployeeFactory(), door=Door.API)

    assert (loan.due_at - loan.borrowed_at).days == 366


def test_a_tool_code_with_a_slash_is_addressable(api, viewer):
    ItemFactory(code="M8/12")
    body = api.as_user(viewer).get("/api/v1/items/M8%2F12/").json()
    assert body["code"] == "M8/12"
