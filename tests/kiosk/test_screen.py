"""What the screen shows, in both languages, without a query per row."""

import datetime
import re
import uuid

import pytest
from django.template.loader import render_to_string
from django.test import Client
from django.utils import timezone, translation

from inventory.loans import services
from inventory.loans.models import Door, Loan
from kiosk import actions, broadcast, pairing
from kiosk.models import ScanEvent
from kiosk.scans import Scan, record_scans
from kiosk.screen import load_station, screen_context
from tests.factories import BadgeFactory, ItemFactory, ToolTagFactory

pytestmark = pytest.mark.django_db


def tap(station, uid):
    now = timezone.now()
    scan = Scan(id=uuid.uuid4(), raw_id="", uid=uid, read_at=now)
    return record_scans(station=station, scans=[scan], sent_at=now, received_at=now)


def page(station, language="en", path="/kiosk/"):
    browser = Client()
    browser.post(pairing.pair_url(pairing.start_pairing(station)))
    browser.cookies["django_language"] = language
    return browser.get(path).content.decode()


def test_the_idle_screen_shows_instructions_and_a_count_but_no_names(station):
    badge = BadgeFactory(employee__name="秘密 太郎")
    services.borrow(item=ItemFactory(), employee=badge.employee, door=Door.API)
    html = page(station)
    assert "Tap your badge" in html
    assert "1 tool out now" in html
    assert "秘密 太郎" not in html


def test_the_session_screen_lists_what_the_person_holds_with_overdue_marked(station):
    badge = BadgeFactory(employee__name="Alice")
    now = timezone.now()
    services.borrow(
        item=ItemFactory(name="Old gauge"),
        employee=badge.employee,
        door=Door.API,
        at=now - datetime.timedelta(days=2),
        due_at=now - datetime.timedelta(days=1),
    )
    tap(station, badge.uid)
    html = page(station)
    assert "Alice" in html
    assert "Old gauge" in html
    assert 'class="overdue"' in html


def test_japanese_is_the_default(station):
    assert 'lang="ja"' in page(station, language="ja")


def test_rendering_the_screen_costs_the_same_queries_for_any_holdings(
    station, django_assert_num_queries
):
    badge = BadgeFactory()
    for _ in range(5):
        services.borrow(item=ItemFactory(), employee=badge.employee, door=Door.API)
    tap(station, badge.uid)
    loaded = load_station(station.pk)
    # the session employee's open loans with their tools (no count of all tools in a session)
    with django_assert_num_queries(1), translation.override("en"):
        context = screen_context(loaded)
        render_to_string("kiosk/screen.html#state", context)
    assert len(context["holdings"]) == 5


def test_a_result_is_rendered_in_each_kiosks_language(station):
    tool = ToolTagFactory(item__name="Wrench")
    tap(station, tool.uid)
    event = ScanEvent.objects.get()
    context = screen_context(load_station(station.pk), result=event)
    with translation.override("en"):
        english = render_to_string("kiosk/screen.html#state", context)
    assert "Now tap your badge" in english
    assert 'data-sound="awaiting_badge"' in english


def test_the_kiosk_page_loads_nothing_from_the_internet(station, client):
    html = page(station)
    assets = re.findall(r'(?:src|href)="([^"#]+)"', html)
    assert any(asset.endswith("kiosk.js") for asset in assets)
    assert all(not asset.startswith(("http:", "https:", "//")) for asset in assets), assets
    for asset in assets:
        if asset.startswith("/static/"):
            assert client.get(asset).status_code == 200, asset


def test_after_a_reconnect_the_screen_says_the_offline_taps_were_recorded_late(station):
    badge, tool = BadgeFactory(), ToolTagFactory()
    now = timezone.now()
    read = now - datetime.timedelta(minutes=5)
    first = Scan(id=uuid.uuid4(), raw_id="", uid=badge.uid, read_at=read)
    second = Scan(
        id=uuid.uuid4(), raw_id="", uid=tool.uid, read_at=read + datetime.timedelta(seconds=2)
    )
    record_scans(station=station, scans=[first, second], sent_at=now, received_at=now)

    html = page(station, path=f"/kiosk/state/?late_since={first.id}")

    assert "2 taps made while offline were recorded" in html
    assert "while offline" not in page(station, path="/kiosk/state/")


