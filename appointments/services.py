"""Writes with rules for schedules, absences, slot generation, booking and cancelling."""

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hospital.errors import ServiceError
from staff.models import AuditAction, User
from staff.roles import Role
from staff.services import audit_record

from . import planner
from .models import (
    Absence,
    AppointmentAction,
    AppointmentEvent,
    DoctorSchedule,
    Timetable,
    WorkingHours,
)

logger = logging.getLogger(__name__)

SLOT_NOT_FOUND = _("No such slot.")
SLOT_TAKEN = _("This slot is already taken.")
SLOT_IN_PAST = _("This slot has already started.")
SLOT_OVERLAPS_YOURS = _("You already have an appointment at this time.")
NOT_YOUR_APPOINTMENT = _("You have no appointment in this slot.")
APPOINTMENT_STARTED = _("This appointment has already started and cannot be cancelled.")
HOURS_OVERLAP = _("Working hours overlap on %(weekday)s: %(first)s and %(second)s.")
HOURS_END_NOT_AFTER_START = _("The end of working hours must be after their start.")
ABSENCE_END_NOT_AFTER_START = _("The end of an absence must be after its start.")


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


class NotYourAppointment(ServiceError):
    status = 404
    code = "not_your_appointment"
    message = NOT_YOUR_APPOINTMENT


class AppointmentStarted(ServiceError):
    status = 400
    code = "appointment_started"
    message = APPOINTMENT_STARTED


class InvalidSchedule(ServiceError):
    status = 400
    code = "invalid_schedule"


def clinic_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


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


def _hours_text(hours) -> list[str]:
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
def absence_delete(*, absence: Absence, actor: User | None = None) -> None:
    doctor_id = absence.doctor_id
    audit_record(actor=actor, action=AuditAction.ABSENCE_DELETED, target=absence, changes=_absence_changes(absence))
    absence.delete()
    regeneration_enqueue(doctor_id=doctor_id)


def regeneration_enqueue(*, doctor_id: int) -> None:
    """Ask a worker to regenerate the doctor's slots once the current transaction commits.

    A broker outage never fails the request: the edit is saved and the next sweep catches up.
    """
    from .tasks import generate_slots_for_doctors

    def send():
        try:
            generate_slots_for_doctors.apply_async(args=[[doctor_id]], retry=False)
        except Exception:  # the broker is down or unreachable: the periodic sweep will do it
            logger.warning("Could not enqueue slot generation for doctor %s; the sweep will catch up", doctor_id)

    transaction.on_commit(send)


# --- generation ----------------------------------------------------------------------------


@dataclass(frozen=True)
class GenerationResult:
    doctor_id: int
    created: int = 0
    deleted: int = 0
    conflicts: int = 0


def doctor_plan(*, schedule: DoctorSchedule, now: datetime, zone: ZoneInfo | None = None) -> list[planner.Slot]:
    """The slots the doctor's current schedule asks for (nothing for a blocked doctor)."""
    # A blocked doctor, or one who is no longer a doctor, offers nothing.
    if not schedule.doctor.is_active or not schedule.doctor.is_doctor:
        return []
    hours = [planner.WorkingInterval(h.weekday, h.start, h.end) for h in schedule.working_hours.all()]
    absences = Absence.objects.filter(doctor_id=schedule.doctor_id, end__gt=now).values_list("start", "end")
    return planner.plan_slots(
        hours=hours,
        absences=list(absences),
        slot_minutes=schedule.slot_minutes,
        horizon_days=schedule.horizon_days,
        zone=zone or clinic_zone(),
        now=now,
    )


def slots_generate_for_doctor(*, doctor_id: int, now: datetime | None = None) -> GenerationResult:
    """Reconcile one doctor's future slots with their plan, in one transaction.

    Inserts missing slots, deletes free future slots the plan no longer has, never touches a
    booked slot, and flags booked slots that the plan no longer has as conflicts.
    """
    now = now or timezone.now()
    with transaction.atomic():
        schedule = (
            DoctorSchedule.objects.select_for_update(of=("self",))
            .select_related("doctor")
            .filter(doctor_id=doctor_id)
            .first()
        )
        if schedule is None:
            return GenerationResult(doctor_id)
        plan = doctor_plan(schedule=schedule, now=now)
        wanted = {(slot.start, slot.stop) for slot in plan}

        existing = list(
            Timetable.objects.filter(doctor_id=doctor_id, start_time__gt=now).values_list(
                "id", "start_time", "stop_time", "client_id", "conflict"
            )
        )
        stale_free = [pk for pk, start, stop, client, _ in existing if client is None and (start, stop) not in wanted]
        booked = [(pk, start, stop, flagged) for pk, start, stop, client, flagged in existing if client is not None]
        kept_starts = {start for pk, start, stop, client, _ in existing if (start, stop) in wanted}

        deleted = 0
        if stale_free:
            # One conditional DELETE: a slot booked since we read it keeps its patient.
            deleted, _ = Timetable.objects.filter(pk__in=stale_free, client__isnull=True).delete()

        # A new slot must not overlap a booked slot that survives from an older plan.
        booked_intervals = planner.IntervalSet((start, stop) for _, start, stop, _ in booked)
        missing = [
            Timetable(doctor_id=doctor_id, start_time=slot.start, stop_time=slot.stop)
            for slot in plan
            if slot.start not in kept_starts and not booked_intervals.overlaps(slot.start, slot.stop)
        ]
        created = 0
        if missing:
            # ignore_conflicts relies on the unique (doctor, start_time) constraint: a row that a
            # concurrent run or a surviving booked slot already holds is skipped, never duplicated.
            created = len(Timetable.objects.bulk_create(missing, batch_size=2000, ignore_conflicts=True))

        now_conflicting = [pk for pk, start, stop, flagged in booked if (start, stop) not in wanted and not flagged]
        now_fine = [pk for pk, start, stop, flagged in booked if (start, stop) in wanted and flagged]
        if now_conflicting:
            Timetable.objects.filter(pk__in=now_conflicting).update(conflict=True)
        if now_fine:
            Timetable.objects.filter(pk__in=now_fine).update(conflict=False)
        conflicts = sum(1 for _, start, stop, _ in booked if (start, stop) not in wanted)

        DoctorSchedule.objects.filter(pk=doctor_id).update(generated_at=now)
    return GenerationResult(doctor_id, created=created, deleted=deleted, conflicts=conflicts)


