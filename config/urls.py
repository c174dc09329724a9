from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

urlpatterns = [
    path("admin/", include("inventory.ops.admin_urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("inventory.api_urls")),
    path("api/v1/kiosk/", include("kiosk.api_urls")),
    path("kiosk/", include("kiosk.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("inventory.ops.urls")),
]

handler404 = "inventory.api_errors.page_not_found"
