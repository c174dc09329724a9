import codecs
import datetime

import pytest
from django.core.management import CommandError, call_command

from inventory.employees.models import Employee
from inventory.items.models import Item, Tag
from inventory.masterdata.importing import Source, apply_import, plan_import
from tests.factories import BadgeFactory, EmployeeFactory, ItemFactory, LoanFactory, ToolTagFactory

pytestmark = pytest.mark.django_db

ORIGINAL_EMPLOYEES = (
    "employeeCode,displayName,nfcTagUid,department,contact,status\n"
    "0001,山田 太郎,04a1b2c3,製造一課,内線 101,ACTIVE\n"
    "0002,佐藤 花子,,品質保証課,,\n"
)
JAPANESE_EMPLOYEES = (
    "社員コード,氏名,NFCタグUID,部署,連絡先,状態\n"
    "0001,山田 太郎,04:A1:B2:C3,製造一課,内線 101,在籍\n"
    "0002,佐藤 花子,,品質保証課,,休職\n"
)
ORIGINAL_ITEMS = (
    "itemCode,name,nfcTagUid,category,storageLocation,status,notes\n"
    "TO0001,トルクレンチ,1d2e3f40,締付工具,A-1,AVAILABLE,\n"
    "TO0002,ノギス,,測定具,B-1,MAINTENANCE,目盛り確認\n"
)
JAPANESE_ITEMS = (
    "工具コード,名称,NFCタグUID,分類,保管場所,状態,備考\n"
    "TO0001,トルクレンチ,1D2E3F40,締付工具,A-1,,\n"
    "TO0002,ノギス,,測定具,B-1,点検中,目盛り確認\n"
)


def employees(text, encoding="utf-8", name="employees.csv"):
    return Source(name, text.encode(encoding))


def items(text, encoding="utf-8", name="items.csv"):
    return Source(name, text.encode(encoding))


def problems(plan):
    return [str(problem) for problem in plan.problems]


def state():
    return (
        sorted(Employee.objects.values_list("code", "name", "department", "contact", "status")),
        sorted(Item.objects.values_list("code", "name", "category", "location", "status", "notes")),
        sorted(Tag.objects.values_list("uid", "active")),
    )


@pytest.mark.parametrize("text", [ORIGINAL_EMPLOYEES, JAPANESE_EMPLOYEES])
def test_imports_employees_in_the_old_systems_and_japanese_columns(text):
    plan = apply_import(employees=employees(text))

    assert plan.ok, problems(plan)
    yamada = Employee.objects.get(code="0001")
    assert (yamada.name, yamada.department, yamada.contact, yamada.status) == (
        "山田 太郎",
        "製造一課",
        "内線 101",
        "active",
    )
    assert list(yamada.tags.values_list("uid", flat=True)) == ["04A1B2C3"]
    assert Employee.objects.get(code="0002").status == (
        "active" if text is ORIGINAL_EMPLOYEES else "suspended"
    )


@pytest.mark.parametrize("text", [ORIGINAL_ITEMS, JAPANESE_ITEMS])
def test_imports_tools_in_the_old_systems_and_japanese_columns(text):
    plan = apply_import(items=items(text))

    assert plan.ok, problems(plan)
    wrench, calipers = Item.objects.order_by("code")
    assert (wrench.location, wrench.status, list(wrench.tags.values_list("uid", flat=True))) == (
        "A-1",
        "available",
        ["1D2E3F40"],
    )
    assert (calipers.status, calipers.notes) == ("maintenance", "目盛り確認")


@pytest.mark.parametrize(
    "encode",
    [
        pytest.param(lambda text: text.encode("utf-8"), id="utf-8"),
        pytest.param(lambda text: codecs.BOM_UTF8 + text.encode("utf-8"), id="utf-8 with BOM"),
        pytest.param(lambda text: text.encode("cp932"), id="cp932 (Excel Shift_JIS)"),
        pytest.param(lambda text: text.replace("\n", "\r\n").encode("cp932"), id="cp932 CRLF"),
    ],
)
def test_reads_every_encoding_excel_writes(encode):
    plan = apply_import(employees=Source("e.csv", encode(JAPANESE_EMPLOYEES)))
    assert plan.ok, problems(plan)
    assert Employee.objects.get(code="0001").name == "山田 太郎"


