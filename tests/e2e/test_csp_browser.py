"""The Content-Security-Policy in a real Chromium: each kind of page loads without a single
violation (reported as a securitypolicyviolation event or on the console) and still works: the
kiosk's scripts run and its WebSocket connects, the admin's scripts run, the dashboard's charts
draw, an import previews, Swagger UI lists the operations."""

import json
from pathlib import Path

import pytest

from kiosk import demo
from tests.e2e.conftest import pair
from tests.e2e.test_kiosk_browser import post_tap
from tests.live_server import LiveServer

pytestmark = pytest.mark.browser

# Runs before any script of each page (through the DevTools protocol, so the policy does not
# apply to it) and hands every violation to the test at once, navigations or not.
WATCH = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.cspViolation(`${event.violatedDirective} blocked ${event.blockedURI || "inline"}`
    + ` at ${event.sourceFile || document.location.href}:${event.lineNumber}`
    + ` (${(event.sample || "").slice(0, 60)})`);
});
"""


@pytest.fixture(scope="module")
def server():
    # MFA_REQUIRED: a second factor is another part of the issue; this test reads pages.
    with LiveServer("e2e_csp", env={"MFA_REQUIRED": "0"}) as live:
        live.manage("seed_demo")
        live.manage("ensure_admin")
        station = json.loads(live.manage("create_station", "CSP", "--json"))
        # A loan today, so that the dashboard's charts have a bar to draw.
        post_tap(live, station["token"], demo.badge_uid(1))
        post_tap(live, station["token"], demo.tool_uid(1))
        live.station = station
        yield live


def watch(context) -> list[str]:
    """Every CSP violation in the context's pages, as events and as console messages."""
    violations: list[str] = []
    context.expose_binding("cspViolation", lambda _source, text: violations.append(text))
    context.add_init_script(WATCH)

    def on_console(message):
        if "Content Security Policy" in message.text:
            violations.append(f"console: {message.text}")

    context.on("page", lambda page: page.on("console", on_console))
    return violations


