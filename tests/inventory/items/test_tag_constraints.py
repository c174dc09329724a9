import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from inventory.items.models import Tag
from tests.factories import BadgeFactory, EmployeeFactory, ItemFactory, ToolTagFactory

pytestmark = pytest.mark.django_db


def test_the_database_refuses_a_badge_uid_as_a_tool_tag():
    BadgeFactory(uid="04A1B2C3D4E5F6")
    with pytest.raises(IntegrityError), transaction.atomic():
        Tag.objects.create(uid="04A1B2C3D4E5F6", item=ItemFactory())


def test_the_database_refuses_a_uid_twice_for_the_same_kind():
    ToolTagFactory(uid="1D0000000001")
    with pytest.raises(IntegrityError), transaction.atomic():
        Tag.objects.create(uid="1D0000000001", item=ItemFactory())


def test_a_deactivated_uid_can_be_issued_again():
    BadgeFactory(uid="04A1B2C3D4E5F6", active=False)
    tag = Tag.objects.create(uid="04A1B2C3D4E5F6", item=ItemFactory())
    assert tag.pk


def test_the_database_refuses_a_tag_owned_by_both_or_neither():
    with pytest.raises(IntegrityError), transaction.atomic():
        Tag.objects.create(uid="01020304", employee=EmployeeFactory(), item=ItemFactory())
    with pytest.raises(IntegrityError), transaction.atomic():
        Tag.objects.create(uid="01020305")


def test_validation_normalises_and_explains_a_uid_already_in_use(english):
    BadgeFactory(uid="04A1B2C3D4E5F6")
    tag = Tag(uid="04:a1:b2:c3:d4:e5:f6", item=ItemFactory())
    with pytest.raises(ValidationError) as caught:
        tag.full_clean()
    assert tag.uid == "04A1B2C3D4E5F6"
    assert "already enrolled" in str(caught.value)
