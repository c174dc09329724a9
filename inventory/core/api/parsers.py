"""The API reads JSON only: no endpoint takes a form or a file, and one way in is one to check."""

import io

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import exceptions, parsers


class BodyTooLarge(exceptions.APIException):
    status_code = 413
    default_code = "too_large"

    @classmethod
    def for_limit(cls) -> "BodyTooLarge":
        return cls(
            _(
                "The request body is larger than %(limit)d bytes. Send less at a time "
                "(a scan batch holds at most 500 events)."
            )
            % {"limit": settings.DATA_UPLOAD_MAX_MEMORY_SIZE}
        )


class JSONParser(parsers.JSONParser):
    """DRF's, with two refusals instead of a 500 or an exhausted memory: a body larger than
    DATA_UPLOAD_MAX_MEMORY_SIZE is a 413 (DRF reads the request as a stream when nothing read
    `request.body` first, and Django checks the limit only there), and JSON nested too deeply
    for Python's parser is a 400."""

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE  # None: no limit, as in Django
        raw = stream.read() if limit is None else stream.read(limit + 1)
        if limit is not None and len(raw) > limit:
            raise BodyTooLarge.for_limit()
        try:
            return super().parse(io.BytesIO(raw), media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError(_("The JSON is nested too deeply to read.")) from None
