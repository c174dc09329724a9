import pytest

from inventory.items.models import Item
from inventory.loans import services
from inventory.loans.models import Door, Loan
from tests.factories import EmployeeFactory, ItemFactory

pytestmark = pytest.mark.django_db


def as_shown(page) -> dict:
    """What the browser sends back for the change form as the page showed it."""
    data = {}
    for field in page.context["adminform"].form:
        value = field.value()
        data[field.html_name] = "" if value is None else value
        if field.field.show_hidden_initial:
            data[field.html_initial_name] = data[field.html_name]
    for inline in page.context["inline_admin_formsets"]:
        prefix = inline.formset.prefix
        data.update({f"{prefix}-TOTAL_FORMS": 0, f"{prefix}-INITIAL_FORMS": 0})
    return data


def test_saving_a_tool_page_opened_before_a_damaged_return_keeps_it_in_maintenance(
    admin_client,
):
    item = ItemFactory(location="A-1")
    loan = services.borrow(item=item, employee=EmployeeFactory(), door=Door.API)
    page = admin_client.get(f"/admin/items/item/{item.pk}/change/")  # opened while out...
    services.return_loan(loan=loan, door=Door.API, condition=Loan.Condition.DAMAGED)

    response = admin_client.post(  # ...and saved with a new location after it came back
        f"/admin/items/item/{item.pk}/change/", {**as_shown(page), "location": "B-2"}
    )

    assert response.status_code == 302
    item.refresh_from_db()
    assert (item.location, item.status) == ("B-2", Item.Status.MAINTENANCE)


def test_a_patch_writes_only_the_fields_it_sends(api, manager, monkeypatch):
    from inventory.items import api as items_api

    item = ItemFactory(notes="")
    get_object = items_api.ItemViewSet.get_object

    def read_then_returned_damaged(view):
        found = get_object(view)  # the row as this request read it...
        Item.objects.filter(pk=found.pk).update(status=Item.Status.MAINTENANCE)  # ...then this
        return found

    monkeypatch.setattr(items_api.ItemViewSet, "get_object", read_then_returned_damaged)
    response = api.as_user(manager).patch(
        f"/api/v1/items/{item.code}/", {"notes": "calibrated"}, format="json"
    )

    assert response.status_code == 200
    item.refresh_from_db()
    assert (item.notes, item.status) == ("calibrated", Item.Status.MAINTENANCE)


def test_what_a_tag_is_cannot_be_changed_in_the_admin(admin_client):
    from tests.factories import BadgeFactory

    badge = BadgeFactory(uid="04A1B2C3")
    owner, other = badge.employee, EmployeeFactory()

    response = admin_client.post(
        f"/admin/items/tag/{badge.pk}/change/",
        {"uid": "DEADBEEF", "employee": other.pk, "active": "on", "note": "checked"},
    )

    assert response.status_code == 302
    badge.refresh_from_db()
    assert (badge.uid, badge.employee, badge.note) == ("04A1B2C3", owner, "checked")


def test_the_tools_list_shows_fifty_tools_a_page(admin_client):
    ItemFactory.create_batch(51)

    first = admin_client.get("/admin/items/item/")
    second = admin_client.get("/admin/items/item/", {"p": "2"})

    assert len(first.context["cl"].result_list) == 50
    assert len(second.context["cl"].result_list) == 1
