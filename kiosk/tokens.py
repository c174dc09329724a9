"""Which station an agent's token names, remembered by each server process for a minute.

Looking the token up costs every agent request a query, and its answer almost never changes.
What is remembered is only a hint: each request checks the token against the station row in
the statement that does its work anyway (kiosk.scans locks the row, a heartbeat updates it only
where the token still matches), so a token revoked or rotated in the admin is refused at once,
whichever process remembered it.
"""

import copy
import time

from kiosk.models import Station, hash_secret

REMEMBER_SECONDS = 60
# More agents than any crib has: past it the memory starts again rather than grow.
MOST = 1000

_remembered: dict[str, tuple[float, Station]] = {}


class Refused(Exception):
    """The token was revoked or rotated after this process looked it up."""


def station_for(token: str) -> Station | None:
    """The station holding `token` when it was last looked up (a copy: requests on other
    threads use the same one); None for an unknown or revoked token."""
    token_hash = hash_secret(token)
    now = time.monotonic()
    seen = _remembered.get(token_hash)
    if seen is None or seen[0] < now:
        station = Station.objects.by_token(token)
        if station is None:
            return None
        if len(_remembered) >= MOST:
            _remembered.clear()
        seen = _remembered[token_hash] = (now + REMEMBER_SECONDS, station)
    return copy.copy(seen[1])


def check(station: Station, token_hash: str) -> None:
    """Raise Refused unless `station`, as just read from its locked row, still holds the token
    whose hash is `token_hash`."""
    if station.token_hash != token_hash or station.revoked_at is not None:
        forget(token_hash)
        raise Refused()


def forget(token_hash: str) -> None:
    _remembered.pop(token_hash, None)
