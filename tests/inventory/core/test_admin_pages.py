import pytest
from django.contrib import admin
from django.core.exceptions import ImproperlyConfigured

from inventory.core import admin_pages


def test_every_page_of_the_project_names_permissions_that_exist():
    assert len(admin_pages.urls(admin.site)) == len(admin_pages.PAGES) > 0


def test_a_page_naming_a_permission_no_model_defines_stops_the_start(monkeypatch):
    typo = admin_pages.Page("x/", lambda request: None, "x", ("items.view_itme",))
    monkeypatch.setattr(admin_pages, "PAGES", [*admin_pages.PAGES, typo])
    with pytest.raises(ImproperlyConfigured, match=r"items\.view_itme"):
        admin_pages.urls(admin.site)
