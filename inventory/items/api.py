import django_filters
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Prefetch
from django.utils.translation import gettext_lazy as _
from rest_framework import mixins, viewsets
from rest_framework.exceptions import ValidationError

from inventory.core.uids import is_uid, normalize_uid
from inventory.items.models import Calibration, Category, Item, Tag
from inventory.items.serializers import (
    CalibrationSerializer,
    CategorySerializer,
    ItemSerializer,
    TagSerializer,
)
from inventory.items.services import enrol_tag, record_calibration
from inventory.loans.models import Loan


class ItemFilter(django_filters.FilterSet):
    search = django_filters.CharFilter(
        method="filter_search", label="Code, name, category, location or tag UID"
    )
    on_loan = django_filters.BooleanFilter(method="filter_on_loan", label="Currently on loan")

    class Meta:
        model = Item
        fields = ["status", "category", "location"]

    def filter_search(self, queryset, name, value):
        return queryset.search(value)

    def filter_on_loan(self, queryset, name, value):
        on_loan = Exists(Loan.objects.open().filter(item=OuterRef("pk")))
        return queryset.filter(on_loan if value else ~on_loan)


class ItemViewSet(viewsets.ModelViewSet):
    """Tools, looked up by their code: `/api/v1/items/TO0001/`."""

    queryset = Item.objects.prefetch_related(
        Prefetch("tags", queryset=Tag.objects.active(), to_attr="active_tags"),
        Prefetch(
            "loans",
            queryset=Loan.objects.open().select_related("employee"),
            to_attr="open_loans",
        ),
    )
    serializer_class = ItemSerializer
    filterset_class = ItemFilter
    lookup_field = "code"
    # Codes come from the factory's own lists and may hold a slash ("M8/12"): the whole rest
    # of the path is the code (there are no routes below one).
    lookup_value_regex = ".+"


class TagFilter(django_filters.FilterSet):
    uid = django_filters.CharFilter(method="filter_uid", label="UID, in any spelling")
    kind = django_filters.ChoiceFilter(
        method="filter_kind", choices=[("badge", "badge"), ("tool", "tool")], label="badge or tool"
    )
    employee = django_filters.CharFilter(field_name="employee__code", label="Employee code")
    item = django_filters.CharFilter(field_name="item__code", label="Tool code")

    class Meta:
        model = Tag
        fields = ["active"]

    def filter_uid(self, queryset, name, value):
        return queryset.filter(uid=normalize_uid(value)) if is_uid(value) else queryset.none()

    def filter_kind(self, queryset, name, value):
        return queryset.filter(**{f"{'employee' if value == 'badge' else 'item'}__isnull": False})


class TagViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """NFC tags: badges and tool tags. Never deleted; PATCH `active: false` to retire one."""

    queryset = Tag.objects.select_related("employee", "item").order_by(
        "-active", "-created_at", "-pk"
    )
    serializer_class = TagSerializer
    filterset_class = TagFilter
    http_method_names = ["get", "post", "patch", "head", "options"]

    def perform_create(self, serializer):
        # The same use case as the admin's and the kiosk's enrolment: the rules live there.
        data = serializer.validated_data
        serializer.instance = enrol_tag(
            uid=data["uid"],
            employee=data.get("employee"),
            item=data.get("item"),
            replace=data.get("replace", False),
            note=data.get("note", ""),
        )

    def perform_update(self, serializer):
        active = serializer.validated_data.get("active", serializer.instance.active)
        if active == serializer.instance.active:
            self._save(serializer)
        else:
            self._save(serializer, **Tag.activity(active=active))

    def _save(self, serializer, **extra):
        try:
            with transaction.atomic():
                serializer.save(**extra)
        except IntegrityError:
            # Another request enrolled the same UID between our check and our write.
            raise ValidationError({"uid": _("This UID was enrolled at the same moment.")}) from None


class CategoryViewSet(viewsets.ModelViewSet):
    """The crib's rules per category of tools, looked up by name: a loan limit per person, a
    required qualification, a check before use. They apply to the tools whose `category` is
    written exactly as the name."""

    queryset = Category.objects.select_related("qualification")
    serializer_class = CategorySerializer
    lookup_field = "name"
    lookup_value_regex = ".+"


class CalibrationFilter(django_filters.FilterSet):
    item = django_filters.CharFilter(field_name="item__code", label="Tool code")

    class Meta:
        model = Calibration
        fields = ["result"]


class CalibrationViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Calibrations of instruments, newest first; kept as recorded (no change, no delete)."""

    queryset = Calibration.objects.select_related("item")
    serializer_class = CalibrationSerializer
    filterset_class = CalibrationFilter

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = record_calibration(
            item=data["item"],
            calibrated_on=data["calibrated_on"],
            passed=data["result"] == Calibration.Result.PASSED,
            certificate_number=data.get("certificate_number", ""),
            calibrated_by=data.get("calibrated_by", ""),
            next_due=data.get("next_due"),
            note=data.get("note", ""),
            by=self.request.user,
        )
