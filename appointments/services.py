"""Writes with rules for schedules, absences, date overrides, closures, slot generation, booking and cancelling."""

import logging
from collections.abc import Callable, Iterable
from datetime import date, datetime, time

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hospital.errors import ServiceError
from staff.models import AuditAction, User
from staff.services import audit_record

from . import generation, rules, selectors
from .models import (
    SPECIALTY_NAME_MAX_LENGTH,
    SPECIALTY_NAME_TAKEN,
    Absence,
    AppointmentAction,
    AppointmentEvent,
    AppointmentStatus,
    CancelledBy,
    Closure,
    DateOverride,
    DoctorSchedule,
    DoctorSpecialty,
    Specialty,
    Timetable,
    WorkingHours,
    override_intervals,
)
from .planner import local_day_bounds
from .zone import clinic_zone

logger = logging.getLogger(__name__)

SLOT_NOT_FOUND = _("No such slot.")
SLOT_TAKEN = _("This slot is already taken.")
SLOT_IN_PAST = _("This slot has already started.")
SLOT_OVERLAPS_YOURS = _("You already have an appointment at this time.")
NOT_YOUR_APPOINTMENT = _("You have no appointment in this slot.")
NOT_A_PATIENT = _("Only active patients can book appointments.")
APPOINTMENT_STARTED = _("This appointment has already started and cannot be cancelled.")
INVALID_TRANSITION = _("The appointment is %(status)s: this cannot be done to it now.")
HOURS_OVERLAP = _("Working hours overlap on %(weekday)s: %(first)s and %(second)s.")
HOURS_END_NOT_AFTER_START = _("The end of working hours must be after their start.")
ABSENCE_END_NOT_AFTER_START = _("The end of an absence must be after its start.")
CLOSURE_DATES_REVERSED = _("A closure's first day must not be after its last day.")
SPECIALTY_NAME_REQUIRED = _("Enter the specialty's name.")
SPECIALTY_NAME_TOO_LONG = _("A specialty's name has at most %(max)d characters.")
NOT_A_DOCTOR = _("Only a user with the doctor role has specialties.")


class SlotNotFound(ServiceError):
    status = 404
    code = "slot_not_found"
    message = SLOT_NOT_FOUND


class SlotTaken(ServiceError):
    status = 409
    code = "slot_taken"
    message = SLOT_TAKEN


class SlotInPast(ServiceError):
    status = 400
    code = "slot_in_past"
    message = SLOT_IN_PAST


class SlotOverlapsAppointment(ServiceError):
    status = 409
    code = "overlapping_appointment"
    message = SLOT_OVERLAPS_YOURS


class NotAPatient(ServiceError):
    status = 403
    code = "not_a_patient"
    message = NOT_A_PATIENT


class NotYourAppointment(ServiceError):
    status = 404
    code = "not_your_appointment"
    message = NOT_YOUR_APPOINTMENT


class AppointmentStarted(ServiceError):
    status = 400
    code = "appointment_started"
    message = APPOINTMENT_STARTED


class InvalidTransition(ServiceError):
    """The appointment's status does not allow the step (arrive only from booked, and so on)."""

    status = 409
    code = "invalid_transition"

    def __init__(self, status: str | None):
        label = AppointmentStatus(status).label if status else _("free")
        super().__init__(INVALID_TRANSITION % {"status": label})


class InvalidSchedule(ServiceError):
    status = 400
    code = "invalid_schedule"


class InvalidSpecialtyName(ServiceError):
    code = "invalid_name"


class SpecialtyNameTaken(ServiceError):
    code = "unique"
    message = SPECIALTY_NAME_TAKEN


class NotADoctor(ServiceError):
    code = "not_a_doctor"
    message = NOT_A_DOCTOR


# --- schedules and absences ----------------------------------------------------------------


def schedule_get_or_create(*, doctor: User) -> DoctorSchedule:
    schedule, _ = DoctorSchedule.objects.get_or_create(doctor=doctor)
    return schedule


def working_hours_validate(hours: Iterable[tuple[int, time, time]]) -> list[tuple[int, time, time]]:
    """Check that each interval ends after it starts and that a day's intervals do not overlap."""
    from .models import Weekday

    ordered = sorted(hours)
    for _weekday, start, end in ordered:
        if not start < end:
            raise InvalidSchedule(HOURS_END_NOT_AFTER_START, code="end_not_after_start")
    for (day_a, start_a, end_a), (day_b, start_b, end_b) in zip(ordered, ordered[1:], strict=False):
        if day_a == day_b and start_b < end_a:
            raise InvalidSchedule(
                HOURS_OVERLAP
                % {
                    "weekday": Weekday(day_a).label,
                    "first": f"{start_a:%H:%M}-{end_a:%H:%M}",
                    "second": f"{start_b:%H:%M}-{end_b:%H:%M}",
                },
                code="overlapping_hours",
            )
    return ordered


