"""Who may do what, door by door: every URL pattern of the project (the resolver walked: admin,
API, kiosk, health, metrics) and the kiosk's WebSocket route, and every action of every admin
list, asked by every role through real requests; each answer is what the tables below say.

A pattern or an action that is not in the tables fails the test (and so does a line whose door
is gone): a new door cannot ship without someone deciding who may use it.

Roles: super (superuser), manager (staff in Managers), viewer (staff in Viewers), staff (staff
in no group), anon (nobody logged in), kiosk (a browser paired with a station), agent (a
station's token, `Authorization: Station <token>`). Every request comes from a LAN address,
not loopback (/metrics and /readyz's details are for the machine itself).

A line reads "METHOD roles let in; METHOD …". Everyone else gets the door's refusal: in the
admin, 403 for staff and the login page for the rest; in the API, 401 without a login and 403
with one; the agent API, 401; the kiosk pages and /metrics, 403; the WebSocket, closed with
4403. Let in means any other answer but a 404, 405 or 5xx (a page, a redirect, a form's 400,
a 409 from the kiosk's buttons; /readyz's 503 when a check fails), unless OTHER_ANSWER names
the answer a door gives to those it lets in.
"""

import datetime
import importlib
import re
import uuid

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib import admin
from django.contrib.auth.models import Group, User
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from config.asgi import application
from inventory.employees.models import Qualification
from inventory.items.services import record_calibration
from inventory.loans import services
from inventory.loans.models import ClosedDay, Door, Inspection
from inventory.ops.models import BackupRun, Notification, PeriodicRun, RestoreRun, StationAlert
from kiosk import actions, pairing
from kiosk.models import ScanEvent
from kiosk.routing import websocket_urlpatterns
from kiosk.scans import Scan, record_scans
from tests.factories import (
    BadgeFactory,
    CategoryFactory,
    EmployeeFactory,
    ItemFactory,
    ShiftFactory,
)

ROLES = ("super", "manager", "viewer", "staff", "anon", "kiosk", "agent")
STAFF = {"super", "manager", "viewer", "staff"}
LAN_ADDRESS = "192.0.2.10"
R = "super manager viewer"  # who reads the crib's records
W = "super manager"  # who keeps them
ANY_STAFF = "super manager viewer staff"

