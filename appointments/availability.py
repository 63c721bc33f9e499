"""Explainable availability: every slot a doctor's hours give on one date, and why each is or is not bookable now.

Nothing here decides anew what generation or booking decide. The inputs are the generator's own
reads (weekly hours, date overrides, closures, absences: generation's readers), the slots come from
the planner (`day_slots` for what the hours give, `plan_day` for what generation plans), and time is
the booking rules' predicate (`rules.booking_refusal`: started, minimum notice). A slot is bookable
exactly when no reason applies; once generation has run, the bookable slots of a date are the ones
`/api/doctor/slots/get/<id>` offers for it.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time

from django.db.models import TextChoices
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from staff.models import User

from . import generation, planner, rules
from .filters import EARLIEST_DAY, LATEST_DAY
from .models import DoctorSchedule, Timetable
from .zone import clinic_zone


class Day(TextChoices):
    """What the date is for the doctor, the first that applies in this order."""

    DOCTOR_INACTIVE = "doctor_inactive", _("the doctor is blocked")
    CLOSURE = "closure", _("the clinic is closed")
    OVERRIDE_DAY_OFF = "override_day_off", _("a day off on this date")
    DAY_OFF = "day_off", _("no working hours on this weekday")
    BEYOND_HORIZON = "beyond_horizon", _("beyond the doctor's planning horizon")
    WORKING = "working", _("a working day")


class Reason(TextChoices):
    """Why a slot is not bookable now; a slot lists every one that applies, in this order."""

    BOOKED = "booked", _("booked")
    ABSENCE = "absence", _("the doctor is absent")
    CLOSURE = "closure", _("the clinic is closed")
    DOCTOR_INACTIVE = "doctor_inactive", _("the doctor is blocked")
    STARTED = "started", _("already started")
    MIN_NOTICE = "min_notice", _("starts too soon (minimum notice)")
    BEYOND_HORIZON = "beyond_horizon", _("beyond the planning horizon")
    NOT_GENERATED = "not_generated", _("planned, not generated yet")
    CONFLICT = "conflict", _("booked, but the schedule no longer has it")


@dataclass(frozen=True)
class SlotAvailability:
    start: datetime
    stop: datetime
    slot_id: int | None
    reasons: tuple[str, ...]
    absence: generation.AbsenceSpan | None = None

    @property
    def bookable(self) -> bool:
        return not self.reasons


@dataclass(frozen=True)
class DayAvailability:
    date: date
    day: str
    intervals: list[tuple[time, time]]
    slots: list[SlotAvailability] = field(default_factory=list)


def _schedule_of(doctor: User) -> tuple[int, int]:
    """(slot minutes, horizon days) of the doctor's schedule, or the defaults a doctor has before one is saved."""
    schedule = DoctorSchedule.objects.filter(doctor=doctor).values_list("slot_minutes", "horizon_days").first()
    if schedule is not None:
        return schedule
    return (
        DoctorSchedule._meta.get_field("slot_minutes").default,
        DoctorSchedule._meta.get_field("horizon_days").default,
    )


