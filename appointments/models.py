"""Time: doctors' schedules, date overrides and absences, clinic closures, the Timetable, the booking history."""

from datetime import time
from typing import ClassVar

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from staff.models import HospitalUserManager, User, validate_name

SLOT_MINUTES_MIN, SLOT_MINUTES_MAX = 5, 480
HORIZON_DAYS_MIN, HORIZON_DAYS_MAX = 1, 366
SPECIALTY_NAME_MAX_LENGTH = 100
SPECIALTY_NAME_TAKEN = _("A specialty with that name already exists.")


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class DoctorSchedule(models.Model):
    """A doctor's slot length and planning horizon; one row per doctor.

    The generator locks this row (SELECT ... FOR UPDATE) so that two runs for one doctor
    never interleave.
    """

    doctor = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="schedule",
        verbose_name=_("doctor"),
    )
    slot_minutes = models.PositiveSmallIntegerField(
        _("slot length, minutes"),
        default=20,
        validators=[MinValueValidator(SLOT_MINUTES_MIN), MaxValueValidator(SLOT_MINUTES_MAX)],
        help_text=_("The service time of this doctor: every slot lasts this long."),
    )
    horizon_days = models.PositiveSmallIntegerField(
        _("days ahead"),
        default=7,
        validators=[MinValueValidator(HORIZON_DAYS_MIN), MaxValueValidator(HORIZON_DAYS_MAX)],
        help_text=_("Slots are generated for today and this many days in all."),
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    generated_at = models.DateTimeField(_("slots generated at"), null=True, blank=True)

    class Meta:
        verbose_name = _("doctor's schedule")
        verbose_name_plural = _("doctors' schedules")
        constraints = [
            models.CheckConstraint(
                condition=Q(slot_minutes__gte=SLOT_MINUTES_MIN, slot_minutes__lte=SLOT_MINUTES_MAX),
                name="schedule_slot_minutes_range",
            ),
            models.CheckConstraint(
                condition=Q(horizon_days__gte=HORIZON_DAYS_MIN, horizon_days__lte=HORIZON_DAYS_MAX),
                name="schedule_horizon_days_range",
            ),
        ]

    def __str__(self):
        return str(self.doctor)


class Specialty(models.Model):
    """What a doctor practises (cardiologist, therapist ...), named as the clinic enters it.

    A doctor has any number of them through DoctorSpecialty, a table keyed on the user: doctors are
    `staff.User` rows, and `staff` knows nothing of appointments, so the link lives here, beside the
    other doctor-side data (DoctorSchedule, Absence). `user.specialties` is the reverse accessor.
    """

    name = models.CharField(_("name"), max_length=SPECIALTY_NAME_MAX_LENGTH, validators=[validate_name])
    doctors = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        through="DoctorSpecialty",
        related_name="specialties",
        blank=True,
        verbose_name=_("doctors"),
    )

    class Meta:
        verbose_name = _("specialty")
        verbose_name_plural = _("specialties")
        ordering = ["name", "id"]
        constraints = [
            # "Кардиолог" and "кардиолог" are one specialty to a receptionist (and to the CSV import,
            # which matches names regardless of case): unique regardless of case, as usernames are.
            models.UniqueConstraint(
                Lower("name"),
                name="specialty_name_ci_unique",
                violation_error_message=SPECIALTY_NAME_TAKEN,
                violation_error_code="unique",
            ),
            models.CheckConstraint(condition=~Q(name=""), name="specialty_name_not_empty"),
        ]

    def __str__(self):
        return self.name


