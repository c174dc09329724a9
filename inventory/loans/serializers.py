from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from inventory.core.api.fields import DateTimeField
from inventory.loans.models import Inspection, Loan, LoanEvent
from inventory.loans.services import OVERRIDABLE, Override


class CodeNameSerializer(serializers.Serializer):
    code = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)


class LoanSerializer(serializers.ModelSerializer):
    item = CodeNameSerializer(read_only=True)
    employee = CodeNameSerializer(read_only=True)
    state = serializers.SerializerMethodField()
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = Loan
        fields = [
            "id",
            "item",
            "employee",
            "borrowed_at",
            "due_at",
            "returned_at",
            "cancelled_at",
            "state",
            "overdue",
            "door",
            "return_condition",
            "note",
        ]

    def get_state(self, loan) -> str:
        # Open, returned or cancelled: lateness is `overdue`, so an open loan stays "open".
        state = loan.state()
        return Loan.State.OPEN if state == Loan.State.OVERDUE else state

    def get_overdue(self, loan) -> bool:
        return loan.is_overdue()


class WarningSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable machine-readable code: CALIBRATION_DUE_SOON.")
    message = serializers.CharField(help_text="Translated text for people: what to do.")


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "Lent, with an instrument nearly due for calibration",
            response_only=True,
            value={
                "id": 43,
                "item": {"code": "MI0007", "name": "マイクロメータ 0-25"},
                "employee": {"code": "E0001", "name": "山田 太郎"},
                "borrowed_at": "2026-11-24T08:30:00+09:00",
                "due_at": "2026-11-24T18:00:00+09:00",
                "returned_at": None,
                "cancelled_at": None,
                "state": "open",
                "overdue": False,
                "door": "api",
                "return_condition": "",
                "note": "",
                "warnings": [
                    {
                        "code": "CALIBRATION_DUE_SOON",
                        "message": "マイクロメータ 0-25 (MI0007) is due for calibration on "
                        "2026/12/01: bring it back to the tool crib by then.",
                    }
                ],
            },
        )
    ]
)
class BorrowedSerializer(LoanSerializer):
    """The loan just made, with what needs doing soon."""

    warnings = serializers.SerializerMethodField(
        help_text="The loan was made, but someone should act soon (CALIBRATION_DUE_SOON)."
    )

    class Meta(LoanSerializer.Meta):
        fields = [*LoanSerializer.Meta.fields, "warnings"]

    @extend_schema_field(WarningSerializer(many=True))
    def get_warnings(self, loan) -> list[dict]:
        return [warning.as_dict() for warning in getattr(loan, "warnings", [])]


class OverrideSerializer(serializers.Serializer):
    codes = serializers.ListField(
        child=serializers.ChoiceField(choices=list(OVERRIDABLE)),
        min_length=1,
        max_length=len(OVERRIDABLE),
        help_text="The refusals to lend against (needs the loans.override_rules permission).",
    )
    reason = serializers.CharField(max_length=500, help_text="Kept in the loan's history.")

    def validate_reason(self, value):
        if not value.strip():
            raise serializers.ValidationError(_("Say why the crib's rules are overridden."))
        return value

    def to_internal_value(self, data) -> Override:
        data = super().to_internal_value(data)
        return Override(reason=data["reason"], codes=frozenset(data["codes"]))


@extend_schema_serializer(
    examples=[
        OpenApiExample("By codes", value={"item": "TO0001", "employee": "E0001"}),
        OpenApiExample(
            "By tag UIDs, with a due time",
            value={
                "item": "04A1B2C3D4E5F6",
                "employee": "04:11:22:33",
                "due_at": "2026-11-24T18:00:00+09:00",
                "note": "for line 3",
            },
        ),
        OpenApiExample(
            "A tool checked before use (its category has two checks)",
            value={"item": "TO0031", "employee": "E0001", "answers": [True, True]},
        ),
        OpenApiExample(
            "A manager lending against the loan limit",
            value={
                "item": "TO0001",
                "employee": "E0001",
                "override": {"codes": ["LIMIT_REACHED"], "reason": "line 3 breakdown"},
            },
        ),
    ]
)
class BorrowSerializer(serializers.Serializer):
    item = serializers.CharField(max_length=64, help_text="Tool code or tag UID.")
    employee = serializers.CharField(max_length=64, help_text="Employee code or badge UID.")
    due_at = DateTimeField(
        required=False, help_text="Defaults to the end of the working day or the tool's period."
    )
    note = serializers.CharField(required=False, allow_blank=True, max_length=1000, default="")
    answers = serializers.ListField(
        child=serializers.BooleanField(),
        required=False,
        max_length=20,
        help_text="The check before use of a tool whose category has a checklist: true (OK) "
        "or false (NG) per check, in the checklist's order. Any NG refuses the borrow "
        "(INSPECTION_FAILED), keeps the check and sends the tool to maintenance.",
    )
    override = OverrideSerializer(
        required=False,
        help_text="Lend although these rules refuse (LIMIT_REACHED, HAS_OVERDUE, "
        "NOT_QUALIFIED, CALIBRATION_EXPIRED, INSPECTION_REQUIRED).",
    )


