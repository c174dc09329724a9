"""Fields every API serializer shares."""

import re

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

DATE_ONLY = re.compile(r"\s*\d{4}-\d{1,2}-\d{1,2}\s*")


class DateTimeField(serializers.DateTimeField):
    """DRF's, refusing with a 400 what it would otherwise read as a surprise or a 500: a date
    without a time (read as midnight, a loan "due 11/24" would be overdue from that morning)
    and a time out of range once put in the time zone (year 1 in Tokyo is before year 1 UTC)."""

    default_error_messages = {
        "date_only": _("Give a time with the date, e.g. 2026-11-24T18:00:00+09:00."),
    }

    def to_internal_value(self, value):
        if isinstance(value, str) and DATE_ONLY.fullmatch(value):
            self.fail("date_only")
        try:
            return super().to_internal_value(value)
        except OverflowError:
            self.fail("overflow")
