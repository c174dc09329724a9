"""The failed-login count is one for every server process: five wrong passwords sent to two
daphne processes in turn block the login on both, with Redis (REDIS_URL) and without it (the
database cache table); the reset commands unblock it for both."""

import http.cookiejar
import json
import os
import re
import urllib.error
import urllib.parse
import urllib.request

import pytest

from tests.live_server import LiveServer

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "boss-pass-0123456789"
CREATE_STAFF = (
    "from django.contrib.auth.models import User; "
    f"User.objects.create_superuser('boss', 'boss@example.com', {PASSWORD!r})"
)


@pytest.fixture(params=["redis", "database"])
def server(request):
    if request.param == "redis" and not os.environ.get("REDIS_URL"):
        pytest.skip("needs Redis: set REDIS_URL=redis://…")
    env = {"REDIS_URL": ""} if request.param == "database" else {}
    live = LiveServer(f"lockout_{request.param}", processes=2, env=env).setup()
    try:
        live.manage("shell", "-c", CREATE_STAFF)
        live.start()
        yield live
    finally:
        live.remove()


class Browser:
    """One person's cookies (and so one CSRF token) across both processes, as behind Caddy."""

    def __init__(self):
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
            NoRedirect(),
        )

    def login(self, base: str, password: str) -> tuple[int, str]:
        form = self.opener.open(f"{base}/admin/login/", timeout=30).read().decode()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
        body = urllib.parse.urlencode(
            {"csrfmiddlewaretoken": token, "username": "boss", "password": password}
        ).encode()
        return self._send(urllib.request.Request(f"{base}/admin/login/?next=/admin/", body))

    def token(self, base: str, password: str) -> tuple[int, str]:
        body = json.dumps({"username": "boss", "password": password}).encode()
        request = urllib.request.Request(
            f"{base}/api/v1/auth/token/", body, headers={"Content-Type": "application/json"}
        )
        return self._send(request)

    def _send(self, request) -> tuple[int, str]:
        request.add_header("Accept-Language", "en")
        try:
            with self.opener.open(request, timeout=30) as answer:
                return answer.status, answer.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a 302 after a good login is the answer we want to see


def test_five_failures_across_two_processes_block_the_login_on_both(server):
    first, second = server.urls()
    browser = Browser()

    failures = [browser.login((first, second)[n % 2], f"guess-{n}")[0] for n in range(5)]

    # Each process saw only two or three of them: alone, neither would have blocked.
    assert failures == [200, 200, 200, 200, 429]
    for base in (first, second):
        status, page = browser.login(base, PASSWORD)
        assert status == 429 and "too many wrong passwords" in page
        status, body = browser.token(base, PASSWORD)
        assert status == 429 and json.loads(body)["code"] == "LOCKED_OUT"

    server.manage("axes_reset_username", "boss")
    server.manage("axes_reset_ip", "127.0.0.1")

    assert browser.login(second, PASSWORD)[0] == 302
    assert browser.token(first, PASSWORD)[0] == 200
