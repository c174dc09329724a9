import django_filters
from django.db.models import Exists, OuterRef, Prefetch
from rest_framework import viewsets

from inventory.items.models import Item, Tag
from inventory.items.serializers import ItemSerializer
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
    lookup_value_regex = "[^/]+"
