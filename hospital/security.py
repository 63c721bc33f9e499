"""The secret key rule of production: no serving process starts without DJANGO_SECRET_KEY."""

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

SECRET_KEY_REQUIRED = "DJANGO_SECRET_KEY is required when DJANGO_DEBUG is off."  # noqa: S105 - a message


def secret_key_missing() -> bool:
    return not settings.DEBUG and not settings.SECRET_KEY_FROM_ENVIRONMENT


def require_secret_key() -> None:
    """Refuse to serve (web, worker, beat) on the per-process key settings fall back to."""
    if secret_key_missing():
        raise ImproperlyConfigured(SECRET_KEY_REQUIRED)


@checks.register(checks.Tags.security, deploy=True)
def check_secret_key(app_configs, **kwargs):
    if secret_key_missing():
        return [checks.Error(SECRET_KEY_REQUIRED, id="hospital.E001")]
    return []
