"""The crib's rules at the moment of lending, decided in the loan services for every door:
loan limits, the overdue block, qualifications, calibration, and a manager's override."""

import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inventory.core.errors import (
    CalibrationExpired,
    DomainError,
    HasOverdue,
    InvalidRequest,
    ItemNotLoanable,
    LimitReached,
    NotQualified,
    OverrideNotAllowed,
)
from inventory.loans import services
from inventory.loans.models import Door, Loan, LoanEvent
from inventory.loans.services import Override
from tests.factories import (
    CategoryFactory,
    EmployeeFactory,
    HeldQualificationFactory,
    ItemFactory,
    QualificationFactory,
    take_over_from_holder,
)

pytestmark = pytest.mark.django_db
TOKYO = ZoneInfo("Asia/Tokyo")
MORNING = datetime.datetime(2026, 11, 24, 9, 30, tzinfo=TOKYO)
TODAY = MORNING.date()


def lend(item, employee, **how):
    return services.borrow(item=item, employee=employee, door=Door.API, at=MORNING, **how)


def late_loan(employee, name="ノギス"):
    """A loan of `employee` that fell due the day before MORNING."""
    return services.borrow(
        item=ItemFactory(name=name),
        employee=employee,
        door=Door.API,
        at=MORNING - datetime.timedelta(days=2),
        due_at=MORNING - datetime.timedelta(days=1),
    )


def override(*codes, reason="line 3 breakdown"):
    return Override(reason=reason, codes=frozenset(codes))


# Loan limits.


def test_there_is_no_limit_unless_one_is_set():
    person = EmployeeFactory()
    for _ in range(5):
        lend(ItemFactory(), person)
    assert Loan.objects.open().filter(employee=person).count() == 5


def test_a_person_at_the_limit_is_refused_with_the_limit_and_what_they_hold(settings, english):
    settings.LOAN_LIMIT_PER_PERSON = 2
    person = EmployeeFactory(name="Sato")
    lend(ItemFactory(name="Caliper"), person)
    lend(ItemFactory(name="Wrench"), person)

    with pytest.raises(LimitReached) as refused:
        lend(ItemFactory(), person)

    assert refused.value.code == "LIMIT_REACHED"
    assert "Sato holds 2 tools (Caliper, Wrench) and may hold at most 2." in refused.value.message
    assert Loan.objects.open().filter(employee=person).count() == 2


@pytest.mark.parametrize(
    ("held", "named"),
    [(3, "Tool 1, Tool 2, Tool 3"), (4, "Tool 1, Tool 2, Tool 3, …")],
)
def test_a_refusal_names_three_of_the_tools_held_at_most(settings, english, held, named):
    """A kiosk screen has room for a line, not a list."""
    settings.LOAN_LIMIT_PER_PERSON = held
    person = EmployeeFactory(name="Sato")
    for n in range(1, held + 1):  # named in the order they fall due
        lend(ItemFactory(name=f"Tool {n}"), person, due_at=MORNING + datetime.timedelta(hours=n))

    with pytest.raises(LimitReached) as refused:
        lend(ItemFactory(), person)

    assert f"Sato holds {held} tools ({named}) and may hold" in refused.value.message


def test_a_refusal_reads_what_a_person_holds_in_one_query_however_much_it_is(settings):
    """The limit and the overdue block read the person's loans with their tools at once."""
    settings.LOAN_BLOCK_WHEN_OVERDUE = True
    counts = []
    for held in (1, 4):
        settings.LOAN_LIMIT_PER_PERSON = held
        person = EmployeeFactory()
        for _ in range(held):
            lend(ItemFactory(), person)
        with CaptureQueriesContext(connection) as queries, pytest.raises(LimitReached):
            lend(ItemFactory(), person)
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_a_returned_tool_frees_a_place_under_the_limit(settings):
    settings.LOAN_LIMIT_PER_PERSON = 1
    person = EmployeeFactory()
    services.return_loan(loan=lend(ItemFactory(), person), door=Door.API)
    assert lend(ItemFactory(), person).is_open


