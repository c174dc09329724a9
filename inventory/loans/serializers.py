from drf_spectacular.utils import OpenApiExample, extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from inventory.core.api.fields import DateTimeField
from inventory.loans.models import Loan, LoanEvent


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
    ]
)
class BorrowSerializer(serializers.Serializer):
    item = serializers.CharField(max_length=64, help_text="Tool code or tag UID.")
    employee = serializers.CharField(max_length=64, help_text="Employee code or badge UID.")
    due_at = DateTimeField(
        required=False, help_text="Defaults to the end of the working day or the tool's period."
    )
    note = serializers.CharField(required=False, allow_blank=True, max_length=1000, default="")


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
