"""The API reads JSON only: no endpoint takes a form or a file, and one way in is one to check."""

from django.utils.translation import gettext as _
from rest_framework import exceptions, parsers


class JSONParser(parsers.JSONParser):
    """DRF's, except that JSON nested too deeply for Python's parser (a thousand `[`) is a 400
    like any other unreadable body, not a RecursionError and a 500."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError(_("The JSON is nested too deeply to read.")) from None
