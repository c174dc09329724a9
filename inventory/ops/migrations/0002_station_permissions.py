"""Managers and Viewers may read stations (the stations API and the dashboard's health list)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations


def grant(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    view_station = Permission.objects.get(content_type__app_label="kiosk", codename="view_station")
    for name in ("Managers", "Viewers"):
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(view_station)


class Migration(migrations.Migration):
    dependencies = [
        ("ops", "0001_initial"),
        ("kiosk", "0001_initial"),
        ("loans", "0002_groups"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
