"""6. Booking over HTTP: 16 connections, 8 patients each, each request a distinct free slot; against pgbench."""

import datetime

from bench import pg
from bench.context import HTTP_CLIENTS, Context, rate
from bench.result import Outcome, Result

NUMBER = 6
BOOKERS_PER_CONNECTION = 8
FLOOR_POOL = "bench_pool_"  # owners of the slots that pgbench books in the floor
FLOOR_SLOTS_PER_CLIENT = 12_000


def run(bench: Context) -> Outcome:
    print(f"6. booking over HTTP: {HTTP_CLIENTS} clients booking distinct free slots, {bench.args.seconds} s")
    bench.ensure_slots()
    bookers = bench.patient_ids[: HTTP_CLIENTS * BOOKERS_PER_CONNECTION]
    lines = booking_requests(bench, bookers)
    floor = booking_floor(bench)
    bench.gunicorn(profile="booking")
    bench.warm_up(
        [[f"GET /api/doctor/slots/get/{bench.doctor_ids[0]} {bench.tokens[bookers[j]]}"] for j in range(HTTP_CLIENTS)]
    )
    result = bench.load(lines, seconds=bench.args.seconds, once=True)
    profile = bench.profiled("booking")
    in_database = int(bench.sql("SELECT count(*) FROM appointments_timetable WHERE client_id IS NOT NULL"))
    exhausted = result["elapsed"] < bench.args.seconds - 1
    details: dict[str, object] = {"profile": profile} if profile else {}
    details.update({"wrk": result, "pgbench": floor, "in_database": in_database, "exhausted": exhausted})
    return Outcome([row(result, floor, in_database=in_database, exhausted=exhausted)], details)


def booking_requests(bench: Context, bookers: list[int]) -> list[list[str]]:
    """Per wrk connection, its POSTs: booker j takes, at start time t, the slot of doctor j + 128 (t mod 7).

    Every slot is booked at most once, and one patient's slots never overlap (one per start time).
    """
    slots = bench.slot_ids_by_doctor()
    times = len(slots[bench.doctor_ids[0]])
    spread = 1000 // len(bookers)
    lines = []
    for connection_number in range(HTTP_CLIENTS):
        mine = range(connection_number * BOOKERS_PER_CONNECTION, (connection_number + 1) * BOOKERS_PER_CONNECTION)
        lines.append(
            [
                f"POST /api/doctor/appointment/{slots[bench.doctor_ids[j + len(bookers) * (t % spread)]][t]} "
                + bench.tokens[bookers[j]]
                for t in range(times)
                for j in mine
            ]
        )
    return lines


def booking_floor(bench: Context) -> dict:
    """pgbench running the conditional UPDATE of slot_book, each client on its own free slots."""
    owners = seed_floor_slots(bench)
    base = int(bench.sql(f"SELECT min(id) FROM appointments_timetable WHERE doctor_id = {owners[0]}"))
    patients = bench.patient_ids[:HTTP_CLIENTS]
    script = (
        "\\set n :n + 1\n"
        "\\set slot :base + :client_id * :per + :n - 1\n"
        "\\set patient :patients + :client_id\n"
        "UPDATE appointments_timetable "
        "SET client_id = :patient, booked_at = now(), conflict = false, status = 'booked' "
        "WHERE id = :slot AND client_id IS NULL AND start_time > now();\n"
    )
    result = bench.server.pgbench(
        script,
        bench.database,
        clients=HTTP_CLIENTS,
        seconds=bench.args.seconds,
        defines={"n": 0, "base": base, "per": FLOOR_SLOTS_PER_CLIENT, "patients": patients[0]},
    )
    owned = f"doctor_id IN ({','.join(map(str, owners))})"
    result["booked"] = int(
        bench.sql(f"SELECT count(*) FROM appointments_timetable WHERE client_id IS NOT NULL AND {owned}")
    )
    result["script"] = script
    bench.sql(f"DELETE FROM appointments_timetable WHERE {owned};\nVACUUM ANALYZE appointments_timetable;")
    return result


def seed_floor_slots(bench: Context) -> list[int]:
    """A pool doctor per pgbench client, each with consecutive free slots a year ahead; their ids."""
    bench.sql(pg.seed_users_sql(prefix=FLOOR_POOL, first=1, count=HTTP_CLIENTS, role="doctor"))
    owners = bench.ids(FLOOR_POOL)
    start = datetime.datetime.combine(bench.monday + datetime.timedelta(days=400), datetime.time(0), bench.zone)
    bench.sql(
        "INSERT INTO appointments_timetable (doctor_id, start_time, stop_time, conflict) "
        f"SELECT o.id, '{start.isoformat()}'::timestamptz + i * interval '20 minutes', "
        f"'{start.isoformat()}'::timestamptz + (i + 1) * interval '20 minutes', false "
        f"FROM (SELECT id FROM staff_user WHERE username LIKE '{FLOOR_POOL}%') AS o, "
        f"generate_series(0, {FLOOR_SLOTS_PER_CLIENT - 1}) AS i ORDER BY o.id, i;\n"
        "VACUUM ANALYZE appointments_timetable;"
    )
    return owners


def row(result: dict, floor: dict, *, in_database: int, exhausted: bool) -> Result:
    statuses = result["statuses"]
    booked = statuses.get("201", 0)
    errors = sum(result["errors"].values()) + sum(count for status, count in statuses.items() if status != "201")
    per_second = rate(result, booked)
    ratio = per_second / floor["tps"]
    return Result(
        number=NUMBER,
        scenario=f"booking over HTTP ({HTTP_CLIENTS} clients)",
        figure=f"{per_second:,.0f} bookings/s, p50 {result['p50_us'] / 1000:.1f} ms, "
        f"p99 {result['p99_us'] / 1000:.1f} ms, {errors} errors",
        floor=f"{floor['tps']:,.0f} UPDATE/s (pgbench, {HTTP_CLIENTS} clients)",
        ratio=f"{ratio:.1%}",
        target=">= 10% of floor, no errors",
        passed=ratio >= 0.1 and errors == 0 and in_database == booked and not exhausted,
    )
