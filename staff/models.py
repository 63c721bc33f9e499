"""People: one user table for patients, doctors and administrators."""

from functools import cached_property

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .roles import Role

BIRTH_DATE_IN_FUTURE = _("Birth date cannot be in the future.")


def validate_not_future(value):
    """Birth dates are compared with today in the clinic's zone."""
    if value and value > timezone.localdate():
        raise ValidationError(BIRTH_DATE_IN_FUTURE, code="future_birth_date")


class Sex(models.TextChoices):
    MALE = "male", _("male")
    FEMALE = "female", _("female")


class UserQuerySet(models.QuerySet):
    def with_role(self, role: str):
        return self.filter(groups__name=role)

    def doctors(self):
        return self.with_role(Role.DOCTOR)

    def patients(self):
        return self.with_role(Role.PATIENT)


class HospitalUserManager(UserManager.from_queryset(UserQuerySet)):
    pass


class User(AbstractUser):
    """Django's user plus the clinic's personal data; roles are groups (see staff.roles)."""

    middle_name = models.CharField(_("middle name"), max_length=150, blank=True)
    # Blank is allowed so that a superuser created from the environment needs no personal data;
    # the user API requires both.
    sex = models.CharField(_("sex"), max_length=6, choices=Sex.choices, blank=True)
    birth_date = models.DateField(_("birth date"), null=True, blank=True, validators=[validate_not_future])

    objects = HospitalUserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["last_name", "first_name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(sex__in=["", Sex.MALE, Sex.FEMALE]),
                name="staff_user_sex_valid",
            ),
        ]

    def __str__(self):
        return self.full_name or self.username

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.last_name, self.first_name, self.middle_name) if part)

    @cached_property
    def role_names(self) -> frozenset[str]:
        """Role names, read once per instance (prefetched groups are reused)."""
        return frozenset(group.name for group in self.groups.all())

    def has_role(self, role: str) -> bool:
        return role in self.role_names

    @property
    def is_patient(self) -> bool:
        return self.has_role(Role.PATIENT)

    @property
    def is_doctor(self) -> bool:
        return self.has_role(Role.DOCTOR)

    @property
    def is_administrator(self) -> bool:
        return self.is_superuser or self.has_role(Role.ADMINISTRATOR)
