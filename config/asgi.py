"""One entry point for HTTP and WebSocket (daphne)."""

import os

from django.core.asgi import get_asgi_application

from config.startup import refuse_weak_secret_key

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# Django must be set up before anything that imports models (consumers, routing).
django_asgi_app = get_asgi_application()
refuse_weak_secret_key()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from kiosk.middleware import KioskAuthMiddleware  # noqa: E402
from kiosk.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(KioskAuthMiddleware(URLRouter(websocket_urlpatterns)))
        ),
    }
)
