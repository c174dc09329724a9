import pytest

from inventory.items.models import Tag
from tests.factories import BadgeFactory, EmployeeFactory, ItemFactory, ToolTagFactory

pytestmark = pytest.mark.django_db


def test_enrols_a_badge_and_a_tool_tag_by_codes(api, manager):
    EmployeeFactory(code="E0001")
    ItemFactory(code="TO0001")
    api.as_user(manager)

    badge = api.post("/api/v1/tags/", {"uid": "04:a1:b2:c3", "employee": "E0001"})
    tool = api.post("/api/v1/tags/", {"uid": "1d2e3f40", "item": "TO0001"})

    assert badge.status_code == 201, badge.json()
    assert (badge.json()["uid"], badge.json()["kind"]) == ("04A1B2C3", "badge")
    assert (tool.json()["kind"], tool.json()["item"]) == ("tool", "TO0001")


@pytest.mark.parametrize(
    "body",
    [
        {"uid": "XYZ", "employee": "E0001"},
        {"uid": "04A1B2C3"},
        {"uid": "04A1B2C3", "employee": "E0001", "item": "TO0001"},
        {"uid": "04A1B2C3", "employee": "NOBODY"},
        {"uid": "04A1B2C3", "employee": "E0001", "active": False},
    ],
)
def test_refuses_what_cannot_be_a_tag(api, manager, body):
    EmployeeFactory(code="E0001")
    ItemFactory(code="TO0001")
    BadgeFactory(uid="04FFFFFF")
    before = Tag.objects.count()

    response = api.as_user(manager).post("/api/v1/tags/", body, format="json")

    assert (response.status_code, response.json()["code"]) == (400, "INVALID")
    assert Tag.objects.count() == before


def test_a_uid_in_use_is_a_conflict_that_names_its_owner(api, manager, english):
    BadgeFactory(uid="04FFFFFF", employee=EmployeeFactory(name="Sato"))

    response = api.as_user(manager).post(
        "/api/v1/tags/", {"uid": "04FFFFFF", "item": ItemFactory().code}
    )

    assert (response.status_code, response.json()["code"]) == (409, "TAG_IN_USE")
    assert "Sato" in response.json()["message"]
    assert Tag.objects.count() == 1


def test_enrolling_with_replace_retires_the_owners_lost_badge(api, manager):
    lost = BadgeFactory(employee=EmployeeFactory(code="E0001"))
    api.as_user(manager)

    response = api.post("/api/v1/tags/", {"uid": "04A1B2C3", "employee": "E0001", "replace": True})

    assert response.status_code == 201, response.json()
    assert "replace" not in response.json()
    lost.refresh_from_db()
    assert not lost.active and lost.deactivated_at
    assert list(Tag.objects.active().values_list("uid", flat=True)) == ["04A1B2C3"]


def test_enrolling_a_badge_its_owner_has_returns_that_badge(api, manager):
    badge = BadgeFactory(uid="04A1B2C3", employee=EmployeeFactory(code="E0001"))

    response = api.as_user(manager).post("/api/v1/tags/", {"uid": "04a1b2c3", "employee": "E0001"})

    assert response.json()["id"] == badge.pk
    assert Tag.objects.count() == 1


def test_deactivating_keeps_the_record_and_frees_the_uid(api, manager):
    tag = BadgeFactory(uid="04A1B2C3")
    api.as_user(manager)

    response = api.patch(f"/api/v1/tags/{tag.pk}/", {"active": False, "note": "lost"})

    assert response.status_code == 200
    assert response.json()["deactivated_at"]
    again = api.post("/api/v1/tags/", {"uid": "04A1B2C3", "item": ItemFactory().code})
    assert again.status_code == 201
    reactivate = api.patch(f"/api/v1/tags/{tag.pk}/", {"active": True})
    assert reactivate.status_code == 400
    assert api.delete(f"/api/v1/tags/{tag.pk}/").status_code in (403, 405)  # never deleted
    assert Tag.objects.count() == 2


def test_what_a_tag_is_cannot_be_changed(api, manager):
    tag = BadgeFactory(uid="04A1B2C3")
    api.as_user(manager).patch(f"/api/v1/tags/{tag.pk}/", {"uid": "04FFFFFF"})
    tag.refresh_from_db()
    assert tag.uid == "04A1B2C3"


def test_filters_by_uid_in_any_spelling_kind_and_owner(api, viewer):
    badge = BadgeFactory(uid="04A1B2C3", employee=EmployeeFactory(code="E1"))
    tool = ToolTagFactory(uid="1D2E3F40", item=ItemFactory(code="T1"))
    api.as_user(viewer)

    def ids(**params):
        return [row["id"] for row in api.get("/api/v1/tags/", params).json()["results"]]

    assert ids(uid="04 a1 b2 c3") == [badge.pk]
    assert ids(uid="not-a-uid") == []
    assert ids(kind="tool") == [tool.pk]
    assert ids(employee="E1") == [badge.pk]
    assert ids(item="T1") == [tool.pk]
    assert api.post("/api/v1/tags/", {"uid": "04000001", "employee": "E1"}).status_code == 403


def test_the_tag_list_costs_the_same_queries_for_any_page_size(
    api, viewer, django_assert_num_queries
):
    for _ in range(6):
        BadgeFactory()
        ToolTagFactory()
    api.as_user(viewer)
    # user, user permissions, group permissions, count, one page with employee and tool joined
    for size in (1, 12):
        with django_assert_num_queries(5):
            assert len(api.get("/api/v1/tags/", {"page_size": size}).json()["results"]) == size
