"""Every API error is JSON `{"code": ..., "message": ...}` (plus `fields` for invalid input).

Codes are stable for programs; messages are translated for people and say what to do next.
"""

from django.core.exceptions import ObjectDoesNotExist, RequestDataTooBig
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, IntegrityError
from django.db.models import ProtectedError
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import defaults
from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from inventory.core.api.parsers import BodyTooLarge
from inventory.core.errors import DomainError
from inventory.core.lockout import LoginLocked

_CODES = [
    (exceptions.NotAuthenticated, "NOT_AUTHENTICATED"),
    (exceptions.AuthenticationFailed, "NOT_AUTHENTICATED"),
    (exceptions.PermissionDenied, "PERMISSION_DENIED"),
    (exceptions.NotFound, "NOT_FOUND"),
    (exceptions.ValidationError, "INVALID"),
    (exceptions.ParseError, "INVALID"),
    (exceptions.MethodNotAllowed, "METHOD_NOT_ALLOWED"),
    (exceptions.UnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE"),
    (exceptions.NotAcceptable, "NOT_ACCEPTABLE"),
    (exceptions.Throttled, "THROTTLED"),
    (LoginLocked, "LOCKED_OUT"),
    (BodyTooLarge, "TOO_LARGE"),
]


def page_not_found(request, exception):
    """An address no route matches: JSON like every other API answer under /api/, Django's page
    elsewhere."""
    if request.path.startswith("/api/"):
        detail = exceptions.NotFound.default_detail
        return JsonResponse({"code": "NOT_FOUND", "message": str(detail)}, status=404)
    return defaults.page_not_found(request, exception)


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        return Response({"code": exc.code, "message": exc.message}, status=exc.status)
    if isinstance(exc, ProtectedError):
        return Response(
            {
                "code": "HAS_HISTORY",
                "message": _(
                    "This record has history (loans or NFC tags) and cannot be deleted. "
                    "Deactivate the person or retire the tool instead."
                ),
            },
            status=409,
        )
    if isinstance(exc, IntegrityError):
        # Two requests wrote the same code, or one deleted what the other was using, at the
        # same moment: the checks before the write passed for both, the database refused one.
        set_rollback()
        return Response(
            {
                "code": "CONFLICT",
                "message": _(
                    "Someone else changed the same record at the same moment. "
                    "Reload it and try again."
                ),
            },
            status=409,
        )
    if isinstance(exc, RequestDataTooBig):
        # Django's own limit, met when a middleware read the body before the parser did.
        exc = BodyTooLarge.for_limit()
    elif isinstance(exc, Http404 | ObjectDoesNotExist):
        # ObjectDoesNotExist: found, then deleted by another request before it could be locked.
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, DataError):
        # The database refused a value the checks let through (a NUL character in a code).
        exc = exceptions.ValidationError(
            {
                "non_field_errors": [
                    _(
                        "A value cannot be stored: it holds a character or a number the "
                        "database does not accept. Remove control characters and try again."
                    )
                ]
            }
        )
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    code = next((code for kind, code in _CODES if isinstance(exc, kind)), "ERROR")
    if isinstance(exc, exceptions.ValidationError):
        response.data = {
            "code": code,
            "message": _("Some values are not valid: %(problems)s")
            % {"problems": "; ".join(_flatten(exc.detail))},
            "fields": exc.detail,
        }
    elif isinstance(exc, exceptions.Throttled):
        # DRF's text names no next step; Retry-After (set by DRF from exc.wait) says the same.
        seconds = int(exc.wait or 1)
        response.data = {
            "code": code,
            "message": ngettext(
                "Too many requests. Wait %(seconds)d second, then try again.",
                "Too many requests. Wait %(seconds)d seconds, then try again.",
                seconds,
            )
            % {"seconds": seconds},
        }
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        response.data = {"code": code, "message": str(_first(detail))}
    return response


def _flatten(detail, prefix=""):
    if isinstance(detail, dict):
        for key, value in detail.items():
            label = key if key != "non_field_errors" else ""
            yield from _flatten(value, f"{prefix}{label}: " if label else prefix)
    elif isinstance(detail, list):
        for value in detail:
            yield from _flatten(value, prefix)
    else:
        yield f"{prefix}{detail}"


def _first(detail):
    if isinstance(detail, dict):
        detail = detail.get("detail", next(iter(detail.values()), ""))
    if isinstance(detail, list):
        detail = detail[0] if detail else ""
    return detail


ErrorSerializer = inline_serializer(
    name="Error",
    fields={
        "code": serializers.CharField(help_text="Stable machine-readable code, e.g. ITEM_ON_LOAN."),
        "message": serializers.CharField(help_text="Translated text for people."),
    },
)


def error(description: str) -> OpenApiResponse:
    return OpenApiResponse(ErrorSerializer, description=description)