def _hours_text(hours: Iterable[tuple[int, time, time]]) -> list[str]:
    return [f"{weekday}:{start:%H:%M}-{end:%H:%M}" for weekday, start, end in sorted(hours)]


@transaction.atomic
def schedule_update(
    *,
    doctor: User,
    slot_minutes: int | None = None,
    horizon_days: int | None = None,
    working_hours: Iterable[tuple[int, time, time]] | None = None,
    actor: User | None = None,
) -> DoctorSchedule:
    """Change a doctor's slot length, horizon and/or weekly hours; regenerate their slots on commit."""
    schedule_get_or_create(doctor=doctor)
    # The same row lock as the generator: an edit never interleaves with a generation run.
    schedule = DoctorSchedule.objects.select_for_update().get(doctor=doctor)
    changes = {}
    for name, value in (("slot_minutes", slot_minutes), ("horizon_days", horizon_days)):
        if value is not None and getattr(schedule, name) != value:
            changes[name] = [getattr(schedule, name), value]
            setattr(schedule, name, value)
    schedule.save()
    if working_hours is not None:
        hours = working_hours_validate(working_hours)
        old = _hours_text(schedule.working_hours.values_list("weekday", "start", "end"))
        if old != _hours_text(hours):
            changes["working_hours"] = [old, _hours_text(hours)]
        schedule.working_hours.all().delete()
        WorkingHours.objects.bulk_create(
            WorkingHours(schedule=schedule, weekday=weekday, start=start, end=end) for weekday, start, end in hours
        )
    if changes:
        audit_record(actor=actor, action=AuditAction.SCHEDULE_CHANGED, target=schedule, changes=changes)
    regeneration_enqueue(doctor_id=doctor.pk)
    return schedule


def _absence_changes(absence: Absence) -> dict:
    return {
        "kind": absence.kind,
        "start": absence.start.isoformat(),
        "end": absence.end.isoformat(),
        "comment": absence.comment,
    }


@transaction.atomic
def absence_create(
    *, doctor: User, kind: str, start: datetime, end: datetime, comment: str = "", actor: User | None = None
) -> Absence:
    if not start < end:
        raise InvalidSchedule(ABSENCE_END_NOT_AFTER_START, code="end_not_after_start")
    absence = Absence.objects.create(doctor=doctor, kind=kind, start=start, end=end, comment=comment)
    audit_record(actor=actor, action=AuditAction.ABSENCE_CREATED, target=absence, changes=_absence_changes(absence))
    regeneration_enqueue(doctor_id=doctor.pk)
    return absence


@transaction.atomic
def absence_update(
    *, absence: Absence, kind: str, start: datetime, end: datetime, comment: str = "", actor: User | None = None
) -> Absence:
    """Change an absence in place (its id stays); regenerate the doctor's slots on commit."""
    if not start < end:
        raise InvalidSchedule(ABSENCE_END_NOT_AFTER_START, code="end_not_after_start")
    stored = Absence.objects.select_for_update().get(pk=absence.pk)
    before = _absence_changes(stored)
    stored.kind, stored.start, stored.end, stored.comment = kind, start, end, comment
    after = _absence_changes(stored)
    changes = {name: [before[name], after[name]] for name in before if before[name] != after[name]}
    if not changes:
        return stored
    stored.save(update_fields=["kind", "start", "end", "comment"])
    audit_record(actor=actor, action=AuditAction.ABSENCE_CHANGED, target=stored, changes=changes)
    regeneration_enqueue(doctor_id=stored.doctor_id)
    return stored


@transaction.atomic
def absence_delete(*, absence: Absence, actor: User | None = None) -> None:
    doctor_id = absence.doctor_id
    audit_record(actor=actor, action=AuditAction.ABSENCE_DELETED, target=absence, changes=_absence_changes(absence))
    absence.delete()
    regeneration_enqueue(doctor_id=doctor_id)


# --- date overrides and closures ---------------------------------------------------------------


