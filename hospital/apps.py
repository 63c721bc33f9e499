from pathlib import Path

from django.apps import AppConfig
from django.conf import settings


class HospitalConfig(AppConfig):
    """The project package as an app, so that its system checks are registered."""

    name = "hospital"
    verbose_name = "Hospital"

    def ready(self) -> None:
        from . import security  # noqa: F401 - registers the secret key check

        make_local_folders()


def make_local_folders() -> None:
    """Create the folders of the zero-setup defaults (the SQLite file, Celery's filesystem transport).

    Here rather than in settings, so that importing settings has no side effects; every process
    (runserver, gunicorn, the Celery worker and beat, manage.py) sets the apps up before it opens
    the database or the broker.
    """
    folders = []
    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3" and str(database["NAME"]) != ":memory:":
        folders.append(Path(database["NAME"]).parent)
    options = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {})
    folders += [
        Path(options[key]) for key in ("data_folder_in", "processed_folder", "control_folder") if key in options
    ]
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)
