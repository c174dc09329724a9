"""Every state of the kiosk screen fits the kiosk displays, in Japanese and in English: nothing to
scroll (gloves cannot), nothing cut off or outside the screen, buttons at least 48 px high.

One browser with one page per display size, each paired to a station of its own; the states are
made through the real server (taps on the agent's API, the screen's buttons, an enrolment, the
server stopped). The crib's rules are there with their longest words: a loan limit naming three
tools, overdue tools, a qualification, an expired calibration, a warning, and a check before use
of five checks, asked, answered NG and refused. Screenshots of each state land in the run's
screenshot folder.
"""

import csv
import json
import urllib.request
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from tests.e2e.conftest import REPORT, pair
from tests.live_server import LiveServer

pytestmark = pytest.mark.browser

SIZES = [(800, 480), (1024, 600), (1280, 720), (720, 1280)]
HELD = 12  # tools one person holds in the fullest session
STEP = timedelta(seconds=3)
# 30 characters each: the longest names a crib is likely to give its tools.
NAMES = [
    "精密デジタルノギス 150mm 防水型 IP67 No.{n:02d}",
    "Torque wrench 40-200 N·m 3/8 {n:02d}",
]
PEOPLE = ["長谷川 左衛門三郎太", "Alexandra Montgomery-Smith"]
# The tools that show the crib's rules, numbered after the HELD + 2 ordinary ones of a station:
# four of a category with a limit of three, one that needs a qualification nobody holds, one
# past its calibration, one nearly due, one checked before use, three borrowed long ago by the
# person with overdue tools, and one that person taps.
LIMITED, QUALIFIED, EXPIRED, DUE_SOON, CHECKED = 14, 18, 19, 20, 21
OVERDUE, SPARE = [22, 23, 24], 25
RULES = dict.fromkeys(range(LIMITED, LIMITED + 4), "Limited") | {
    QUALIFIED: "Qualified",
    CHECKED: "Checked",
}
# Five checks of about 25 characters.
CHECKS = [
    "テストリードの被覆に傷・割れ・断線がないことを確認",
    "測定前にゼロ点調整を行い表示がゼロになることを確認",
    "本体ケースに割れ・変形・焼け跡がないことを目で確認",
    "Probe tips clean and tight",
    "Battery shows two bars or more",
]
CATEGORIES = [
    ["name", "loan_limit", "qualification", "checklist"],
    ["Limited", "3", "", ""],
    ["Qualified", "", "トルク工具 社内講習（2日間）修了", ""],
    ["Checked", "", "", "\n".join(CHECKS)],
]
AGENT_STATUS = {
    "server_reachable": False,
    "outbox_depth": 3,
    "recent": [{"id": f"read-{n}", "state": "pending"} for n in range(3)],
}

CREATE_STATIONS = """
import json
from kiosk import actions, pairing
made = []
for n in range({count}):
    station, token, code = actions.create_station(name=f"Layout {{n}}")
    made.append({{"token": token, "pair_url": pairing.pair_url(code)}})
print(json.dumps(made))
"""
OVERDUE_LOANS = """
import datetime
from django.utils import timezone
from inventory.employees.models import Employee
from inventory.items.models import Item
from inventory.loans import services
from inventory.loans.models import Door
long_ago = timezone.now() - datetime.timedelta(days=3)
for station in range({count}):
    person = Employee.objects.get(code=f"L{{station}}P3")
    for n in {tools}:
        services.borrow(
            item=Item.objects.get(code=f"L{{station}}T{{n}}"), employee=person, door=Door.API,
            at=long_ago, due_at=long_ago + datetime.timedelta(hours=8),
        )
"""
ENROL = """
from inventory.items.models import Item
from kiosk import actions
from kiosk.models import Station
for n in {stations}:
    station = Station.objects.get(name=f"Layout {{n}}")
    actions.start_enrolment(station=station, item=Item.objects.get(code=f"L{{n}}T0"))
"""

