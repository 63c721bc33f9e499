"""Reads with rules: which doctors, slots and appointments a caller may see."""

from datetime import date, datetime
from typing import Any, TypeVar

from django.db import connection
from django.db.models import Model, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from staff.models import User

from . import rules
from .models import Closure, DateOverride, Specialty, Timetable
from .planner import local_day_bounds
from .zone import clinic_zone

_M = TypeVar("_M", bound=Model)

# How many slots /api/slots/next lists by default, and at most.
NEXT_SLOTS_DEFAULT, NEXT_SLOTS_MAX = 10, 50


def doctor_get(*, pk: int, active_only: bool = False) -> User:
    """A doctor by id, or 404 (unknown, not a doctor, or blocked when `active_only`)."""
    queryset = User.objects.doctors()
    if active_only:
        queryset = queryset.filter(is_active=True)
    doctor = queryset.filter(pk=pk).first()
    if doctor is None:
        raise Http404
    return doctor


def specialty_get(*, pk: int) -> Specialty:
    """A specialty by id, or 404."""
    specialty = Specialty.objects.filter(pk=pk).first()
    if specialty is None:
        raise Http404
    return specialty


def specialties_by_name() -> dict[str, Specialty]:
    """Every specialty by its case-folded name ("кардиолог" finds "Кардиолог"; a clinic has tens)."""
    return {specialty.name.casefold(): specialty for specialty in Specialty.objects.all()}


def local_range(date_from: date | None, date_to: date | None) -> tuple[datetime | None, datetime | None]:
    """Clinic-local dates (inclusive) as a half-open UTC interval; None where open."""
    zone = clinic_zone()
    start = local_day_bounds(date_from, zone)[0] if date_from else None
    end = local_day_bounds(date_to, zone)[1] if date_to else None
    return start, end


def in_local_dates(
    queryset: QuerySet[_M], date_from: date | None, date_to: date | None, field: str = "start_time"
) -> QuerySet[_M]:
    start, end = local_range(date_from, date_to)
    if start is not None:
        queryset = queryset.filter(**{f"{field}__gte": start})
    if end is not None:
        queryset = queryset.filter(**{f"{field}__lt": end})
    return queryset


def free_slots(
    *, doctor: User, date_from: date | None = None, date_to: date | None = None, now: datetime | None = None
) -> QuerySet[Timetable, Any]:
    """The doctor's free slots a patient could book now, ascending (served by the partial index on free slots).

    Bookable now: not started, and starting at or after now + the doctor's minimum notice.
    """
    bookable = rules.bookable_q(now=now or timezone.now(), doctor_id=doctor.pk)
    queryset = Timetable.objects.filter(bookable, doctor=doctor, client__isnull=True)
    return in_local_dates(queryset, date_from, date_to).order_by("start_time").values("id", "start_time", "stop_time")


def appointments_visible_to(user: User) -> QuerySet[Timetable]:
    """Booked slots: administrators see all, a doctor theirs, a patient their own."""
    booked = Timetable.objects.filter(client__isnull=False)
    if user.is_administrator:
        return booked
    scope = Q(pk__in=[])
    if user.is_doctor:
        scope |= Q(doctor=user)
    if user.is_patient:
        scope |= Q(client=user)
    return booked.filter(scope)


def closures(*, date_from: date | None = None, date_to: date | None = None) -> QuerySet[Closure]:
    """Closures sharing a day with the local dates from `date_from` through `date_to` (either open), ascending."""
    queryset = Closure.objects.all()
    if date_from is not None:
        queryset = queryset.filter(date_to__gte=date_from)
    if date_to is not None:
        queryset = queryset.filter(date_from__lte=date_to)
    return queryset.order_by("date_from", "date_to", "id")


def date_overrides(
    *, doctor: User, date_from: date | None = None, date_to: date | None = None
) -> QuerySet[DateOverride]:
    """The doctor's date overrides on the local dates from `date_from` through `date_to` (either open), by date."""
    queryset = DateOverride.objects.filter(doctor=doctor)
    if date_from is not None:
        queryset = queryset.filter(date__gte=date_from)
    if date_to is not None:
        queryset = queryset.filter(date__lte=date_to)
    return queryset.order_by("date")


