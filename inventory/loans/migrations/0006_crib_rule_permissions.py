"""Managers keep the crib's rules (categories, qualifications, shifts, closed days, calibrations)
and may lend against them; Viewers read them. Checks before use are written only by lending."""

import importlib

from django.db import migrations

groups = importlib.import_module("inventory.loans.migrations.0002_groups")

MANAGERS = [
    *(
        f"{app}.{action}_{model}"
        for app, model in [
            ("employees", "qualification"),
            ("employees", "heldqualification"),
            ("employees", "shift"),
            ("items", "category"),
            ("loans", "closedday"),
        ]
        for action in ("add", "change", "delete", "view")
    ),
    "items.add_calibration",
    "items.view_calibration",
    "loans.view_inspection",
    "loans.override_rules",
]
VIEWERS = [
    "employees.view_qualification",
    "employees.view_heldqualification",
    "employees.view_shift",
    "items.view_category",
    "items.view_calibration",
    "loans.view_closedday",
    "loans.view_inspection",
]


def grant(apps, schema_editor):
    groups.create_permissions_now(apps)
    groups.grant(apps, "Managers", MANAGERS)
    groups.grant(apps, "Viewers", VIEWERS)


class Migration(migrations.Migration):
    dependencies = [
        ("loans", "0005_closed_days_and_inspections"),
        ("employees", "0002_shifts_and_qualifications"),
        ("items", "0004_categories_and_calibration"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
