"""What the screen shows of the crib's rules: the check before use it asks, the card after the
answer, a borrow with a warning in amber, and each refusal with its code, in each language."""

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
from kiosk.scans import Scan, record_scans
from kiosk.screen import load_station, screen_context
from tests.factories import BadgeFactory, CategoryFactory, ToolTagFactory

pytestmark = pytest.mark.django_db


def tap(station, uid):
    now = timezone.now()
    scan = Scan(id=uuid.uuid4(), raw_id="", uid=uid, read_at=now)
    return record_scans(station=station, scans=[scan], sent_at=now, received_at=now)[0]


def state_page(station, language="en"):
    browser = Client()
    browser.post(pairing.pair_url(pairing.start_pairing(station)))
    browser.cookies["django_language"] = language
    return browser.get("/kiosk/state/").content.decode()


def pushes(monkeypatch, django_capture_on_commit_callbacks, act) -> dict[str, str]:
    """The state partial the screen is pushed after `act()`, rendered in each language."""
    pushed = []
    monkeypatch.setattr(broadcast, "send", lambda _id, template, context: pushed.append(context))
    with django_capture_on_commit_callbacks(execute=True):
        act()
    (context,) = pushed
    rendered = {}
    for language in ("en", "ja"):
        with translation.override(language):
            rendered[language] = render_to_string("kiosk/screen.html#state", context)
    return rendered


def result_card(html: str) -> str:
    start = html.index('id="kiosk-result"')
    return html[html.rindex("<section", 0, start) : html.index("</section>", start)]


@pytest.fixture
def megger():
    CategoryFactory(name="Meggers", checklist="Cable undamaged\nZero checked")
    return ToolTagFactory(item__name="Megger", item__category="Meggers")


@pytest.fixture
def alice():
    return BadgeFactory(employee__name="Alice")


def test_the_question_shows_each_check_in_order_with_ok_and_ng_naming_tool_and_person(
    station, megger, alice, monkeypatch, django_capture_on_commit_callbacks
):
    tap(station, alice.uid)
    html = pushes(monkeypatch, django_capture_on_commit_callbacks, lambda: tap(station, megger.uid))

    english = html["en"]
    main = english[english.index('id="kiosk-main"') : english.index("</main>")]
    assert "Check before use" in main and "Megger" in main and "Alice" in main
    assert main.index("Cable undamaged") < main.index("Zero checked")
    assert re.findall(r'name="(answer-\d)"', main) == ["answer-0", "answer-1"]
    assert f'name="item" value="{megger.item_id}"' in main
    assert f'name="employee" value="{alice.employee_id}"' in main
    assert 'data-answer="ok"' in main and 'data-answer="ng"' in main
    assert "{#" not in main  # a template comment shown as text
    # The tap's card stays away: the question is what the person looks at, and it is heard.
    card = result_card(english)
    assert " hidden>" in card.split("\n")[0]
    assert 'data-sound="checklist"' in card
    assert "使用前点検" in html["ja"]


def test_a_refreshed_screen_asks_the_same_question_without_reading_the_category_again(
    station, megger, alice, django_assert_num_queries
):
    tap(station, alice.uid)
    tap(station, megger.uid)
    loaded = load_station(station.pk)
    # the person's open loans with their tools, as for any session
    with django_assert_num_queries(1), translation.override("en"):
        html = render_to_string("kiosk/screen.html#state", screen_context(loaded))
    assert "Zero checked" in html
    assert "Zero checked" in state_page(station)


def test_after_all_ok_the_card_says_borrowed_and_undo_is_offered(
    station, megger, alice, monkeypatch, django_capture_on_commit_callbacks
):
    tap(station, alice.uid)
    tap(station, megger.uid)

    html = pushes(
        monkeypatch,
        django_capture_on_commit_callbacks,
        lambda: actions.answer_checklist(
            station=station,
            item_id=megger.item_id,
            employee_id=alice.employee_id,
            answers=[True, True],
        ),
    )["en"]

    card = result_card(html)
    assert "result--borrowed" in card and "Megger" in card and "Due " in card
    assert 'data-sound="borrowed"' in card
    assert f'"loan": "{Loan.objects.get().pk}"' in html  # Undo
    assert 'id="kiosk-checklist"' not in html


