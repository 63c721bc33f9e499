"""Slot generation: reconcile doctors' future slots with the plans of their schedules.

Called by the Celery tasks, `manage.py generate_slots`, the imports and the tests; the rules of
reconciliation are in the docstring of slots_generate_for_doctors.
"""

from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from staff.models import User

from . import planner
from .models import Absence, Closure, DateOverride, DoctorSchedule, Timetable, WorkingHours, override_times
from .zone import clinic_zone


@dataclass(frozen=True)
class GenerationResult:
    doctor_id: int
    created: int = 0
    deleted: int = 0
    conflicts: int = 0


def doctor_plan(*, schedule: DoctorSchedule, now: datetime, zone: ZoneInfo | None = None) -> list[planner.Slot]:
    """The slots the doctor's current schedule asks for (nothing for a blocked doctor)."""
    if not schedule.doctor.is_active_doctor:
        return []
    zone = zone or clinic_zone()
    doctor_id = schedule.doctor_id
    first, last = planner.planned_dates(now=now, horizon_days=schedule.horizon_days, zone=zone)
    return planner.plan_slots(
        hours=hours_by_doctor([doctor_id]).get(doctor_id, []),
        absences=[(a.start, a.end) for a in absences_by_doctor([doctor_id], now).get(doctor_id, [])],
        slot_minutes=schedule.slot_minutes,
        horizon_days=schedule.horizon_days,
        zone=zone,
        now=now,
        date_hours=date_hours_of(
            closed=closed_dates(first, last), overrides=overrides_by_doctor([doctor_id], first, last).get(doctor_id)
        ),
    )


def slots_generate_for_doctor(*, doctor_id: int, now: datetime | None = None) -> GenerationResult:
    """Reconcile one doctor's future slots with their plan, in one transaction.

    Inserts missing slots, deletes free future slots the plan no longer has, never touches a
    booked slot, and flags booked slots that the plan no longer has as conflicts.
    """
    return slots_generate_for_doctors(doctor_ids=[doctor_id], now=now)[0]


def slots_generate_for_doctors(*, doctor_ids: Iterable[int], now: datetime | None = None) -> list[GenerationResult]:
    """Reconcile a batch of doctors' future slots with their plans, in one transaction; results by doctor id.

    The rules of slots_generate_for_doctor with a few statements per batch instead of a dozen per
    doctor: the schedule rows are locked in doctor-id order, hours and absences are read once,
    doctors with the same hours share one run of the planner, and on PostgreSQL the comparison with
    the existing slots and the insert are one statement each (see _slot_changes_postgresql).
    """
    now = now or timezone.now()
    ids = sorted({int(pk) for pk in doctor_ids})
    if not ids:
        return []
    totals = {pk: _Counts() for pk in ids}
    with transaction.atomic():
        plans = _plans_locked(ids, now)
        if plans:
            _reconcile(plans, now, totals)
            DoctorSchedule.objects.filter(pk__in=list(plans)).update(generated_at=now)
    return [GenerationResult(pk, totals[pk].created, totals[pk].deleted, totals[pk].conflicts) for pk in ids]


def doctors_to_generate(*, today: date | None = None) -> QuerySet:
    """Ids of the doctors a sweep covers: active doctors with a working interval or a date override from today on."""
    today = today or timezone.localdate(timezone=clinic_zone())
    # A doctor who works only on dates of their own (overrides, no weekly hours) still needs the
    # sweep: those dates come into the horizon one day at a time.
    works = Exists(WorkingHours.objects.filter(schedule_id=OuterRef("doctor_id"))) | Exists(
        DateOverride.objects.filter(doctor_id=OuterRef("doctor_id"), date__gte=today)
    )
    return (
        DoctorSchedule.objects.filter(works, doctor__in=User.objects.active_doctors())
        .order_by("doctor_id")
        .values_list("doctor_id", flat=True)
    )