def test_headers_match_without_case_and_blank_lines_and_spaces_are_ignored():
    text = (
        "\r\n  EMPLOYEECODE , DisplayName ,NFC Tag UID, Department \r\n"
        "\r\n"
        "  0001 ,  山田 太郎  , , 製造一課 \r\n"
        " , , , \r\n"
    )
    plan = apply_import(employees=employees(text))
    assert plan.ok, problems(plan)
    assert Employee.objects.values_list("code", "name", "department").get() == (
        "0001",
        "山田 太郎",
        "製造一課",
    )


def test_unknown_columns_are_reported_and_ignored():
    plan = plan_import(employees=employees("code,name,shoe size\nE1,山田,27\n"))
    assert plan.ok
    assert plan.ignored_columns == ["employees.csv: shoe size"]


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("code,name\nE1,\n", 2, "Name is empty"),
        ("code,name\n,山田\n", 2, "Employee code is empty"),
        ("code,name,status\nE1,山田,ACTIVE\nE2,佐藤,retired\n", 3, "“retired” is not a status"),
        ("code,name,uid\nE1,山田,04A1B2C3\n\nE2,佐藤,XYZ\n", 4, "“XYZ” is not an NFC UID"),
        (
            "code,name,uid\nE1,山田,04A1B2C3\nE2,佐藤,04:a1:b2:c3\n",
            3,
            "UID 04A1B2C3 is also on line 2",
        ),
        ("code,name\nE1,山田\nE1,佐藤\n", 3, "Code E1 is already on line 2"),
        ("code,department\nE1,製造\n", 1, "no Name column"),
        (f"code,name\nE1,{'長' * 101}\n", 2, "longer than 100 characters"),
    ],
)
def test_every_problem_names_the_file_and_line(english, text, line, words):
    plan = plan_import(employees=employees(text))
    assert not plan.ok
    assert any(
        message.startswith(f"employees.csv line {line}: ") and words in message
        for message in problems(plan)
    ), problems(plan)


@pytest.mark.parametrize(
    ("cell", "words"),
    [
        ("2026/13/40", "is not a date"),
        ("-1 day", "is not a loan period"),
        ("soon", "period"),
        ("400 00:00:00", "one minute to 366 days"),
        ("9999999999 00:00:00", "is not a loan period"),
    ],
)
def test_bad_tool_dates_and_periods_are_problems(english, cell, words):
    column = "calibration_due" if "/" in cell else "loan_period"
    plan = plan_import(items=items(f"code,name,{column}\nT1,レンチ,{cell}\n"))
    assert any("items.csv line 2" in m and words in m for m in problems(plan)), problems(plan)


def test_a_file_the_csv_reader_cannot_read_is_a_problem_with_its_line(english):
    runaway = "x" * 200_000  # over the csv module's cell limit: a quote that never closes
    plan = plan_import(items=items(f'code,name\nT1,レンチ\nT2,"{runaway}"\n'))

    assert not plan.ok
    (message,) = problems(plan)
    assert "items.csv line 3" in message and "cannot be read as CSV" in message
    assert not Item.objects.exists()


def test_tool_dates_and_periods_in_excel_spellings():
    plan = apply_import(
        items=items(
            "code,name,校正期限,貸出期間\nT1,レンチ,2027/3/1,4:00:00\nT2,ノギス,,\n"
            # A time typed as 4:00 is saved by Excel as h:mm: four hours, not four minutes.
            "T3,ドリル,,4:00\nT4,ペンチ,,1:30\n"
        )
    )
    assert plan.ok, problems(plan)
    wrench = Item.objects.get(code="T1")
    assert (wrench.calibration_due, wrench.loan_period) == (
        datetime.date(2027, 3, 1),
        datetime.timedelta(hours=4),
    )
    assert dict(Item.objects.filter(code__in=["T3", "T4"]).values_list("code", "loan_period")) == {
        "T3": datetime.timedelta(hours=4),
        "T4": datetime.timedelta(hours=1, minutes=30),
    }