@pytest.mark.parametrize("late_since", ["not-a-uuid", str(uuid.uuid4())])
def test_a_reconnect_naming_no_tap_of_this_station_shows_no_notice(station, late_since):
    html = page(station, path=f"/kiosk/state/?late_since={late_since}")

    assert 'id="kiosk-main"' in html
    assert "while offline" not in html


def test_a_tap_that_could_not_be_recorded_says_so_on_the_screen(
    station, monkeypatch, django_capture_on_commit_callbacks
):
    tool = ToolTagFactory()
    pushed = []
    monkeypatch.setattr(broadcast, "send", lambda _id, template, context: pushed.append(context))

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(services, "ensure_loanable", broken)
    with django_capture_on_commit_callbacks(execute=True):
        tap(station, tool.uid)

    (context,) = pushed
    assert context["result"].status == ScanEvent.Status.REJECTED
    with translation.override("en"):
        html = render_to_string("kiosk/screen.html#state", context)
    assert "Not recorded" in html and "Tap again" in html
    assert 'data-sound="refused"' in html


def test_every_change_of_the_tap_state_is_counted_in_the_screens_version(station):
    # The page drops a fetched state older than one pushed to it since (kiosk.js).
    def shown_version():
        return int(re.search(r'data-version="(\d+)"', page(station, path="/kiosk/state/"))[1])

    badge, tool = BadgeFactory(), ToolTagFactory()
    versions = [shown_version()]
    tap(station, badge.uid)
    versions.append(shown_version())
    tap(station, tool.uid)
    versions.append(shown_version())
    actions.undo_last_change(station=station, loan_id=Loan.objects.get().pk)
    versions.append(shown_version())
    actions.end_session(station=station, employee_id=badge.employee_id)
    versions.append(shown_version())
    actions.start_enrolment(station=station, item=ItemFactory())
    versions.append(shown_version())

    assert versions == sorted(set(versions)), versions  # each one higher than the last


def pushed_html(monkeypatch, django_capture_on_commit_callbacks, act) -> str:
    """The English state partial the screen is pushed after `act()`."""
    pushed = []
    monkeypatch.setattr(broadcast, "send", lambda _id, template, context: pushed.append(context))
    with django_capture_on_commit_callbacks(execute=True):
        act()
    (context,) = pushed
    with translation.override("en"):
        return render_to_string("kiosk/screen.html#state", context)


def result_card(html: str) -> str:
    start = html.index('id="kiosk-result"')
    return html[start : html.index("</section>", start)]


def test_after_an_undo_the_card_says_the_borrow_was_undone_not_borrowed(
    station, monkeypatch, django_capture_on_commit_callbacks
):
    badge, tool = BadgeFactory(), ToolTagFactory(item__name="Wrench")
    tap(station, badge.uid)
    tap(station, tool.uid)
    loan = Loan.objects.get()

    html = pushed_html(
        monkeypatch,
        django_capture_on_commit_callbacks,
        lambda: actions.undo_last_change(station=station, loan_id=loan.pk),
    )

    card = result_card(html)
    assert "Borrow undone" in card and "Wrench" in card
    assert "Borrowed" not in card
    assert 'data-sound="undone_borrow"' in card


def test_after_an_undone_return_the_card_says_whose_tool_it_is_again(
    station, monkeypatch, django_capture_on_commit_callbacks
):
    tool = ToolTagFactory(item__name="Wrench")
    holder = BadgeFactory(employee__name="Sato")
    services.borrow(item=tool.item, employee=holder.employee, door=Door.API)
    tap(station, tool.uid)

    html = pushed_html(
        monkeypatch,
        django_capture_on_commit_callbacks,
        lambda: actions.undo_last_change(station=station, loan_id=Loan.objects.get().pk),
    )

    assert "Return undone" in result_card(html)
    assert "It is on loan to Sato again." in result_card(html)


