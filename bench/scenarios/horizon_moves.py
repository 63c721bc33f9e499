"""3. Generation, the horizon moves one day: the sweep with the clock a day later adds a Monday (24,000 slots)."""

import datetime

from bench.context import Context
from bench.result import Outcome, Result

NUMBER = 3


def run(bench: Context) -> Outcome:
    print("3. generation, the horizon moves one day forward", flush=True)
    bench.ensure_slots()
    new_day = datetime.datetime.combine(bench.monday + datetime.timedelta(days=14), datetime.time(0), bench.zone)
    forget_new_day = (
        f"DELETE FROM appointments_timetable WHERE start_time >= '{new_day.isoformat()}';\n"
        "VACUUM appointments_timetable;\nCHECKPOINT;\n"
    )
    floors, runs = [], []
    for _ in range(bench.args.reps):
        bench.sql(forget_new_day)
        floors.append(bench.server.timed([bench.generation_floor_sql(14, 14)], bench.database)[0] / 1000)
        bench.sql(forget_new_day)
        runs.append(bench.generate(bench.now + datetime.timedelta(days=1)))
    bench.sql(forget_new_day)
    best = min(runs, key=lambda run: run["seconds"])
    floor = min(floors)
    ratio = best["seconds"] / floor
    result = Result(
        number=NUMBER,
        scenario="generation, horizon +1 day",
        figure=f"{best['seconds']:.3f} s for {best['created']:,} new slots",
        floor=f"{floor:.3f} s",
        ratio=f"{ratio:.2f}x",
        target="<= 1.5x floor",
        passed=ratio <= 1.5 and best["created"] == 24 * len(bench.doctor_ids),
    )
    return Outcome([result], {"runs": runs, "floors": floors})
