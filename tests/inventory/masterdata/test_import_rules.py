"""The master files carry the crib's rules: people's qualifications, tools' calibration
intervals, and a categories file with limits, qualifications and checklists."""

import datetime

import pytest
from django.core.management import call_command

from inventory.employees.models import HeldQualification, Qualification
from inventory.items.models import Category, Item
from inventory.masterdata.importing import Source, apply_import, plan_import
from tests.factories import (
    CategoryFactory,
    EmployeeFactory,
    HeldQualificationFactory,
    ItemFactory,
)

pytestmark = pytest.mark.django_db


def source(text, name="file.csv"):
    return Source(name, text.encode())


def held():
    return sorted(
        HeldQualification.objects.values_list("employee__code", "qualification__name", "expires_on")
    )


def test_qualifications_are_read_with_their_expiry_and_created_when_new():
    plan = apply_import(
        employees=source(
            "社員コード,氏名,資格\n"
            "E1,山田,玉掛け (2027-03-31); フォークリフト\n"
            "E2,佐藤,玉掛け（2027/4/1）\n"
        )
    )

    assert plan.ok, [str(p) for p in plan.problems]
    assert held() == [
        ("E1", "フォークリフト", None),
        ("E1", "玉掛け", datetime.date(2027, 3, 31)),
        ("E2", "玉掛け", datetime.date(2027, 4, 1)),
    ]
    assert Qualification.objects.count() == 2


def test_the_qualifications_cell_replaces_what_a_person_holds_and_empty_clears_it():
    HeldQualificationFactory(employee=EmployeeFactory(code="E1"), qualification__name="古い講習")
    HeldQualificationFactory(employee=EmployeeFactory(code="E2"), qualification__name="玉掛け")

    plan = apply_import(employees=source("code,name,qualifications\nE1,山田,溶接\nE2,佐藤,\n"))

    assert [change.action for change in plan.changes] == ["update", "update"]
    assert held() == [("E1", "溶接", None)]


def test_a_file_without_the_column_leaves_qualifications_alone():
    HeldQualificationFactory(employee=EmployeeFactory(code="E1", name="山田"))
    plan = apply_import(employees=source("code,name\nE1,山田\n"))
    assert [change.action for change in plan.changes] == ["unchanged"]
    assert len(held()) == 1


@pytest.mark.parametrize(
    ("cell", "words"),
    [
        ("玉掛け (2027-13-01)", "is not a date"),
        ("玉掛け; 玉掛け (2027-01-01)", "listed twice"),
        ("x" * 101, "at most 100 characters"),
    ],
)
def test_a_bad_qualifications_cell_is_a_problem(english, cell, words):
    plan = plan_import(employees=source(f'code,name,qualifications\nE1,山田,"{cell}"\n'))
    assert len(plan.problems) == 1
    assert words in str(plan.problems[0])
    assert "line 2" in str(plan.problems[0])


def test_the_calibration_interval_is_read_in_months(english):
    plan = apply_import(
        items=source("工具コード,名称,校正周期\nMI1,マイクロメータ,12\nTO1,スパナ,\n")
    )
    assert plan.ok
    assert dict(Item.objects.values_list("code", "calibration_interval")) == {
        "MI1": 12,
        "TO1": None,
    }
    bad = plan_import(items=source("code,name,calibration interval (months)\nMI1,x,0\n"))
    assert "is not a whole number from 1 to 120" in str(bad.problems[0])


def test_a_categories_file_sets_the_rules_by_name():
    CategoryFactory(name="ゲージ", loan_limit=2)

    plan = apply_import(
        categories=source(
            "分類,貸出上限,必要資格,使用前点検\n"
            'トルクレンチ,1,トルク講習,"目盛りの確認\nケーブルに傷がない"\n'
            "ゲージ,,,\n"
        )
    )

    assert plan.ok, [str(p) for p in plan.problems]
    assert [(c.action, c.code) for c in plan.changes] == [
        ("create", "トルクレンチ"),
        ("update", "ゲージ"),
    ]
    torque = Category.objects.get(name="トルクレンチ")
    assert (torque.loan_limit, torque.qualification.name) == (1, "トルク講習")
    assert torque.checks == ["目盛りの確認", "ケーブルに傷がない"]
    assert Category.objects.get(name="ゲージ").loan_limit is None


@pytest.mark.parametrize(
    ("row", "words"),
    [
        ("X,-1,,", "is not a whole number from 0 to 999"),
        ('X,,,"' + "\n".join(f"c{n}" for n in range(9)) + '"', "at most 8 checks"),
        ("X,,a;b,", "cannot contain"),
    ],
)
def test_a_bad_category_row_is_a_problem_and_nothing_is_written(english, row, words):
    plan = apply_import(categories=source(f"category,loan limit,qualification,checklist\n{row}\n"))
    assert words in str(plan.problems[0])
    assert not Category.objects.exists()
    assert not Qualification.objects.exists()


def test_replace_never_touches_categories():
    CategoryFactory(name="ゲージ")
    plan = apply_import(categories=source("category\nトルクレンチ\n"), replace=True)
    assert plan.ok
    assert set(Category.objects.values_list("name", flat=True)) == {"ゲージ", "トルクレンチ"}


def test_the_command_imports_a_categories_file(tmp_path, capsys):
    path = tmp_path / "categories.csv"
    path.write_text("category,loan limit\nトルクレンチ,1\n", encoding="utf-8")
    ItemFactory()

    call_command("import_master", "--categories", path)

    assert "1" in capsys.readouterr().out
    assert Category.objects.get().loan_limit == 1


def test_the_admin_previews_and_imports_a_categories_file(client, staff):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("categories.csv", "category,loan limit\nトルクレンチ,1\n".encode())
    preview = client.post("/admin/import/", {"categories": upload})
    assert preview.status_code == 200
    assert "Categories" in preview.content.decode()

    confirmed = client.post(
        "/admin/import/", {"confirm": "1", "digest": preview.context["plan"].digest()}
    )

    assert confirmed.status_code == 302
    assert Category.objects.get().name == "トルクレンチ"
