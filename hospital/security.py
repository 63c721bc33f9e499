"""Production's rules: no serving process without DJANGO_SECRET_KEY; whose address a request is."""

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


def client_address(request) -> str:
    """The client's address: REMOTE_ADDR, unless TRUSTED_PROXY_COUNT proxies stand in front.

    Each trusted proxy appends the address it received from to X-Forwarded-For, so the client is
    the entry that many places from the end; anything before it was written by the client and is
    not trusted. The login throttle and the lockout both count by this address.
    """
    remote = request.META.get("REMOTE_ADDR", "")
    proxies = settings.TRUSTED_PROXY_COUNT
    if not proxies:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    return forwarded[-proxies] if len(forwarded) >= proxies else remote