@pytest.mark.parametrize("cell", ["山田\x00", "山\x07田", "\x1b[31m山田"])
def test_a_cell_with_control_characters_is_a_problem_and_nothing_is_written(english, cell):
    plan = apply_import(employees=employees(f"code,name\nE1,{cell}\n"))

    assert problems(plan) == [
        "employees.csv line 2: Name: This cell contains control characters. Type it again."
    ]
    assert not Employee.objects.exists()


def test_a_cell_may_hold_several_lines():
    plan = apply_import(employees=employees('code,name,uid\nE1,山田,"04A1B2C3\r\n04FFFFFF"\n'))
    assert plan.ok, problems(plan)
    assert Tag.objects.active().count() == 2


def test_a_uid_in_both_files_is_a_problem(english):
    plan = plan_import(
        employees=employees("code,name,uid\nE1,山田,04A1B2C3\n"),
        items=items("code,name,uid\n\nT1,レンチ,04a1b2c3\n"),
    )
    assert problems(plan) == ["items.csv line 3: UID 04A1B2C3 is also in employees.csv line 2."]


def test_a_uid_enrolled_to_someone_else_is_a_problem(english):
    ToolTagFactory(uid="04A1B2C3", item=ItemFactory(code="T9", name="ドリル"))
    plan = plan_import(employees=employees("code,name,uid\nE1,山田,04A1B2C3\n"))
    assert problems(plan) == [
        "employees.csv line 2: UID 04A1B2C3 is already enrolled to ドリル (T9)."
    ]


def test_a_uid_moving_between_two_people_in_the_same_file_is_allowed():
    BadgeFactory(uid="04A1B2C3", employee=EmployeeFactory(code="E1"))
    BadgeFactory(uid="04FFFFFF", employee=EmployeeFactory(code="E2"))
    plan = apply_import(
        employees=employees("code,name,uid\nE1,山田,04EEEEEE\nE2,佐藤,04A1B2C3;04FFFFFF\n")
    )
    assert plan.ok, problems(plan)
    held = dict(Tag.objects.active().values_list("uid", "employee__code"))
    assert held == {"04EEEEEE": "E1", "04A1B2C3": "E2", "04FFFFFF": "E2"}
    assert Tag.objects.filter(uid="04A1B2C3", active=False, employee__code="E1").exists()


@pytest.mark.parametrize(
    "data",
    [
        b"code,name\n\xff\xfe\xfa,x\n",
        # UTF-8 with its BOM, and a row pasted in from a Shift_JIS file.
        codecs.BOM_UTF8 + "code,name\nE1,山田\n".encode() + "E2,田中\n".encode("cp932"),
    ],
)
def test_an_undecodable_file_is_a_problem(english, data):
    plan = plan_import(employees=Source("e.csv", data))
    assert "neither UTF-8 nor Shift_JIS" in problems(plan)[0]


def test_a_bad_last_row_leaves_the_database_unchanged():
    EmployeeFactory(code="0001", name="旧姓 太郎")
    before = state()
    rows = "".join(f"{n:04d},社員{n},,製造,,\n" for n in range(1, 200))
    plan = apply_import(
        employees=employees(
            "employeeCode,displayName,nfcTagUid,department,contact,status\n"
            + rows
            + "0200,最後,,製造,,FIRED\n"
        ),
        items=items(ORIGINAL_ITEMS),
    )
    assert problems(plan)
    assert state() == before