def _intervals_text(times: Iterable[tuple[time, time]]) -> str:
    return ";".join(f"{start:%H:%M}-{end:%H:%M}" for start, end in sorted(times))


def _clinic_today() -> date:
    return timezone.localdate(timezone=clinic_zone())


@transaction.atomic
def date_override_set(
    *,
    doctor: User,
    day: date,
    intervals: Iterable[tuple[time, time]],
    comment: str = "",
    actor: User | None = None,
) -> DateOverride:
    """Give the doctor their own hours on one local date (none: a day off); regenerate their slots on commit.

    The intervals follow the weekly hours' rules (each ends after it starts, none overlap). A doctor
    without a schedule gets one with the defaults, so that generation and the sweep plan the date.
    """
    ordered = [(start, end) for _weekday, start, end in working_hours_validate((day.weekday(), *i) for i in intervals)]
    schedule_get_or_create(doctor=doctor)
    # The same row lock as schedule_update and the generator: a doctor's hours change one writer
    # at a time, and never in the middle of a generation run.
    DoctorSchedule.objects.select_for_update().filter(doctor=doctor).values_list("pk", flat=True).first()
    stored = DateOverride.objects.filter(doctor=doctor, date=day).first()
    before: dict[str, str | None] = {"intervals": None, "comment": None}
    if stored is None:
        stored = DateOverride(doctor=doctor, date=day)
    else:
        before = {"intervals": _intervals_text(stored.times), "comment": stored.comment}
    after = {"intervals": _intervals_text(ordered), "comment": comment}
    changes = {name: [before[name], after[name]] for name in after if before[name] != after[name]}
    if not changes:
        return stored
    stored.intervals, stored.comment = override_intervals(ordered), comment
    stored.save()
    audit_record(
        actor=actor, action=AuditAction.DATE_OVERRIDE_SET, target=stored, changes={"date": day.isoformat(), **changes}
    )
    if day >= _clinic_today():
        regeneration_enqueue(doctor_id=doctor.pk)
    return stored


@transaction.atomic
def date_override_delete(*, override: DateOverride, actor: User | None = None) -> None:
    """Give the date back to the doctor's weekly hours; regenerate their slots on commit."""
    audit_record(
        actor=actor,
        action=AuditAction.DATE_OVERRIDE_DELETED,
        target=override,
        changes={
            "date": override.date.isoformat(),
            "intervals": _intervals_text(override.times),
            "comment": override.comment,
        },
    )
    override.delete()
    if override.date >= _clinic_today():
        regeneration_enqueue(doctor_id=override.doctor_id)


def _closure_changes(closure: Closure) -> dict:
    return {
        "date_from": closure.date_from.isoformat(),
        "date_to": closure.date_to.isoformat(),
        "reason": closure.reason,
    }


@transaction.atomic
def closure_create(*, date_from: date, date_to: date, reason: str, actor: User | None = None) -> Closure:
    """Close the clinic from `date_from` through `date_to` (local, inclusive); regenerate every doctor on commit."""
    if date_from > date_to:
        raise InvalidSchedule(CLOSURE_DATES_REVERSED, code="date_range")
    closure = Closure.objects.create(date_from=date_from, date_to=date_to, reason=reason)
    audit_record(actor=actor, action=AuditAction.CLOSURE_CREATED, target=closure, changes=_closure_changes(closure))
    if date_to >= _clinic_today():
        clinic_regeneration_enqueue()
    return closure


@transaction.atomic
def closure_delete(*, closure: Closure, actor: User | None = None) -> None:
    """Open the clinic again on the closure's dates; regenerate every doctor on commit."""
    audit_record(actor=actor, action=AuditAction.CLOSURE_DELETED, target=closure, changes=_closure_changes(closure))
    closure.delete()
    if closure.date_to >= _clinic_today():
        clinic_regeneration_enqueue()


# --- regeneration on commit ----------------------------------------------------------------------


class _Regeneration:
    """The on-commit callback that asks a worker to regenerate one doctor's slots."""

    def __init__(self, doctor_id: int):
        self.doctor_id = doctor_id
        self.sent = False

    def __call__(self) -> None:
        from .tasks import generate_slots_for_doctors

        self.sent = True
        try:
            generate_slots_for_doctors.apply_async(args=[[self.doctor_id]], retry=False)
        except Exception:  # the broker is down or unreachable: the periodic sweep will do it
            logger.warning("Could not enqueue slot generation for doctor %s; the sweep will catch up", self.doctor_id)