def test_a_category_limit_counts_only_the_tools_of_its_category(settings, english):
    settings.LOAN_LIMIT_PER_PERSON = 0
    CategoryFactory(name="Torque wrenches", loan_limit=1)
    person = EmployeeFactory(name="Sato")
    lend(ItemFactory(category="Torque wrenches", name="TW 50"), person)
    lend(ItemFactory(category="工具"), person)

    with pytest.raises(LimitReached) as refused:
        lend(ItemFactory(category="Torque wrenches"), person)

    assert "1 tools of “Torque wrenches” (TW 50)" in refused.value.message
    assert lend(ItemFactory(category="工具"), person).is_open


def test_a_category_limit_of_zero_lifts_the_general_limit_for_its_tools(settings):
    settings.LOAN_LIMIT_PER_PERSON = 1
    CategoryFactory(name="Gauges", loan_limit=0)
    person = EmployeeFactory()
    lend(ItemFactory(), person)
    assert lend(ItemFactory(category="Gauges"), person).is_open
    with pytest.raises(LimitReached):
        lend(ItemFactory(), person)


def test_a_category_without_a_limit_of_its_own_follows_the_general_one(settings):
    settings.LOAN_LIMIT_PER_PERSON = 1
    CategoryFactory(name="Gauges", loan_limit=None)
    person = EmployeeFactory()
    lend(ItemFactory(), person)
    with pytest.raises(LimitReached):
        lend(ItemFactory(category="Gauges"), person)


# The overdue block.


def test_an_overdue_tool_does_not_block_borrowing_unless_asked_to():
    person = EmployeeFactory()
    late_loan(person)
    assert lend(ItemFactory(), person).is_open


def test_with_the_block_a_person_with_an_overdue_tool_is_refused_naming_it(settings, english):
    settings.LOAN_BLOCK_WHEN_OVERDUE = True
    person = EmployeeFactory(name="Sato")
    late = late_loan(person, name="Old caliper")

    with pytest.raises(HasOverdue) as refused:
        lend(ItemFactory(), person)

    assert refused.value.code == "HAS_OVERDUE"
    assert "Sato has overdue tools: Old caliper" in refused.value.message
    services.return_loan(loan=late, door=Door.API, at=MORNING)
    assert lend(ItemFactory(), person).is_open


def test_the_block_ignores_loans_that_are_not_due_yet(settings):
    settings.LOAN_BLOCK_WHEN_OVERDUE = True
    person = EmployeeFactory()
    lend(ItemFactory(), person)
    assert lend(ItemFactory(), person).is_open


def test_a_loan_due_this_very_moment_is_not_overdue_yet(settings):
    settings.LOAN_BLOCK_WHEN_OVERDUE = True
    person = EmployeeFactory()
    services.borrow(
        item=ItemFactory(),
        employee=person,
        door=Door.API,
        at=MORNING,
        due_at=MORNING.replace(hour=12),
    )
    later = services.borrow(
        item=ItemFactory(), employee=person, door=Door.API, at=MORNING.replace(hour=12)
    )
    assert later.is_open


# Qualifications.


@pytest.fixture
def torque_tool():
    trained = QualificationFactory(name="Torque tools, trained")
    CategoryFactory(name="Torque wrenches", qualification=trained)
    return ItemFactory(category="Torque wrenches", name="TW 50")


def test_a_tool_that_needs_a_qualification_is_refused_to_a_person_without_it(torque_tool, english):
    with pytest.raises(NotQualified) as refused:
        lend(torque_tool, EmployeeFactory(name="Sato"))

    assert refused.value.code == "NOT_QUALIFIED"
    assert "Sato may not borrow TW 50" in refused.value.message
    assert "“Torque tools, trained”" in refused.value.message
    assert not Loan.objects.exists()


@pytest.mark.parametrize("expires_on", [None, TODAY, TODAY + datetime.timedelta(days=300)])
def test_a_person_holding_the_qualification_borrows_while_it_is_valid(torque_tool, expires_on):
    held = HeldQualificationFactory(
        qualification=torque_tool_qualification(), expires_on=expires_on
    )
    assert lend(torque_tool, held.employee).is_open