class DoctorSpecialty(models.Model):
    """One specialty of one doctor (written by services.doctor_specialties_set)."""

    doctor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("doctor")
    )
    # No index of its own: the composite one below starts with it.
    specialty = models.ForeignKey(
        Specialty, on_delete=models.CASCADE, related_name="+", db_index=False, verbose_name=_("specialty")
    )

    class Meta:
        verbose_name = _("doctor's specialty")
        verbose_name_plural = _("doctors' specialties")
        constraints = [
            # Its index (doctor_id, specialty_id) serves a doctor's specialties (the API's prefetch).
            models.UniqueConstraint(fields=["doctor", "specialty"], name="doctor_specialty_unique"),
        ]
        indexes = [
            # Serves "the doctors of a specialty" (/api/doctors/?specialty=, /api/slots/next) from
            # the index alone.
            models.Index(fields=["specialty", "doctor"], name="doctor_specialty_by_specialty"),
        ]

    def __str__(self):
        return f"{self.doctor}: {self.specialty}"


class WorkingHours(models.Model):
    """One working interval on one weekday, in the clinic's local time.

    Two intervals on a day express a break (09:00-13:00 and 14:00-18:00). Intervals of one
    day never overlap: the schedule service checks it while holding the schedule's row lock.
    """

    schedule = models.ForeignKey(
        DoctorSchedule, on_delete=models.CASCADE, related_name="working_hours", verbose_name=_("schedule")
    )
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    start = models.TimeField(_("from"))
    end = models.TimeField(_("until"))

    class Meta:
        verbose_name = _("working hours")
        verbose_name_plural = _("working hours")
        ordering = ["weekday", "start"]
        constraints = [
            models.CheckConstraint(condition=Q(weekday__gte=0, weekday__lte=6), name="working_hours_weekday_range"),
            models.CheckConstraint(condition=Q(start__lt=F("end")), name="working_hours_start_before_end"),
            models.UniqueConstraint(fields=["schedule", "weekday", "start"], name="working_hours_unique_start"),
        ]

    def __str__(self):
        return f"{self.get_weekday_display()} {self.start:%H:%M}-{self.end:%H:%M}"


class Closure(models.Model):
    """Clinic-local dates on which the whole clinic is closed (a holiday): no doctor has slots then."""

    date_from = models.DateField(_("from date"))
    date_to = models.DateField(_("to date (inclusive)"))
    reason = models.CharField(_("reason"), max_length=500)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("clinic closure")
        verbose_name_plural = _("clinic closures")
        ordering = ["date_from", "date_to", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(date_from__lte=F("date_to")), name="closure_dates_ordered"),
        ]
        # Generation reads the closures that end on or after today.
        indexes = [models.Index(fields=["date_to"], name="closure_date_to")]

    def __str__(self):
        if self.date_from == self.date_to:
            return f"{self.date_from:%Y-%m-%d}: {self.reason}"
        return f"{self.date_from:%Y-%m-%d} - {self.date_to:%Y-%m-%d}: {self.reason}"


