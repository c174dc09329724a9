"""The kiosk's pages: a paired browser sees its station's screen; staff who may see stations
watch any (pairing.may_watch)."""

import uuid

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from inventory.core.logging import bind_log_context
from inventory.core.uids import is_uid, normalize_uid
from inventory.items.models import CHECKLIST_MAX_CHECKS
from kiosk import actions, pairing
from kiosk.models import ScanEvent, Station
from kiosk.scans import Scan, record_scans
from kiosk.screen import load_station, screen_context

PAGE = "kiosk/screen.html"


def _station(request: HttpRequest) -> tuple[Station | None, bool]:
    """(station, monitor): the paired station, or the one a staff user asked to watch."""
    station = pairing.station_from_cookie(request.COOKIES.get(pairing.COOKIE))
    if station is not None:
        bind_log_context(station=station.name)
        return load_station(station.pk), False
    wanted = request.GET.get("station", "")
    watching = pairing.may_watch(request.user) and wanted.isdecimal()
    if watching and Station.objects.filter(pk=wanted).exists():
        return load_station(int(wanted)), True
    return None, False


@require_GET
def screen(request: HttpRequest) -> HttpResponse:
    station, monitor = _station(request)
    if station is None:
        return render(request, "kiosk/unpaired.html", status=403)
    return render(request, PAGE, screen_context(station, monitor=monitor))


@require_GET
def state(request: HttpRequest) -> HttpResponse:
    """The current state as out-of-band fragments: after a reconnect, or when a timer ends.

    After a reconnect the page names the first tap the agent saved while it was offline
    (`late_since`): if the agent delivered them before the page was back, the push saying they
    were recorded late went to nobody, so this answer says it instead.
    """
    station, monitor = _station(request)
    if station is None:
        return HttpResponse(status=403)
    late_count = _recorded_late(station, request.GET.get("late_since", ""))
    context = screen_context(station, monitor=monitor, late_count=late_count)
    return render(request, f"{PAGE}#state", context)


def _recorded_late(station: Station, first_id: str) -> int:
    """How many of the station's taps from `first_id` on were applied late."""
    try:
        first = uuid.UUID(first_id)
    except ValueError:
        return 0
    scans = ScanEvent.objects.filter(station=station)
    since = scans.filter(pk=first).values_list("read_at", flat=True).first()
    if since is None:
        return 0
    return scans.filter(read_at__gte=since, live=False, status=ScanEvent.Status.APPLIED).count()


# No CSRF token: the one-time code in the URL is the secret, and a page that made a browser
# post someone's code would only show that station's screen, nothing of the browser's own.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def pair(request: HttpRequest, code: str) -> HttpResponse:
    """GET only asks: link previews in chat and mail scanners (some of which run a page's
    scripts) open links too, and used the code up before the kiosk could. A tap on the page's
    button posts the code back; the POST pairs."""
    asking = request.method == "GET"
    station = pairing.station_for(code) if asking else pairing.redeem(code)
    if station is None:
        return render(request, "kiosk/unpaired.html", {"bad_code": True}, status=404)
    if asking:
        return render(request, "kiosk/pair.html", {"station": station})
    response = redirect("kiosk:screen")
    response.set_cookie(
        pairing.COOKIE,
        pairing.cookie_value(station),
        max_age=pairing.COOKIE_MAX_AGE,
        httponly=True,
        secure=request.is_secure(),
        samesite="Lax",
    )
    return response


@require_POST
def undo(request: HttpRequest) -> HttpResponse:
    return _act(request, actions.undo_last_change, loan_id="loan")


@require_POST
def take_over(request: HttpRequest) -> HttpResponse:
    return _act(request, actions.take_over, loan_id="loan", employee_id="employee")


@require_POST
def report_damage(request: HttpRequest) -> HttpResponse:
    return _act(request, actions.report_damage, loan_id="loan")


@require_POST
def end_session(request: HttpRequest) -> HttpResponse:
    return _act(request, actions.end_session, employee_id="employee")


@require_POST
def answer_checklist(request: HttpRequest) -> HttpResponse:
    """The check before use answered: the tool and the person as the question showed them, and
    `answer-0`, `answer-1`… (ok or ng), one per check in order."""
    return _act(
        request, actions.answer_checklist, answers=True, item_id="item", employee_id="employee"
    )


def _act(request: HttpRequest, action, *, answers: bool = False, **fields: str) -> HttpResponse:
    """A button names what it acts on, as the screen showed it (`fields`: argument -> form
    field; with `answers`, the answers to a checklist too): 204 when done, 409 when the station
    has moved on or the action was refused (the screen is pushed its current state either way)."""
    station, monitor = _station(request)
    if station is None or monitor:
        return HttpResponse(status=403)
    named = {}
    for argument, name in fields.items():
        value = request.POST.get(name, "")
        if not value.isdecimal() or len(value) > 18:  # an id, within the database's integers
            return HttpResponseBadRequest(name)
        named[argument] = int(value)
    if answers:
        named["answers"] = _answers(request.POST)
        if not named["answers"]:
            return HttpResponseBadRequest("answer")
    done = action(station=station, **named)
    return HttpResponse(status=204 if done else 409)


def _answers(form) -> list[bool]:
    """True for OK, False for NG, in the checklist's order; empty when they are malformed."""
    said = {"ok": True, "ng": False}
    answers = []
    while f"answer-{len(answers)}" in form:
        value = form[f"answer-{len(answers)}"]
        if value not in said or len(answers) == CHECKLIST_MAX_CHECKS:
            return []
        answers.append(said[value])
    return answers


@require_POST
def demo_tap(request: HttpRequest) -> HttpResponse:
    """Demo mode: a click on a demo badge or tool goes through the agent's scan path."""
    station, monitor = _station(request)
    if not settings.KIOSK_DEMO or station is None or monitor:
        return HttpResponse(status=403)
    uid = request.POST.get("uid", "")
    if not is_uid(uid):
        return HttpResponseBadRequest("uid")
    now = timezone.now()
    scan = Scan(id=uuid.uuid4(), raw_id="demo", uid=normalize_uid(uid), read_at=now)
    record_scans(station=station, scans=[scan], sent_at=now, received_at=now)
    return HttpResponse(status=204)