class _ClinicRegeneration:
    """The on-commit callback that asks the workers to regenerate every doctor, in the sweep's batches."""

    def __init__(self) -> None:
        self.sent = False

    def __call__(self) -> None:
        from .tasks import generate_slots_for_doctors

        self.sent = True
        try:
            for batch in generation.doctor_batches():
                generate_slots_for_doctors.apply_async(args=[batch], retry=False)
        except Exception:  # the broker is down or unreachable: the periodic sweep will do it
            logger.warning("Could not enqueue the clinic's slot generation; the sweep will catch up")


def _already_pending(matches: Callable[[object], bool]) -> bool:
    """Whether a callback waiting for this transaction's commit, not yet run, matches."""
    connection = transaction.get_connection()
    pending = (callback for _savepoints, callback, _robust in connection.run_on_commit)
    return connection.in_atomic_block and any(
        matches(callback) and not getattr(callback, "sent", True) for callback in pending
    )


def regeneration_enqueue(*, doctor_id: int) -> None:
    """Ask a worker to regenerate the doctor's slots once the current transaction commits, once.

    A page that saves hours and three absences enqueues one task for the doctor, not four: a
    callback already waiting for this transaction's commit covers every later change in it (and,
    read at commit, every change). A rolled-back savepoint drops its callbacks, and with them this
    record. A broker outage never fails the request: the edit is saved and the next sweep catches up.
    """
    if _already_pending(lambda callback: isinstance(callback, _Regeneration) and callback.doctor_id == doctor_id):
        return
    transaction.on_commit(_Regeneration(doctor_id))


def clinic_regeneration_enqueue() -> None:
    """Ask the workers to regenerate every doctor the sweep covers once the transaction commits, once.

    A clinic-wide change (a closure) fans out like the sweep: batches of SLOT_GENERATION_BATCH_SIZE
    doctors (generation.doctor_batches), one task each, read at commit.
    """
    if _already_pending(lambda callback: isinstance(callback, _ClinicRegeneration)):
        return
    transaction.on_commit(_ClinicRegeneration())


def doctor_availability_changed(*, user: User) -> None:
    """A user was blocked, unblocked or changed roles: regenerate their slots if they have a schedule."""
    if DoctorSchedule.objects.filter(doctor=user).exists():
        regeneration_enqueue(doctor_id=user.pk)


# --- specialties -----------------------------------------------------------------------------


def specialty_name_clean(name: str, *, specialty: Specialty | None = None) -> str:
    """The name as it will be stored (trimmed); refused if empty, too long, unsafe or taken in any case.

    Taken is checked here in Python, not only by the database's `lower(name)` index: SQLite's
    lower() folds ASCII letters only, and "Кардиолог" must clash with "кардиолог" there too.
    """
    name = (name or "").strip()
    if not name:
        raise InvalidSpecialtyName(SPECIALTY_NAME_REQUIRED, code="required")
    if len(name) > SPECIALTY_NAME_MAX_LENGTH:
        raise InvalidSpecialtyName(SPECIALTY_NAME_TOO_LONG % {"max": SPECIALTY_NAME_MAX_LENGTH}, code="max_length")
    try:
        Specialty._meta.get_field("name").run_validators(name)
    except ValidationError as error:
        raise InvalidSpecialtyName(error.messages[0])
    same = selectors.specialties_by_name().get(name.casefold())
    if same is not None and (specialty is None or same.pk != specialty.pk):
        raise SpecialtyNameTaken()
    return name


def _specialty_save(specialty: Specialty) -> None:
    """Save; a name taken by a concurrent save (the database's unique index) is a 400, not a 500."""
    try:
        with transaction.atomic():
            specialty.save()
    except IntegrityError as error:
        if "specialty_name_ci_unique" in str(error):
            raise SpecialtyNameTaken() from error
        raise


@transaction.atomic
def specialty_create(*, name: str, actor: User | None = None) -> Specialty:
    specialty = Specialty(name=specialty_name_clean(name))
    _specialty_save(specialty)
    audit_record(
        actor=actor, action=AuditAction.SPECIALTY_CREATED, target=specialty, changes={"name": [None, specialty.name]}
    )
    return specialty


@transaction.atomic
def specialties_ensure(*, names: Iterable[str], actor: User | None = None) -> list[Specialty]:
    """The named specialties, each created unless the clinic has it already (in any case); idempotent."""
    by_name = selectors.specialties_by_name()
    result = []
    for name in names:
        specialty = by_name.get(name.strip().casefold())
        if specialty is None:
            specialty = by_name[name.strip().casefold()] = specialty_create(name=name, actor=actor)
        result.append(specialty)
    return result


