"""The demo crib: a dozen people and tools with fixed demo UIDs, so a newcomer can tap along, with
tools that show the crib's rules: an expired calibration, one in maintenance, one nearly due for
calibration (lent with a warning) and one with a check before use."""

import datetime

from django.db import transaction
from django.utils import timezone

from inventory.employees.models import Employee
from inventory.items.models import Category, Item, Tag
from kiosk.models import Station

STATION = "デモ端末"

EMPLOYEES = [
    ("E0001", "山田 太郎", "やまだ たろう", "製造一課"),
    ("E0002", "佐藤 花子", "さとう はなこ", "製造一課"),
    ("E0003", "鈴木 一郎", "すずき いちろう", "製造二課"),
    ("E0004", "高橋 美咲", "たかはし みさき", "製造二課"),
    ("E0005", "田中 健太", "たなか けんた", "品質保証課"),
    ("E0006", "伊藤 由美", "いとう ゆみ", "品質保証課"),
    ("E0007", "渡辺 翔", "わたなべ しょう", "保全課"),
    ("E0008", "中村 さくら", "なかむら さくら", "保全課"),
    ("E0009", "小林 大輔", "こばやし だいすけ", "生産技術課"),
    ("E0010", "加藤 恵", "かとう めぐみ", "生産技術課"),
    ("E0011", "吉田 直樹", "よしだ なおき", "製造一課"),
    ("E0012", "山本 彩", "やまもと あや", "製造二課"),
]
ITEMS = [
    ("TO0001", "トルクレンチ 50N·m", "締付工具", "工具棚 A-1"),
    ("TO0002", "デジタルノギス 150mm", "測定具", "測定具棚 B-1"),
    ("TO0003", "外側マイクロメータ 0-25mm", "測定具", "測定具棚 B-2"),
    ("TO0004", "充電式インパクトドライバー", "電動工具", "工具棚 A-2"),
    ("TO0005", "電動ドリル 13mm", "電動工具", "工具棚 A-2"),
    ("TO0006", "ディスクグラインダー 100mm", "電動工具", "工具棚 A-3"),
    ("TO0007", "ダイヤルゲージ 0.01mm", "測定具", "測定具棚 B-3"),
    ("TO0008", "精密水平器 200mm", "測定具", "測定具棚 B-3"),
    ("TO0009", "六角レンチセット", "手工具", "工具棚 A-1"),
    ("TO0010", "圧着ペンチ", "手工具", "工具棚 A-4"),
    ("TO0011", "デジタルマルチメータ", "電気計測器", "測定具棚 B-4"),
    ("TO0012", "ハイトゲージ 300mm", "測定具", "測定具棚 B-5"),
    ("TO0013", "絶縁抵抗計 500V", "絶縁抵抗計", "測定具棚 B-4"),
]
# The category whose tools the kiosk asks a check before use for.
CHECKLIST = ("絶縁抵抗計", "テストリードに傷・断線がない\n測定前にゼロ点を確認した")
# The tools the demo screen has buttons for (numbers as in tool_uid): the first ones, and those
# that show the rules (3 calibration expired, 6 in maintenance, 12 nearly due, 13 checked).
PANEL_TOOLS = (1, 2, 3, 4, 5, 6, 12, 13)


def badge_uid(number: int) -> str:
    return f"04DE{number:010X}"


def tool_uid(number: int) -> str:
    return f"1DDE{number:010X}"


@transaction.atomic
def seed() -> dict[str, int]:
    """Create or refresh the demo records; running it twice changes nothing the second time."""
    today = timezone.localdate()
    Category.objects.update_or_create(name=CHECKLIST[0], defaults={"checklist": CHECKLIST[1]})
    for number, (code, name, reading, department) in enumerate(EMPLOYEES, start=1):
        employee, _ = Employee.objects.update_or_create(
            code=code, defaults={"name": name, "reading": reading, "department": department}
        )
        Tag.objects.get_or_create(
            uid=badge_uid(number), active=True, defaults={"employee": employee}
        )
    for number, (code, name, category, location) in enumerate(ITEMS, start=1):
        defaults = {"name": name, "category": category, "location": location}
        if code == "TO0003":
            defaults["calibration_due"] = today - datetime.timedelta(days=3)
        if code == "TO0012":
            defaults["calibration_due"] = today + datetime.timedelta(days=5)
        if code == "TO0013":
            # Back from maintenance at every start, should an NG have sent it there.
            defaults["status"] = Item.Status.AVAILABLE
        if code == "TO0006":
            defaults["status"] = Item.Status.MAINTENANCE
        if code == "TO0004":
            defaults["loan_period"] = datetime.timedelta(hours=4)
        item, _ = Item.objects.update_or_create(code=code, defaults=defaults)
        Tag.objects.get_or_create(uid=tool_uid(number), active=True, defaults={"item": item})
    station = Station.objects.filter(name=STATION).first()
    if station is None:
        # Its agent token is never shown: in demo mode the screen's buttons stand in for a reader.
        station = Station(name=STATION, location="デモ")
        station.issue_token()
        station.save()
    return {"employees": len(EMPLOYEES), "items": len(ITEMS), "station": station}
