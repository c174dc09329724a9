"""Managers change master data and return/cancel loans; Viewers only read."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

MANAGERS = [
    "employees.add_employee",
    "employees.change_employee",
    "employees.delete_employee",
    "employees.view_employee",
    "items.add_item",
    "items.change_item",
    "items.delete_item",
    "items.view_item",
    "items.add_tag",
    "items.change_tag",
    "items.view_tag",
    "loans.add_loan",
    "loans.change_loan",
    "loans.view_loan",
    "loans.view_loanevent",
]
VIEWERS = [
    "employees.view_employee",
    "items.view_item",
    "items.view_tag",
    "loans.view_loan",
    "loans.view_loanevent",
]


def grant(apps, group_name, codenames):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=group_name)
    for name in codenames:
        app_label, codename = name.split(".")
        group.permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )


def create_permissions_now(apps):
    # Permissions are normally created after all migrations ran; the groups need them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None


def create_groups(apps, schema_editor):
    create_permissions_now(apps)
    grant(apps, "Managers", MANAGERS)
    grant(apps, "Viewers", VIEWERS)


class Migration(migrations.Migration):
    dependencies = [
        ("loans", "0001_initial"),
        ("employees", "0001_initial"),
        ("items", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_groups, migrations.RunPython.noop)]