def doctor_batches(batch_size: int | None = None) -> Iterator[list[int]]:
    """The sweep's doctors in id order, in batches of SLOT_GENERATION_BATCH_SIZE (one transaction each)."""
    size = batch_size or settings.SLOT_GENERATION_BATCH_SIZE
    doctor_ids = list(doctors_to_generate())
    for first in range(0, len(doctor_ids), size):
        yield doctor_ids[first : first + size]


@dataclass
class _Counts:
    created: int = 0
    deleted: int = 0
    conflicts: int = 0


# A plan: the (start, stop) of each slot, in microseconds since the epoch.
Plan = tuple[tuple[int, int], ...]
# Slots travel to PostgreSQL and back as microseconds since the epoch: integers are cheap to send
# in bulk, and `'epoch' + n * 1 microsecond` turns them back into the exact instants.
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def _micros(moment: datetime) -> int:
    return (moment - _EPOCH) // _MICROSECOND


def _plans_locked(doctor_ids: list[int], now: datetime) -> dict[int, Plan]:
    """Lock the doctors' schedules and plan their slots: {doctor id: ((start, stop), ...)}.

    Doctors without a schedule are left out; a blocked or demoted doctor's plan is empty. Doctors
    with the same hours, slot length and horizon and no absence or date override of their own share
    one plan object (the planner is pure, so one run serves them all; closures are everyone's).
    """
    schedules = _schedules_locked(doctor_ids)
    if not schedules:
        return {}
    zone = clinic_zone()
    longest = max(horizon_days for _, _, horizon_days, _ in schedules)
    first, last = planner.planned_dates(now=now, horizon_days=longest, zone=zone)
    hours = hours_by_doctor(doctor_ids)
    absences = absences_by_doctor(doctor_ids, now)
    overrides = overrides_by_doctor(doctor_ids, first, last)
    closed = closed_dates(first, last)
    closures_only = date_hours_of(closed=closed, overrides=None)
    shared: dict[tuple, Plan] = {}
    plans: dict[int, Plan] = {}
    for doctor_id, slot_minutes, horizon_days, offers_slots in schedules:
        if not offers_slots:
            plans[doctor_id] = ()
            continue
        key = (tuple(sorted(hours.get(doctor_id, ()))), slot_minutes, horizon_days)
        own_absences = [(absence.start, absence.end) for absence in absences.get(doctor_id, ())]
        own_overrides = overrides.get(doctor_id)
        own = bool(own_absences or own_overrides)
        if own or key not in shared:
            slots = planner.plan_slots(
                hours=key[0],
                absences=own_absences,
                slot_minutes=slot_minutes,
                horizon_days=horizon_days,
                zone=zone,
                now=now,
                date_hours=date_hours_of(closed=closed, overrides=own_overrides) if own else closures_only,
            )
            plan = tuple((_micros(slot.start), _micros(slot.stop)) for slot in slots)
            if own:
                plans[doctor_id] = plan
                continue
            shared[key] = plan
        plans[doctor_id] = shared[key]
    return plans


def _schedules_locked(doctor_ids: list[int]) -> list[tuple[int, int, int, bool]]:
    """(doctor id, slot minutes, horizon days, offers slots) of each schedule, its row locked."""
    offers_slots = Exists(User.objects.active_doctors().filter(pk=OuterRef("doctor_id")))
    # The same row lock as schedule_update. PostgreSQL sorts before it locks, so batches that share
    # doctors take the locks in the same order and never deadlock.
    return list(
        DoctorSchedule.objects.select_for_update(of=("self",))
        .filter(doctor_id__in=doctor_ids)
        .annotate(offers_slots=offers_slots)
        .order_by("doctor_id")
        .values_list("doctor_id", "slot_minutes", "horizon_days", "offers_slots")
    )


# The planner's inputs, read for a batch of doctors. Generation, the admin's preview (doctor_plan) and
# availability all read them here: one reading of the schedule's rules.