# What is wrong on the screen: the page scrolls; an element lies outside the screen, sticks out
# of the box it is in, or holds more than it shows; a button is lower than 48 px.
MEASURE = """() => {
  const page = document.scrollingElement;
  const problems = [];
  const name = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
    (el.classList.length ? "." + [...el.classList].join(".") : "");
  if (page.scrollHeight > page.clientHeight || page.scrollWidth > page.clientWidth) {
    problems.push(`the page scrolls: ${page.scrollWidth}×${page.scrollHeight}`);
  }
  for (const el of document.querySelectorAll("#kiosk *")) {
    const style = getComputedStyle(el);
    if (!el.getClientRects().length || style.visibility === "hidden") continue;
    const box = el.getBoundingClientRect();
    if (box.left < -1 || box.top < -1 ||
        box.right > innerWidth + 1 || box.bottom > innerHeight + 1) {
      problems.push(`${name(el)} is outside the screen`);
    }
    // An inline box is as tall as its font, which may be taller than its line: only boxes.
    if (style.display === "inline") continue;
    const parent = el.parentElement.getBoundingClientRect();
    if (box.left < parent.left - 1 || box.right > parent.right + 1 ||
        box.top < parent.top - 1 || box.bottom > parent.bottom + 1) {
      problems.push(`${name(el)} sticks out of ${name(el.parentElement)}`);
    }
    const clips = style.overflowX !== "visible" || style.overflowY !== "visible";
    if (el.scrollWidth > el.clientWidth + 1 || (clips && el.scrollHeight > el.clientHeight + 1)) {
      problems.push(`${name(el)} holds more than it shows`);
    }
    if (el.tagName === "BUTTON" && box.height < 48) {
      problems.push(`${name(el)} is ${box.height} px high`);
    }
  }
  return {problems, height: page.scrollHeight};
}"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("layout-data")
    # A long session: the states are looked at one after another on four screens. A person
    # with an overdue tool may not borrow.
    live = LiveServer(
        "e2e_layout", env={"KIOSK_SESSION_SECONDS": "900", "LOAN_BLOCK_WHEN_OVERDUE": "1"}
    )
    live.setup()
    employees, items = folder / "employees.csv", folder / "items.csv"
    categories = folder / "categories.csv"
    with categories.open("w", newline="") as rules:
        csv.writer(rules).writerows(CATEGORIES)
    today = date.today()
    calibration = {EXPIRED: today - timedelta(days=1), DUE_SOON: today + timedelta(days=3)}
    with employees.open("w", newline="") as people, items.open("w", newline="") as tools:
        people_csv, tools_csv = csv.writer(people), csv.writer(tools)
        people_csv.writerow(["code", "name", "uids"])
        tools_csv.writerow(["code", "name", "status", "uids", "category", "calibration_due"])
        for station in range(2 * len(SIZES)):
            for who in range(4):
                people_csv.writerow(
                    [f"L{station}P{who}", PEOPLE[(station + who) % 2], badge(station, who)]
                )
            for n in range(SPARE + 1):
                # The last ordinary tool of each station is in maintenance: tapping it is refused.
                status = "maintenance" if n == HELD + 1 else "available"
                name = NAMES[n % 2].format(n=n)
                due = calibration.get(n, "")
                tools_csv.writerow(
                    [f"L{station}T{n}", name, status, tool(station, n), RULES.get(n, ""), due]
                )
    live.manage(
        "import_master",
        "--employees",
        str(employees),
        "--items",
        str(items),
        "--categories",
        str(categories),
    )
    stations = 2 * len(SIZES)
    live.manage("shell", "--no-imports", "-c", OVERDUE_LOANS.format(count=stations, tools=OVERDUE))
    # What create_station does, for all the stations in one go (a second each adds up).
    made = live.manage("shell", "--no-imports", "-c", CREATE_STATIONS.format(count=stations))
    live.stations = json.loads(made)
    live.start()
    try:
        yield live
    finally:
        live.remove()


def badge(station: int, who: int) -> str:
    return f"04A1{station:02X}{who:02X}000000"


def tool(station: int, n: int) -> str:
    return f"1DA1{station:02X}{n:02X}000000"


def post_taps(server, token, *uids):
    """Taps read 3 s apart up to now (a card read twice within 2 s is a repeat)."""
    now = datetime.now(UTC)
    events = [
        {"id": str(uuid.uuid4()), "uid": uid, "read_at": (now - (len(uids) - n) * STEP).isoformat()}
        for n, uid in enumerate(uids, start=1)
    ]
    request = urllib.request.Request(
        f"{server.url}/api/v1/kiosk/scans",
        data=json.dumps({"sent_at": now.isoformat(), "events": events}).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Station {token}"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return [result["outcome"] for result in json.load(response)["results"]]


def enrol(server, stations: list[int]) -> None:
    """What the admin's "Enrol by tapping" does: each station waits for a new tag."""
    server.manage("shell", "--no-imports", "-c", ENROL.format(stations=stations))


class Screen:
    """One display size: its page, paired to a station of the language being looked at."""

    def __init__(self, browser, size):
        self.size = size
        # Without the card's pop animation: it is measured as it stands.
        self.context = browser.new_context(
            viewport={"width": size[0], "height": size[1]}, reduced_motion="reduce"
        )
        self.page = self.context.new_page()
        # The kiosk agent on the Pi answers the page while the server is away.
        self.page.route(
            "**/status",
            lambda route: route.fulfill(
                json=AGENT_STATUS, headers={"Access-Control-Allow-Origin": "*"}
            ),
        )

    def show(self, server, station: int, language: str):
        self.station = station
        self.context.add_cookies(
            [{"name": "django_language", "value": language, "url": server.url}]
        )
        made = server.stations[station]
        self.token = made["token"]
        pair(self.page, server.url + made["pair_url"])
        self.page.wait_for_function("() => document.querySelector('#kiosk-offline').hidden")

    def tap(self, server, *uids):
        return post_taps(server, self.token, *uids)

    def put_card_away(self):
        self.page.click("#kiosk-result")
        self.page.wait_for_selector("#kiosk-result", state="hidden")


