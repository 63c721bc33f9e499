"""Celery application: the slot generator runs here."""

import os

from celery import Celery
from celery.signals import beat_init, worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hospital.settings")

app = Celery("hospital")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
@beat_init.connect
def _refuse_without_secret_key(**kwargs):
    from django.core.exceptions import ImproperlyConfigured

    from hospital.security import require_secret_key

    try:
        require_secret_key()
    except ImproperlyConfigured as error:
        # Celery logs and swallows exceptions from signal handlers; exiting is what stops it.
        raise SystemExit(f"Refusing to start: {error}") from error