class DateOverride(models.Model):
    """A doctor's working intervals on one clinic-local date, in place of that weekday's hours.

    `intervals` is a list of {"start": "HH:MM", "end": "HH:MM"}, sorted, each ending after it starts
    and none overlapping (the service checks it, as it does weekly hours); an empty list is a day off.
    """

    doctor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="date_overrides", verbose_name=_("doctor")
    )
    date = models.DateField(_("date"))
    intervals = models.JSONField(_("working intervals"), default=list, blank=True)
    comment = models.CharField(_("comment"), max_length=500, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("date override")
        verbose_name_plural = _("date overrides")
        ordering = ["date"]
        constraints = [
            # One override per doctor and date; the service's upsert relies on it.
            models.UniqueConstraint(fields=["doctor", "date"], name="date_override_doctor_date_unique"),
        ]

    def __str__(self):
        hours = ";".join(f"{start:%H:%M}-{end:%H:%M}" for start, end in self.times) or _("day off")
        return f"{self.date:%Y-%m-%d} {hours}"

    @property
    def times(self) -> list[tuple[time, time]]:
        """The intervals as (start, end) wall-clock times."""
        return override_times(self.intervals)


def override_times(intervals) -> list[tuple[time, time]]:
    """Stored override intervals ([{"start": "HH:MM", "end": "HH:MM"}, ...]) as sorted (start, end) times."""
    return sorted((time.fromisoformat(item["start"]), time.fromisoformat(item["end"])) for item in intervals or ())


def override_intervals(times) -> list[dict[str, str]]:
    """(start, end) times as stored override intervals, sorted."""
    return [{"start": f"{start:%H:%M}", "end": f"{end:%H:%M}"} for start, end in sorted(times)]


class AbsenceKind(models.TextChoices):
    VACATION = "vacation", _("vacation")
    BREAK = "break", _("break")
    SICK_LEAVE = "sick_leave", _("sick leave")
    OTHER = "other", _("other")


class Absence(models.Model):
    """A datetime range in which the doctor takes no appointments: no slot overlaps it."""

    doctor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="absences", verbose_name=_("doctor")
    )
    kind = models.CharField(_("kind"), max_length=16, choices=AbsenceKind.choices, default=AbsenceKind.VACATION)
    start = models.DateTimeField(_("from"))
    end = models.DateTimeField(_("until"))
    comment = models.CharField(_("comment"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("absence")
        verbose_name_plural = _("absences")
        ordering = ["start"]
        constraints = [
            models.CheckConstraint(condition=Q(start__lt=F("end")), name="absence_start_before_end"),
            models.CheckConstraint(condition=Q(kind__in=AbsenceKind.values), name="absence_kind_valid"),
        ]
        # The planner reads a doctor's absences that end after now.
        indexes = [models.Index(fields=["doctor", "end"], name="absence_doctor_end")]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.start:%Y-%m-%d %H:%M} - {self.end:%Y-%m-%d %H:%M}"


class AppointmentStatus(models.TextChoices):
    """Where a booked slot's appointment stands: booked -> arrived -> fulfilled, or booked -> noshow."""

    BOOKED = "booked", _("booked")
    ARRIVED = "arrived", _("arrived")
    FULFILLED = "fulfilled", _("fulfilled")
    NOSHOW = "noshow", _("no-show")


class Timetable(models.Model):
    """One row = one slot of one doctor; `client` is the patient, empty while the slot is free.

    `status` is the appointment's and exists exactly while there is one: NULL on a free slot, set
    on a booked one (a CHECK constraint), so a count by status never counts free slots.

    Nothing has a foreign key to this table, so the generator's conditional delete of free slots
    is a single fast DELETE (Django needs no cascade collection).
    """

    doctor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="slots", verbose_name=_("doctor")
    )
    client = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="appointments",
        verbose_name=_("patient"),
    )
    start_time = models.DateTimeField(_("start"))
    stop_time = models.DateTimeField(_("end"))
    booked_at = models.DateTimeField(_("booked at"), null=True, blank=True)
    conflict = models.BooleanField(
        _("conflicts with the schedule"),
        default=False,
        help_text=_("Booked, but the doctor's current schedule no longer has this slot."),
    )
    status = models.CharField(
        _("appointment status"), max_length=16, choices=AppointmentStatus.choices, null=True, blank=True
    )

    class Meta:
        verbose_name = _("slot")
        verbose_name_plural = _("timetable")
        ordering = ["start_time"]
        constraints = [
            # The generator relies on this to insert with ON CONFLICT DO NOTHING, so concurrent
            # runs never duplicate a slot.
            models.UniqueConstraint(fields=["doctor", "start_time"], name="timetable_doctor_start_unique"),
            models.CheckConstraint(condition=Q(start_time__lt=F("stop_time")), name="timetable_start_before_stop"),
            # A free slot has no status; a booked one has a valid one. The outcome services and
            # booking rely on it: `status = 'booked'` alone means "a booked appointment".
            models.CheckConstraint(
                # (IS NOT NULL too: `NULL IN (...)` is NULL, which a CHECK lets through.)
                condition=Q(client__isnull=True, status__isnull=True)
                | Q(client__isnull=False, status__isnull=False, status__in=AppointmentStatus.values),
                name="timetable_status_iff_client",
            ),
        ]
        indexes = [
            # Serves the free-slot listing: a doctor's free slots from now on, by time.
            models.Index(
                fields=["doctor", "start_time"],
                name="timetable_free_by_doctor",
                condition=Q(client__isnull=True),
            ),
            # Serves the statistics: booked slots grouped by day over a time window, answered from
            # the index alone (doctor_id is in it for the per-doctor filter).
            models.Index(
                fields=["start_time", "doctor"], name="timetable_booked_by_time", condition=Q(client__isnull=False)
            ),
            # Serves "my appointments" and the overlap check at booking.
            models.Index(
                fields=["client", "start_time"], name="timetable_by_client", condition=Q(client__isnull=False)
            ),
            # Serves the no-show task: appointments still booked whose end has passed.
            models.Index(fields=["stop_time"], name="timetable_booked_by_stop", condition=Q(status="booked")),
        ]

    def __str__(self):
        local = timezone.localtime(self.start_time)
        return f"{self.doctor} {local:%Y-%m-%d %H:%M}"

    @property
    def is_free(self) -> bool:
        return self.client_id is None


