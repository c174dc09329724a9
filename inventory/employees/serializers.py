from django.db import transaction
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from inventory.employees.models import Employee, HeldQualification, Qualification, Shift


class QualificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Qualification
        fields = ["id", "name"]


class HeldQualificationSerializer(serializers.Serializer):
    qualification = serializers.SlugRelatedField(
        slug_field="name",
        queryset=Qualification.objects.all(),
        help_text="Its name, as listed at /api/v1/qualifications/.",
    )
    expires_on = serializers.DateField(
        allow_null=True, required=False, help_text="The last day it is valid; null: never expires."
    )


class EmployeeSerializer(serializers.ModelSerializer):
    uids = serializers.SerializerMethodField(help_text="UIDs of the person's active badges.")
    shift = serializers.SlugRelatedField(
        slug_field="name",
        queryset=Shift.objects.all(),
        allow_null=True,
        required=False,
        help_text="The shift whose end the person's loans are due at (null: LOAN_DUE_TIME).",
    )
    qualifications = HeldQualificationSerializer(
        many=True,
        required=False,
        help_text="Everything the person holds: a write replaces the whole list.",
    )

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
            "shift",
            "qualifications",
            "uids",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]

    def validate_qualifications(self, value):
        names = [held["qualification"].pk for held in value]
        if len(names) != len(set(names)):
            raise serializers.ValidationError(_("List each qualification once."))
        return value

    @transaction.atomic
    def create(self, validated_data):
        held = validated_data.pop("qualifications", None)
        employee = super().create(validated_data)
        if held is not None:
            _replace_qualifications(employee, held)
        return employee

    @transaction.atomic
    def update(self, employee, validated_data):
        held = validated_data.pop("qualifications", None)
        employee = super().update(employee, validated_data)
        if held is not None:
            _replace_qualifications(employee, held)
        return employee

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_uids(self, employee) -> list[str]:
        # Prefetched on lists; a just-created or updated employee has no prefetch yet.
        tags = getattr(employee, "active_tags", None)
        return [tag.uid for tag in (employee.tags.active() if tags is None else tags)]


def _replace_qualifications(employee: Employee, held: list[dict]) -> None:
    employee.qualifications.all().delete()
    HeldQualification.objects.bulk_create(
        HeldQualification(employee=employee, **one) for one in held
    )
    # The answer shows what was written, not a list prefetched before it.
    employee._prefetched_objects_cache = {}