# fmt: off
MATRIX = {
    # (The admin's unnamed "<model>/<id>/" sends any staff on to the change form, which decides.)
    # The admin site itself
    "admin:index":                                      f"GET {ANY_STAFF}",
    "admin:login":                                      "GET " + " ".join(ROLES),
    "admin:logout":                                     "POST " + " ".join(ROLES),
    "admin:password_change":                            f"GET {ANY_STAFF}",
    "admin:password_change_done":                       f"GET {ANY_STAFF}",
    "admin:autocomplete":                               f"GET {R}",  # asked for tags' owners
    "admin:jsi18n":                                     f"GET {ANY_STAFF}",
    "admin:view_on_site":                               f"GET {ANY_STAFF}",
    "admin:app_list":                                   f"GET {R}",
    "admin/(?P<url>.*)$":                               f"GET {ANY_STAFF}",
    # The second factor: the code is asked only of a login half done (no role here), enrolment
    # is open to any staff, the backup codes page shows codes once after enrolling
    "admin:mfa_verify":                                 "GET; POST",
    "admin:mfa_enrol":                                  f"GET {ANY_STAFF}; POST {ANY_STAFF}",
    "admin:mfa_backup_codes":                           f"GET {ANY_STAFF}",
    # Pages of admin_pages (each names its permissions)
    "admin:ops_dashboard":                              f"GET {R}",
    "admin:ops_restorerun_report":                      f"GET {W}",
    "admin:items_item_calibration_due":                 f"GET {R}",
    "admin:items_calibration_certificate":              f"GET {R}",
    "admin:loans_loan_overdue":                         f"GET {R}",
    "admin:loans_loan_export":                          f"GET {R}",
    "admin:loans_loan_correct":                         f"GET {W}",
    "admin:loans_inspection_export":                    f"GET {R}",
    "admin:loans_closedday_import":                     f"GET {W}",
    "admin:masterdata_import":                          f"GET {W}",
    "admin:masterdata_export_employees":                f"GET {R}",
    "admin:masterdata_export_items":                    f"GET {R}",
    "admin:masterdata_export_categories":               f"GET {R}",
    "admin:kiosk_station_pairing":                      f"GET {W}; POST {W}",
    "admin:kiosk_station_enrol":                        f"GET {W}",
    "admin:kiosk_unknowntag_assign":                    f"GET {W}",
    # Lifting a login lockout: whoever may change users (superusers)
    "admin:unlock_login":                               "GET super; POST super",
    # Users and groups: the superuser's alone
    "admin:auth_user_changelist":                       "GET super",
    "admin:auth_user_add":                              "GET super",
    "admin:auth_user_history":                          "GET super",
    "admin:auth_user_delete":                           "GET super",
    "admin:auth_user_change":                           "GET super; POST super",
    "admin/auth/user/<path:object_id>/":                f"GET {ANY_STAFF}",
    "admin:auth_user_password_change":                  "GET super",
    "admin:auth_group_changelist":                      "GET super",
    "admin:auth_group_add":                             "GET super",
    "admin:auth_group_history":                         "GET super",
    "admin:auth_group_delete":                          "GET super",
    "admin:auth_group_change":                          "GET super; POST super",
    "admin/auth/group/<path:object_id>/":               f"GET {ANY_STAFF}",
    "admin:token_blacklist_outstandingtoken_changelist":  "GET super",
    "admin:token_blacklist_outstandingtoken_add":       "GET",
    "admin:token_blacklist_outstandingtoken_history":   "GET super",
    "admin:token_blacklist_outstandingtoken_delete":    "GET",
    "admin:token_blacklist_outstandingtoken_change":    "GET super; POST",
    "admin/token_blacklist/outstandingtoken/<path:object_id>/":  f"GET {ANY_STAFF}",
    "admin:token_blacklist_blacklistedtoken_changelist":  "GET super",
    "admin:token_blacklist_blacklistedtoken_add":       "GET super",
    "admin:token_blacklist_blacklistedtoken_history":   "GET super",
    "admin:token_blacklist_blacklistedtoken_delete":    "GET super",
    "admin:token_blacklist_blacklistedtoken_change":    "GET super; POST super",
    "admin/token_blacklist/blacklistedtoken/<path:object_id>/":  f"GET {ANY_STAFF}",
    # Master data: Managers keep it, Viewers read it
    "admin:employees_employee_changelist":              f"GET {R}",
    "admin:employees_employee_add":                     f"GET {W}",
    "admin:employees_employee_history":                 f"GET {R}",
    "admin:employees_employee_delete":                  f"GET {W}",
    "admin:employees_employee_change":                  f"GET {R}; POST {W}",
    "admin/employees/employee/<path:object_id>/":       f"GET {ANY_STAFF}",
    "admin:employees_qualification_changelist":         f"GET {R}",
    "admin:employees_qualification_add":                f"GET {W}",
    "admin:employees_qualification_history":            f"GET {R}",
    "admin:employees_qualification_delete":             f"GET {W}",
    "admin:employees_qualification_change":             f"GET {R}; POST {W}",
    "admin/employees/qualification/<path:object_id>/":  f"GET {ANY_STAFF}",
    "admin:employees_shift_changelist":                 f"GET {R}",
    "admin:employees_shift_add":                        f"GET {W}",
    "admin:employees_shift_history":                    f"GET {R}",
    "admin:employees_shift_delete":                     f"GET {W}",
    "admin:employees_shift_change":                     f"GET {R}; POST {W}",
    "admin/employees/shift/<path:object_id>/":          f"GET {ANY_STAFF}",
    "admin:items_item_changelist":                      f"GET {R}",
    "admin:items_item_add":                             f"GET {W}",
    "admin:items_item_history":                         f"GET {R}",
    "admin:items_item_delete":                          f"GET {W}",
    "admin:items_item_change":                          f"GET {R}; POST {W}",
    "admin/items/item/<path:object_id>/":               f"GET {ANY_STAFF}",
    "admin:items_tag_changelist":                       f"GET {R}",
    "admin:items_tag_add":                              f"GET {W}",
    "admin:items_tag_history":                          f"GET {R}",
    "admin:items_tag_delete":                           "GET",  # tags are deactivated
    "admin:items_tag_change":                           f"GET {R}; POST {W}",
    "admin/items/tag/<path:object_id>/":                f"GET {ANY_STAFF}",
    "admin:items_category_changelist":                  f"GET {R}",
    "admin:items_category_add":                         f"GET {W}",
    "admin:items_category_history":                     f"GET {R}",
    "admin:items_category_delete":                      f"GET {W}",
    "admin:items_category_change":                      f"GET {R}; POST {W}",
    "admin/items/category/<path:object_id>/":           f"GET {ANY_STAFF}",
    "admin:items_calibration_changelist":               f"GET {R}",
    "admin:items_calibration_add":                      f"GET {W}",
    "admin:items_calibration_history":                  f"GET {R}",
    "admin:items_calibration_delete":                   "GET",  # kept as recorded
    "admin:items_calibration_change":                   f"GET {R}; POST",
    "admin/items/calibration/<path:object_id>/":        f"GET {ANY_STAFF}",
    # Loans and their history
    "admin:loans_loan_changelist":                      f"GET {R}",
    "admin:loans_loan_add":                             f"GET {W}",
    "admin:loans_loan_history":                         f"GET {R}",
    "admin:loans_loan_delete":                          "GET",  # cancelled, never deleted
    "admin:loans_loan_change":                          f"GET {R}; POST {W}",
    "admin/loans/loan/<path:object_id>/":               f"GET {ANY_STAFF}",
    "admin:loans_loanevent_changelist":                 f"GET {R}",
    "admin:loans_loanevent_add":                        "GET",
    "admin:loans_loanevent_history":                    f"GET {R}",
    "admin:loans_loanevent_delete":                     "GET",
    "admin:loans_loanevent_change":                     f"GET {R}; POST",
    "admin/loans/loanevent/<path:object_id>/":          f"GET {ANY_STAFF}",
    "admin:loans_closedday_changelist":                 f"GET {R}",
    "admin:loans_closedday_add":                        f"GET {W}",
    "admin:loans_closedday_history":                    f"GET {R}",
    "admin:loans_closedday_delete":                     f"GET {W}",
    "admin:loans_closedday_change":                     f"GET {R}; POST {W}",
    "admin/loans/closedday/<path:object_id>/":          f"GET {ANY_STAFF}",
    "admin:loans_inspection_changelist":                f"GET {R}",
    "admin:loans_inspection_add":                       "GET",
    "admin:loans_inspection_history":                   f"GET {R}",
    "admin:loans_inspection_delete":                    "GET",
    "admin:loans_inspection_change":                    f"GET {R}; POST",
    "admin/loans/inspection/<path:object_id>/":         f"GET {ANY_STAFF}",
    # Kiosks: Managers run them, Viewers see them
    "admin:kiosk_station_changelist":                   f"GET {R}",
    "admin:kiosk_station_add":                          f"GET {W}",
    "admin:kiosk_station_history":                      f"GET {R}",
    "admin:kiosk_station_delete":                       f"GET {W}",  # one without history
    "admin:kiosk_station_change":                       f"GET {R}; POST {W}",
    "admin/kiosk/station/<path:object_id>/":            f"GET {ANY_STAFF}",
    "admin:kiosk_unknowntag_changelist":                f"GET {R}",
    "admin:kiosk_unknowntag_add":                       "GET",
    "admin:kiosk_unknowntag_history":                   f"GET {R}",
    "admin:kiosk_unknowntag_delete":                    "GET",
    "admin:kiosk_unknowntag_change":                    f"GET {R}; POST",
    "admin/kiosk/unknowntag/<path:object_id>/":         f"GET {ANY_STAFF}",
    "admin:kiosk_scanevent_changelist":                 f"GET {R}",
    "admin:kiosk_scanevent_add":                        "GET",
    "admin:kiosk_scanevent_history":                    f"GET {R}",
    "admin:kiosk_scanevent_delete":                     "GET",
    "admin:kiosk_scanevent_change":                     f"GET {R}; POST",
    "admin/kiosk/scanevent/<path:object_id>/":          f"GET {ANY_STAFF}",
    # Operations: Managers read backups and restores; jobs and alerts are the superuser's
    "admin:ops_backuprun_changelist":                   f"GET {W}",
    "admin:ops_backuprun_add":                          "GET",
    "admin:ops_backuprun_history":                      f"GET {W}",
    "admin:ops_backuprun_delete":                       "GET",
    "admin:ops_backuprun_change":                       f"GET {W}; POST",
    "admin/ops/backuprun/<path:object_id>/":            f"GET {ANY_STAFF}",
    "admin:ops_restorerun_changelist":                  f"GET {W}",
    "admin:ops_restorerun_add":                         "GET",
    "admin:ops_restorerun_history":                     f"GET {W}",
    "admin:ops_restorerun_delete":                      "GET",
    "admin:ops_restorerun_change":                      f"GET {W}; POST",
    "admin/ops/restorerun/<path:object_id>/":           f"GET {ANY_STAFF}",
    "admin:ops_periodicrun_changelist":                 "GET super",
    "admin:ops_periodicrun_add":                        "GET",
    "admin:ops_periodicrun_history":                    "GET super",
    "admin:ops_periodicrun_delete":                     "GET",
    "admin:ops_periodicrun_change":                     "GET super; POST",
    "admin/ops/periodicrun/<path:object_id>/":          f"GET {ANY_STAFF}",
    "admin:ops_notification_changelist":                "GET super",
    "admin:ops_notification_add":                       "GET",
    "admin:ops_notification_history":                   "GET super",
    "admin:ops_notification_delete":                    "GET",
    "admin:ops_notification_change":                    "GET super; POST",
    "admin/ops/notification/<path:object_id>/":         f"GET {ANY_STAFF}",
    "admin:ops_stationalert_changelist":                "GET super",
    "admin:ops_stationalert_add":                       "GET",
    "admin:ops_stationalert_history":                   "GET super",
    "admin:ops_stationalert_delete":                    "GET",
    "admin:ops_stationalert_change":                    "GET super; POST",
    "admin/ops/stationalert/<path:object_id>/":         f"GET {ANY_STAFF}",
    # The API (a JWT or the admin's session)
    "api-root":                                         f"GET {ANY_STAFF}",
    "token_obtain_pair":                                "POST " + " ".join(ROLES),
    "token_refresh":                                    "POST " + " ".join(ROLES),
    "employee-list":                                    f"GET {R}; POST {W}",
    "employee-detail":                                  f"GET {R}; PATCH {W}",
    "item-list":                                        f"GET {R}; POST {W}",
    "item-detail":                                      f"GET {R}; PATCH {W}",
    "tag-list":                                         f"GET {R}; POST {W}",
    "tag-detail":                                       f"GET {R}; PATCH {W}",
    "category-list":                                    f"GET {R}; POST {W}",
    "category-detail":                                  f"GET {R}; PATCH {W}",
    "qualification-list":                               f"GET {R}; POST {W}",
    "qualification-detail":                             f"GET {R}; PATCH {W}",
    "calibration-list":                                 f"GET {R}; POST {W}",
    "calibration-detail":                               f"GET {R}",
    "loan-list":                                        f"GET {R}; POST {W}",
    "loan-detail":                                      f"GET {R}",
    "loan-return-loan":                                 f"POST {W}",
    "loan-cancel":                                      f"POST {W}",
    "loan-correct":                                     f"POST {W}",
    "history-list":                                     f"GET {R}",
    "history-detail":                                   f"GET {R}",
    "overdue-list":                                     f"GET {R}",
    "inspection-list":                                  f"GET {R}",
    "inspection-detail":                                f"GET {R}",
    "station-list":                                     f"GET {R}",
    "station-detail":                                   f"GET {R}",
    "schema":                                           "GET " + " ".join(ROLES),
    "api-docs":                                         "GET " + " ".join(ROLES),
    # The agent's API: its station's token only
    "kiosk-scans":                                      "POST agent",
    "kiosk-heartbeat":                                  "POST agent",
    # The kiosk's pages: the paired browser acts; staff who may see stations watch
    "kiosk:screen":                                     f"GET kiosk {R}",
    "kiosk:state":                                      f"GET kiosk {R}",
    "kiosk:pair":                                       "GET " + " ".join(ROLES),
    "kiosk:undo":                                       "POST kiosk",
    "kiosk:take-over":                                  "POST kiosk",
    "kiosk:damage":                                     "POST kiosk",
    "kiosk:end":                                        "POST kiosk",
    "kiosk:checklist":                                  "POST kiosk",
    "kiosk:demo-tap":                                   "POST",  # KIOSK_DEMO=1 only (DEBUG)
    "ws/kiosk/":                                        f"WS kiosk {R}",
    # Health and monitoring
    "healthz":                                          "GET " + " ".join(ROLES),
    "readyz":                                           "GET " + " ".join(ROLES),
    "metrics":                                          "GET",  # loopback or METRICS_TOKEN
    "set_language":                                     "POST " + " ".join(ROLES),
}

