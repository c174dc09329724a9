"""Binding a kiosk browser to its station.

An administrator makes a one-time pairing code; its URL opened in the kiosk's browser, and the
page's button tapped (views.pair), stores a signed, HttpOnly cookie naming the station and its
browser generation. Bumping the generation (admin action) unpairs every browser paired before;
the code works once.
"""

import datetime
import secrets

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from kiosk.models import Station, hash_secret

COOKIE = "kiosk_station"
COOKIE_MAX_AGE = 10 * 365 * 24 * 3600
_SALT = "kiosk.pairing"


def start_pairing(station: Station) -> str:
    """A new one-time pairing code for `station`, valid KIOSK_PAIRING_MINUTES (any previous
    code stops working)."""
    code = secrets.token_urlsafe(16)
    lifetime = datetime.timedelta(minutes=settings.KIOSK_PAIRING_MINUTES)
    Station.objects.filter(pk=station.pk).update(
        pairing_code_hash=hash_secret(code), pairing_expires_at=timezone.now() + lifetime
    )
    return code


def pair_url(code: str) -> str:
    path = reverse("kiosk:pair", args=[code])
    return f"{settings.SITE_URL}{path}" if settings.SITE_URL else path


def station_for(code: str) -> Station | None:
    """The station this code would pair, leaving the code unused."""
    return _valid(Station.objects, code).first()


def redeem(code: str) -> Station | None:
    """The station this code pairs, consuming the code; None if unknown, used or expired."""
    with transaction.atomic():
        station = _valid(Station.objects.select_for_update(), code).first()
        if station is not None:
            station.pairing_code_hash, station.pairing_expires_at = "", None
            station.save(update_fields=["pairing_code_hash", "pairing_expires_at"])
    return station


def _valid(stations, code: str):
    return stations.filter(
        pairing_code_hash=hash_secret(code), pairing_expires_at__gt=timezone.now()
    )


def cookie_value(station: Station) -> str:
    return signing.dumps([station.pk, station.browser_generation], salt=_SALT)


def station_from_cookie(value: str | None) -> Station | None:
    """The station a browser is paired with, if its cookie is genuine and still current."""
    if not value:
        return None
    try:
        station_id, generation = signing.loads(value, salt=_SALT)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    return Station.objects.filter(pk=station_id, browser_generation=generation).first()


def may_watch(user) -> bool:
    """Staff who may see stations (kiosk.view_station: Managers, Viewers) may open any
    station's screen as a monitor, which shows who is borrowing what and acts on nothing."""
    return (
        user is not None
        and user.is_active
        and user.is_staff
        and user.has_perm("kiosk.view_station")
    )


def unpair_all(station: Station) -> None:
    Station.objects.filter(pk=station.pk).update(browser_generation=station.browser_generation + 1)
