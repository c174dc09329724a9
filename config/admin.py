from django.contrib import admin

from inventory.core import admin_pages


class AdminSite(admin.AdminSite):
    """Django's admin with the pages that belong to no model's list or form
    (inventory.core.admin_pages) mounted beside the models'."""

    def get_urls(self):
        return [*admin_pages.urls(self), *super().get_urls()]
