from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from inventory.core.errors import DomainError
from inventory.core.uids import normalize_uid
from inventory.employees.models import Employee, Qualification
from inventory.items.models import Calibration, Category, Item, Tag, checks_of, validate_checklist
from inventory.items.services import next_due_after


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
            "calibration_interval",
            "loan_period",
            "notes",
            "uids",
            "on_loan",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]

    def update(self, item, validated_data):
        # Only the fields sent: a PATCH of the notes must not write back a status that a
        # damaged return changed since this request read the row.
        for field, value in validated_data.items():
            setattr(item, field, value)
        item.save(update_fields=[*validated_data, "updated_at"])
        return item

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


@extend_schema_serializer(
    examples=[
        OpenApiExample("Enrol a badge", value={"uid": "04:A1:B2:C3:D4:E5:F6", "employee": "E0001"}),
        OpenApiExample(
            "Enrol a tool tag", value={"uid": "1D2E3F40", "item": "TO0001"}, request_only=True
        ),
        OpenApiExample(
            "Deactivate a lost card", value={"active": False, "note": "lost"}, request_only=True
        ),
    ]
)
class TagSerializer(serializers.ModelSerializer):
    """An NFC UID enrolled as a person's badge or a tool's tag. Deactivate instead of deleting:
    the record of who carried which card stays."""

    uid = serializers.CharField(
        max_length=32, help_text="4 to 10 bytes in hex; colons, spaces and dashes are allowed."
    )
    kind = serializers.SerializerMethodField(help_text="badge (an employee's) or tool.")
    # A form-encoded POST without the field would otherwise mean False (HTML checkbox rules).
    active = serializers.BooleanField(default=True)
    replace = serializers.BooleanField(
        default=False,
        write_only=True,
        help_text="On enrolment: deactivate the owner's other tags (a lost badge replaced).",
    )
    employee = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Employee.objects.all(),
        required=False,
        allow_null=True,
        help_text="Employee code, for a badge.",
    )
    item = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Item.objects.all(),
        required=False,
        allow_null=True,
        help_text="Tool code, for a tool tag.",
    )

    class Meta:
        model = Tag
        fields = [
            "id",
            "uid",
            "kind",
            "employee",
            "item",
            "active",
            "note",
            "replace",
            "created_at",
            "deactivated_at",
        ]
        read_only_fields = ["created_at", "deactivated_at"]
        # The database's own rules are checked in validate() with messages for people.
        validators = []

    def get_kind(self, tag) -> str:
        return "badge" if tag.employee_id else "tool"

    def get_fields(self):
        fields = super().get_fields()
        if self.instance is not None:
            # What a tag is never changes; a wrong enrolment is deactivated and enrolled again.
            for name in ("uid", "employee", "item", "replace"):
                fields[name].read_only = True
        return fields

    def validate_uid(self, value):
        try:
            return normalize_uid(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None

    def validate(self, data):
        if self.instance is None:
            # The rest of an enrolment (a UID already in use, replace) is enrol_tag's to decide.
            if bool(data.get("employee")) == bool(data.get("item")):
                raise serializers.ValidationError(
                    _("Give either an employee (for a badge) or a tool (for a tool tag).")
                )
            if not data["active"]:
                raise serializers.ValidationError(
                    {"active": _("A tag is enrolled active; PATCH active=false to retire it.")}
                )
            return data
        if data.get("active", self.instance.active):
            # Reactivating: the UID may have been enrolled again since.
            taken = Tag.objects.active().filter(uid=self.instance.uid)
            holder = taken.exclude(pk=self.instance.pk).select_related("employee", "item").first()
            if holder is not None:
                raise serializers.ValidationError(
                    {
                        "uid": _("UID %(uid)s is already enrolled to %(holder)s.")
                        % {"uid": self.instance.uid, "holder": holder.employee or holder.item}
                    }
                )
        return data


class ChecklistField(serializers.ListField):
    """A checklist, stored as one check per line, as a list of checks."""

    child = serializers.CharField(allow_blank=True)

    def to_representation(self, text):
        return checks_of(text)

    def to_internal_value(self, data):
        text = "\n".join(check.strip() for check in super().to_internal_value(data))
        try:
            validate_checklist(text)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None
        return text


class CategorySerializer(serializers.ModelSerializer):
    """The crib's rules for the tools whose `category` is this name."""

    qualification = serializers.SlugRelatedField(
        slug_field="name",
        queryset=Qualification.objects.all(),
        allow_null=True,
        required=False,
        help_text="Only holders of this qualification (not expired) may borrow these tools.",
    )
    checks = ChecklistField(
        source="checklist",
        required=False,
        help_text="The check before use, one short line each (at most 8); [] for none.",
    )

    class Meta:
        model = Category
        fields = ["name", "loan_limit", "qualification", "checks"]

    def get_fields(self):
        fields = super().get_fields()
        if self.instance is not None:
            # Renaming would leave the tools behind: the admin renames them together.
            fields["name"].read_only = True
        return fields


class CalibrationSerializer(serializers.ModelSerializer):
    """One calibration of an instrument. Recording one moves the tool's due date on (a pass)
    or sends it to maintenance (a fail); the certificate file is attached in the admin."""

    item = serializers.SlugRelatedField(
        slug_field="code", queryset=Item.objects.all(), help_text="Tool code."
    )
    has_certificate = serializers.SerializerMethodField(
        help_text="Whether a certificate file is attached (open it in the admin)."
    )

    class Meta:
        model = Calibration
        fields = [
            "id",
            "item",
            "calibrated_on",
            "result",
            "certificate_number",
            "calibrated_by",
            "next_due",
            "note",
            "has_certificate",
            "recorded_at",
            "recorded_by",
        ]
        read_only_fields = ["recorded_at", "recorded_by"]
        validators = []  # the dates are checked with the tool's interval in validate()

    def get_has_certificate(self, calibration) -> bool:
        return bool(calibration.certificate)

    def validate(self, data):
        try:
            next_due_after(
                data["item"],
                calibrated_on=data["calibrated_on"],
                passed=data["result"] == Calibration.Result.PASSED,
                next_due=data.get("next_due"),
            )
        except DomainError as exc:
            raise serializers.ValidationError(exc.message) from None
        return data
