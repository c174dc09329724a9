import django_filters
from django.db.models import Q
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from inventory.api_errors import error
from inventory.api_filters import IdFilter, LocalDayFilter
from inventory.employees.models import Employee
from inventory.items.models import Item
from inventory.loans import services
from inventory.loans.history import search_events
from inventory.loans.models import OPEN, Door, Loan, LoanEvent
from inventory.loans.serializers import (
    BorrowSerializer,
    CancelSerializer,
    CorrectSerializer,
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
        return queryset.filter(
            Q(employee__in=Employee.objects.search(value)) | Q(item__in=Item.objects.search(value))
        )


class LoanFilter(WhoWhatWhereFilter):
    open = django_filters.BooleanFilter(method="filter_open", label="Not returned or cancelled")
    overdue = django_filters.BooleanFilter(method="filter_overdue", label="Open and past due")

    class Meta:
        model = Loan
        fields = []

    def filter_open(self, queryset, name, value):
        return queryset.filter(OPEN) if value else queryset.exclude(OPEN)

    def filter_overdue(self, queryset, name, value):
        overdue = OPEN & Q(due_at__lt=timezone.now())
        return queryset.filter(overdue) if value else queryset.exclude(overdue)


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

    @extend_schema(request=BorrowSerializer, responses={201: LoanSerializer, **_ERRORS})
    def create(self, request):
        data = _valid(BorrowSerializer, request)
        loan = services.borrow(
            item=services.find_item(data["item"]),
            employee=services.find_employee(data["employee"]),
            door=Door.API,
            by=request.user,
            due_at=data.get("due_at"),
            note=data["note"],
        )
        return Response(LoanSerializer(loan).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ReturnSerializer, responses={200: LoanSerializer, **_ERRORS})
    @action(detail=True, methods=["post"], url_path="return")
    def return_loan(self, request, pk=None):
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
    def cancel(self, request, pk=None):
        data = _valid(CancelSerializer, request)
        loan = services.cancel_loan(
            loan=self.get_object(), door=Door.API, by=request.user, reason=data["reason"]
        )
        return Response(LoanSerializer(loan).data)

    @extend_schema(request=CorrectSerializer, responses={200: LoanSerializer, **_ERRORS})
    @action(detail=True, methods=["post"])
    def correct(self, request, pk=None):
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
    employee = django_filters.CharFilter(field_name="employee_code", label="Employee code")
    item = django_filters.CharFilter(field_name="item_code", label="Tool code")
    station = IdFilter(field_name="station_id", label="Station id")
    loan = IdFilter(field_name="loan_id", label="Loan id")

    class Meta:
        model = LoanEvent
        fields = ["kind", "door"]

    def filter_search(self, queryset, name, value):
        return search_events(queryset, value)


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


def _valid(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