@pytest.fixture
def watched(browser):
    """A browser context that records every CSP violation; the test fails on any."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    violations = watch(context)
    yield context, violations
    context.close()
    assert violations == [], "\n".join(violations)


def test_the_watch_sees_a_violation(server, browser):
    # Without this, a watch that heard nothing would pass every test below.
    context = browser.new_context()
    violations = watch(context)
    page = context.new_page()
    page.goto(server.url + "/admin/login/")
    page.evaluate(
        "document.body.insertAdjacentHTML('beforeend', '<p style=\"color: red\">x</p>');"
        "const script = document.createElement('script'); script.textContent = 'window.ran = 1';"
        "document.body.append(script)"
    )
    page.wait_for_timeout(300)
    assert page.evaluate("window.ran") is None  # the inline script did not run
    context.close()
    assert any(text.startswith("script-src") for text in violations), violations
    assert any(text.startswith("style-src") for text in violations), violations
    assert any(text.startswith("console:") for text in violations), violations


@pytest.fixture
def admin_page(server, watched):
    context, violations = watched
    page = context.new_page()
    password = (Path(server.var) / "admin-password.txt").read_text().strip()
    page.goto(server.url + "/admin/login/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_selector("#managers-tools")  # the admin index, the project's own table
    return page, violations


def test_the_paired_kiosk_runs_its_scripts_and_socket_under_the_policy(server, watched):
    context, violations = watched
    station = json.loads(server.manage("create_station", "CSP kiosk", "--json"))
    page = context.new_page()
    pair(page, server.url + station["pair_url"])
    header = page.evaluate(
        "fetch(location.href).then(answer => answer.headers.get('content-security-policy'))"
    )
    assert "script-src 'self'" in header and "unsafe-inline" not in header
    # kiosk.js hides the offline banner when htmx's socket opens: script and connect-src.
    page.wait_for_function("() => document.querySelector('#kiosk-offline').hidden === true")
    page.wait_for_timeout(300)  # the socket has joined its group
    assert post_tap(server, station["token"], demo.badge_uid(2))["outcome"] == "session_started"
    page.wait_for_selector("#kiosk-main.session")  # pushed over the socket, swapped by htmx
    # The stylesheet applies (the screen is laid out, not raw markup).
    assert page.evaluate("getComputedStyle(document.body).margin") == "0px"
    assert violations == []


def test_the_admin_pages_run_their_scripts_under_the_policy(server, admin_page):
    page, violations = admin_page
    # toolcrib.css applies where Django's own styles set no width: the table spans the page.
    page.goto(server.url + "/admin/loans/loan/overdue/")
    widths = page.evaluate(
        "['#overdue', '#content-main'].map(selector =>"
        " document.querySelector(selector).getBoundingClientRect().width)"
    )
    assert widths[0] == pytest.approx(widths[1], abs=2)

    # A list: Django's actions.js counts the selected rows.
    page.goto(server.url + "/admin/items/item/")
    rows = page.locator("#result_list tbody tr").count()
    assert rows >= 10
    page.click("#action-toggle")
    page.wait_for_function(
        f"() => document.querySelector('.action-counter').textContent.includes('{rows} of {rows}')"
    )

    # A change form: inlines.js adds its "add another" rows, DateTimeShortcuts its calendar.
    page.goto(server.url + "/admin/items/item/1/change/")
    page.wait_for_selector(".add-row a")
    page.wait_for_selector(".datetimeshortcuts")

    # select2's autocomplete (jQuery) asks the server and lists what it found.
    page.goto(server.url + "/admin/loans/loan/add/")
    page.click("#id_item + .select2")
    page.fill(".select2-search__field", "トルク")
    page.wait_for_selector(".select2-results__option >> text=トルクレンチ")

    # SelectFilter2's two boxes for a user's groups and permissions.
    page.goto(server.url + "/admin/auth/user/")
    page.click('#result_list th a >> text="admin"')
    page.wait_for_selector("#id_groups_from")

    # The second factor's enrolment: its QR code and its own stylesheet.
    page.goto(server.url + "/admin/mfa/enrol/")
    page.wait_for_selector(".mfa-qr svg")
    assert violations == []


def test_the_dashboard_draws_its_charts_under_the_policy(server, admin_page):
    page, violations = admin_page
    page.goto(server.url + "/admin/dashboard/")
    assert page.inner_text("#tools-out").strip() == "1"
    # Thirty days and twenty-four hours of bars, today's and this hour's drawn.
    charts = page.locator("svg.chart")
    assert charts.count() == 2
    assert charts.nth(0).locator("rect").count() == 30
    assert charts.nth(1).locator("rect").count() == 24
    drawn = page.evaluate(
        "[...document.querySelectorAll('svg.chart')].map(chart =>"
        " [...chart.querySelectorAll('rect')].filter(r => r.getBBox().height > 0).length)"
    )
    assert drawn == [1, 1]
    # The styles come from dashboard.css: tiles in a row, the bars filled.
    assert page.evaluate("getComputedStyle(document.querySelector('.tiles')).display") == "flex"
    fill = page.evaluate("getComputedStyle(document.querySelector('svg.chart rect')).fill")
    assert fill not in ("", "rgb(0, 0, 0)")
    meter = page.evaluate("document.querySelector('svg.meter rect').getBBox().width")
    assert meter == 100  # the only tool borrowed is the most borrowed
    assert violations == []


def test_an_import_previews_under_the_policy(server, admin_page, tmp_path):
    page, violations = admin_page
    exported = page.request.get(server.url + "/admin/export/employees.csv")
    assert exported.ok
    csv = tmp_path / "employees.csv"
    csv.write_bytes(exported.body())
    page.goto(server.url + "/admin/import/")
    page.locator("input[type=file]").first.set_input_files(str(csv))
    page.click("input[type=submit]")
    page.wait_for_selector("#summary")
    assert violations == []


def test_the_staff_monitor_connects_under_the_policy(server, admin_page):
    page, violations = admin_page
    page.goto(f"{server.url}/kiosk/?station={server.station['id']}")
    page.wait_for_selector("#kiosk .tag")  # "Monitor (read-only)"
    page.wait_for_function("() => document.querySelector('#kiosk-offline').hidden === true")
    assert violations == []


def test_the_api_docs_render_the_operations_under_the_policy(server, admin_page):
    page, violations = admin_page
    page.goto(server.url + "/api/docs/")
    page.wait_for_selector(".opblock")
    assert page.locator(".opblock").count() > 20
    # The browsable API too (the policy lets its own style attributes through).
    page.goto(server.url + "/api/v1/items/")
    page.wait_for_selector(".response-info")
    assert violations == []
