from django.apps import AppConfig


class HospitalConfig(AppConfig):
    """The project package as an app, so that its system checks are registered."""

    name = "hospital"
    verbose_name = "Hospital"

    def ready(self):
        from . import security  # noqa: F401 - registers the secret key check
