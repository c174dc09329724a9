"""NFC UIDs in one spelling: upper-case hex, no separators (e.g. 04A1B2C3D4E5F6).

Readers, spreadsheets and people write the same UID as `04:a1:b2…`, `04 A1 B2…` or
`04-a1-b2…`; every door normalises through here so a lookup never misses on spelling.
"""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

_SEPARATORS = re.compile(r"[\s:\-]")
_HEX = re.compile(r"[0-9A-F]+")
# ISO 14443 UIDs are 4, 7 or 10 bytes; FeliCa IDm is 8. Accept any whole byte count in range.
MIN_BYTES, MAX_BYTES = 4, 10


def normalize_uid(raw: str) -> str:
    uid = _SEPARATORS.sub("", str(raw)).upper()
    if not _HEX.fullmatch(uid) or len(uid) % 2 or not MIN_BYTES * 2 <= len(uid) <= MAX_BYTES * 2:
        raise ValidationError(
            _(
                "“%(value)s” is not an NFC UID. Enter 4 to 10 bytes in hexadecimal, "
                "e.g. 04A1B2C3D4E5F6 (colons, spaces and dashes are allowed)."
            ),
            code="invalid_uid",
            params={"value": raw},
        )
    return uid


def is_uid(raw: str) -> bool:
    try:
        normalize_uid(raw)
    except ValidationError:
        return False
    return True
