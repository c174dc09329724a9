from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig
from django.utils.module_loading import autodiscover_modules


class AdminConfig(DjangoAdminConfig):
    default_site = "config.admin.AdminSite"

    def ready(self):
        super().ready()
        # Each app's admin_views.py registers its pages (inventory.core.admin_pages).
        autodiscover_modules("admin_views")