def test_after_an_ng_the_card_says_the_tool_went_to_maintenance_and_what_to_do(
    station, megger, alice, monkeypatch, django_capture_on_commit_callbacks
):
    tap(station, alice.uid)
    tap(station, megger.uid)

    html = pushes(
        monkeypatch,
        django_capture_on_commit_callbacks,
        lambda: actions.answer_checklist(
            station=station,
            item_id=megger.item_id,
            employee_id=alice.employee_id,
            answers=[True, False],
        ),
    )

    card = result_card(html["en"])
    assert "result--inspection_failed" in card and 'data-code="INSPECTION_FAILED"' in card
    assert "Sent to maintenance" in card and "Megger" in card
    assert re.findall(r'<li class="refused">.*?<span class="name">([^<]*)', card) == [
        "Zero checked"
    ]
    assert "take another one" in card
    assert "別の工具を使ってください" in result_card(html["ja"])


def test_a_borrow_with_a_calibration_due_soon_is_amber_with_the_warning_in_each_language(
    station, alice, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.CALIBRATION_WARN_DAYS = 14
    caliper = ToolTagFactory(
        item__name="Caliper", item__calibration_due=timezone.localdate() + datetime.timedelta(3)
    )
    tap(station, alice.uid)

    html = pushes(
        monkeypatch, django_capture_on_commit_callbacks, lambda: tap(station, caliper.uid)
    )

    english, japanese = result_card(html["en"]), result_card(html["ja"])
    assert "result--borrowed is-warning" in english
    assert "Caliper is due for calibration on" in english
    assert "bring it back to the tool crib by then" in english
    assert "is-warning" in japanese and "校正" in japanese
    assert "due for calibration" not in japanese


def test_a_tray_shows_a_tool_lent_with_a_warning_after_the_refusals_before_the_others(
    station, alice, megger, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.CALIBRATION_WARN_DAYS = 14
    wrench = ToolTagFactory(item__name="Wrench")
    caliper = ToolTagFactory(
        item__name="Caliper", item__calibration_due=timezone.localdate() + datetime.timedelta(3)
    )
    for tool in (wrench, caliper, megger):
        tap(station, tool.uid)

    html = pushes(monkeypatch, django_capture_on_commit_callbacks, lambda: tap(station, alice.uid))

    card = result_card(html["en"])
    rows = re.findall(r'<li class="([a-z ]+)">', card)
    assert rows == ["refused", "lent warned", "lent"]
    assert "Caliper is due for calibration on" in card
    assert "answer its 2 checks" in card
    # ...which the screen asks under the card.
    assert 'id="kiosk-checklist"' in html["en"]


def test_a_refusal_card_carries_its_code(
    station, alice, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.LOAN_LIMIT_PER_PERSON = 1
    tap(station, alice.uid)
    tap(station, ToolTagFactory(item__name="Wrench").uid)

    html = pushes(
        monkeypatch, django_capture_on_commit_callbacks, lambda: tap(station, ToolTagFactory().uid)
    )

    card = result_card(html["en"])
    assert 'data-code="LIMIT_REACHED"' in card
    assert "Alice holds 1 tools (Wrench) and may hold at most 1" in card


def test_a_tool_taken_over_with_a_calibration_due_soon_is_amber_with_the_warning_too(
    station, alice, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.CALIBRATION_WARN_DAYS = 14
    caliper = ToolTagFactory(
        item__name="Caliper", item__calibration_due=timezone.localdate() + datetime.timedelta(3)
    )
    services.borrow(item=caliper.item, employee=BadgeFactory().employee, door=Door.API)
    tap(station, alice.uid)
    tap(station, caliper.uid)  # returned from its holder in Alice's session

    html = pushes(
        monkeypatch,
        django_capture_on_commit_callbacks,
        lambda: actions.take_over(
            station=station, loan_id=Loan.objects.get().pk, employee_id=alice.employee_id
        ),
    )

    card = result_card(html["en"])
    assert "result--taken_over is-warning" in card
    assert "Caliper is due for calibration on" in card