# One line per action of each admin list: the roles that may run it.
ACTIONS = {
    "auth.group delete_selected":                       "super",
    "auth.user delete_selected":                        "super",
    "auth.user reset_second_factor":                    "super",
    "token_blacklist.outstandingtoken delete_selected": "",
    "token_blacklist.blacklistedtoken delete_selected": "super",
    "employees.employee delete_selected":               W,
    "employees.qualification delete_selected":          W,
    "employees.shift delete_selected":                  W,
    "items.item delete_selected":                       W,
    "items.tag delete_selected":                        "",
    "items.category delete_selected":                   W,
    "items.calibration delete_selected":                "",
    "loans.loan delete_selected":                       "",
    "loans.loan return_selected":                       W,
    "loans.loan return_selected_damaged":               W,
    "loans.loan cancel_selected":                       W,
    "loans.loanevent delete_selected":                  "",
    "loans.closedday delete_selected":                  W,
    "loans.inspection delete_selected":                 "",
    "kiosk.station delete_selected":                    "",  # one at a time, if it has no history
    "kiosk.station rotate_tokens":                      W,
    "kiosk.station revoke_tokens":                      W,
    "kiosk.station unpair_browsers":                    W,
    "kiosk.unknowntag delete_selected":                 "",
    "kiosk.scanevent delete_selected":                  "",
    "ops.backuprun delete_selected":                    "",
    "ops.restorerun delete_selected":                   "",
    "ops.periodicrun delete_selected":                  "",
    "ops.notification delete_selected":                 "",
    "ops.stationalert delete_selected":                 "",
}

