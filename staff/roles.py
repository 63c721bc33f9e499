"""Roles are Django groups with fixed names; the labels are what people read."""

from django.db import models
from django.utils.translation import gettext_lazy as _

ROLES_REQUIRED = _("Give the user at least one role.")


class Role(models.TextChoices):
    PATIENT = "patient", _("patient")
    DOCTOR = "doctor", _("doctor")
    ADMINISTRATOR = "administrator", _("administrator")
