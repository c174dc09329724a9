import pytest
from django.core.management import call_command
from django.utils import timezone

from inventory.employees.models import Employee
from inventory.items.models import Category, Item, Tag
from kiosk.models import Station

pytestmark = pytest.mark.django_db


def test_seeding_twice_gives_a_dozen_people_and_thirteen_tools_with_badges_and_tags(capsys, client):
    call_command("seed_demo", "--site", "http://127.0.0.1:8000")
    call_command("seed_demo", "--site", "http://127.0.0.1:8000")
    link = capsys.readouterr().out.strip().splitlines()[-1].split("open ")[1].split()[0]
    assert link.startswith("http://127.0.0.1:8000/kiosk/pair/")
    assert client.post(link.removeprefix("http://127.0.0.1:8000")).status_code == 302
    assert Station.objects.filter(name="デモ端末").count() == 1
    assert Employee.objects.count() == 12
    assert Item.objects.count() == 13
    assert Tag.objects.filter(employee__isnull=False).count() == 12
    assert Tag.objects.filter(item__isnull=False).count() == 13
    assert Employee.objects.get(code="E0001").name == "山田 太郎"
    # Tools that show the crib's rules at the demo kiosk.
    assert Item.objects.get(code="TO0012").calibration_due_soon(timezone.localdate())
    checked = Item.objects.get(code="TO0013")
    assert len(Category.objects.get(name=checked.category).checks) == 2


def test_ensure_admin_generates_a_password_and_shows_it_again(capsys, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    call_command("ensure_admin")
    first = capsys.readouterr().out
    call_command("ensure_admin")
    second = capsys.readouterr().out

    password = first.rsplit("password: ", 1)[1].strip()
    assert len(password) >= 16
    assert second == first
    from django.contrib.auth.models import User

    assert User.objects.get(username="admin").check_password(password)
    assert (tmp_path / "admin-password.txt").stat().st_mode & 0o777 == 0o600
