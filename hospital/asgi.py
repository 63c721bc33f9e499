"""ASGI entry point."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hospital.settings")

application = get_asgi_application()

from hospital.security import require_secret_key  # noqa: E402 - needs the settings loaded above

require_secret_key()
