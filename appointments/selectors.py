"""Reads with rules: which doctors, slots and appointments a caller may see."""

from datetime import date, datetime
from typing import Any, TypeVar

from django.db.models import Model, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from staff.models import User

from . import rules
from .models import Closure, DateOverride, Timetable
from .planner import local_day_bounds
from .zone import clinic_zone

_M = TypeVar("_M", bound=Model)


def doctor_get(*, pk: int, active_only: bool = False) -> User:
    """A doctor by id, or 404 (unknown, not a doctor, or blocked when `active_only`)."""
    queryset = User.objects.doctors()
    if active_only:
        queryset = queryset.filter(is_active=True)
    doctor = queryset.filter(pk=pk).first()
    if doctor is None:
        raise Http404
    return doctor


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


def free_slots_bookable_now(queryset: QuerySet[Timetable], *, now: datetime | None = None) -> QuerySet[Timetable]:
    """Of `queryset`, the free slots a patient could book now, each by its doctor's minimum notice."""
    return queryset.filter(rules.bookable_q(now=now or timezone.now()), client__isnull=True)
