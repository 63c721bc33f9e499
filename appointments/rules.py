"""The clinic's booking rules: clinic defaults, a doctor's overrides, and what they allow now.

One home for the rules, used by booking and cancelling (services), the free-slot reads
(selectors, filters), the API, the admin and, later, availability: resolution (`doctor_rules`,
`annotations` for one query that reads slots and their rules together), the pure predicates
(`booking_refusal`, `cancel_refusal`, `caps_refusal`) and the writes (`clinic_rules_update`,
`doctor_rules_update`).

The rules in force for a slot are its doctor's: a doctor's field left empty (NULL) follows the
clinic's. The clinic's row is created by a migration; a missing row reads as the defaults.
"""

from dataclasses import asdict, dataclass, fields
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from hospital.errors import ServiceError
from staff.models import User

from .models import RULE_FIELDS, ClinicBookingRules, DoctorBookingRules

TOO_LATE_TO_BOOK = _("This slot starts too soon to be booked: the clinic asks for more notice.")
TOO_LATE_TO_CANCEL = _("This appointment starts too soon to be cancelled online: please call the clinic to cancel it.")
TOO_MANY_APPOINTMENTS = _("You already hold as many future appointments as the clinic allows.")
DAILY_LIMIT_REACHED = _("You already hold as many appointments on that day as the clinic allows.")


class TooLateToBook(ServiceError):
    status = 400
    code = "too_late_to_book"
    message = TOO_LATE_TO_BOOK


class TooLateToCancel(ServiceError):
    status = 400
    code = "too_late_to_cancel"
    message = TOO_LATE_TO_CANCEL


class TooManyAppointments(ServiceError):
    status = 409
    code = "too_many_appointments"
    message = TOO_MANY_APPOINTMENTS


class DailyLimitReached(ServiceError):
    status = 409
    code = "daily_limit_reached"
    message = DAILY_LIMIT_REACHED


@dataclass(frozen=True)
class Rules:
    """The rules in force for one doctor's slots (every field resolved; a cap of None means none)."""

    min_notice_minutes: int = 0
    cancel_cutoff_minutes: int = 0
    max_active_per_patient: int | None = None
    max_per_patient_per_day: int | None = None

    def as_dict(self) -> dict:
        return asdict(self)


DEFAULTS = Rules()
assert tuple(field.name for field in fields(Rules)) == RULE_FIELDS  # one list of rule names

# The prefix of the annotations `annotations()` adds to a queryset.
ANNOTATION_PREFIX = "rule_"


# --- resolution -------------------------------------------------------------------------------------


def annotations(doctor_field: str = "doctor_id") -> dict:
    """Annotations resolving the rules of the row's doctor, for any queryset with a doctor id.

    Each is COALESCE(doctor's override, clinic's value, default): two primary-key subqueries, so
    the rules come with the row they apply to in the same statement (booking reads its slot and
    its rules at once). Read them back with `from_annotations`.
    """
    clinic = ClinicBookingRules.objects.filter(pk=ClinicBookingRules.SINGLETON_ID)
    doctor = DoctorBookingRules.objects.filter(doctor_id=OuterRef(doctor_field))
    resolved = {}
    for name in RULE_FIELDS:
        sources = [Subquery(doctor.values(name)[:1]), Subquery(clinic.values(name)[:1])]
        default = getattr(DEFAULTS, name)
        sources.append(Value(default, output_field=IntegerField()))
        resolved[ANNOTATION_PREFIX + name] = Coalesce(*sources, output_field=IntegerField())
    return resolved


def from_annotations(row) -> Rules:
    """The Rules of a model instance or values() dict annotated by `annotations()`."""
    get = row.get if isinstance(row, dict) else lambda name: getattr(row, name)
    return Rules(**{name: get(ANNOTATION_PREFIX + name) for name in RULE_FIELDS})


def clinic_rules() -> Rules:
    """The clinic's rules (the defaults when its row is missing)."""
    row = ClinicBookingRules.objects.filter(pk=ClinicBookingRules.SINGLETON_ID).values(*RULE_FIELDS).first()
    return Rules(**row) if row else DEFAULTS


def doctor_overrides(*, doctor_id: int) -> dict:
    """The doctor's own values, None where they follow the clinic's."""
    row = DoctorBookingRules.objects.filter(doctor_id=doctor_id).values(*RULE_FIELDS).first()
    return row or dict.fromkeys(RULE_FIELDS)


def doctor_rules(*, doctor_id: int) -> Rules:
    """The rules in force for the doctor's slots, in one query."""
    row = User.objects.filter(pk=doctor_id).values("pk").annotate(**annotations("pk")).first()
    return from_annotations(row) if row else clinic_rules()


