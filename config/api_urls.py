"""The whole /api/v1/ surface in one place."""

from django.urls import include, path
from rest_framework import exceptions
from rest_framework.routers import DefaultRouter
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from inventory.core.lockout import LoginLocked
from inventory.employees.api import EmployeeViewSet, QualificationViewSet
from inventory.items.api import CalibrationViewSet, CategoryViewSet, ItemViewSet, TagViewSet
from inventory.loans.api import HistoryViewSet, InspectionViewSet, LoanViewSet, OverdueViewSet
from inventory.mfa.serializers import TokenWithCodeSerializer
from kiosk.station_api import StationViewSet


class TokenView(TokenObtainPairView):
    """SimpleJWT's, with the lockout answer once django-axes has counted too many failures
    for the user name or the address (it then refuses even the right password)."""

    # Users with a second factor send its code in `otp` (inventory.mfa).
    serializer_class = TokenWithCodeSerializer

    def post(self, request, *args, **kwargs):
        try:
            return super().post(request, *args, **kwargs)
        except exceptions.AuthenticationFailed:
            if getattr(request, "axes_locked_out", False):
                raise LoginLocked() from None
            raise


router = DefaultRouter(trailing_slash=True)
router.register("employees", EmployeeViewSet, basename="employee")
router.register("items", ItemViewSet, basename="item")
router.register("loans", LoanViewSet, basename="loan")
router.register("tags", TagViewSet, basename="tag")
router.register("stations", StationViewSet, basename="station")
router.register("history", HistoryViewSet, basename="history")
router.register("overdue", OverdueViewSet, basename="overdue")
router.register("inspections", InspectionViewSet, basename="inspection")
router.register("qualifications", QualificationViewSet, basename="qualification")
router.register("categories", CategoryViewSet, basename="category")
router.register("calibrations", CalibrationViewSet, basename="calibration")

urlpatterns = [
    path("auth/token/", TokenView.as_view(), name="token_obtain_pair"),
    path("auth/token/refresh/", TokenRefreshView.as_view(), name="token_refresh"),
    path("", include(router.urls)),
]
