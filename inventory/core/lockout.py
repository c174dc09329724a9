"""Logins refused after repeated failures: django-axes counts them (per user name and per client
address) in the cache that every process shares; this module answers the person or program.

The admin login gets a page in the admin's look, the API token endpoint the API's error shape;
both say how long to wait and who can unlock sooner (deploy/README.md, "Lockout recovery").
"""

import logging

from axes.handlers.cache import AxesCacheHandler
from axes.helpers import get_cache
from django.conf import settings
from django.contrib import admin
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from redis.exceptions import RedisError
from rest_framework import exceptions, status

logger = logging.getLogger(__name__)


def locked_out_message() -> str:
    return _(
        "Login is blocked: too many wrong passwords for this user name or from this computer. "
        "Wait %(minutes)d minutes and try again (each try while blocked starts the wait "
        "again), or ask an administrator to unlock it."
    ) % {"minutes": settings.LOGIN_LOCKOUT_MINUTES}


def retry_after() -> int:
    return settings.LOGIN_LOCKOUT_MINUTES * 60


class LoginLocked(exceptions.APIException):
    """The token endpoint's refusal; the API error handler adds Retry-After from `wait`."""

    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "LOCKED_OUT"

    def __init__(self):
        super().__init__(detail=locked_out_message())
        self.wait = retry_after()


def lockout_response(request, original_response=None, credentials=None):
    """AXES_LOCKOUT_CALLABLE: what axes' middleware answers instead of the login page."""
    if request.path.startswith("/api/"):
        body = {"code": LoginLocked.default_code, "message": locked_out_message()}
        response = JsonResponse(body, status=LoginLocked.status_code)
        response["Retry-After"] = str(retry_after())
        return response
    context = {
        **admin.site.each_context(request),
        "title": _("Login blocked"),
        "message": locked_out_message(),
    }
    response = render(request, "admin/locked_out.html", context, status=LoginLocked.status_code)
    response["Retry-After"] = str(retry_after())
    return response


class SharedCacheHandler(AxesCacheHandler):
    """axes' cache handler, with two changes.

    The cache is looked up at each use, not once per process: tests and a changed setting reach
    it. And a Redis that cannot be reached lets the login go on (counted nowhere, logged) rather
    than failing it: the people who must log in to deal with the outage can, and an attacker
    cannot stop Redis from the login page. The database cache has no such case: without the
    database there is no login at all.
    """

    def __init__(self):
        pass

    @property
    def cache(self):
        return get_cache()

    def get_failures(self, request, credentials=None) -> int:
        try:
            return super().get_failures(request, credentials)
        except RedisError as error:
            logger.warning("Failed logins not checked, the cache is unavailable: %s", error)
            return 0

    def user_login_failed(self, sender, credentials, request=None, **kwargs):
        try:
            super().user_login_failed(sender, credentials, request, **kwargs)
        except RedisError as error:
            logger.warning("A failed login was not counted, the cache is unavailable: %s", error)

    def user_logged_in(self, sender, request, user, **kwargs):
        try:
            super().user_logged_in(sender, request, user, **kwargs)
        except RedisError as error:
            logger.warning("Failed logins not reset, the cache is unavailable: %s", error)
