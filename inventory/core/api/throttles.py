"""API throttles counted in the cache that every process shares (settings.CACHES).

Unlike DRF's own classes, these read their rate when a request comes (DRF's read it once, at
import), and let the request through when Redis cannot be reached: a tap or an API call must not
fail because a counter is away (/readyz reports the outage), and nobody can take Redis down
through the API to get round a limit.
"""

import logging

from redis.exceptions import RedisError
from rest_framework import throttling
from rest_framework.settings import api_settings

logger = logging.getLogger(__name__)


class SharedRate:
    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES[self.scope]

    def allow_request(self, request, view):
        try:
            return super().allow_request(request, view)
        except RedisError as error:
            logger.warning("Throttle %s not counted, no cache: %s", self.scope, error)
            return True


class AnonThrottle(SharedRate, throttling.AnonRateThrottle):
    """Requests without a user, per client address (the token endpoint, the schema)."""


class UserThrottle(SharedRate, throttling.UserRateThrottle):
    """Requests of a signed-in user, per user (without one, per address at the same rate)."""
