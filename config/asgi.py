"""One entry point for HTTP and WebSocket (daphne)."""

import gc
import os

import django

from config.startup import refuse_demo_in_production, refuse_weak_secret_key

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# Django must be set up before anything that imports models (consumers, routing).
django.setup(set_prefix=False)
refuse_weak_secret_key()
refuse_demo_in_production()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from config.handlers import SynchronousASGIHandler  # noqa: E402
from kiosk.middleware import KioskAuthMiddleware  # noqa: E402
from kiosk.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": SynchronousASGIHandler(),
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(KioskAuthMiddleware(URLRouter(websocket_urlpatterns)))
        ),
    }
)

# What start-up loaded (modules, URL patterns, templates, translations) lives as long as the
# process. Frozen, the collector no longer walks it in every full collection on a request's path.
gc.freeze()