def hours_by_doctor(doctor_ids: list[int]) -> dict[int, list[planner.WorkingInterval]]:
    """The doctors' weekly working intervals."""
    hours: dict[int, list[planner.WorkingInterval]] = defaultdict(list)
    rows = WorkingHours.objects.filter(schedule_id__in=doctor_ids).values_list("schedule_id", "weekday", "start", "end")
    for schedule_id, weekday, start, end in rows:
        hours[schedule_id].append(planner.WorkingInterval(weekday, start, end))
    return hours


class AbsenceSpan(NamedTuple):
    start: datetime
    end: datetime
    id: int
    kind: str


def absences_by_doctor(doctor_ids: list[int], ending_after: datetime) -> dict[int, list[AbsenceSpan]]:
    """The doctors' absences that end after `ending_after` (the planner's: those that can still block a slot)."""
    absences: dict[int, list[AbsenceSpan]] = defaultdict(list)
    rows = Absence.objects.filter(doctor_id__in=doctor_ids, end__gt=ending_after).values_list(
        "doctor_id", "start", "end", "id", "kind"
    )
    for doctor_id, start, end, pk, kind in rows:
        absences[doctor_id].append(AbsenceSpan(start, end, pk, kind))
    return absences


def overrides_by_doctor(
    doctor_ids: list[int], first: date, last: date
) -> dict[int, dict[date, list[tuple[time, time]]]]:
    """The doctors' date overrides from `first` through `last`: {doctor id: {date: [(start, end), ...]}}."""
    overrides: dict[int, dict[date, list[tuple[time, time]]]] = defaultdict(dict)
    rows = DateOverride.objects.filter(doctor_id__in=doctor_ids, date__gte=first, date__lte=last).values_list(
        "doctor_id", "date", "intervals"
    )
    for doctor_id, day, intervals in rows:
        overrides[doctor_id][day] = override_times(intervals)
    return overrides


def closed_dates(first: date, last: date) -> set[date]:
    """The dates from `first` through `last` on which a closure closes the clinic."""
    closed: set[date] = set()
    rows = Closure.objects.filter(Q(date_to__gte=first) & Q(date_from__lte=last)).values_list("date_from", "date_to")
    for date_from, date_to in rows:
        day = max(date_from, first)
        while day <= min(date_to, last):
            closed.add(day)
            day += timedelta(days=1)
    return closed


def date_hours_of(
    *, closed: Collection[date], overrides: Mapping[date, planner.DayHours] | None
) -> dict[date, planner.DayHours]:
    """The dates whose hours are their own, for the planner: a doctor's overrides, and no hours on a closed date.

    A closure wins over an override: the clinic is shut whatever a doctor's date says.
    """
    own: dict[date, planner.DayHours] = dict(overrides or {})
    own.update(dict.fromkeys(closed, ()))
    return own


@dataclass
class _Changes:
    """What separates the doctors' future rows from their plans, by doctor id."""

    missing: dict[int, list[tuple[int, int]]] = field(default_factory=lambda: defaultdict(list))
    stale_free: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    # (id, start, stop, flagged as conflict, still in the plan) of each booked future row.
    booked: dict[int, list[tuple[int, int, int, bool, bool]]] = field(default_factory=lambda: defaultdict(list))


def _reconcile(plans: dict[int, Plan], now: datetime, totals: dict[int, _Counts]) -> None:
    """Make the doctors' future slots match their plans; add the counts to `totals`."""
    changes = _classify(plans, now)
    _delete_stale_free(changes.stale_free, totals)
    _insert_missing(changes, totals)
    _flag_conflicts(changes.booked, totals)


def _classify(plans: dict[int, Plan], now: datetime) -> _Changes:
    compare = _slot_changes_postgresql if connection.vendor == "postgresql" else _slot_changes_python
    changes = _Changes()
    for pk, doctor_id, client_id, flagged, wanted, start, stop in compare(plans, now):
        if pk is None:
            changes.missing[doctor_id].append((start, stop))
        elif client_id is None:
            changes.stale_free[doctor_id].append(pk)
        else:
            changes.booked[doctor_id].append((pk, start, stop, flagged, wanted))
    return changes