class AppointmentAction(models.TextChoices):
    BOOKED = "booked", _("booked")
    CANCELLED = "cancelled", _("cancelled")
    RELEASED = "released", _("released (patient blocked)")
    ARRIVED = "arrived", _("arrived")
    FULFILLED = "fulfilled", _("fulfilled")
    NOSHOW = "noshow", _("no-show")


class CancelledBy(models.TextChoices):
    PATIENT = "patient", _("the patient")
    CLINIC = "clinic", _("the clinic")


class AppointmentEvent(models.Model):
    """Booking history: who booked, cancelled or marked which slot, and when. Rows are never changed.

    A cancellation says by whom (the patient or the clinic) and, the clinic's, why.

    `slot_id` is a plain number, not a foreign key, so that history outlives regenerated slots.
    """

    slot_id = models.BigIntegerField(_("slot id"), db_index=True)
    action = models.CharField(_("action"), max_length=16, choices=AppointmentAction.choices)
    doctor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("doctor"),
    )
    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="appointment_events",
        verbose_name=_("patient"),
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("done by"),
    )
    start_time = models.DateTimeField(_("slot start"))
    stop_time = models.DateTimeField(_("slot end"))
    at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)
    cancelled_by = models.CharField(
        _("cancelled by"), max_length=16, choices=CancelledBy.choices, null=True, blank=True
    )
    reason = models.CharField(_("reason"), max_length=500, blank=True, default="")

    class Meta:
        verbose_name = _("booking event")
        verbose_name_plural = _("booking history")
        ordering = ["-at", "-id"]
        constraints = [
            # Every cancellation says by whom; nothing else does.
            models.CheckConstraint(
                condition=Q(
                    action=AppointmentAction.CANCELLED, cancelled_by__isnull=False, cancelled_by__in=CancelledBy.values
                )
                | (~Q(action=AppointmentAction.CANCELLED) & Q(cancelled_by__isnull=True)),
                name="appointment_event_cancelled_by",
            ),
        ]
        indexes = [
            # Serves the outcome statistics: cancellations grouped by their slot's local day.
            models.Index(
                fields=["start_time", "doctor"],
                name="event_cancelled_by_time",
                condition=Q(action=AppointmentAction.CANCELLED),
            ),
        ]

    def __str__(self):
        return f"{self.get_action_display()} #{self.slot_id} {self.at:%Y-%m-%d %H:%M}"


# The column's range: a larger number would not fit an integer column (and 2**31 minutes, some
# 4,000 years, still keeps now + notice within the calendar Python's datetime holds).
RULE_VALUE_MAX = 2_147_483_647