# Doors whose answer to staff they refuse is not a 403.
OTHER_REFUSAL = {
    "admin:app_list": 404,  # an app none of whose lists the user may see
    "admin:mfa_verify": 302,  # back to the login: only a login half done has a code to ask
}
# Doors whose answer to those they let in is not a page.
OTHER_ANSWER = {
    "admin:view_on_site": 404,  # no model of ours has get_absolute_url
    "admin/(?P<url>.*)$": 404,  # the admin's catch-all for unknown pages
}
# fmt: on


def classified(line: str) -> dict[str, set[str]]:
    """ "GET a b; POST c" -> {"GET": {"a", "b"}, "POST": {"c"}}"""
    methods = {}
    for part in line.split(";"):
        method, *roles = part.split()
        unknown = set(roles) - set(ROLES)
        assert not unknown, f"not a role: {unknown}"
        methods[method] = set(roles)
    return methods


def doors() -> list[tuple[str, str, URLPattern]]:
    """(key, route, pattern) of every HTTP pattern: key is its name (namespaced), or its route
    when it has none. Format-suffix twins of the API share their name and their line."""
    found = []

    def walk(patterns, prefix, namespace):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
            else:
                route = prefix + str(pattern.pattern)
                key = f"{namespace}{pattern.name}" if pattern.name else route
                found.append((key, route, pattern))

    walk(get_resolver().url_patterns, "", "")
    return found