@transaction.atomic
def specialty_rename(*, specialty: Specialty, name: str, actor: User | None = None) -> Specialty:
    """Rename in place: the doctors who have it keep it."""
    new_name = specialty_name_clean(name, specialty=specialty)
    stored = Specialty.objects.select_for_update().get(pk=specialty.pk)
    if stored.name == new_name:
        return stored
    old_name, stored.name = stored.name, new_name
    _specialty_save(stored)
    audit_record(
        actor=actor, action=AuditAction.SPECIALTY_CHANGED, target=stored, changes={"name": [old_name, new_name]}
    )
    return stored


@transaction.atomic
def specialty_delete(*, specialty: Specialty, actor: User | None = None) -> None:
    """Delete a specialty; the doctors who had it lose it (their other specialties stay)."""
    doctor_ids = sorted(DoctorSpecialty.objects.filter(specialty=specialty).values_list("doctor_id", flat=True))
    audit_record(
        actor=actor,
        action=AuditAction.SPECIALTY_DELETED,
        target=specialty,
        changes={"name": [specialty.name, None], "doctors": doctor_ids},
    )
    specialty.delete()


@transaction.atomic
def doctor_specialties_set(*, doctor: User, specialties: Iterable[Specialty], actor: User | None = None) -> None:
    """Give the doctor exactly these specialties (none is allowed: a doctor new to the clinic)."""
    # The doctor's row lock: one doctor's specialty edits run one at a time, so the audit's
    # before and after are what really changed.
    if (
        User.objects.doctors().select_for_update(of=("self",)).filter(pk=doctor.pk).values_list("pk", flat=True).first()
        is None
    ):
        raise NotADoctor()
    wanted = {specialty.pk: specialty.name for specialty in specialties}
    current = dict(DoctorSpecialty.objects.filter(doctor_id=doctor.pk).values_list("specialty_id", "specialty__name"))
    if set(wanted) == set(current):
        return
    DoctorSpecialty.objects.filter(doctor_id=doctor.pk).exclude(specialty_id__in=wanted).delete()
    DoctorSpecialty.objects.bulk_create(
        DoctorSpecialty(doctor_id=doctor.pk, specialty_id=pk) for pk in wanted if pk not in current
    )
    audit_record(
        actor=actor,
        action=AuditAction.DOCTOR_SPECIALTIES_CHANGED,
        target=doctor,
        changes={"specialties": [sorted(current.values()), sorted(wanted.values())]},
    )


# --- booking ---------------------------------------------------------------------------------


def _record(
    action: str,
    slot: Timetable,
    patient_id: int | None,
    actor: User | None,
    at: datetime,
    *,
    cancelled_by: str | None = None,
    reason: str = "",
) -> None:
    AppointmentEvent.objects.create(
        slot_id=slot.pk,
        action=action,
        doctor_id=slot.doctor_id,
        patient_id=patient_id,
        actor=actor,
        start_time=slot.start_time,
        stop_time=slot.stop_time,
        at=at,
        cancelled_by=cancelled_by,
        reason=reason,
    )