def test_a_return_in_someone_elses_session_asks_that_person_to_take_it_over(station):
    holder = BadgeFactory(employee__name="Sato")
    taker = BadgeFactory(employee__name="Yamada")
    tool = ToolTagFactory(item__name="Caliper")
    services.borrow(item=tool.item, employee=holder.employee, door=Door.API)
    tap(station, taker.uid)
    tap(station, tool.uid)

    html = page(station, path="/kiosk/state/")

    assert "Returned from Sato: Caliper" in html
    assert "Yamada: take it over?" in html
    assert f'"loan": "{Loan.objects.get().pk}", "employee": "{taker.employee_id}"' in html
    assert "Report damage" in html and "Undo" in html


def test_a_return_without_a_session_offers_undo_and_report_damage_but_no_take_over(station):
    tool = ToolTagFactory(item__name="Caliper")
    services.borrow(item=tool.item, employee=BadgeFactory().employee, door=Door.API)
    tap(station, tool.uid)

    html = page(station, path="/kiosk/state/")

    assert "Report damage" in html
    assert "take it over?" not in html


def test_the_idle_screen_lists_the_tools_waiting_for_a_badge_in_the_order_tapped(
    station, django_assert_num_queries
):
    names = ["Wrench", "Gauge", "Drill"]
    for name in names:
        tap(station, ToolTagFactory(item__name=name).uid)
    loaded = load_station(station.pk)

    # the count of tools out, the waiting tools
    with django_assert_num_queries(2), translation.override("en"):
        html = render_to_string("kiosk/screen.html#state", screen_context(loaded))

    assert "3 tools wait for your badge" in html
    tray = html[html.index('class="list tray"') :]
    assert [tray.index(name) for name in names] == sorted(tray.index(name) for name in names)


def test_a_tray_result_shows_each_tool_with_its_refusal_first(
    station, monkeypatch, django_capture_on_commit_callbacks
):
    from inventory.items.models import Item

    tools = [ToolTagFactory(item__name=name) for name in ("Wrench", "Gauge", "Drill")]
    for tool in tools:
        tap(station, tool.uid)
    Item.objects.filter(pk=tools[1].item_id).update(status="maintenance")

    html = pushed_html(
        monkeypatch,
        django_capture_on_commit_callbacks,
        lambda: tap(station, BadgeFactory().uid),
    )

    card = result_card(html)
    assert 'data-sound="refused"' in card  # a refusal in the tray is heard
    rows = re.findall(r'<li class="(lent|refused)">.*?<span class="name">([^<]*)', card, re.S)
    assert [(kind, name.split(" (")[0]) for kind, name in rows] == [
        ("refused", "Gauge"),
        ("lent", "Wrench"),
        ("lent", "Drill"),
    ]
    assert "it is in maintenance" in card


def test_the_reader_is_called_silent_after_about_two_missed_heartbeats_of_the_agent(
    station, settings
):
    from kiosk.models import Station

    settings.STATION_OFFLINE_SECONDS = 120
    Station.objects.filter(pk=station.pk).update(
        heartbeat_seconds=5, last_seen_at=timezone.now() - datetime.timedelta(seconds=20)
    )

    html = page(station, path="/kiosk/state/")

    assert 'data-silent-after-ms="15000"' in html  # 2 × 5 s, and 5 s for the way
    assert "The reader is not responding" in html  # 20 s without one: silent
    # Still online for the admin and the alerts, which wait STATION_OFFLINE_SECONDS.
    assert Station.objects.get(pk=station.pk).is_online()


def test_an_agent_that_never_said_its_interval_is_waited_for_as_long_as_offline(station, settings):
    settings.STATION_OFFLINE_SECONDS = 90
    assert 'data-silent-after-ms="90000"' in page(station, path="/kiosk/state/")
