"""Statistics: appointments and utilisation per clinic-local day, each one grouped query."""

from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from .models import AppointmentAction, AppointmentEvent, AppointmentStatus, CancelledBy, Timetable
from .planner import local_day_bounds
from .selectors import in_local_dates
from .zone import clinic_zone


def _scoped(
    queryset: QuerySet[Timetable], *, date_from: date | None, date_to: date | None, doctor_id: int | None
) -> QuerySet[Timetable]:
    queryset = in_local_dates(queryset, date_from, date_to)
    if doctor_id is not None:
        queryset = queryset.filter(doctor_id=doctor_id)
    return queryset


def _local_day() -> TruncDate:
    # Days are the clinic's calendar days: a 23:30 local appointment counts on its local date,
    # whatever its UTC date, and DST days are 23 or 25 hours long.
    return TruncDate("start_time", tzinfo=clinic_zone())


# The longest window counted day by day (one index range per day); longer or open-ended windows
# group the rows by their local date instead.
DAY_BY_DAY_MAX_DAYS = 1000


def appointments_per_day(
    *, date_from: date | None = None, date_to: date | None = None, doctor_id: int | None = None
) -> list[dict]:
    """[{"day", "count"}] of booked slots, ascending, days without appointments omitted.

    One query. A window with both ends is counted day by day (see _appointments_per_day_in_window);
    otherwise one GROUP BY over the partial index of booked slots by start time (COUNT(*) so that
    the index alone can answer it).
    """
    if date_from is not None and date_to is not None and 0 <= (date_to - date_from).days < DAY_BY_DAY_MAX_DAYS:
        return _appointments_per_day_in_window(date_from, date_to, doctor_id)
    booked = _scoped(
        Timetable.objects.filter(client__isnull=False), date_from=date_from, date_to=date_to, doctor_id=doctor_id
    )
    per_day = booked.annotate(day=_local_day()).values("day").annotate(count=Count("*")).order_by("day")
    return [dict(row) for row in per_day]


def _appointments_per_day_in_window(date_from: date, date_to: date, doctor_id: int | None) -> list[dict]:
    """The same answer from one COUNT(*) per local day, each a range of the index of booked slots by start.

    Grouping by the local date converts every row's time to the clinic's zone, which costs more
    than reading the row from the index (~10x slower for a month of 450,000 appointments, see
    docs/benchmarks.md). Here the day bounds come from local_day_bounds (23- and 25-hour DST
    days included) and the database only compares instants.
    """
    zone = clinic_zone()
    days = [date_from + timedelta(days=offset) for offset in range((date_to - date_from).days + 1)]
    adapt = connection.ops.adapt_datetimefield_value
    params: list = [] if doctor_id is None else [doctor_id]
    for index, day in enumerate(days):
        start, end = local_day_bounds(day, zone)
        params += [index, adapt(start), adapt(end)]
    # Only placeholders are joined into the text; VALUES columns are column1.. on PostgreSQL and SQLite.
    sql = (
        "SELECT d.column1, (SELECT COUNT(*) FROM appointments_timetable t WHERE t.client_id IS NOT NULL"  # noqa: S608
        " AND t.start_time >= d.column2 AND t.start_time < d.column3"
        + ("" if doctor_id is None else " AND t.doctor_id = %s")
        + ") FROM (VALUES "
        + ", ".join(["(%s, %s, %s)"] * len(days))
        + ") AS d ORDER BY d.column1"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        counts = cursor.fetchall()
    return [{"day": days[index], "count": count} for index, count in counts if count]


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


# --- the admin dashboard ---------------------------------------------------------------------------


def utilisation_total(
    *, date_from: date | None = None, date_to: date | None = None, doctor_id: int | None = None
) -> dict:
    """{"total", "booked", "free", "utilisation"} over the whole range: one aggregate query."""
    slots = _scoped(Timetable.objects.all(), date_from=date_from, date_to=date_to, doctor_id=doctor_id)
    totals = slots.aggregate(total=Count("*"), booked=Count("client"))
    return {
        "total": totals["total"],
        "booked": totals["booked"],
        "free": totals["total"] - totals["booked"],
        "utilisation": _percent(totals["booked"], totals["total"]),
    }


def appointments_of_day(*, day: date, doctor_id: int | None = None, limit: int | None = None) -> list[dict]:
    """The booked slots of one clinic-local day by start time, with doctor's and patient's names."""
    booked = _scoped(Timetable.objects.filter(client__isnull=False), date_from=day, date_to=day, doctor_id=doctor_id)
    rows = booked.order_by("start_time", "doctor__last_name", "id").values(
        "id",
        "start_time",
        "stop_time",
        "conflict",
        "doctor_id",
        "doctor__last_name",
        "doctor__first_name",
        "doctor__middle_name",
        "client_id",
        "client__last_name",
        "client__first_name",
        "client__middle_name",
    )
    return [dict(row) for row in (rows[:limit] if limit is not None else rows)]


def conflicts_upcoming(*, now: datetime | None = None) -> int:
    """How many future appointments the doctors' current schedules no longer have (one count)."""
    return Timetable.objects.filter(conflict=True, client__isnull=False, start_time__gt=now or timezone.now()).count()


# --- appointment outcomes ---------------------------------------------------------------------------


OUTCOME_COUNTS = ("booked", "arrived", "fulfilled", "noshow", "cancelled_by_patient", "cancelled_by_clinic")


def _no_show_rate(noshow: int, arrived: int, fulfilled: int) -> float | None:
    """noshow / (arrived + fulfilled + noshow): of the appointments whose outcome is known, the missed share."""
    known = arrived + fulfilled + noshow
    return noshow / known if known else None


def outcomes_per_day(
    *, date_from: date | None = None, date_to: date | None = None, doctor_id: int | None = None
) -> list[dict]:
    """[{"day", "booked", "arrived", "fulfilled", "noshow", "cancelled_by_patient", "cancelled_by_clinic",
    "no_show_rate"}] per local day of the slots' start, ascending, days with nothing omitted.

    Two grouped queries: appointments by their current status (the Timetable), cancellations by
    who cancelled (the booking history; a blocked patient's released appointments are `released`,
    neither). The rows are merged by day here.
    """
    scope = {"date_from": date_from, "date_to": date_to, "doctor_id": doctor_id}
    statuses = (
        _scoped(Timetable.objects.filter(client__isnull=False), **scope)
        .annotate(day=_local_day())
        .values("day")
        .annotate(
            **{
                status: Count("pk", filter=Q(status=status))
                for status in (
                    AppointmentStatus.BOOKED,
                    AppointmentStatus.ARRIVED,
                    AppointmentStatus.FULFILLED,
                    AppointmentStatus.NOSHOW,
                )
            }
        )
        .order_by("day")
    )
    cancellations = (
        _scoped(AppointmentEvent.objects.filter(action=AppointmentAction.CANCELLED), **scope)
        .annotate(day=_local_day())
        .values("day")
        .annotate(
            cancelled_by_patient=Count("pk", filter=Q(cancelled_by=CancelledBy.PATIENT)),
            cancelled_by_clinic=Count("pk", filter=Q(cancelled_by=CancelledBy.CLINIC)),
        )
        .order_by("day")
    )
    days: dict[date, dict] = {}
    empty = dict.fromkeys(OUTCOME_COUNTS, 0)
    for row in [*statuses, *cancellations]:
        days.setdefault(row["day"], {"day": row["day"], **empty}).update(row)
    rows = [days[day] for day in sorted(days)]
    for row in rows:
        row["no_show_rate"] = _no_show_rate(row["noshow"], row["arrived"], row["fulfilled"])
    return rows