def test_upserts_by_code_and_reports_each_row():
    EmployeeFactory(code="0001", name="山田 太郎", department="製造一課", contact="内線 101")
    EmployeeFactory(code="0002", name="佐藤 花子", department="旧部署")
    text = (
        "code,name,department,contact\n"
        "0001,山田 太郎,製造一課,内線 101\n"
        "0002,佐藤 花子,品質保証課,\n"
        "0003,新人,製造,\n"
    )

    plan = apply_import(employees=employees(text))

    assert [(c.code, c.action) for c in plan.changes] == [
        ("0001", "unchanged"),
        ("0002", "update"),
        ("0003", "create"),
    ]
    assert plan.changes[1].changes == {"department": ("旧部署", "品質保証課")}
    assert plan.counts() == {
        "employee": {"create": 1, "update": 1, "unchanged": 1, "deactivate": 0}
    }
    assert Employee.objects.get(code="0002").department == "品質保証課"


def test_a_column_missing_from_the_file_leaves_the_field_alone():
    EmployeeFactory(code="0001", reading="やまだ", contact="内線 1")
    apply_import(employees=employees("社員コード,氏名\n0001,山田\n"))
    assert Employee.objects.values_list("reading", "contact").get() == ("やまだ", "内線 1")


def test_replace_deactivates_and_retires_records_missing_from_the_files_and_deletes_nothing():
    kept, gone = EmployeeFactory(code="0001"), EmployeeFactory(code="0099")
    LoanFactory(employee=gone, item=ItemFactory(code="TO0099"))

    plan = apply_import(
        employees=employees(f"code,name\n{kept.code},{kept.name}\n"),
        items=items(ORIGINAL_ITEMS),
        replace=True,
    )

    assert plan.ok, problems(plan)
    assert dict(Employee.objects.values_list("code", "status")) == {
        "0001": "active",
        "0099": "inactive",
    }
    assert Item.objects.get(code="TO0099").status == "retired"
    assert plan.counts()["item"] == {"create": 2, "update": 0, "unchanged": 0, "deactivate": 1}


def test_replace_with_a_file_without_rows_is_refused_and_retires_nobody(english):
    EmployeeFactory(code="0001")

    plan = apply_import(employees=employees("社員コード,氏名\r\n"), replace=True)

    assert problems(plan) == [
        "employees.csv: The file has no rows: it cannot replace the whole list."
    ]
    assert Employee.objects.get().status == "active"


def test_without_replace_missing_records_stay_as_they_are():
    EmployeeFactory(code="0099")
    apply_import(employees=employees(ORIGINAL_EMPLOYEES))
    assert Employee.objects.get(code="0099").status == "active"


def test_the_command_imports_and_prints_a_summary(tmp_path, capsys):
    (tmp_path / "e.csv").write_bytes(JAPANESE_EMPLOYEES.encode("cp932"))
    (tmp_path / "i.csv").write_text(ORIGINAL_ITEMS)

    call_command("import_master", "--employees", tmp_path / "e.csv", "--items", tmp_path / "i.csv")

    assert Employee.objects.count() == 2
    assert Item.objects.count() == 2
    out = capsys.readouterr().out
    assert "2" in out and out.count("\n") == 2


def test_the_command_dry_run_writes_nothing(tmp_path):
    (tmp_path / "e.csv").write_text(ORIGINAL_EMPLOYEES)
    call_command("import_master", "--dry-run", "--employees", tmp_path / "e.csv")
    assert not Employee.objects.exists()


def test_the_command_fails_with_every_problem_and_writes_nothing(tmp_path, capsys, english):
    (tmp_path / "e.csv").write_text("code,name,status\nE1,山田,\nE2,,nope\n")
    with pytest.raises(CommandError, match="2 problem"):
        call_command("import_master", "--employees", tmp_path / "e.csv")
    err = capsys.readouterr().err
    assert "e.csv line 3: Name is empty." in err
    assert "e.csv line 3: Status: “nope” is not a status" in err
    assert not Employee.objects.exists()
