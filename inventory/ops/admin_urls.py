"""Staff pages under /admin/ that belong to no single model (config/urls.py mounts these
before the admin site's own URLs)."""

from django.contrib import admin
from django.urls import path

from inventory.ops import admin_views

app_name = "ops_admin"
urlpatterns = [
    path("dashboard/", admin.site.admin_view(admin_views.dashboard), name="dashboard"),
    path("import/", admin.site.admin_view(admin_views.master_import), name="import"),
    *(
        path(
            f"export/{kind}.csv",
            admin.site.admin_view(admin_views.export_master),
            {"kind": kind},
            name=f"export_{kind}",
        )
        for kind in ("employees", "items")
    ),
]