class ReturnSerializer(serializers.Serializer):
    condition = serializers.ChoiceField(choices=Loan.Condition.choices, default=Loan.Condition.OK)
    note = serializers.CharField(required=False, allow_blank=True, max_length=1000, default="")


class CancelSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")


class OverdueHolderSerializer(serializers.Serializer):
    code = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)
    department = serializers.CharField(read_only=True)
    contact = serializers.CharField(read_only=True)


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "A tool two hours late",
            response_only=True,
            value={
                "id": 42,
                "item": {"code": "TO0001", "name": "トルクレンチ 50N·m"},
                "employee": {
                    "code": "E0001",
                    "name": "山田 太郎",
                    "department": "製造一課",
                    "contact": "内線 101",
                },
                "borrowed_at": "2026-11-24T08:30:00+09:00",
                "due_at": "2026-11-24T18:00:00+09:00",
                "late_seconds": 7200,
                "station": "第1工具室",
            },
        )
    ]
)
class OverdueSerializer(serializers.ModelSerializer):
    item = CodeNameSerializer(read_only=True)
    employee = OverdueHolderSerializer(read_only=True)
    late_seconds = serializers.SerializerMethodField(help_text="How long past due, in seconds.")
    station = serializers.CharField(source="station.name", default=None, read_only=True)

    class Meta:
        model = Loan
        fields = ["id", "item", "employee", "borrowed_at", "due_at", "late_seconds", "station"]

    def get_late_seconds(self, loan) -> int:
        return int((self.context["now"] - loan.due_at).total_seconds())


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "A correction",
            response_only=True,
            value={
                "id": 7,
                "loan": 42,
                "kind": "correction",
                "at": "2026-11-25T09:10:00+09:00",
                "recorded_at": "2026-11-25T09:10:00+09:00",
                "door": "admin",
                "username": "manager",
                "station_name": "",
                "employee": {"code": "E0001", "name": "山田 太郎"},
                "item": {"code": "TO0001", "name": "トルクレンチ 50N·m"},
                "details": {
                    "reason": "returned at lunch, not tapped",
                    "before": {"returned_at": None},
                    "after": {"returned_at": "2026-11-24T03:05:00+00:00"},
                },
            },
        )
    ]
)
class LoanEventSerializer(serializers.ModelSerializer):
    """One history entry, with names and codes as they were at the time."""

    employee = serializers.SerializerMethodField()
    item = serializers.SerializerMethodField()
    details = serializers.DictField(
        read_only=True,
        help_text="Kind-specific: return condition, cancel reason, handover source, or a "
        "correction's reason with the times before and after.",
    )

    class Meta:
        model = LoanEvent
        fields = [
            "id",
            "loan",
            "kind",
            "at",
            "recorded_at",
            "door",
            "username",
            "station_name",
            "employee",
            "item",
            "details",
        ]

    @extend_schema_field(CodeNameSerializer)
    def get_employee(self, event) -> dict:
        return {"code": event.employee_code, "name": event.employee_name}

    @extend_schema_field(CodeNameSerializer)
    def get_item(self, event) -> dict:
        return {"code": event.item_code, "name": event.item_name}


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "A return nobody tapped",
            value={"returned_at": "2026-11-24T12:05:00+09:00", "reason": "found on the shelf"},
        ),
        OpenApiExample(
            "A longer job",
            value={"due_at": "2026-11-27T18:00:00+09:00", "reason": "line 3 overhaul"},
        ),
    ]
)
class CorrectSerializer(serializers.Serializer):
    borrowed_at = DateTimeField(required=False)
    due_at = DateTimeField(required=False)
    returned_at = DateTimeField(
        required=False, help_text="Setting it on an open loan records the return."
    )
    reason = serializers.CharField(max_length=500, help_text="Kept in the history.")


class AnswerSerializer(serializers.Serializer):
    check = serializers.CharField(read_only=True)
    ok = serializers.BooleanField(read_only=True)


class InspectionSerializer(serializers.ModelSerializer):
    """One check before use, with names, codes and checks as they were at the time."""

    employee = serializers.SerializerMethodField()
    item = serializers.SerializerMethodField()
    answers = AnswerSerializer(many=True, read_only=True)
    loan = serializers.IntegerField(
        source="loan.pk", default=None, read_only=True, help_text="The loan it allowed, if any."
    )

    class Meta:
        model = Inspection
        fields = [
            "id",
            "at",
            "passed",
            "answers",
            "item",
            "employee",
            "loan",
            "door",
            "username",
            "station_name",
        ]

    @extend_schema_field(CodeNameSerializer)
    def get_employee(self, inspection) -> dict:
        return {"code": inspection.employee_code, "name": inspection.employee_name}

    @extend_schema_field(CodeNameSerializer)
    def get_item(self, inspection) -> dict:
        return {"code": inspection.item_code, "name": inspection.item_name}