@transaction.atomic
def slot_book(*, slot_id: int, patient: User, actor: User | None = None, now: datetime | None = None) -> Timetable:
    """Give a free future slot to the patient; exactly one of any concurrent bookers wins.

    The rules of the slot's doctor apply (minimum notice, the patient's caps over all doctors).
    They cost no statement of their own: they come with the slot's row, and the caps are counted
    in the overlap check's query.
    """
    now = now or timezone.now()
    if not (patient.is_active and patient.is_patient):
        raise NotAPatient()
    slot = Timetable.objects.select_related("doctor").annotate(**rules.annotations()).filter(pk=slot_id).first()
    # A blocked doctor, or one who no longer has the role, offers nothing from that commit on,
    # before the regeneration that deletes their free slots has run.
    if slot is None or not slot.doctor.is_active_doctor:
        raise SlotNotFound()
    if slot.client_id is not None:
        raise SlotTaken()
    in_force = rules.from_annotations(slot)
    refusal = rules.booking_refusal(start=slot.start_time, rules=in_force, now=now)
    if refusal == "started":
        raise SlotInPast()
    if refusal == "min_notice":
        raise rules.TooLateToBook()
    # Lock the patient's row: one patient's bookings run one at a time, so two concurrent
    # requests cannot give them two overlapping appointments, nor more than their caps allow
    # (the counts below are read after the lock, by a statement that sees what the other committed).
    User.objects.select_for_update().filter(pk=patient.pk).values_list("pk", flat=True).first()
    day_start, day_end = local_day_bounds(slot.start_time.astimezone(clinic_zone()).date(), clinic_zone())
    held = Timetable.objects.filter(client=patient).aggregate(
        overlapping=Count("pk", filter=Q(start_time__lt=slot.stop_time, stop_time__gt=slot.start_time)),
        active=Count("pk", filter=Q(start_time__gt=now)),
        on_that_day=Count("pk", filter=Q(start_time__gte=day_start, start_time__lt=day_end)),
    )
    if held["overlapping"]:
        raise SlotOverlapsAppointment()
    over_cap = rules.caps_refusal(rules=in_force, active=held["active"], on_that_day=held["on_that_day"])
    if over_cap is not None:
        raise over_cap
    # The one conditional UPDATE that decides: of any number of concurrent requests, one
    # matches `client IS NULL`; the rest update nothing and get 409.
    won = Timetable.objects.filter(pk=slot_id, client__isnull=True, start_time__gt=now).update(
        client=patient, booked_at=now, conflict=False, status=AppointmentStatus.BOOKED
    )
    if not won:
        if not Timetable.objects.filter(pk=slot_id).exists():
            raise SlotNotFound()  # regenerated away since we read it
        raise SlotTaken()
    slot.client = patient
    slot.booked_at = now
    slot.conflict = False
    slot.status = AppointmentStatus.BOOKED
    _record(AppointmentAction.BOOKED, slot, patient.pk, actor or patient, now)
    return slot


@transaction.atomic
def slot_cancel(*, slot_id: int, patient: User, actor: User | None = None, now: datetime | None = None) -> Timetable:
    """The patient cancels their own appointment: before it starts and the doctor's cancellation cutoff.

    Recorded as cancelled by the patient. The clinic cancels with outcomes.appointment_cancel, which
    no cutoff binds.
    """
    now = now or timezone.now()
    slot = (
        Timetable.objects.annotate(**rules.annotations()).filter(pk=slot_id, client=patient).first()
        if patient is not None
        else None
    )
    if slot is None:
        raise NotYourAppointment()
    refusal = rules.cancel_refusal(start=slot.start_time, rules=rules.from_annotations(slot), now=now)
    if refusal == "started":
        raise AppointmentStarted()
    if slot.status != AppointmentStatus.BOOKED:
        raise InvalidTransition(slot.status)  # arrived early: the visit is under way
    if refusal == "cutoff":
        raise rules.TooLateToCancel()
    # Conditional on the caller still holding it, still booked: a concurrent cancel frees it once.
    released = Timetable.objects.filter(
        pk=slot_id, client=patient, status=AppointmentStatus.BOOKED, start_time__gt=now
    ).update(client=None, booked_at=None, conflict=False, status=None)
    if not released:
        raise NotYourAppointment()
    if slot.conflict:
        _drop_freed_conflicts([slot.pk])
    slot.client = None
    slot.booked_at = None
    slot.conflict = False
    slot.status = None
    _record(AppointmentAction.CANCELLED, slot, patient.pk, actor or patient, now, cancelled_by=CancelledBy.PATIENT)
    return slot


def _drop_freed_conflicts(slot_ids: list[int]) -> None:
    """Delete freed slots that were flagged as conflicts: the plan has no place for them.

    Conditional on being free, like the generator's delete. A conflict not yet flagged is caught by
    the next generation run, which deletes free slots outside the plan.
    """
    Timetable.objects.filter(pk__in=slot_ids, client__isnull=True).delete()


@transaction.atomic
def appointments_release_for_patient(*, patient: User, actor: User | None = None) -> int:
    """Free the patient's future appointments (when the patient is blocked)."""
    now = timezone.now()
    slots = list(Timetable.objects.select_for_update().filter(client=patient, start_time__gt=now))
    if not slots:
        return 0
    Timetable.objects.filter(pk__in=[slot.pk for slot in slots], client=patient).update(
        client=None, booked_at=None, conflict=False, status=None
    )
    _drop_freed_conflicts([slot.pk for slot in slots if slot.conflict])
    for slot in slots:
        _record(AppointmentAction.RELEASED, slot, patient.pk, actor, now)
    return len(slots)
