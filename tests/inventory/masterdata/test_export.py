import codecs
import datetime

import pytest
from django.core.management import call_command
from django.utils import translation

from inventory.employees.models import Employee, HeldQualification
from inventory.items.models import Category, Item
from inventory.masterdata.exporting import export_categories, export_employees, export_items
from inventory.masterdata.importing import Source, apply_import
from tests.factories import (
    BadgeFactory,
    CategoryFactory,
    EmployeeFactory,
    HeldQualificationFactory,
    ItemFactory,
    QualificationFactory,
    ToolTagFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def crib():
    yamada = EmployeeFactory(
        code="0001",
        name="山田 太郎",
        reading="やまだ たろう",
        contact="内線 101, 携帯 090-0000-0000",
        status="suspended",
        notes='複数行の\n備考 "引用"',
    )
    BadgeFactory(employee=yamada, uid="04A1B2C3")
    BadgeFactory(employee=yamada, uid="04A1B2C4")
    HeldQualificationFactory(
        employee=yamada, qualification__name="玉掛け", expires_on=datetime.date(2027, 3, 31)
    )
    HeldQualificationFactory(employee=yamada, qualification__name="トルク講習（社内）")
    EmployeeFactory(code="0002", name='=HYPERLINK("http://x")', department="")
    wrench = ItemFactory(
        code="TO0001",
        status="maintenance",
        calibration_due=datetime.date(2027, 3, 31),
        calibration_interval=12,
        loan_period=datetime.timedelta(days=7, hours=4),
    )
    ToolTagFactory(item=wrench, uid="1D2E3F40")
    ItemFactory(code="TO0002", notes="-5 mm 注意")
    # Typed with an apostrophe of their own: it must survive the way out and back.
    ItemFactory(code="TO0003", name="'-5 mm spacer", notes="'=SUM(A1)")
    CategoryFactory(
        name="トルクレンチ",
        loan_limit=1,
        qualification=QualificationFactory(name="トルク講習（社内）"),
        checklist="目盛りの確認\n- ケーブルに傷がない",
    )
    CategoryFactory(name="ゲージ", loan_limit=0)


def everything():
    employees = list(Employee.objects.order_by("code").values())
    items = list(Item.objects.order_by("code").values())
    for row in employees + items:
        row.pop("updated_at")
    held = list(HeldQualification.objects.order_by("pk").values())
    categories = list(Category.objects.order_by("name").values())
    return employees, items, held, categories


@pytest.mark.parametrize("language", ["ja", "en"])
def test_exported_masters_import_back_unchanged(crib, language):
    with translation.override(language):
        employees_csv = b"".join(export_employees())
        items_csv = b"".join(export_items())
        categories_csv = b"".join(export_categories())
    before = everything()

    plan = apply_import(
        employees=Source("employees.csv", employees_csv),
        items=Source("items.csv", items_csv),
        categories=Source("categories.csv", categories_csv),
        replace=True,
    )

    assert plan.ok, [str(p) for p in plan.problems]
    assert {change.action for change in plan.changes} == {"unchanged"}
    assert len(plan.changes) == 7
    assert everything() == before


def test_the_new_columns_are_written_as_people_read_them(crib):
    with translation.override("en"):
        employees = b"".join(export_employees()).decode("utf-8-sig")
        items = b"".join(export_items()).decode("utf-8-sig")
        categories = b"".join(export_categories()).decode("utf-8-sig")
    assert employees.split("\r\n")[0].endswith(",Qualifications")
    assert "トルク講習（社内）; 玉掛け (2027-03-31)" in employees
    assert items.split("\r\n")[0].endswith(",Calibration interval (months)")
    assert categories.split("\r\n")[0] == (
        "Category,Loan limit per person,Required qualification,Check before use"
    )
    assert 'トルクレンチ,1,トルク講習（社内）,"目盛りの確認\n- ケーブルに傷がない"' in categories


def test_the_export_is_excel_friendly(crib):
    with translation.override("ja"):
        data = b"".join(export_employees())
    assert data.startswith(codecs.BOM_UTF8)
    text = data.decode("utf-8-sig")
    header, first = text.split("\r\n")[:2]
    assert header.startswith("社員コード,氏名,")
    assert "04A1B2C3; 04A1B2C4" in first
    assert ",利用停止," in first  # statuses in words, which the import reads back
    # A cell Excel would run as a formula is written behind an apostrophe.
    assert "'=HYPERLINK" in text


def test_the_command_writes_the_files(crib, tmp_path):
    call_command(
        "export_master",
        "--employees",
        tmp_path / "e.csv",
        "--items",
        tmp_path / "i.csv",
        "--categories",
        tmp_path / "c.csv",
    )
    assert (tmp_path / "e.csv").read_bytes().decode("utf-8-sig").count("\r\n") == 1 + 2
    assert "TO0002" in (tmp_path / "i.csv").read_text("utf-8-sig")
    assert "ゲージ" in (tmp_path / "c.csv").read_text("utf-8-sig")