def _delete_stale_free(stale_free: dict[int, list[int]], totals: dict[int, _Counts]) -> None:
    for doctor_id, pks in stale_free.items():
        # One conditional DELETE per doctor: a slot booked since we read it keeps its patient...
        totals[doctor_id].deleted, _ = Timetable.objects.filter(pk__in=pks, client__isnull=True).delete()
        if totals[doctor_id].deleted < len(pks):
            # ...and, being booked outside the plan, is a conflict (the rows left are the booked ones).
            totals[doctor_id].conflicts += Timetable.objects.filter(pk__in=pks).update(conflict=True)


def _insert_missing(changes: _Changes, totals: dict[int, _Counts]) -> None:
    # A new slot must not overlap a booked slot that survives from an older plan.
    for doctor_id, slots in changes.booked.items():
        if doctor_id in changes.missing:
            booked = planner.IntervalSet[int]((start, stop) for _, start, stop, _, _ in slots)
            changes.missing[doctor_id] = [slot for slot in changes.missing[doctor_id] if not booked.overlaps(*slot)]
    if any(changes.missing.values()):
        _insert_slots(changes.missing, totals)


def _flag_conflicts(booked: dict[int, list[tuple[int, int, int, bool, bool]]], totals: dict[int, _Counts]) -> None:
    """Flag booked rows the plan no longer has as conflicts, and clear the flag of those it has again."""
    now_conflicting, now_fine = [], []
    for doctor_id, slots in booked.items():
        for pk, _, _, flagged, wanted in slots:
            if not wanted:
                totals[doctor_id].conflicts += 1
                if not flagged:
                    now_conflicting.append(pk)
            elif flagged:
                now_fine.append(pk)
    if now_conflicting:
        # Conditional on still being booked: one cancelled since we read it left the plan as a free
        # slot, and must go rather than be offered.
        Timetable.objects.filter(pk__in=now_conflicting, client__isnull=False).update(conflict=True)
        Timetable.objects.filter(pk__in=now_conflicting, client__isnull=True).delete()
    if now_fine:
        Timetable.objects.filter(pk__in=now_fine).update(conflict=False)


# Rows of _slot_changes_*: (id, doctor_id, client_id, conflict, wanted, start, stop), one for each
# planned slot without a row (id None), each free future row the plan no longer has, and each booked
# future row (wanted: the plan has it). Identical slots, the common case, never leave the database.
# Plans arrive as arrays: doctor -> plan id, and the (plan id, start, stop) of every distinct plan.
_SLOT_CHANGES_SQL = """
WITH plan AS (
    SELECT d.doctor_id, s.start_us, s.stop_us,
           timestamptz 'epoch' + s.start_us * interval '1 microsecond' AS start_time,
           timestamptz 'epoch' + s.stop_us * interval '1 microsecond' AS stop_time
    FROM unnest(%(doctors)s::bigint[], %(doctor_plans)s::int[]) AS d (doctor_id, plan_id)
    JOIN unnest(%(plan_ids)s::int[], %(starts)s::bigint[], %(stops)s::bigint[]) AS s (plan_id, start_us, stop_us)
        USING (plan_id)
), existing AS (
    SELECT id, doctor_id, client_id, conflict, start_time, stop_time
    FROM appointments_timetable
    WHERE doctor_id = ANY(%(doctors)s::bigint[]) AND start_time > %(now)s
)
SELECT e.id, coalesce(e.doctor_id, p.doctor_id), e.client_id, e.conflict, p.doctor_id IS NOT NULL,
       coalesce(p.start_us, (extract(epoch FROM e.start_time) * 1000000)::bigint),
       coalesce(p.stop_us, (extract(epoch FROM e.stop_time) * 1000000)::bigint)
FROM plan p FULL JOIN existing e
    ON e.doctor_id = p.doctor_id AND e.start_time = p.start_time AND e.stop_time = p.stop_time
WHERE e.id IS NULL OR p.doctor_id IS NULL OR e.client_id IS NOT NULL
"""


def _int_array(values: Iterable[int]) -> str:
    # An array literal in one string: psycopg2 would adapt a list item by item, far slower in bulk.
    return "{" + ",".join(map(str, values)) + "}"


