from django.contrib import admin

from inventory.core import admin_pages
from inventory.mfa import views as second_factor


class AdminSite(admin.AdminSite):
    """Django's admin with the pages that belong to no model's list or form
    (inventory.core.admin_pages) mounted beside the models', and the second factor
    (inventory.mfa) between the password and every page."""

    def get_urls(self):
        return [*second_factor.urls(self), *admin_pages.urls(self), *super().get_urls()]

    def admin_view(self, view, cacheable=False):
        return super().admin_view(second_factor.gate(self, view), cacheable)

    def login(self, request, extra_context=None):
        return second_factor.login(self, request, extra_context)
