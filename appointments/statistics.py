"""Statistics: appointments and utilisation per clinic-local day, each one grouped query."""

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, QuerySet
from django.db.models.functions import TruncDate

from .models import Timetable
from .selectors import in_local_dates
from .services import clinic_zone


def _scoped(queryset: QuerySet, *, date_from: date | None, date_to: date | None, doctor_id: int | None):
    queryset = in_local_dates(queryset, date_from, date_to)
    if doctor_id is not None:
        queryset = queryset.filter(doctor_id=doctor_id)
    return queryset


def _local_day():
    # Days are the clinic's calendar days: a 23:30 local appointment counts on its local date,
    # whatever its UTC date, and DST days are 23 or 25 hours long.
    return TruncDate("start_time", tzinfo=clinic_zone())


def appointments_per_day(
    *, date_from: date | None = None, date_to: date | None = None, doctor_id: int | None = None
) -> list[dict]:
    """[{"day", "count"}] of booked slots, ascending, days without appointments omitted.

    One GROUP BY over the partial index of booked slots by start time (COUNT(*) so that the
    index alone can answer it).
    """
    booked = _scoped(
        Timetable.objects.filter(client__isnull=False), date_from=date_from, date_to=date_to, doctor_id=doctor_id
    )
    return list(booked.annotate(day=_local_day()).values("day").annotate(count=Count("*")).order_by("day"))


def _percent(part: int, whole: int) -> float:
    if not whole:
        return 0.0
    return float((Decimal(100 * part) / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def utilisation_per_day(
    *, date_from: date | None = None, date_to: date | None = None, doctor_id: int | None = None
) -> list[dict]:
    """[{"day", "total", "booked", "free", "utilisation"}] per local day with any slot (COUNT(client) counts booked)."""
    slots = _scoped(Timetable.objects.all(), date_from=date_from, date_to=date_to, doctor_id=doctor_id)
    rows = (
        slots.annotate(day=_local_day())
        .values("day")
        .annotate(total=Count("*"), booked=Count("client"))
        .order_by("day")
    )
    return [
        {
            "day": row["day"],
            "total": row["total"],
            "booked": row["booked"],
            "free": row["total"] - row["booked"],
            "utilisation": _percent(row["booked"], row["total"]),
        }
        for row in rows
    ]


def utilisation_per_doctor(*, date_from: date | None = None, date_to: date | None = None) -> list[dict]:
    """[{"doctor_id", "last_name", "first_name", "total", "booked", "utilisation"}] by doctor."""
    slots = _scoped(Timetable.objects.all(), date_from=date_from, date_to=date_to, doctor_id=None)
    rows = (
        slots.values("doctor_id", "doctor__last_name", "doctor__first_name")
        .annotate(total=Count("*"), booked=Count("client"))
        .order_by("doctor__last_name", "doctor__first_name", "doctor_id")
    )
    return [
        {
            "doctor_id": row["doctor_id"],
            "last_name": row["doctor__last_name"],
            "first_name": row["doctor__first_name"],
            "total": row["total"],
            "booked": row["booked"],
            "utilisation": _percent(row["booked"], row["total"]),
        }
        for row in rows
    ]