def _slot_changes_postgresql(plans: dict[int, Plan], now: datetime) -> list[tuple]:
    """The comparison of plans and rows done by PostgreSQL: each shared plan is sent once."""
    plan_ids: dict[int, int] = {}
    doctor_plans: list[int] = []
    plan_rows: list[tuple[int, int, int]] = []
    for plan in plans.values():
        if id(plan) not in plan_ids:
            plan_ids[id(plan)] = len(plan_ids)
            plan_rows.extend((plan_ids[id(plan)], start, stop) for start, stop in plan)
        doctor_plans.append(plan_ids[id(plan)])
    with connection.cursor() as cursor:
        cursor.execute(
            _SLOT_CHANGES_SQL,
            {
                "doctors": _int_array(plans),
                "doctor_plans": _int_array(doctor_plans),
                "plan_ids": _int_array(row[0] for row in plan_rows),
                "starts": _int_array(row[1] for row in plan_rows),
                "stops": _int_array(row[2] for row in plan_rows),
                "now": now,
            },
        )
        return cursor.fetchall()


def _slot_changes_python(plans: dict[int, Plan], now: datetime) -> list[tuple]:
    """The same comparison in Python, for databases other than PostgreSQL."""
    wanted = {doctor_id: set(plan) for doctor_id, plan in plans.items()}
    found: dict[int, set[tuple[int, int]]] = {doctor_id: set() for doctor_id in plans}
    changes: list[tuple] = []
    existing = Timetable.objects.filter(doctor_id__in=list(plans), start_time__gt=now).values_list(
        "id", "doctor_id", "client_id", "conflict", "start_time", "stop_time"
    )
    for pk, doctor_id, client_id, flagged, start, stop in existing:
        slot = (_micros(start), _micros(stop))
        in_plan = slot in wanted[doctor_id]
        if in_plan:
            found[doctor_id].add(slot)
        if not in_plan or client_id is not None:
            changes.append((pk, doctor_id, client_id, flagged, in_plan, *slot))
    for doctor_id, plan in plans.items():
        changes.extend((None, doctor_id, None, None, True, *slot) for slot in plan if slot not in found[doctor_id])
    return changes


_INSERT_SQL = """
WITH inserted AS (
    INSERT INTO appointments_timetable (doctor_id, start_time, stop_time, conflict)
    SELECT doctor_id,
           timestamptz 'epoch' + start_us * interval '1 microsecond',
           timestamptz 'epoch' + stop_us * interval '1 microsecond',
           false
    FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[]) AS m (doctor_id, start_us, stop_us)
    ON CONFLICT (doctor_id, start_time) DO NOTHING
    RETURNING doctor_id
)
SELECT doctor_id, count(*) FROM inserted GROUP BY doctor_id
"""


def _insert_slots(missing: dict[int, list[tuple[int, int]]], totals: dict[int, _Counts]) -> None:
    """Insert the missing slots in (doctor, start) order, skipping any (doctor, start) that a row already holds."""
    # Skipping relies on the unique (doctor, start_time) constraint: a row that a concurrent run or
    # a surviving booked slot already holds is never duplicated.
    if connection.vendor == "postgresql":
        rows = [(doctor_id, start, stop) for doctor_id in sorted(missing) for start, stop in sorted(missing[doctor_id])]
        with connection.cursor() as cursor:
            cursor.execute(_INSERT_SQL, [_int_array(column) for column in zip(*rows, strict=True)])
            for doctor_id, created in cursor.fetchall():
                totals[doctor_id].created += created
        return
    for doctor_id in sorted(missing):
        new = [
            Timetable(
                doctor_id=doctor_id,
                start_time=_EPOCH + start * _MICROSECOND,
                stop_time=_EPOCH + stop * _MICROSECOND,
            )
            for start, stop in sorted(missing[doctor_id])
        ]
        totals[doctor_id].created += len(Timetable.objects.bulk_create(new, batch_size=2000, ignore_conflicts=True))