def doctors_to_generate():
    """Ids of the doctors a sweep covers: active doctors with at least one working interval."""
    return (
        DoctorSchedule.objects.filter(
            doctor__is_active=True, doctor__groups__name=Role.DOCTOR, working_hours__isnull=False
        )
        .order_by("doctor_id")
        .values_list("doctor_id", flat=True)
        .distinct()
    )


def doctor_availability_changed(*, user: User) -> None:
    """A user was blocked, unblocked or changed roles: regenerate their slots if they have a schedule."""
    if DoctorSchedule.objects.filter(doctor=user).exists():
        regeneration_enqueue(doctor_id=user.pk)


# --- booking ---------------------------------------------------------------------------------


def _record(action: str, slot: Timetable, patient_id: int, actor: User | None, at: datetime) -> None:
    AppointmentEvent.objects.create(
        slot_id=slot.pk,
        action=action,
        doctor_id=slot.doctor_id,
        patient_id=patient_id,
        actor=actor,
        start_time=slot.start_time,
        stop_time=slot.stop_time,
        at=at,
    )


@transaction.atomic
def slot_book(*, slot_id: int, patient: User, actor: User | None = None, now: datetime | None = None) -> Timetable:
    """Give a free future slot to the patient; exactly one of any concurrent bookers wins."""
    now = now or timezone.now()
    slot = Timetable.objects.select_related("doctor").filter(pk=slot_id).first()
    if slot is None or not slot.doctor.is_active:
        raise SlotNotFound()
    if slot.client_id is not None:
        raise SlotTaken()
    if slot.start_time <= now:
        raise SlotInPast()
    # Lock the patient's row: one patient's bookings run one at a time, so two concurrent
    # requests cannot give them two overlapping appointments.
    User.objects.select_for_update().filter(pk=patient.pk).values_list("pk", flat=True).first()
    if Timetable.objects.filter(client=patient, start_time__lt=slot.stop_time, stop_time__gt=slot.start_time).exists():
        raise SlotOverlapsAppointment()
    # The one conditional UPDATE that decides: of any number of concurrent requests, one
    # matches `client IS NULL`; the rest update nothing and get 409.
    won = Timetable.objects.filter(pk=slot_id, client__isnull=True, start_time__gt=now).update(
        client=patient, booked_at=now, conflict=False
    )
    if not won:
        if not Timetable.objects.filter(pk=slot_id).exists():
            raise SlotNotFound()  # regenerated away since we read it
        raise SlotTaken()
    slot.client = patient
    slot.booked_at = now
    slot.conflict = False
    _record(AppointmentAction.BOOKED, slot, patient.pk, actor or patient, now)
    return slot


@transaction.atomic
def slot_cancel(*, slot_id: int, patient: User, actor: User | None = None, now: datetime | None = None) -> Timetable:
    """Free the patient's own appointment before it starts."""
    now = now or timezone.now()
    slot = Timetable.objects.filter(pk=slot_id, client=patient).first()
    if slot is None:
        raise NotYourAppointment()
    if slot.start_time <= now:
        raise AppointmentStarted()
    # Conditional on the caller still holding it: a concurrent cancel frees it once.
    released = Timetable.objects.filter(pk=slot_id, client=patient, start_time__gt=now).update(
        client=None, booked_at=None, conflict=False
    )
    if not released:
        raise NotYourAppointment()
    slot.client = None
    slot.booked_at = None
    slot.conflict = False
    _record(AppointmentAction.CANCELLED, slot, patient.pk, actor or patient, now)
    return slot


@transaction.atomic
def appointments_release_for_patient(*, patient: User, actor: User | None = None) -> int:
    """Free the patient's future appointments (when the patient is blocked)."""
    now = timezone.now()
    slots = list(Timetable.objects.select_for_update().filter(client=patient, start_time__gt=now))
    if not slots:
        return 0
    Timetable.objects.filter(pk__in=[slot.pk for slot in slots], client=patient).update(
        client=None, booked_at=None, conflict=False
    )
    for slot in slots:
        _record(AppointmentAction.RELEASED, slot, patient.pk, actor, now)
    return len(slots)
