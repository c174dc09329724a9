from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from inventory.items.models import Item


class HolderSerializer(serializers.Serializer):
    loan = serializers.IntegerField(source="pk")
    employee_code = serializers.CharField(source="employee.code")
    employee_name = serializers.CharField(source="employee.name")
    borrowed_at = serializers.DateTimeField()
    due_at = serializers.DateTimeField()


class ItemSerializer(serializers.ModelSerializer):
    uids = serializers.SerializerMethodField(help_text="UIDs of the tool's active tags.")
    on_loan = serializers.SerializerMethodField(
        help_text="The open loan, or null when in the crib."
    )

    class Meta:
        model = Item
        fields = [
            "code",
            "name",
            "category",
            "location",
            "status",
            "calibration_due",
            "loan_period",
            "notes",
            "uids",
            "on_loan",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_uids(self, item) -> list[str]:
        tags = getattr(item, "active_tags", None)
        return [tag.uid for tag in (item.tags.active() if tags is None else tags)]

    @extend_schema_field(HolderSerializer(allow_null=True))
    def get_on_loan(self, item):
        loans = getattr(item, "open_loans", None)
        if loans is None:
            loans = list(item.loans.open().select_related("employee"))
        return HolderSerializer(loans[0]).data if loans else None
