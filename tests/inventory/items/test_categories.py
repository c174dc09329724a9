"""Categories carry the crib's rules for the tools whose category is written as their name:
kept in the admin (which renames the tools with them) and in the API."""

import pytest

from inventory.items.models import Category, Item
from tests.factories import CategoryFactory, ItemFactory, QualificationFactory

pytestmark = pytest.mark.django_db


def test_the_list_shows_how_many_tools_each_rule_applies_to(client, staff):
    CategoryFactory(name="Torque", loan_limit=1)
    CategoryFactory(name="Typo")
    ItemFactory.create_batch(2, category="Torque")

    response = client.get("/admin/items/category/")

    counts = {category.name: category.tool_count for category in response.context["cl"].result_list}
    assert counts == {"Torque": 2, "Typo": None}


def test_renaming_a_category_in_the_admin_renames_its_tools(client, staff):
    category = CategoryFactory(name="Torque", loan_limit=1)
    wrench = ItemFactory(category="Torque")

    response = client.post(
        f"/admin/items/category/{category.pk}/change/",
        {"name": "Torque wrenches", "loan_limit": "1", "qualification": "", "checklist": ""},
    )

    assert response.status_code == 302
    wrench.refresh_from_db()
    assert wrench.category == "Torque wrenches"


def test_the_admin_refuses_a_long_checklist(client, staff):
    response = client.post(
        "/admin/items/category/add/",
        {"name": "Meggers", "checklist": "\n".join(f"check {n}" for n in range(9))},
    )
    assert response.status_code == 200
    assert "at most 8 checks" in response.content.decode()
    assert not Category.objects.exists()


def test_a_tools_page_shows_the_rules_of_its_category(client, staff):
    CategoryFactory(
        name="Meggers",
        loan_limit=1,
        qualification=QualificationFactory(name="Electrical"),
        checklist="Cable undamaged\nZero checked",
    )
    item = ItemFactory(category="Meggers")
    page = client.get(f"/admin/items/item/{item.pk}/change/").content.decode()
    assert "at most 1 per person; needs “Electrical”; 2 checks before use" in page


def test_the_api_keeps_a_category_with_its_checks(api, manager):
    QualificationFactory(name="Electrical")
    api.as_user(manager)

    response = api.post(
        "/api/v1/categories/",
        {
            "name": "Meggers",
            "loan_limit": 1,
            "qualification": "Electrical",
            "checks": ["Cable undamaged", " Zero checked "],
        },
        format="json",
    )

    assert response.status_code == 201, response.json()
    category = Category.objects.get()
    assert category.checks == ["Cable undamaged", "Zero checked"]
    assert api.get("/api/v1/categories/Meggers/").json() == {
        "name": "Meggers",
        "loan_limit": 1,
        "qualification": "Electrical",
        "checks": ["Cable undamaged", "Zero checked"],
    }


@pytest.mark.parametrize(
    "body",
    [
        {"name": "X", "checks": [f"check {n}" for n in range(9)]},
        {"name": "X", "checks": ["x" * 81]},
        {"name": "X", "qualification": "unknown"},
        {"name": "X", "loan_limit": 1000},
        {"name": "X", "checks": "Cable undamaged"},
    ],
)
def test_the_api_refuses_a_category_it_cannot_keep(api, manager, body):
    response = api.as_user(manager).post("/api/v1/categories/", body, format="json")
    assert (response.status_code, response.json()["code"]) == (400, "INVALID")
    assert not Category.objects.exists()


def test_the_api_does_not_rename_a_category_away_from_its_tools(api, manager):
    CategoryFactory(name="Meggers")
    ItemFactory(category="Meggers")
    response = api.as_user(manager).patch(
        "/api/v1/categories/Meggers/", {"name": "Other", "loan_limit": 2}, format="json"
    )
    assert response.status_code == 200
    assert Category.objects.get().name == "Meggers"
    assert Item.objects.get().category == "Meggers"
