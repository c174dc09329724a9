"""Managers run the kiosks (create, pair, rotate and revoke tokens, unpair, delete one that has
no history) and read the backups and restores; Viewers read the kiosks' taps and the inbox of
unknown tags. (Both already read stations: 0002_station_permissions.)"""

import importlib

from django.db import migrations

groups = importlib.import_module("inventory.loans.migrations.0002_groups")

MANAGERS = [
    "kiosk.add_station",
    "kiosk.change_station",
    "kiosk.delete_station",
    "kiosk.view_station",
    "kiosk.view_scanevent",
    "kiosk.view_unknowntag",
    "ops.view_backuprun",
    "ops.view_restorerun",
]
VIEWERS = [
    "kiosk.view_scanevent",
    "kiosk.view_unknowntag",
]


def grant(apps, schema_editor):
    groups.create_permissions_now(apps)
    groups.grant(apps, "Managers", MANAGERS)
    groups.grant(apps, "Viewers", VIEWERS)


class Migration(migrations.Migration):
    dependencies = [
        ("ops", "0004_restore_replay"),
        ("kiosk", "0008_station_checklist"),
        ("loans", "0006_crib_rule_permissions"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