def next_free_slots(
    *,
    specialty_id: int | None = None,
    doctor_id: int | None = None,
    after: datetime | None = None,
    limit: int = NEXT_SLOTS_DEFAULT,
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """The earliest free slots a patient could book now across the matching active doctors, by start.

    Bookable now as booking decides it (appointments.rules): not started, and starting at or after
    now + the doctor's minimum notice (their own, else the clinic's). Both filters given: both
    apply. One query whatever the number of doctors.
    """
    doctors = User.objects.active_doctors()
    if specialty_id is not None:
        doctors = doctors.filter(specialties=specialty_id)
    if doctor_id is not None:
        doctors = doctors.filter(pk=doctor_id)
    now = now or timezone.now()
    after = after or now
    if connection.vendor == "postgresql":
        rows = _next_free_slots_sql(doctors, now=now, after=after, limit=limit)
    else:
        rows = _next_free_slots_orm(doctors, now=now, after=after, limit=limit, doctor_id=doctor_id)
    return [
        {
            "id": slot_id,
            "doctor": {
                "id": doctor,
                "full_name": User(last_name=last_name, first_name=first_name, middle_name=middle_name).full_name,
            },
            "start_time": start_time,
            "stop_time": stop_time,
        }
        for slot_id, start_time, stop_time, doctor, last_name, first_name, middle_name in rows
    ]


def _next_free_slots_sql(doctors: QuerySet[User], *, now: datetime, after: datetime, limit: int) -> list[tuple]:
    """PostgreSQL: for each matching doctor, their first `limit` bookable free slots; of those, the first `limit`.

    A LATERAL join over the doctors (each with their minimum notice, resolved by the rules in the
    same statement), each side a range scan of `timetable_free_by_doctor (doctor_id, start_time)
    WHERE client_id IS NULL` that stops after `limit` rows: the work is bounded by (matching
    doctors x limit), however the free slots are spread. Reading every free slot in start order
    instead stops early only while the asked-for doctors have free slots soon: when a specialty is
    booked out for days (the usual case of a call for "a cardiologist, as soon as possible") it
    walks every other doctor's free slots first (docs/architecture.md, "Indexes").
    """
    notice = rules.annotations("pk")[rules.ANNOTATION_PREFIX + "min_notice_minutes"]
    doctor_sql, doctor_params = (
        doctors.order_by()
        .annotate(min_notice_minutes=notice)
        .values("id", "last_name", "first_name", "middle_name", "min_notice_minutes")
        .query.sql_with_params()
    )
    timetable = Timetable._meta.db_table
    # As rules.booking_refusal: never a slot that has started, and none within the notice.
    sql = f"""
        SELECT slot.id, slot.start_time, slot.stop_time,
               doctor.id, doctor.last_name, doctor.first_name, doctor.middle_name
        FROM ({doctor_sql}) AS doctor
        CROSS JOIN LATERAL (
            SELECT free.id, free.start_time, free.stop_time
            FROM {timetable} AS free
            WHERE free.doctor_id = doctor.id
              AND free.client_id IS NULL
              AND free.start_time > %s
              AND free.start_time >= %s + doctor.min_notice_minutes * interval '1 minute'
              AND free.start_time >= %s
            ORDER BY free.start_time
            LIMIT %s
        ) AS slot
        ORDER BY slot.start_time, doctor.id
        LIMIT %s
    """  # noqa: S608 - the only text pasted in is the ORM's own SQL and a table name; values are parameters
    with connection.cursor() as cursor:
        cursor.execute(sql, [*doctor_params, now, now, after, limit, limit])
        return cursor.fetchall()


def _next_free_slots_orm(
    doctors: QuerySet[User], *, now: datetime, after: datetime, limit: int, doctor_id: int | None
) -> list[tuple]:
    """Other databases (SQLite in development and tests): the same rows through the ORM, without LATERAL.

    The rules' own portable form of the notice (a condition per group of doctors sharing one).
    """
    slots = (
        Timetable.objects.filter(
            rules.bookable_q(now=now, doctor_id=doctor_id),
            client__isnull=True,
            doctor__in=doctors.values("pk"),
            start_time__gte=after,
        )
        .order_by("start_time", "doctor_id")
        .values_list(
            "id",
            "start_time",
            "stop_time",
            "doctor_id",
            "doctor__last_name",
            "doctor__first_name",
            "doctor__middle_name",
        )[:limit]
    )
    return list(slots)


def free_slots_bookable_now(queryset: QuerySet[Timetable], *, now: datetime | None = None) -> QuerySet[Timetable]:
    """Of `queryset`, the free slots a patient could book now, each by its doctor's minimum notice."""
    return queryset.filter(rules.bookable_q(now=now or timezone.now()), client__isnull=True)
