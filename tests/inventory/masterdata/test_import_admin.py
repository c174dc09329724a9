import warnings

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from inventory.employees.models import Employee
from tests.factories import EmployeeFactory

pytestmark = pytest.mark.django_db
URL = "/admin/import/"


def upload(client, text, **extra):
    file = SimpleUploadedFile("employees.csv", text.encode("cp932"), content_type="text/csv")
    return client.post(URL, {"employees": file, **extra})


def test_the_preview_shows_each_row_and_writes_nothing(client, staff):
    EmployeeFactory(code="0001", name="山田 太郎", department="旧")
    EmployeeFactory(code="0099")

    response = upload(
        client, "社員コード,氏名,部署\n0001,山田 太郎,製造\n0002,佐藤,品証\n", replace="on"
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert "Department: 旧 → 製造" in page
    changes = [(c.code, c.action) for c in response.context["plan"].changes]
    assert changes == [("0001", "update"), ("0002", "create"), ("0099", "deactivate")]
    assert Employee.objects.count() == 2
    assert Employee.objects.get(code="0099").status == "active"


def test_confirming_applies_exactly_the_previewed_plan(client, staff):
    preview = upload(client, "code,name\n0001,山田\n")

    response = client.post(URL, {"confirm": "1", "digest": preview.context["plan"].digest()})

    assert response.status_code == 302
    assert Employee.objects.get().name == "山田"


def test_a_change_made_between_preview_and_confirm_is_not_imported_blindly(client, staff):
    preview = upload(client, "code,name\n0001,山田\n")
    EmployeeFactory(code="0001", name="別人")

    response = client.post(URL, {"confirm": "1", "digest": preview.context["plan"].digest()})

    assert response.status_code == 200
    assert Employee.objects.get().name == "別人"
    assert [c.action for c in response.context["plan"].changes] == ["update"]


def test_problems_are_listed_with_lines_and_nothing_can_be_confirmed(client, staff):
    response = upload(client, "code,name,status\n0001,山田,\n0002,,\n")

    page = response.content.decode()
    assert "employees.csv line 3: Name is empty." in page
    assert 'name="confirm"' not in page
    assert client.post(URL, {"confirm": "1", "digest": "x"}).status_code == 302
    assert not Employee.objects.exists()


def test_a_viewer_cannot_import(client, viewer):
    viewer.is_staff = True
    viewer.save()
    client.force_login(viewer)
    assert client.get(URL).status_code == 403


def test_the_master_downloads_are_csv_files(client, staff):
    EmployeeFactory(code="0001")
    response = client.get("/admin/export/employees.csv")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "0001" in b"".join(response.streaming_content).decode("utf-8-sig")
    assert client.get("/admin/export/items.csv").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_over_asgi_a_download_is_sent_in_batches_not_read_whole_first():
    from asgiref.sync import async_to_sync
    from django.contrib.auth.models import User
    from django.test import AsyncClient

    # Not the manager fixture: its group comes from a migration a transactional test flushes.
    manager = User.objects.create_superuser("boss")
    Employee.objects.bulk_create(
        Employee(code=f"{n:05d}", name=f"社員 {n}") for n in range(1, 1201)
    )

    async def download():
        client = AsyncClient()
        await client.aforce_login(manager)
        response = await client.get("/admin/export/employees.csv")
        return [chunk async for chunk in response.streaming_content]

    with warnings.catch_warnings():
        # Django warns, then reads it all into memory, when ASGI gets a synchronous iterator.
        warnings.simplefilter("error")
        chunks = async_to_sync(download)()

    assert len(chunks) == 3  # 1,201 lines, 500 at a time
    assert b"".join(chunks).decode("utf-8-sig").count("\r\n") == 1201
