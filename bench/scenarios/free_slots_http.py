"""5. Free slots over HTTP: 16 wrk connections (patients) read random doctors' free slots, against pgbench's SELECT."""

import random
import re

from bench.context import HTTP_CLIENTS, Context, rate
from bench.result import Outcome, Result

NUMBER = 5


def run(bench: Context) -> Outcome:
    print(f"5. free slots over HTTP: {HTTP_CLIENTS} keep-alive clients, {bench.args.seconds} s", flush=True)
    bench.ensure_slots()
    first, last = bench.doctor_ids[0], bench.doctor_ids[-1]
    assert last - first + 1 == len(bench.doctor_ids), "doctor ids must be contiguous for pgbench's random()"
    statement = free_slots_statement()
    floor = bench.server.pgbench(
        f"\\set doctor random({first}, {last})\n{statement};\n",
        bench.database,
        clients=HTTP_CLIENTS,
        seconds=bench.args.seconds,
    )
    chooser = random.Random(5)
    tokens = [bench.tokens[pk] for pk in bench.patient_ids[:HTTP_CLIENTS]]
    lines = [
        [f"GET /api/doctor/slots/get/{chooser.randint(first, last)} {token}" for _ in range(5000)] for token in tokens
    ]
    bench.gunicorn(profile="free-slots")
    bench.warm_up(lines)
    result = bench.load(lines, seconds=bench.args.seconds, once=False)
    profile = bench.profiled("free slots")
    details: dict[str, object] = {"profile": profile} if profile else {}
    details.update({"wrk": result, "pgbench": floor, "statement": statement})
    return Outcome([row(result, floor)], details)


def free_slots_statement() -> str:
    """The SELECT of selectors.free_slots as Django sends it, with the doctor and the clock as pgbench's."""
    from django.db import connection

    from appointments import selectors
    from staff.models import User

    sentinel = 987654321
    sql, params = selectors.free_slots(doctor=User(pk=sentinel)).query.sql_with_params()
    with connection.cursor() as cursor:
        statement = cursor.mogrify(sql, params).decode()
    return re.sub(r"'[^']*'::timestamptz", "now()", statement.replace(str(sentinel), ":doctor"))


def row(result: dict, floor: dict) -> Result:
    statuses = result["statuses"]
    errors = sum(result["errors"].values()) + sum(count for status, count in statuses.items() if status != "200")
    per_second = rate(result, statuses.get("200", 0))
    ratio = per_second / floor["tps"]
    p50, p99 = result["p50_us"] / 1000, result["p99_us"] / 1000
    return Result(
        number=NUMBER,
        scenario=f"free slots over HTTP ({HTTP_CLIENTS} clients)",
        figure=f"{per_second:,.0f} req/s, p50 {p50:.1f} ms, p99 {p99:.1f} ms, {errors} errors",
        floor=f"{floor['tps']:,.0f} SELECT/s (pgbench, {HTTP_CLIENTS} clients)",
        ratio=f"{ratio:.1%}",
        target=">= 20% of floor, p99 <= 50 ms, no errors",
        passed=ratio >= 0.2 and p99 <= 50 and errors == 0,
    )