def test_an_expired_qualification_is_refused_with_the_day_it_ran_out(torque_tool, english):
    held = HeldQualificationFactory(
        qualification=torque_tool_qualification(),
        expires_on=TODAY - datetime.timedelta(days=1),
        employee__name="Sato",
    )
    with pytest.raises(NotQualified) as refused:
        lend(torque_tool, held.employee)
    assert refused.value.message == (
        "Sato may not borrow TW 50: the qualification “Torque tools, trained” expired on "
        "11/23/2026. Ask a manager to record it again once renewed."
    )


def torque_tool_qualification():
    return QualificationFactory(name="Torque tools, trained")


def test_another_qualification_does_not_count(torque_tool):
    held = HeldQualificationFactory(qualification=QualificationFactory(name="Forklift"))
    with pytest.raises(NotQualified):
        lend(torque_tool, held.employee)


def test_a_take_over_by_a_person_without_the_qualification_is_refused(torque_tool):
    holder = HeldQualificationFactory(qualification=torque_tool_qualification()).employee
    lend(torque_tool, holder)

    with pytest.raises(NotQualified):
        take_over_from_holder(item=torque_tool, employee=EmployeeFactory(), at=MORNING)

    assert not Loan.objects.open().filter(item=torque_tool).exists()  # back in the crib


# Calibration.


def test_an_instrument_past_its_calibration_date_is_refused_with_its_own_code(english):
    item = ItemFactory(calibration_due=TODAY - datetime.timedelta(days=1))
    with pytest.raises(CalibrationExpired) as refused:
        lend(item, EmployeeFactory())
    assert refused.value.code == "CALIBRATION_EXPIRED"
    assert isinstance(refused.value, ItemNotLoanable)  # as callers caught it before
    assert "calibration was due on 11/23/2026" in refused.value.message


def test_an_instrument_nearly_due_is_lent_with_a_warning_kept_in_the_history(settings, english):
    settings.CALIBRATION_WARN_DAYS = 14
    item = ItemFactory(name="Micrometer", calibration_due=TODAY + datetime.timedelta(days=14))

    loan = lend(item, EmployeeFactory())

    assert [warning.code for warning in loan.warnings] == ["CALIBRATION_DUE_SOON"]
    assert "Micrometer" in loan.warnings[0].message
    assert "12/08/2026" in loan.warnings[0].message
    assert LoanEvent.objects.get(loan=loan).details == {"warnings": ["CALIBRATION_DUE_SOON"]}


@pytest.mark.parametrize("days", [15, None])
def test_an_instrument_not_due_soon_is_lent_without_warnings(settings, days):
    settings.CALIBRATION_WARN_DAYS = 14
    due = TODAY + datetime.timedelta(days=days) if days else None
    loan = lend(ItemFactory(calibration_due=due), EmployeeFactory())
    assert loan.warnings == []
    assert LoanEvent.objects.get(loan=loan).details == {}


def test_a_take_over_of_an_instrument_nearly_due_warns_the_new_holder(settings):
    settings.CALIBRATION_WARN_DAYS = 14
    item = ItemFactory(calibration_due=TODAY + datetime.timedelta(days=3))
    lend(item, EmployeeFactory())
    holder = Loan.objects.get().employee
    _returned, loan = take_over_from_holder(item=item, employee=EmployeeFactory(), at=MORNING)
    assert [warning.code for warning in loan.warnings] == ["CALIBRATION_DUE_SOON"]
    # The handover's history keeps both: the warning, and whose hands it came from.
    assert LoanEvent.objects.get(kind="handover").details == {
        "warnings": ["CALIBRATION_DUE_SOON"],
        "from": holder.code,
        "from_name": holder.name,
    }


# A manager's override.


def test_a_manager_lends_against_a_rule_and_the_history_keeps_why(settings, manager):
    settings.LOAN_LIMIT_PER_PERSON = 1
    person = EmployeeFactory()
    lend(ItemFactory(), person)

    loan = lend(ItemFactory(), person, by=manager, override=override("LIMIT_REACHED"))

    event = LoanEvent.objects.get(loan=loan)
    assert event.details == {"override": {"codes": ["LIMIT_REACHED"], "reason": "line 3 breakdown"}}
    assert event.username == "manager"


