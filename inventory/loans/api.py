import django_filters
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from inventory.core.api.errors import error
from inventory.core.api.filters import IdFilter, LocalDayFilter
from inventory.loans import lookups, services
from inventory.loans.models import Door, Inspection, Loan, LoanEvent
from inventory.loans.serializers import (
    BorrowedSerializer,
    BorrowSerializer,
    CancelSerializer,
    CorrectSerializer,
    InspectionSerializer,
    LoanEventSerializer,
    LoanSerializer,
    OverdueSerializer,
    ReturnSerializer,
)


class WhoWhatWhereFilter(django_filters.FilterSet):
    search = django_filters.CharFilter(
        method="filter_search",
        label="Code, name, reading (kana) or tag UID of the person or the tool",
    )
    employee = django_filters.CharFilter(field_name="employee__code", label="Employee code")
    item = django_filters.CharFilter(field_name="item__code", label="Tool code")
    station = IdFilter(field_name="station_id", label="Borrowed at station (id)")

    class Meta:
        model = Loan
        fields = []

    def filter_search(self, queryset, name, value):
        return queryset.search(value)


class LoanFilter(WhoWhatWhereFilter):
    open = django_filters.BooleanFilter(method="filter_open", label="Not returned or cancelled")
    overdue = django_filters.BooleanFilter(method="filter_overdue", label="Open and past due")

    class Meta:
        model = Loan
        fields = []

    def filter_open(self, queryset, name, value):
        return queryset.open() if value else queryset.closed()

    def filter_overdue(self, queryset, name, value):
        return queryset.overdue() if value else queryset.not_overdue()


# `from` and `to` are Python keywords, so they cannot be declared in the class body.
LoanFilter.base_filters["from"] = LocalDayFilter(
    field_name="borrowed_at", label="Borrowed on or after (local date)"
)
LoanFilter.base_filters["to"] = LocalDayFilter(
    field_name="borrowed_at", until=True, label="Borrowed on or before (local date)"
)

_ERRORS = {
    400: error("The body is not valid."),
    401: error("No or invalid credentials."),
    403: error("The user may not do this (Viewers are read-only)."),
    404: error("NOT_FOUND or UNKNOWN_TAG: the tool, person or loan does not exist."),
    409: error("ITEM_ON_LOAN, ITEM_NOT_LOANABLE, EMPLOYEE_NOT_ACTIVE or LOAN_NOT_OPEN."),
}
_BORROW_ERRORS = {
    **_ERRORS,
    403: error(
        "PERMISSION_DENIED: the user may not lend (Viewers are read-only); "
        "OVERRIDE_NOT_ALLOWED: only Managers may override the crib's rules."
    ),
    409: error(
        "The tool or the person cannot be lent to: ITEM_ON_LOAN, ITEM_NOT_LOANABLE, "
        "EMPLOYEE_NOT_ACTIVE; or a rule of the crib refuses, which a manager may override: "
        "CALIBRATION_EXPIRED, NOT_QUALIFIED, HAS_OVERDUE, LIMIT_REACHED, INSPECTION_REQUIRED "
        "(send `answers`); or INSPECTION_FAILED (an answer was NG: the check is kept and the "
        "tool went to maintenance)."
    ),
}


class LoanViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Loans, newest first. Borrow with POST; return and cancel are actions on one loan."""

    queryset = Loan.objects.with_related()
    serializer_class = LoanSerializer
    filterset_class = LoanFilter
    action_permissions = {
        "create": ["loans.add_loan"],
        "return_loan": ["loans.change_loan"],
        "cancel": ["loans.change_loan"],
        "correct": ["loans.change_loan"],
    }

    @extend_schema(request=BorrowSerializer, responses={201: BorrowedSerializer, **_BORROW_ERRORS})
    def create(self, request, *args, **kwargs):
        """Lend a tool, as the crib's rules allow. The answer carries `warnings` (the loan was
        made, but something needs doing soon)."""
        data = _valid(BorrowSerializer, request)
        loan = services.borrow(
            item=lookups.find_item(data["item"]),
            employee=lookups.find_employee(data["employee"]),
            door=Door.API,
            by=request.user,
            due_at=data.get("due_at"),
            note=data["note"],
            answers=data.get("answers"),
            override=data.get("override"),
        )
        return Response(BorrowedSerializer(loan).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ReturnSerializer, responses={200: LoanSerializer, **_ERRORS})
    @action(detail=True, methods=["post"], url_path="return")
    def return_loan(self, request, pk=None, **kwargs):
        data = _valid(ReturnSerializer, request)
        loan = services.return_loan(
            loan=self.get_object(),
            door=Door.API,
            by=request.user,
            condition=data["condition"],
            note=data["note"],
        )
        return Response(LoanSerializer(loan).data)

    @extend_schema(request=CancelSerializer, responses={200: LoanSerializer, **_ERRORS})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None, **kwargs):
        data = _valid(CancelSerializer, request)
        loan = services.cancel_loan(
            loan=self.get_object(), door=Door.API, by=request.user, reason=data["reason"]
        )
        return Response(LoanSerializer(loan).data)

    @extend_schema(request=CorrectSerializer, responses={200: LoanSerializer, **_ERRORS})
    @action(detail=True, methods=["post"])
    def correct(self, request, pk=None, **kwargs):
        """Correct the times of a loan (Managers). The original events stay in the history; a
        correction event records the times before and after, the reason and who did it."""
        data = _valid(CorrectSerializer, request)
        loan = services.correct_loan(
            loan=self.get_object(),
            by=request.user,
            door=Door.API,
            reason=data["reason"],
            borrowed_at=data.get("borrowed_at"),
            due_at=data.get("due_at"),
            returned_at=data.get("returned_at"),
        )
        return Response(LoanSerializer(loan).data)


class HistoryFilter(django_filters.FilterSet):
    search = django_filters.CharFilter(
        method="filter_search",
        label="Code, name, reading (kana) or tag UID of the person or the tool",
    )
    # In any case, as the search box: the recorded codes are indexed by their upper case.
    employee = django_filters.CharFilter(
        field_name="employee_code", lookup_expr="iexact", label="Employee code"
    )
    item = django_filters.CharFilter(
        field_name="item_code", lookup_expr="iexact", label="Tool code"
    )
    station = IdFilter(field_name="station_id", label="Station id")
    loan = IdFilter(field_name="loan_id", label="Loan id")

    class Meta:
        model = LoanEvent
        fields = ["kind", "door"]

    def filter_search(self, queryset, name, value):
        return queryset.search(value)


HistoryFilter.base_filters["from"] = LocalDayFilter(
    field_name="at", label="On or after (local date)"
)
HistoryFilter.base_filters["to"] = LocalDayFilter(
    field_name="at", until=True, label="On or before (local date)"
)


class HistoryViewSet(viewsets.ReadOnlyModelViewSet):
    """Every borrow, return, cancel, handover and correction, newest first, with names and
    codes as they were at the time."""

    queryset = LoanEvent.objects.order_by("-at", "-pk")
    serializer_class = LoanEventSerializer
    filterset_class = HistoryFilter


class OverdueFilter(WhoWhatWhereFilter):
    department = django_filters.CharFilter(field_name="employee__department", label="Department")


class OverdueViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Open loans past their due time, the latest first, with the holder's department and
    contact: the list to phone through."""

    serializer_class = OverdueSerializer
    filterset_class = OverdueFilter
    queryset = Loan.objects.none()  # for the permission check; get_queryset gives the rows

    def initial(self, request, *args, **kwargs):
        self.now = timezone.now()  # one "now" for the filter and every row's lateness
        super().initial(request, *args, **kwargs)

    def get_queryset(self):
        return (
            Loan.objects.overdue(self.now)
            .select_related("item", "employee", "station")
            .order_by("due_at", "pk")
        )

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "now": self.now}


class InspectionFilter(django_filters.FilterSet):
    employee = django_filters.CharFilter(field_name="employee_code", label="Employee code")
    item = django_filters.CharFilter(field_name="item_code", label="Tool code")

    class Meta:
        model = Inspection
        fields = ["passed"]


InspectionFilter.base_filters["from"] = LocalDayFilter(
    field_name="at", label="On or after (local date)"
)
InspectionFilter.base_filters["to"] = LocalDayFilter(
    field_name="at", until=True, label="On or before (local date)"
)


class InspectionViewSet(viewsets.ReadOnlyModelViewSet):
    """Every check before use, newest first: the passed ones that allowed a loan and the
    failed ones that refused it. They are made by borrowing (`answers` on POST /loans/)."""

    queryset = Inspection.objects.select_related("loan").order_by("-at", "-pk")
    serializer_class = InspectionSerializer
    filterset_class = InspectionFilter


def _valid(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
