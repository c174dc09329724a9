import os

from django.core.wsgi import get_wsgi_application

from config.startup import refuse_demo_in_production, refuse_weak_secret_key

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()
refuse_weak_secret_key()
refuse_demo_in_production()
