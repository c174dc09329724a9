from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from inventory.employees.models import Employee


class EmployeeSerializer(serializers.ModelSerializer):
    uids = serializers.SerializerMethodField(help_text="UIDs of the person's active badges.")

    class Meta:
        model = Employee
        fields = [
            "code",
            "name",
            "reading",
            "department",
            "contact",
            "status",
            "notes",
            "uids",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_uids(self, employee) -> list[str]:
        # Prefetched on lists; a just-created or updated employee has no prefetch yet.
        tags = getattr(employee, "active_tags", None)
        return [tag.uid for tag in (employee.tags.active() if tags is None else tags)]
