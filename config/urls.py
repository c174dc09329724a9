from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("config.api_urls")),
    path("api/v1/kiosk/", include("kiosk.api_urls")),
    path("kiosk/", include("kiosk.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's init script as a file (?script), not inline: the
    # Content-Security-Policy allows no inline script.
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(url_name="schema", template_name="api/docs.html"),
        name="api-docs",
    ),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("inventory.ops.urls")),
]

handler404 = "inventory.core.api.errors.page_not_found"