@pytest.mark.parametrize(
    ("prepare", "code"),
    [
        (lambda s, item, person: setattr(s, "LOAN_LIMIT_PER_PERSON", 1), "LIMIT_REACHED"),
        (lambda s, item, person: setattr(s, "LOAN_BLOCK_WHEN_OVERDUE", True), "HAS_OVERDUE"),
        (
            lambda s, item, person: CategoryFactory(
                name=item.category, qualification=QualificationFactory()
            ),
            "NOT_QUALIFIED",
        ),
        (
            lambda s, item, person: (
                type(item)
                .objects.filter(pk=item.pk)
                .update(calibration_due=TODAY - datetime.timedelta(days=1))
            ),
            "CALIBRATION_EXPIRED",
        ),
    ],
)
def test_every_rule_can_be_overridden_by_a_manager(settings, manager, prepare, code):
    person = EmployeeFactory()
    late_loan(person)
    item = ItemFactory(category="Special")
    prepare(settings, item, person)
    with pytest.raises(DomainError) as refused:
        lend(item, person)
    assert refused.value.code == code

    loan = lend(item, person, by=manager, override=override(code))

    assert LoanEvent.objects.get(loan=loan).details["override"]["codes"] == [code]


def test_only_the_rules_that_refused_are_recorded_as_overridden(settings, manager):
    settings.LOAN_LIMIT_PER_PERSON = 1
    person = EmployeeFactory()
    lend(ItemFactory(), person)
    loan = lend(
        ItemFactory(), person, by=manager, override=override("LIMIT_REACHED", "HAS_OVERDUE")
    )
    assert LoanEvent.objects.get(loan=loan).details["override"]["codes"] == ["LIMIT_REACHED"]


def test_an_override_that_was_not_needed_leaves_no_trace(manager):
    loan = lend(ItemFactory(), EmployeeFactory(), by=manager, override=override("LIMIT_REACHED"))
    assert LoanEvent.objects.get(loan=loan).details == {}


def test_an_override_covers_only_the_rules_it_names(settings, manager):
    settings.LOAN_LIMIT_PER_PERSON = 1
    settings.LOAN_BLOCK_WHEN_OVERDUE = True
    person = EmployeeFactory()
    late_loan(person)
    with pytest.raises(HasOverdue):
        lend(ItemFactory(), person, by=manager, override=override("LIMIT_REACHED"))


@pytest.mark.parametrize("who", ["viewer", "nobody"])
def test_only_a_manager_may_override(settings, request, who):
    settings.LOAN_LIMIT_PER_PERSON = 1
    person = EmployeeFactory()
    lend(ItemFactory(), person)
    by = request.getfixturevalue("viewer") if who == "viewer" else None
    with pytest.raises(OverrideNotAllowed) as refused:
        lend(ItemFactory(), person, by=by, override=override("LIMIT_REACHED"))
    assert refused.value.status == 403


NAME_THE_RULES = (
    "Name the rules to override, among: CALIBRATION_EXPIRED, NOT_QUALIFIED, HAS_OVERDUE, "
    "LIMIT_REACHED, INSPECTION_REQUIRED."
)


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (override("LIMIT_REACHED", reason="  "), "Say why the crib's rules are overridden."),
        (override(), NAME_THE_RULES),
        (override("ITEM_ON_LOAN"), NAME_THE_RULES),
    ],
)
def test_an_override_names_overridable_rules_and_says_why(manager, english, wrong, message):
    with pytest.raises(InvalidRequest) as refused:
        lend(ItemFactory(), EmployeeFactory(), by=manager, override=wrong)
    assert refused.value.message == message


def test_an_override_never_lends_a_tool_that_is_out_or_in_maintenance(manager):
    item = ItemFactory(status="maintenance")
    with pytest.raises(ItemNotLoanable):
        lend(item, EmployeeFactory(), by=manager, override=override(*services.OVERRIDABLE))
