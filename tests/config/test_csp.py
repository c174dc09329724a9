"""Every HTML page carries an enforced Content-Security-Policy that allows no inline script, and
no page holds inline script to be refused: every URL of the project that takes no argument, and
every admin model's list, add and change form, read as a superuser the way a browser asks."""

import io
import os
import re
import subprocess
import sys
from html.parser import HTMLParser

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.factories import overdue_loan

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
# Types of script element that hold data, never code.
DATA_SCRIPT_TYPES = {"application/json", "application/ld+json"}


def plain_urls(patterns=None, prefix="") -> list[str]:
    """Every URL of the URLconf that needs no argument."""
    urls = []
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(entry.pattern).removeprefix("^").removesuffix("$")
        if re.search(r"[<(\[\\*+?$^]", route):
            continue
        if isinstance(entry, URLResolver):
            urls += plain_urls(entry.url_patterns, route)
        elif isinstance(entry, URLPattern):
            urls.append("/" + route)
    return sorted(set(urls))


def admin_form_urls() -> list[str]:
    urls = []
    for model in admin.site._registry:
        name = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        urls.append(reverse(f"{name}_changelist"))
        urls.append(reverse(f"{name}_add"))
        first = model._default_manager.order_by("pk").first()
        if first is not None:
            urls.append(reverse(f"{name}_change", args=[first.pk]))
    # Pages of one object beside the forms.
    from inventory.loans.models import Loan
    from kiosk.models import Station

    urls.append(reverse("admin:kiosk_station_pairing", args=[Station.objects.first().pk]))
    urls.append(reverse("admin:loans_loan_correct", args=[Loan.objects.first().pk]))
    return urls


class InlineCode(HTMLParser):
    """What a policy without 'unsafe-inline' would refuse: script elements without src that hold
    code, on* handler attributes, javascript: URLs, style attributes and elements."""

    def __init__(self):
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        kind = (attributes.get("type") or "").lower()
        if tag == "script" and not attributes.get("src") and kind not in DATA_SCRIPT_TYPES:
            self.found.append(f"inline <script {attrs}>")
        if tag == "style":
            self.found.append("<style> element")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=...>")
            if name == "style":
                self.found.append(f'<{tag} style="{value}">')
            if name in ("href", "src", "action") and (value or "").strip().lower().startswith(
                "javascript:"
            ):
                self.found.append(f"<{tag} {name}={value}>")


def directives(header: str) -> dict[str, list[str]]:
    parts = (part.split() for part in header.split(";") if part.strip())
    return {words[0]: words[1:] for words in parts}


@pytest.fixture
def seeded(db):
    call_command("seed_demo", site="http://testserver", stdout=io.StringIO())
    overdue_loan(3)  # the loan pages, its correction form and the overdue list with a row


def test_every_html_page_forbids_inline_script_and_holds_none(seeded, admin_client):
    admin_client.defaults["HTTP_ACCEPT"] = BROWSER_ACCEPT
    # Refusals (an add form of a read-only model) are pages too.
    admin_client.raise_request_exception = False
    urls = plain_urls() + admin_form_urls()
    pages = {}
    for url in urls:
        response = admin_client.get(url)
        assert response.status_code < 500, url
        if response.get("Content-Type", "").startswith("text/html") and response.content:
            pages[url] = response

    # Each kind of page the issue names is among those read.
    for must in ("/admin/", "/admin/dashboard/", "/admin/import/", "/api/docs/", "/api/v1/items/"):
        assert must in pages, f"{must} was not read as an HTML page"
    assert "/admin/kiosk/station/" in pages and "/api/v1/" in pages
    assert sum("/change/" in url for url in pages) >= 5, "too few change forms read"

    problems = []
    for url, response in pages.items():
        header = response.get("Content-Security-Policy")
        if not header:
            problems.append(f"{url}: no Content-Security-Policy header")
            continue
        policy = directives(header)
        script = policy.get("script-src", policy.get("default-src", []))
        if "'self'" not in script or any(
            word in script for word in ("'unsafe-inline'", "'unsafe-eval'", "data:", "*")
        ):
            problems.append(f"{url}: script-src {script}")
        if "'unsafe-inline'" in policy.get("style-src", []):
            problems.append(f"{url}: style-src {policy['style-src']}")
        parser = InlineCode()
        parser.feed(response.content.decode())
        found = parser.found
        if "'unsafe-inline'" in policy.get("style-src-attr", []):
            found = [text for text in found if "style=" not in text]
        problems += [f"{url}: {text}" for text in found]
    assert not problems, "\n".join(problems)


@pytest.mark.django_db
def test_pages_for_anyone_carry_the_policy_too(client):
    client.defaults["HTTP_ACCEPT"] = BROWSER_ACCEPT
    for url in ("/admin/login/", "/kiosk/", "/no/such/page/"):
        response = client.get(url, follow=True)
        assert response["Content-Type"].startswith("text/html"), url
        policy = directives(response["Content-Security-Policy"])
        assert policy["script-src"] == ["'self'"], url
        assert policy["frame-ancestors"] == ["'none'"] and policy["object-src"] == ["'none'"]
        parser = InlineCode()
        parser.feed(response.content.decode())
        assert parser.found == [], (url, parser.found)


def test_the_kiosk_may_fetch_from_its_own_agent_and_no_other_host():
    # Settings are read once per process: a fresh one with the agent elsewhere.
    code = (
        "from config import settings; "
        "print(settings.CONTENT_SECURITY_POLICY['DIRECTIVES']['connect-src'])"
    )
    env = {**os.environ, "KIOSK_AGENT_STATUS_URL": "http://10.1.2.3:9000/status", "DEBUG": "1"}
    output = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout
    assert output.strip() == "[\"'self'\", 'http://10.1.2.3:9000']"