def websocket_routes() -> list[str]:
    return [str(pattern.pattern) for pattern in websocket_urlpatterns]


def admin_actions() -> list[str]:
    return [
        f"{model._meta.label_lower} {name}"
        for model, model_admin in admin.site._registry.items()
        for _function, name, _description in model_admin._get_base_actions()
    ]


def test_every_door_and_every_action_is_classified():
    http = {key for key, _route, _pattern in doors()}
    known = http | set(websocket_routes())
    assert sorted(known - set(MATRIX)) == [], "unclassified: add a line to MATRIX"
    assert sorted(set(MATRIX) - known) == [], "MATRIX names a door that is gone"
    actions_found = set(admin_actions())
    assert sorted(actions_found - set(ACTIONS)) == [], "unclassified: add a line to ACTIONS"
    assert sorted(set(ACTIONS) - actions_found) == [], "ACTIONS names an action that is gone"


# The world every role is asked about: one object of every model that has an admin.


@pytest.fixture
def world(db, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    station, token, code = actions.create_station(name="Line 1")
    spare, _token, _code = actions.create_station(name="Spare (no history)")
    employee = EmployeeFactory()
    badge = BadgeFactory(employee=employee)
    item = ItemFactory()
    category = CategoryFactory()
    qualification = Qualification.objects.create(name="Torque course")
    shift = ShiftFactory()
    loan = services.borrow(item=item, employee=employee, door=Door.API)
    now = timezone.now()
    (unknown,) = record_scans(
        station=station,
        scans=[Scan(id=uuid.uuid4(), raw_id="", uid="04AA0000000009", read_at=now)],
        sent_at=now,
        received_at=now,
    )
    scan = ScanEvent.objects.get(pk=unknown.id)
    instrument = ItemFactory()
    calibration = record_calibration(
        item=instrument,
        calibrated_on=timezone.localdate(),
        next_due=timezone.localdate() + datetime.timedelta(days=365),
        passed=True,
        certificate=ContentFile(b"%PDF-1.4", name="certificate.pdf"),
    )
    inspection = Inspection.objects.create(
        item=item, employee=employee, at=now, passed=True, answers=[], door=Door.KIOSK
    )
    closed_day = ClosedDay.objects.create(date=datetime.date(2030, 1, 1), name="New Year")
    backup = BackupRun.objects.create(
        trigger=BackupRun.Trigger.choices[0][0], started_at=now, finished_at=now, succeeded=True
    )
    restore = RestoreRun.objects.create(
        restored_at=now, archive="toolcrib.tar.gz", archive_created_at=now
    )
    periodic = PeriodicRun.objects.create(job="backup", started_at=now, succeeded=True)
    notification = Notification.objects.create(
        kind=Notification.Kind.choices[0][0],
        recipient="boss@example.com",
        day=now.date(),
        channel=Notification.Channel.choices[0][0],
        state=Notification.State.choices[0][0],
        claimed_at=now,
    )
    alert = StationAlert.objects.create(
        station=station, kind=StationAlert.Kind.choices[0][0], since=now
    )
    make_role_users()
    target = User.objects.create_user("target", password="target-pass-123")
    refresh = RefreshToken.for_user(target)
    outstanding = OutstandingToken.objects.get(jti=refresh["jti"])
    blacklisted = BlacklistedToken.objects.create(token=outstanding)
    return {
        "station": station,
        "token": token,
        "code": code,
        "objects": {
            "auth.group": Group.objects.get(name="Viewers"),
            "auth.user": target,
            "token_blacklist.outstandingtoken": outstanding,
            "token_blacklist.blacklistedtoken": blacklisted,
            "employees.employee": employee,
            "employees.qualification": qualification,
            "employees.shift": shift,
            "items.item": item,
            "items.tag": badge,
            "items.category": category,
            "items.calibration": calibration,
            "loans.loan": loan,
            "loans.loanevent": loan.events.first(),
            "loans.closedday": closed_day,
            "loans.inspection": inspection,
            "kiosk.station": spare,
            "kiosk.unknowntag": scan,
            "kiosk.scanevent": scan,
            "ops.backuprun": backup,
            "ops.restorerun": restore,
            "ops.periodicrun": periodic,
            "ops.notification": notification,
            "ops.stationalert": alert,
        },
    }


def make_role_users():
    for role in STAFF:
        user = User.objects.create_user(
            f"{role}-user", password="role-pass-123", is_staff=True, is_superuser=role == "super"
        )
        if role in ("manager", "viewer"):
            user.groups.add(Group.objects.get(name=f"{role.title()}s"))


def client_for(role: str, world) -> Client:
    client = Client(REMOTE_ADDR=LAN_ADDRESS, HTTP_ACCEPT_LANGUAGE="en")
    if role in STAFF:
        client.force_login(User.objects.get(username=f"{role}-user"))
    elif role == "kiosk":
        station = world["station"]
        client.cookies[pairing.COOKIE] = pairing.cookie_value(station)
    elif role == "agent":
        client.defaults["HTTP_AUTHORIZATION"] = f"Station {world['token']}"
    return client


def probe_path(key: str, route: str, pattern: URLPattern, world) -> str:
    """A real address for the pattern, naming the world's objects."""
    objects = world["objects"]
    station = world["station"]
    params = set(pattern.pattern.regex.groupindex)
    admin_model = re.match(r"admin/(\w+)/(\w+)/", route)
    if key == "admin/(?P<url>.*)$":
        return "/admin/no-such-page/"
    if key.startswith("admin/"):  # the admin's unnamed "<id>/", which leads to the change form
        obj = objects[f"{admin_model[1]}.{admin_model[2]}"]
        return f"/admin/{admin_model[1]}/{admin_model[2]}/{obj.pk}/"
    special = {
        "admin:view_on_site": lambda: {
            "content_type_id": ContentType.objects.get_for_model(objects["items.item"]).pk,
            "object_id": objects["items.item"].pk,
        },
        "admin:app_list": lambda: {"app_label": "kiosk"},
        "admin:auth_user_password_change": lambda: {"id": objects["auth.user"].pk},
        "admin:items_calibration_certificate": lambda: {"pk": objects["items.calibration"].pk},
        "admin:loans_loan_correct": lambda: {"object_id": objects["loans.loan"].pk},
        "admin:kiosk_station_pairing": lambda: {"station_id": station.pk},
        "admin:kiosk_station_enrol": lambda: {"kind": "item", "pk": objects["items.item"].pk},
        "admin:kiosk_unknowntag_assign": lambda: {"uid": "04AA0000000009"},
        "admin:ops_restorerun_report": lambda: {"pk": objects["ops.restorerun"].pk},
        "kiosk:pair": lambda: {"code": world["code"]},
        "employee-detail": lambda: {"code": objects["employees.employee"].code},
        "item-detail": lambda: {"code": objects["items.item"].code},
        "category-detail": lambda: {"name": objects["items.category"].name},
        "tag-detail": lambda: {"pk": objects["items.tag"].pk},
        "qualification-detail": lambda: {"pk": objects["employees.qualification"].pk},
        "calibration-detail": lambda: {"pk": objects["items.calibration"].pk},
        "inspection-detail": lambda: {"pk": objects["loans.inspection"].pk},
        "station-detail": lambda: {"pk": station.pk},
        "history-detail": lambda: {"pk": objects["loans.loanevent"].pk},
    }
    kwargs = special[key]() if key in special else {}
    if "object_id" in params and "object_id" not in kwargs:
        kwargs["object_id"] = objects[f"{admin_model[1]}.{admin_model[2]}"].pk
    if "pk" in params and "pk" not in kwargs:  # the loan's own routes
        kwargs["pk"] = objects["loans.loan"].pk
    if "format" in params:
        kwargs["format"] = "json"
    path = reverse(key, kwargs=kwargs)
    if key == "admin:autocomplete":
        path += "?app_label=items&model_name=tag&field_name=employee"
    if key in ("kiosk:screen", "kiosk:state"):
        path += f"?station={station.pk}"  # what staff ask to watch; a kiosk needs no query
    return path


def refusal(key: str, path: str, role: str) -> tuple[int, str]:
    """What the door at `path` answers a role it does not let in: (status, login redirect)."""
    if path.startswith("/admin/"):
        return (OTHER_REFUSAL.get(key, 403), "") if role in STAFF else (302, "/admin/login/")
    if path.startswith("/api/v1/kiosk/"):
        return 401, ""
    if path.startswith("/api/"):
        return (403, "") if role in STAFF else (401, "")
    return 403, ""


def answer(response) -> str:
    location = response.headers.get("Location", "")
    return f"{response.status_code} {location}".strip()


def judged(key: str, path: str, role: str, allowed: bool, response) -> str | None:
    """None when the answer is the one the matrix expects, else what went wrong."""
    status = response.status_code
    location = response.headers.get("Location", "")
    refused_status, login = refusal(key, path, role)
    refused = status == refused_status and (not login or location.startswith(login))
    if not allowed:
        return None if refused else f"should be refused, got {answer(response)}"
    if refused:
        return f"should be let in, got {answer(response)}"
    if key in OTHER_ANSWER:
        return None if status == OTHER_ANSWER[key] else f"got {answer(response)}"
    if status in (404, 405) or (status >= 500 and not (key == "readyz" and status == 503)):
        return f"got {answer(response)}"
    if status in (302, 301) and "/login/" in location:
        return f"sent to log in: {location}"
    return None


@pytest.mark.parametrize("role", ROLES)
def test_each_door_answers_each_role_as_the_matrix_says(role, world):
    wrong = []
    probes = [
        (key, probe_path(key, route, pattern, world), method, role in roles)
        for key, route, pattern in doors()
        for method, roles in classified(MATRIX[key]).items()
    ]
    # Reads first: a write (a new pairing code, a PATCH) must not change what a read sees. Each
    # probe has a client of its own, so logging out ends nothing else.
    probes.sort(key=lambda probe: probe[2] != "GET")
    for key, path, method, allowed in probes:
        client = client_for(role, world)
        if method == "GET":
            response = client.get(path)
        elif path.startswith("/api/"):
            response = client.generic(method, path, "{}", content_type="application/json")
        else:
            response = client.generic(method, path)
        problem = judged(key, path, role, allowed, response)
        if problem:
            wrong.append(f"{role} {method} {path} ({key}): {problem}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("role", ROLES)
def test_each_admin_action_runs_only_for_the_roles_the_matrix_names(role, world):
    wrong = []
    for line, who in ACTIONS.items():
        label, name = line.split()
        allowed = role in who.split()
        obj = world["objects"][label] if label != "kiosk.station" else world["station"]
        model = type(obj)
        before = model.objects.filter(pk=obj.pk).values().first()
        changelist = reverse(f"admin:{label.replace('.', '_')}_changelist")
        client = client_for(role, world)
        listed = client.get(changelist)
        form = listed.context.get("action_form") if listed.status_code == 200 else None
        offered = form is not None and name in dict(form.fields["action"].choices)
        response = client.post(
            changelist, {"action": name, "_selected_action": [obj.pk]}, follow=True
        )
        said = [str(m) for m in response.context["messages"]] if response.context else []
        ran = offered and response.status_code == 200 and "No action selected." not in said
        after = model.objects.filter(pk=obj.pk).values().first()
        if allowed and not ran:
            wrong.append(f"{role} {line}: should run, got {response.status_code} {said}")
        if not allowed and (ran or after != before):
            wrong.append(f"{role} {line}: should be refused, but it ran: {said}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.asyncio
# Transactional: the consumer's middleware reads the database from another thread.
@pytest.mark.django_db(transaction=True)
async def test_the_kiosk_websocket_answers_each_role_as_the_matrix_says(role):
    world = await database_sync_to_async(_websocket_world)()
    for route in websocket_routes():
        allowed = role in classified(MATRIX[route])["WS"]
        headers = [(b"origin", b"http://localhost"), (b"host", b"localhost")]
        cookie = await database_sync_to_async(_cookie_for)(role, world)
        if cookie:
            headers.append((b"cookie", cookie.encode()))
        path = f"/{route}?station={world['station'].pk}"  # what staff ask to watch
        ws = WebsocketCommunicator(application, path, headers=headers)
        connected, _ = await ws.connect()
        closed = await ws.receive_nothing(timeout=0.3) is False
        if closed:
            message = await ws.receive_output()
            closed = message == {"type": "websocket.close", "code": 4403}
        await ws.disconnect()
        assert connected
        assert closed is not allowed, f"{role} at {route}: {'refused' if closed else 'let in'}"


# The data migrations that make the groups and grant them permissions.
GROUP_MIGRATIONS = [
    "inventory.loans.migrations.0002_groups",
    "inventory.loans.migrations.0006_crib_rule_permissions",
    "inventory.ops.migrations.0002_station_permissions",
    "inventory.ops.migrations.0005_kiosk_and_backup_permissions",
]


def groups_as_migrated():
    """Run the group migrations again, on the migrated state's models: a transactional test
    starts from tables an earlier one emptied. (serialized_rollback would restore them, but
    clashes with the content types an earlier flush already made again.)"""
    state_apps = MigrationLoader(connection).project_state().apps
    for name in GROUP_MIGRATIONS:
        for operation in importlib.import_module(name).Migration.operations:
            operation.code(state_apps, None)


def _websocket_world():
    groups_as_migrated()
    make_role_users()
    station, token, _code = actions.create_station(name="Line 1")
    return {"station": station, "token": token}


def _cookie_for(role, world) -> str:
    client = client_for(role, world)
    return "; ".join(f"{name}={morsel.value}" for name, morsel in client.cookies.items())
