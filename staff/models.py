"""People: one user table for patients, doctors and administrators."""

import re
from functools import cached_property
from typing import ClassVar

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .roles import Role

BIRTH_DATE_IN_FUTURE = _("Birth date cannot be in the future.")
USERNAME_TAKEN = _("A user with that username already exists.")
# A person's name, in the order it is written (full_name) and searched.
NAME_FIELDS = ("last_name", "first_name", "middle_name")
# A person's data beyond the username: what the admin's forms show under "Personal data".
PERSONAL_DATA_FIELDS = (*NAME_FIELDS, "sex", "birth_date", "email")
# A person's data, as the API, the admin and the CSV files carry it (and the services may change).
PERSON_FIELDS = ("username", *PERSONAL_DATA_FIELDS)
NAME_INVALID = _("Enter a name without control or text-direction characters.")

# Escapes, not characters: the same text is a Python pattern and the schema's (ECMA) pattern.
# Control characters, and the marks, embeddings, overrides and isolates that reorder how text is
# shown: "\u202eanna" reads "anna" backwards in every list and export that shows it.
NAME_FORBIDDEN = r"\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_FORBIDDEN = re.compile(f"[{NAME_FORBIDDEN}]")


def validate_name(value):
    """A person's name holds no control or text-direction character (API, admin and imports alike)."""
    if value and _FORBIDDEN.search(value):
        raise ValidationError(NAME_INVALID, code="invalid_name")


def validate_not_future(value):
    """Birth dates are compared with today in the clinic's zone."""
    if value and value > timezone.localdate():
        raise ValidationError(BIRTH_DATE_IN_FUTURE, code="future_birth_date")


def full_name_of(last_name: str, first_name: str, middle_name: str = "") -> str:
    """A name as the clinic writes it, last name first, without the empty parts (User.full_name)."""
    return " ".join(part for part in (last_name, first_name, middle_name) if part)


class Sex(models.TextChoices):
    MALE = "male", _("male")
    FEMALE = "female", _("female")


class UserQuerySet(models.QuerySet):
    def with_role(self, role: str):
        return self.filter(groups__name=role)

    def doctors(self):
        """Users in the doctor group, active and blocked alike: the one query for "is a doctor".

        No .distinct(): group names are unique and a user is in a group at most once (auth's
        unique (user, group) pair), so the join on one group name yields one row per doctor.
        """
        return self.with_role(Role.DOCTOR)

    def active_doctors(self):
        """Doctors who are not blocked: the only ones whose slots exist and can be booked."""
        return self.doctors().filter(is_active=True)

    def patients(self):
        return self.with_role(Role.PATIENT)


# django-stubs types from_queryset() only in an assignment; as a base it is dynamic to mypy.
class HospitalUserManager(UserManager.from_queryset(UserQuerySet)):  # type: ignore[misc]
    pass


class User(AbstractUser):
    """Django's user plus the clinic's personal data; roles are groups (see staff.roles)."""

    first_name = models.CharField(_("first name"), max_length=150, blank=True, validators=[validate_name])
    last_name = models.CharField(_("last name"), max_length=150, blank=True, validators=[validate_name])
    middle_name = models.CharField(_("middle name"), max_length=150, blank=True, validators=[validate_name])
    # Blank is allowed so that a superuser created from the environment needs no personal data;
    # the user API requires both.
    sex = models.CharField(_("sex"), max_length=6, choices=Sex.choices, blank=True)
    birth_date = models.DateField(_("birth date"), null=True, blank=True, validators=[validate_not_future])

    objects: ClassVar[HospitalUserManager] = HospitalUserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["last_name", "first_name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(sex__in=["", Sex.MALE, Sex.FEMALE]),
                name="staff_user_sex_valid",
            ),
            # "ALICE" and "alice" are one person to a receptionist: unique regardless of case.
            models.UniqueConstraint(
                Lower("username"),
                name="staff_user_username_ci_unique",
                violation_error_message=USERNAME_TAKEN,
                violation_error_code="unique",
            ),
        ]

    def __str__(self):
        return self.full_name or self.username

    @property
    def full_name(self) -> str:
        return full_name_of(self.last_name, self.first_name, self.middle_name)

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
    def is_active_doctor(self) -> bool:
        """The instance form of UserQuerySet.active_doctors: a blocked or demoted doctor offers nothing."""
        return self.is_active and self.is_doctor

    @property
    def is_administrator(self) -> bool:
        return self.is_superuser or self.has_role(Role.ADMINISTRATOR)


class AuditAction(models.TextChoices):
    USER_CREATED = "user_created", _("user created")
    USER_CHANGED = "user_changed", _("user changed")
    USER_BLOCKED = "user_blocked", _("user blocked")
    USER_UNBLOCKED = "user_unblocked", _("user unblocked")
    USER_DELETED = "user_deleted", _("user deleted")
    SCHEDULE_CHANGED = "schedule_changed", _("schedule changed")
    ABSENCE_CREATED = "absence_created", _("absence added")
    ABSENCE_CHANGED = "absence_changed", _("absence changed")
    ABSENCE_DELETED = "absence_deleted", _("absence removed")
    CLOSURE_CREATED = "closure_created", _("clinic closure added")
    CLOSURE_DELETED = "closure_deleted", _("clinic closure removed")
    DATE_OVERRIDE_SET = "date_override_set", _("date override set")
    DATE_OVERRIDE_DELETED = "date_override_deleted", _("date override removed")
    SPECIALTY_CREATED = "specialty_created", _("specialty added")
    SPECIALTY_CHANGED = "specialty_changed", _("specialty renamed")
    SPECIALTY_DELETED = "specialty_deleted", _("specialty removed")
    DOCTOR_SPECIALTIES_CHANGED = "doctor_specialties_changed", _("doctor's specialties changed")


class AuditEvent(models.Model):
    """Who changed which person, schedule, absence, date override, closure or specialty, and when; rows are only
    added.

    Bookings and cancellations have their own history (appointments.AppointmentEvent).
    `changes` maps a field to [old, new]; secrets are never recorded, only that they changed.
    """

    at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("done by")
    )
    action = models.CharField(_("action"), max_length=32, choices=AuditAction.choices)
    target_type = models.CharField(_("object type"), max_length=32)
    target_id = models.BigIntegerField(_("object id"))
    target_repr = models.CharField(_("object"), max_length=300)
    changes = models.JSONField(_("changes"), default=dict, blank=True)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit trail")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["target_type", "target_id"], name="audit_target")]

    def __str__(self):
        return f"{self.get_action_display()}: {self.target_repr}"