def doctor_availability(*, doctor: User, day: date, now: datetime | None = None) -> DayAvailability:
    """Every slot the doctor's hours in force on `day` give, plus booked slots of that day they no longer give."""
    now = now or timezone.now()
    zone = clinic_zone()
    doctor_id = doctor.pk
    slot_minutes, horizon_days = _schedule_of(doctor)
    weekly = planner.weekly_hours(generation.hours_by_doctor([doctor_id]).get(doctor_id, []))
    overrides = generation.overrides_by_doctor([doctor_id], day, day).get(doctor_id, {})
    closed = generation.closed_dates(day, day)
    # The hours in force that date: the override's, else the weekday's (a closure does not change them).
    intervals = planner.hours_on(day, weekly=weekly, date_hours=overrides)
    first, last = planner.planned_dates(now=now, horizon_days=horizon_days, zone=zone)
    active = doctor.is_active_doctor

    if not active:
        kind = Day.DOCTOR_INACTIVE
    elif day in closed:
        kind = Day.CLOSURE
    elif day in overrides and not intervals:
        kind = Day.OVERRIDE_DAY_OFF
    elif not intervals:
        kind = Day.DAY_OFF
    elif day > last:
        kind = Day.BEYOND_HORIZON
    else:
        kind = Day.WORKING
    result = DayAvailability(date=day, day=kind.value, intervals=intervals)
    # A date at the very ends of the calendar has no UTC bounds (Python's datetime stops at years 1
    # and 9999): no slot can be there.
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        return result

    day_start, day_end = planner.local_day_bounds(day, zone)
    absences = [
        absence
        for absence in generation.absences_by_doctor([doctor_id], day_start).get(doctor_id, [])
        if absence.start < day_end
    ]
    blocked = planner.IntervalSet((absence.start, absence.end) for absence in absences)
    grid = planner.day_slots(day=day, intervals=intervals, slot_minutes=slot_minutes, zone=zone)
    # What generation plans for the date: the same planner, on the same inputs (a closed date has no
    # hours), for an active doctor within the horizon.
    planned: set[planner.Slot] = set()
    if active and first <= day <= last:
        planned_hours = planner.hours_on(
            day, weekly=weekly, date_hours=generation.date_hours_of(closed=closed, overrides=overrides)
        )
        planned = set(
            planner.plan_day(
                day=day, intervals=planned_hours, blocked=blocked, slot_minutes=slot_minutes, zone=zone, now=now
            )
        )
    rows = {
        (start, stop): (pk, client_id, conflict)
        for pk, start, stop, client_id, conflict in Timetable.objects.filter(
            doctor_id=doctor_id, start_time__gte=day_start, start_time__lt=day_end
        ).values_list("id", "start_time", "stop_time", "client_id", "conflict")
    }
    on_grid = set(grid)
    # Booked slots the hours no longer give: listed too, and no new slot may overlap them (generation
    # never double-books a doctor), so a planned slot they overlap is taken.
    strays = [
        planner.Slot(start, stop)
        for (start, stop), (_, client, _) in rows.items()
        if client and (start, stop) not in on_grid
    ]
    taken = planner.IntervalSet((slot.start, slot.stop) for slot in strays if slot.start > now)
    doctor_rules = rules.doctor_rules(doctor_id=doctor_id)

    slots = []
    for slot in sorted(on_grid | set(strays)):
        pk, client_id, flagged = rows.get((slot.start, slot.stop), (None, None, False))
        booked = client_id is not None
        blocked_by_booking = not booked and slot in on_grid and taken.overlaps(slot.start, slot.stop)
        absence = next((a for a in absences if a.start < slot.stop and slot.start < a.end), None)
        reasons = []
        if booked or blocked_by_booking:
            reasons.append(Reason.BOOKED)
        if absence is not None:
            reasons.append(Reason.ABSENCE)
        if day in closed:
            reasons.append(Reason.CLOSURE)
        if not active:
            reasons.append(Reason.DOCTOR_INACTIVE)
        # Started, or within the minimum notice: the booking rules' own predicate, the only time check.
        refusal = rules.booking_refusal(start=slot.start, rules=doctor_rules, now=now)
        if refusal is not None:
            reasons.append(Reason(refusal))
        if day > last:
            reasons.append(Reason.BEYOND_HORIZON)
        in_plan = slot in planned
        if in_plan and pk is None and not blocked_by_booking:
            reasons.append(Reason.NOT_GENERATED)
        # A future booking is a conflict exactly when generation would flag it (the plan lacks it);
        # a started one keeps the flag generation last gave it.
        if booked and (not in_plan if slot.start > now else flagged):
            reasons.append(Reason.CONFLICT)
        slots.append(
            SlotAvailability(
                start=slot.start,
                stop=slot.stop,
                slot_id=pk,
                reasons=tuple(reason.value for reason in reasons),
                absence=absence,
            )
        )
    result.slots.extend(slots)
    return result
