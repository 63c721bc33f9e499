"""8. Statistics: the per-day counts over 5,000,000 booked slots (2,000 doctors, a year), against their statement."""

import datetime
import json
import time

from bench import pg, web
from bench.context import DOCTORS, Context
from bench.result import BeforeAfter, Outcome, Result

NUMBER = 8
STATS_CALLS = 20
DOCTOR_COUNT, PER_DOCTOR = 2000, 2500


def run(bench: Context) -> Outcome:
    print("8. statistics: 5,000,000 booked slots over a year, 2,000 doctors", flush=True)
    year = bench.monday.year
    seeded = seed_booked_year(bench, year)
    rows = int(bench.sql("SELECT count(*) FROM appointments_timetable"))
    windows = [
        ("31 days", datetime.date(year, 7, 1), datetime.date(year, 7, 31)),
        ("whole year", datetime.date(year, 1, 1), datetime.date(year, 12, 31)),
    ]
    bench.gunicorn()
    outcome = Outcome([], {"rows": rows, "seeded_seconds": seeded, "windows": {}})
    for label, date_from, date_to in windows:
        measure_window(bench, outcome, label, date_from, date_to)
    return outcome


def seed_booked_year(bench: Context, year: int) -> float:
    """A year of booked slots in place of the timetable, loaded without indexes; the seconds it took."""
    bench.seed_doctors(DOCTOR_COUNT, schedules=False)
    bench.reset_timetable()
    started = time.perf_counter()
    booked = pg.booked_year_sql(
        doctors_prefix=DOCTORS,
        doctors=DOCTOR_COUNT,
        per_doctor=PER_DOCTOR,
        year=year,
        zone=str(bench.zone),
        patients=(bench.patient_ids[0], 64),
    )
    bench.sql(pg.without_indexes(bench.server, bench.database, "appointments_timetable", booked))
    bench.sql("VACUUM ANALYZE appointments_timetable")
    return time.perf_counter() - started


def measure_window(
    bench: Context, outcome: Outcome, label: str, date_from: datetime.date, date_to: datetime.date
) -> None:
    """The endpoint over one window against the statement it sends; adds a row, raw data and a before-and-after."""
    statements = statistics_sql(date_from, date_to)
    bench.server.timed(statements, bench.database)  # warm-up, as for ours below
    floor_runs = bench.server.timed(statements, bench.database, repeat=STATS_CALLS)
    # Before: the endpoint grouped rows by their local date (kept for open-ended windows).
    before = bench.server.timed([group_by_local_date_sql(bench, date_from, date_to)], bench.database, repeat=5)
    path = f"/api/doctor/entries/all?date_from={date_from}&date_to={date_to}"
    server = bench.gunicorn()
    status, body = web.get(server.url + path, bench.admin_token)  # warm-up, and the answer to check
    answer = json.loads(body) if status == 200 else []
    result = bench.load([[f"GET {path} {bench.admin_token}"] * STATS_CALLS], seconds=600, once=True)
    ours, floor = result["p50_us"] / 1000, pg.median(floor_runs)
    ratio = ours / floor
    counted = sum(day["count"] for day in answer)
    outcome.before_after.append(
        BeforeAfter(
            f"8, {label}: the statistics statement (psql, median)",
            f"{pg.median(before):.0f} ms (GROUP BY local date)",
            f"{floor:.0f} ms (one COUNT per local day)",
        )
    )
    outcome.details["windows"][label] = {
        "statements": [pg.shorten(statement) for statement in statements],
        "floor_ms": floor_runs,
        "before_group_by_ms": before,
        "wrk": result,
        "days": len(answer),
        "counted": counted,
    }
    limit = 100 if label == "31 days" else None
    outcome.results.append(
        Result(
            number=NUMBER,
            scenario=f"statistics, {label} ({len(answer)} days, {counted:,} appointments)",
            figure=f"{ours:.1f} ms (median of {STATS_CALLS})",
            floor=f"{floor:.1f} ms (median of {STATS_CALLS}, psql; "
            f"the GROUP BY it replaced: {pg.median(before):.0f} ms)",
            ratio=f"{ratio:.2f}x",
            target="<= 1.5x floor" + (f", <= {limit} ms" if limit else ""),
            passed=ratio <= 1.5
            and (limit is None or ours <= limit)
            and status == 200
            and result["statuses"].get("200", 0) == STATS_CALLS,
        )
    )


def group_by_local_date_sql(bench: Context, date_from: datetime.date, date_to: datetime.date) -> str:
    """The statement appointments_per_day sent before it counted day by day (Django's TruncDate)."""
    start = datetime.datetime.combine(date_from, datetime.time(0), bench.zone)
    end = datetime.datetime.combine(date_to + datetime.timedelta(days=1), datetime.time(0), bench.zone)
    return (
        f"SELECT (start_time AT TIME ZONE '{bench.zone}')::date AS day, COUNT(*) AS count "
        "FROM appointments_timetable WHERE client_id IS NOT NULL "
        f"AND start_time >= '{start.isoformat()}'::timestamptz AND start_time < '{end.isoformat()}'::timestamptz "
        "GROUP BY 1 ORDER BY 1 ASC"
    )


def statistics_sql(date_from: datetime.date, date_to: datetime.date) -> list[str]:
    """The statements statistics.appointments_per_day sends for an administrator, as text for psql."""
    from django.db import connection

    from appointments import statistics

    captured = []

    def capture(execute, sql, params, many, context):
        captured.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(capture):
        statistics.appointments_per_day(date_from=date_from, date_to=date_to, doctor_id=None)
    with connection.cursor() as cursor:
        return [cursor.mogrify(sql, params).decode() for sql, params in captured]