def test_every_state_of_the_screen_fits_every_kiosk_display(server, browser, screenshot):
    screens = [Screen(browser, size) for size in SIZES]
    heights, problems = [], []

    def look(state, language, ready: str):
        for screen in screens:
            screen.page.wait_for_selector(ready, state="attached", timeout=5000)
        for screen in screens:
            measured = screen.page.evaluate(MEASURE)
            width, height = screen.size
            heights.append((measured["height"], f"{width}×{height} {language} {state}"))
            problems.extend(
                f"{width}×{height} {language} {state}: {p}" for p in measured["problems"]
            )
            screenshot(screen.page, f"{width}x{height}-{language}-{state}")

    for phase, language in enumerate(["ja", "en"]):
        if phase:
            server.env["LANGUAGE_CODE"] = language
            server.start()
        for number, screen in enumerate(screens):
            screen.show(server, phase * len(SIZES) + number, language)
        look("idle", language, "#kiosk-main.idle")

        for screen in screens:
            screen.tap(server, f"DEADBEEF{screen.station:02X}")
        look("unknown-tag", language, "#kiosk-result.result--unknown_tag")

        for screen in screens:
            # The colleague borrows the tool the person will find on the bench later.
            s = screen.station
            assert screen.tap(server, badge(s, 1), tool(s, HELD), badge(s, 1)) == [
                "session_started",
                "borrowed",
                "session_ended",
            ]
            screen.tap(server, badge(s, 0))
        look("session-0", language, "#kiosk-main.session .holdings li.none")

        for screen in screens:
            screen.page.click("#kiosk-actions .end")
        look("goodbye", language, "#kiosk-result.result--session_ended")

        for screen in screens:
            screen.put_card_away()
            screen.tap(server, *(tool(screen.station, n) for n in range(3)))
        look("tray", language, "#kiosk-main.tray .tray li:nth-child(3)")

        for screen in screens:
            screen.tap(server, badge(screen.station, 0))
        look("tray-borrowed", language, "#kiosk-result.result--borrowed .lines")

        for screen in screens:
            screen.put_card_away()
        look("session-3", language, ".holdings li:nth-child(3):not(.more)")

        for screen in screens:
            screen.tap(server, tool(screen.station, HELD + 1))
        look("refusal", language, "#kiosk-result.result--refused")

        for screen in screens:
            screen.tap(server, *(tool(screen.station, n) for n in range(3, HELD)))
        look("borrowed", language, "#kiosk-result.result--borrowed")

        for screen in screens:
            screen.put_card_away()
        look("session-12", language, ".holdings li.more:not([hidden])")

        for screen in screens:
            assert screen.tap(server, tool(screen.station, HELD)) == ["returned"]
        look("returned-from-colleague", language, "#kiosk-actions .take-over")

        for screen in screens:
            screen.put_card_away()
        look("take-over-question", language, "#kiosk-actions .take-over")

        # The crib's rules: each refusal, the warning, the check before use.
        for screen in screens:
            s = screen.station
            limited = [tool(s, n) for n in range(LIMITED, LIMITED + 4)]
            assert screen.tap(server, badge(s, 2), *limited)[-1] == "refused"
        look("limit-reached", language, "#kiosk-result[data-code=LIMIT_REACHED]")

        for screen in screens:
            assert screen.tap(server, badge(screen.station, 3), tool(screen.station, SPARE)) == [
                "session_started",
                "refused",
            ]
        look("has-overdue", language, "#kiosk-result[data-code=HAS_OVERDUE]")

        for screen in screens:
            screen.tap(server, badge(screen.station, 0), tool(screen.station, QUALIFIED))
        look("not-qualified", language, "#kiosk-result[data-code=NOT_QUALIFIED]")

        for screen in screens:
            screen.tap(server, tool(screen.station, EXPIRED))
        look("calibration-expired", language, "#kiosk-result[data-code=CALIBRATION_EXPIRED]")

        for screen in screens:
            assert screen.tap(server, tool(screen.station, DUE_SOON)) == ["borrowed"]
        look("calibration-due-soon", language, "#kiosk-result.result--borrowed.is-warning")

        for screen in screens:
            screen.put_card_away()
            assert screen.tap(server, tool(screen.station, CHECKED)) == ["checklist"]
        look("checklist", language, "#kiosk-checklist li.is-current")

        for screen in screens:
            for _check in CHECKS:
                screen.page.click("#kiosk-checklist [data-answer=ng]")
        look("checklist-all-ng", language, "#kiosk-checklist.is-done.has-ng")

        for screen in screens:
            screen.page.click("#kiosk-checklist .send-ng")
        look("inspection-failed", language, "#kiosk-result.result--inspection_failed")

        enrol(server, [screen.station for screen in screens])
        look("enrolment", language, "#kiosk-main.enrol")

        server.stop()
        saved = screens[0].page.get_attribute("#kiosk-offline", "data-saved-text")
        waiting = saved.replace("%(count)s", "3")
        look("offline", language, f"#kiosk-offline >> text={waiting}")

    for screen in screens:
        screen.context.close()
    tallest, where = max(heights)
    REPORT.append(f"kiosk layout: the tallest page measured {tallest} px ({where})")
    assert not problems, "\n".join(problems)