MIN_NOTICE_HELP = _("A slot starting sooner than this is neither offered nor bookable.")
CANCEL_CUTOFF_HELP = _("A patient cannot cancel an appointment starting sooner than this (the clinic still can).")
MAX_ACTIVE_HELP = _("Most future appointments one patient may hold, with all doctors. Empty: no cap.")
MAX_PER_DAY_HELP = _("Most appointments one patient may hold on one local day, with all doctors. Empty: no cap.")


def _rule_checks(prefix: str, names: tuple[str, ...]) -> list[models.BaseConstraint]:
    return [
        models.CheckConstraint(
            condition=Q(**{f"{name}__isnull": True}) | Q(**{f"{name}__gte": 0, f"{name}__lte": RULE_VALUE_MAX}),
            name=f"{prefix}_{name}_range",
        )
        for name in names
    ]


RULE_FIELDS = ("min_notice_minutes", "cancel_cutoff_minutes", "max_active_per_patient", "max_per_patient_per_day")


class ClinicBookingRules(models.Model):
    """The clinic's booking rules: one row (id 1), the defaults every doctor follows unless overridden.

    A migration creates the row; code that reads it treats a missing row as the defaults below.
    """

    SINGLETON_ID = 1

    id = models.PositiveSmallIntegerField(primary_key=True, default=SINGLETON_ID, editable=False)
    min_notice_minutes = models.PositiveIntegerField(_("minimum notice, minutes"), default=0, help_text=MIN_NOTICE_HELP)
    cancel_cutoff_minutes = models.PositiveIntegerField(
        _("cancellation cutoff, minutes"), default=0, help_text=CANCEL_CUTOFF_HELP
    )
    max_active_per_patient = models.PositiveIntegerField(
        _("most future appointments per patient"), null=True, blank=True, help_text=MAX_ACTIVE_HELP
    )
    max_per_patient_per_day = models.PositiveIntegerField(
        _("most appointments per patient a day"), null=True, blank=True, help_text=MAX_PER_DAY_HELP
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("clinic's booking rules")
        verbose_name_plural = _("clinic's booking rules")
        constraints = [
            models.CheckConstraint(condition=Q(id=1), name="clinic_booking_rules_singleton"),
            *_rule_checks("clinic_booking_rules", RULE_FIELDS),
        ]

    def __str__(self):
        return str(_("Clinic's booking rules"))


class DoctorBookingRules(models.Model):
    """One doctor's overrides of the clinic's booking rules; an empty field follows the clinic's."""

    doctor = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="booking_rules",
        verbose_name=_("doctor"),
    )
    min_notice_minutes = models.PositiveIntegerField(
        _("minimum notice, minutes"), null=True, blank=True, help_text=MIN_NOTICE_HELP
    )
    cancel_cutoff_minutes = models.PositiveIntegerField(
        _("cancellation cutoff, minutes"), null=True, blank=True, help_text=CANCEL_CUTOFF_HELP
    )
    max_active_per_patient = models.PositiveIntegerField(
        _("most future appointments per patient"), null=True, blank=True, help_text=MAX_ACTIVE_HELP
    )
    max_per_patient_per_day = models.PositiveIntegerField(
        _("most appointments per patient a day"), null=True, blank=True, help_text=MAX_PER_DAY_HELP
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("doctor's booking rules")
        verbose_name_plural = _("doctors' booking rules")
        constraints = _rule_checks("doctor_booking_rules", RULE_FIELDS)

    def __str__(self):
        return str(self.doctor)


class DoctorManager(HospitalUserManager):
    """Users in the doctor group (User.objects.doctors())."""

    # The user manager's helpers (normalize_email, which User.clean calls) without a migration entry.
    use_in_migrations = False

    def get_queryset(self):
        return super().get_queryset().doctors()


class Doctor(User):
    """A user with the doctor role, as the admin's doctor page sees them: schedule, absences, load.

    A proxy: no table of its own; the schedule and absences stay keyed on the user.
    """

    objects: ClassVar[DoctorManager] = DoctorManager()

    class Meta:
        proxy = True
        verbose_name = _("doctor")
        verbose_name_plural = _("doctors")