# --- what the rules allow now (pure) -----------------------------------------------------------------


def bookable_from(*, rules: Rules, now: datetime) -> datetime:
    """The earliest start a patient may book now: a slot starting at or after it (and after now)."""
    return now + timedelta(minutes=rules.min_notice_minutes)


def booking_refusal(*, start: datetime, rules: Rules, now: datetime) -> str | None:
    """Why a free slot starting at `start` cannot be booked now: "started", "min_notice", or None.

    The one predicate of time for booking: the booking service, the free-slot reads (through
    `bookable_q`) and availability all ask it.
    """
    if start <= now:
        return "started"
    if start < bookable_from(rules=rules, now=now):
        return "min_notice"
    return None


def cancel_refusal(*, start: datetime, rules: Rules, now: datetime) -> str | None:
    """Why the patient cannot cancel an appointment starting at `start` now: "started", "cutoff", or None."""
    if start <= now:
        return "started"
    if start < now + timedelta(minutes=rules.cancel_cutoff_minutes):
        return "cutoff"
    return None


def caps_refusal(*, rules: Rules, active: int, on_that_day: int) -> ServiceError | None:
    """The refusal when a patient holding `active` future appointments and `on_that_day` appointments
    on the slot's local day (all doctors) asks for one more, or None."""
    if rules.max_active_per_patient is not None and active >= rules.max_active_per_patient:
        return TooManyAppointments()
    if rules.max_per_patient_per_day is not None and on_that_day >= rules.max_per_patient_per_day:
        return DailyLimitReached()
    return None


def bookable_q(*, now: datetime, doctor_id: int | None = None) -> Q:
    """Slots far enough ahead for a patient to book now, by each slot's doctor's minimum notice.

    For one doctor: one query resolves their notice. For all: one query reads the clinic's notice
    and one the doctors who override it; the slots are then filtered in SQL by start, per group of
    doctors sharing a notice. Whether the slot is free (client IS NULL) is the caller's filter.
    """

    def from_(notice: int) -> Q:
        # Never a slot that has started: at notice 0 that is the whole condition.
        return Q(start_time__gt=now, start_time__gte=bookable_from(rules=Rules(min_notice_minutes=notice), now=now))

    if doctor_id is not None:
        return from_(doctor_rules(doctor_id=doctor_id).min_notice_minutes)
    by_notice: dict[int, list[int]] = {}
    overrides = DoctorBookingRules.objects.filter(min_notice_minutes__isnull=False)
    for pk, notice in overrides.values_list("doctor_id", "min_notice_minutes"):
        by_notice.setdefault(notice, []).append(pk)
    overridden = [pk for pks in by_notice.values() for pk in pks]
    condition = from_(clinic_rules().min_notice_minutes)
    if overridden:
        condition &= ~Q(doctor_id__in=overridden)
    for notice, pks in by_notice.items():
        condition |= from_(notice) & Q(doctor_id__in=pks)
    return condition


# --- writes ------------------------------------------------------------------------------------------


@transaction.atomic
def clinic_rules_update(
    *,
    min_notice_minutes: int,
    cancel_cutoff_minutes: int,
    max_active_per_patient: int | None,
    max_per_patient_per_day: int | None,
) -> Rules:
    """Replace the clinic's rules; they apply to the next booking, cancellation and listing."""
    values = {
        "min_notice_minutes": min_notice_minutes,
        "cancel_cutoff_minutes": cancel_cutoff_minutes,
        "max_active_per_patient": max_active_per_patient,
        "max_per_patient_per_day": max_per_patient_per_day,
    }
    ClinicBookingRules.objects.update_or_create(pk=ClinicBookingRules.SINGLETON_ID, defaults=values)
    return Rules(**values)


@transaction.atomic
def doctor_rules_update(
    *,
    doctor: User,
    min_notice_minutes: int | None,
    cancel_cutoff_minutes: int | None,
    max_active_per_patient: int | None,
    max_per_patient_per_day: int | None,
) -> dict:
    """Replace a doctor's overrides (None: follow the clinic's); returns them."""
    values = {
        "min_notice_minutes": min_notice_minutes,
        "cancel_cutoff_minutes": cancel_cutoff_minutes,
        "max_active_per_patient": max_active_per_patient,
        "max_per_patient_per_day": max_per_patient_per_day,
    }
    exists = DoctorBookingRules.objects.filter(doctor=doctor).exists()
    # A doctor who follows the clinic in everything needs no row; one who had overrides keeps the
    # row, emptied.
    if exists or any(value is not None for value in values.values()):
        DoctorBookingRules.objects.update_or_create(doctor=doctor, defaults=values)
    return values
